/**
 * Sharing: a copied prompt-analyser link, opened in a fresh browser, reproduces the analysis (text, shading mode
 * and its choices, selected token, ranking); the "API query" panel's query answers what the page shows.
 */
import { expect, test, type Page } from "@playwright/test";
import { docShot } from "../helpers";
import { PROMPT, readIds, type Ids } from "../pages";

let ids: Ids;
test.beforeAll(async ({ request }) => {
  ids = await readIds(request);
});

/** Everything the prompt page shows that a share link must reproduce. */
async function promptView(page: Page) {
  const heat = page.getByTestId("prompt-heatmap");
  await expect(heat.locator("button.tok").first()).toBeVisible();
  await expect(page.getByTestId("token-features")).toBeVisible();
  await expect(page.getByTestId("heatmap-body")).toHaveAttribute("data-pending", "false");
  return {
    text: await page.getByRole("textbox", { name: "Prompt" }).inputValue(),
    shading: await heat.locator("button.tok").evaluateAll((els) => els.map((e) => e.getAttribute("data-activation"))),
    note: await page.getByTestId("shading-note").innerText(),
    token: await page.getByTestId("token-features").locator("h3").innerText(),
    ranking: await page.getByTestId("ranked-feature").locator("td:first-child").allInnerTexts(),
    threshold: await page.getByLabel("Activation threshold").inputValue(),
  };
}

async function copiedLink(page: Page): Promise<string> {
  await page.getByTestId("copy-link").click();
  await expect(page.getByRole("status").filter({ hasText: "Link copied" })).toBeVisible();
  return page.evaluate(() => navigator.clipboard.readText());
}

test("a copied prompt link reproduces the analysis in a fresh browser", async ({ page, context, browser, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto(`/prompt?run=${encodeURIComponent(ids.runId)}`);
  await page.getByRole("textbox", { name: "Prompt" }).fill(PROMPT);
  const heat = page.getByTestId("prompt-heatmap");
  await expect(heat.locator("button.tok").first()).toBeVisible();

  // "count" shading with a chosen threshold, a selected token, ranking by max
  await page.getByLabel("Activation threshold").fill("0.5");
  await expect(page.getByTestId("shading-note")).toContainText("features ≥ 0.5");
  await heat.locator("button.tok").nth(7).click();
  await page.getByLabel("Rank features by").selectOption("max");
  await expect(page).toHaveURL(/shade=count/);
  const counted = await promptView(page);
  // with every token carrying the same number of active features (TopK), counting strong ones still varies
  expect(new Set(counted.shading).size).toBeGreaterThan(1);
  const link = await copiedLink(page);
  expect(link).toContain("x=0.5");
  expect(link).toContain("tok=7");
  expect(link).toContain("rank=max");

  const fresh = await browser.newContext({ baseURL });
  const other = await fresh.newPage();
  await other.goto(link);
  expect(await promptView(other)).toEqual(counted);

  // shading by two features chosen in the ranking (max of the set), then by one (its exact trace)
  const rows = page.getByTestId("ranked-feature");
  // (click, then wait: the boxes follow the URL, updated in a router transition)
  await rows.nth(0).getByRole("checkbox").click();
  await expect(rows.nth(0).getByRole("checkbox")).toBeChecked();
  await rows.nth(1).getByRole("checkbox").click();
  await expect(rows.nth(1).getByRole("checkbox")).toBeChecked();
  await expect(page.getByTestId("shading-note")).toContainText("max activation of #");
  const twoFeatures = await promptView(page);
  await other.goto(await copiedLink(page));
  expect(await promptView(other)).toEqual(twoFeatures);
  await docShot(page, "prompt");

  await rows.nth(1).getByRole("checkbox").click();
  await expect(rows.nth(1).getByRole("checkbox")).not.toBeChecked();
  await expect(page.getByTestId("shading-note")).toContainText(/Shaded by activation of #\d+/);
  const oneFeature = await promptView(page);
  await other.goto(await copiedLink(page));
  expect(await promptView(other)).toEqual(oneFeature);
  await fresh.close();
});

test("the API query shown on the explorer answers exactly what the page lists", async ({ page, request }) => {
  await page.goto(`/?run=${encodeURIComponent(ids.runId)}&sort=density&order=desc&hide=none`);
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
  await page.getByTestId("api-query-toggle").click();
  const query = await page.getByTestId("api-query-text").innerText();
  const variables = JSON.parse(await page.getByTestId("api-query-variables").innerText());
  await expect(page.getByTestId("api-query-curl")).toContainText("curl -s");
  const res = await request.post("/graphql", { data: { query, variables } });
  const body = await res.json();
  const shown = (await page.getByTestId("feature-row").locator("td:first-child").allInnerTexts()).map(Number);
  expect(body.data.features.nodes.map((n: { index: number }) => n.index)).toEqual(shown);
  await expect(page.getByTestId("page-range")).toContainText(`of ${body.data.features.totalCount.toLocaleString("en")}`);
});
