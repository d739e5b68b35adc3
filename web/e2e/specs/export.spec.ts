/** Export (explorer list as CSV/JSON over every page, one feature as JSON) and browser bookmark lists. */
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { docShot } from "../helpers";
import { readIds, type Ids } from "../pages";

let ids: Ids;
test.beforeAll(async ({ request }) => {
  ids = await readIds(request);
});

async function download(page: Page, button: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button, exact: true }).click()]);
  return readFileSync(await file.path(), "utf8");
}

test("the explorer exports its whole filtered list, every page, in the shown order", async ({ page }) => {
  await page.goto(`/?run=${encodeURIComponent(ids.runId)}&sort=density&order=desc&hide=none`);
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
  const total = Number(/of ([\d,]+)/.exec(await page.getByTestId("page-range").innerText())![1].replace(/,/g, ""));
  expect(total).toBeGreaterThan(50); // more than one page, so the export must fetch the others
  const shown = (await page.getByTestId("feature-row").locator("td:first-child").allInnerTexts()).map(Number);

  const csv = await download(page, "Export CSV");
  const lines = csv.trimEnd().split("\r\n");
  expect(lines[0].split(",").slice(0, 2)).toEqual(["index", "label"]);
  expect(lines).toHaveLength(total + 1);
  expect(lines.slice(1, shown.length + 1).map((l) => Number(l.split(",")[0]))).toEqual(shown);
  expect(new Set(lines.slice(1).map((l) => l.split(",")[0])).size).toBe(total);

  const json = JSON.parse(await download(page, "Export JSON"));
  expect(json).toMatchObject({ format: "saelab-feature-list/1", runId: ids.runId, count: total, query: { sort: "DENSITY", order: "DESC" } });
  const densities = json.features.map((f: { density: number }) => f.density);
  for (let i = 1; i < densities.length; i++) expect(densities[i]).toBeLessThanOrEqual(densities[i - 1]);
});

test("a feature exports as JSON with what its page shows", async ({ page }) => {
  await page.goto(`/runs/${encodeURIComponent(ids.runId)}/features/${ids.feature}`);
  await expect(page.getByTestId("feature-page")).toBeVisible();
  const label = (await page.getByTestId("feature-label").innerText()).trim();
  const json = JSON.parse(await download(page, "Export JSON"));
  expect(json).toMatchObject({ format: "saelab-feature/1", runId: ids.runId, index: ids.feature });
  expect(json.feature.label ?? "unlabelled").toBe(label);
  expect(json.feature.topExamples.length).toBe(await page.getByTestId("top-examples-list").locator(".example").count());
});

test("bookmarks: save features into named lists kept in the browser, export and remove them", async ({ page }) => {
  const featureUrl = (i: number) => `/runs/${encodeURIComponent(ids.runId)}/features/${i}`;
  await page.goto(featureUrl(ids.feature));
  await page.getByTestId("bookmark-button").click();
  await expect(page.getByTestId("bookmark-button")).toHaveAttribute("aria-pressed", "true");

  await page.getByRole("link", { name: "Bookmarks" }).click();
  await expect(page).toHaveTitle(/^Bookmarks · Bookmarks/);
  const rows = page.getByTestId("bookmark-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByRole("link", { name: `#${ids.feature}` })).toHaveAttribute("href", featureUrl(ids.feature));
  await expect(rows.first()).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

  // a second list becomes the one the button adds to
  await page.getByLabel("New list name").fill("e2e punctuation");
  await page.getByRole("button", { name: "Create list" }).click();
  await expect(page.getByLabel("Bookmark list", { exact: true })).toHaveValue("e2e punctuation");
  const other = ids.feature === 0 ? 1 : 0;
  await page.goto(featureUrl(other));
  await expect(page.getByTestId("bookmark-button")).toContainText("e2e punctuation");
  await page.getByTestId("bookmark-button").click();
  await page.goto("/bookmarks");
  await page.reload(); // kept across reloads (localStorage)
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(`#${other}`);
  await docShot(page, "bookmarks");
  const exported = JSON.parse(await download(page, "Export JSON"));
  expect(exported).toMatchObject({ format: "saelab-bookmarks/1", list: "e2e punctuation", bookmarks: [{ runId: ids.runId, index: other }] });

  await page.getByLabel("Bookmark list", { exact: true }).selectOption("Bookmarks");
  await expect(rows).toHaveCount(1);
  await rows.first().getByRole("button", { name: `Remove #${ids.feature} from the list` }).click();
  await expect(page.getByTestId("empty-state")).toContainText("“Bookmarks” is empty");
});
