/** Feature detail: top examples shaded by activation with the max token marked; relabel persists. */
import { expect, test } from "@playwright/test";
import { docShot, openExplorer, shot, useApiToken } from "../helpers";

async function openStrongestFeature(page: import("@playwright/test").Page) {
  await openExplorer(page, "?sort=maxActivation&order=desc");
  await page.getByTestId("feature-row").first().locator("td:nth-child(2) a").click();
  await expect(page).toHaveURL(/\/runs\/[^/]+\/features\/\d+$/);
  await expect(page.getByTestId("feature-page")).toBeVisible();
}

test("open a feature and see its examples shaded, with the max token marked and values on hover", async ({ page }) => {
  await openStrongestFeature(page);
  const examples = page.getByTestId("top-examples-list");
  await expect(examples.locator(".example").first()).toBeVisible();
  const maxTokens = examples.getByTestId("max-token");
  expect(await maxTokens.count()).toBeGreaterThan(0);
  const first = maxTokens.first();
  await expect(first).toHaveAttribute("title", /→ \d/);
  const bg = await first.evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).toMatch(/rgba?\(/);
  expect(bg).not.toBe("rgba(0, 0, 0, 0)");
  // a token with zero activation stays unshaded
  const zero = examples.locator('.tok[data-activation="0"]').first();
  if (await zero.count()) expect(await zero.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgba(0, 0, 0, 0)");
  await first.hover();
  await expect(page.getByTestId("feature-stats")).toBeVisible();
  await expect(page.getByTestId("logit-lens")).toBeVisible();
  // explanations carry their method; "Fires most on" has no 0 % chip; ranges are labelled by activation, not "Bin n"
  await expect(page.getByTestId("explanation-method").first()).toHaveText(/offline token-list labeller|human/);
  for (const chip of await page.getByTestId("top-tokens").locator("li").allInnerTexts()) expect(chip).not.toMatch(/\s0%$/);
  const groups = page.getByTestId("quantile-group").locator("h3");
  if (await groups.count()) for (const h of await groups.allInnerTexts()) expect(h).toMatch(/^(Samples at|Activations) [\d.]+/);
  await expect(page.getByTestId("quantile-samples")).not.toContainText(/Bin \d+ of/);
  // logit-lens tokens show their leading spaces; no grade badge anywhere (named scores replaced it)
  const lens = await page.getByTestId("logit-lens").locator(".tokchip").allInnerTexts();
  expect(lens.some((t) => t.includes("␣"))).toBe(true);
  await expect(page.getByText(/^(High|Medium|Low)$/)).toHaveCount(0);
  await shot(page, "feature");
  await docShot(page, "feature");

  // neighbours are linked to their own pages
  const neighbour = page.getByTestId("decoder-neighbours").locator("a").first();
  if (await neighbour.count()) {
    const href = await neighbour.getAttribute("href");
    await neighbour.click();
    await expect(page).toHaveURL(new RegExp(`${href}$`));
    await expect(page.getByTestId("feature-page")).toBeVisible();
  }
});

test("test a prompt on the feature page shows its activation per token", async ({ page }) => {
  await openStrongestFeature(page);
  await page.getByLabel("Test a prompt").fill("Once upon a time there was a little cat named Tom.");
  const tester = page.getByTestId("prompt-tester");
  await expect(tester.locator(".tok").first()).toBeVisible();
  expect(await tester.locator(".tok").count()).toBeGreaterThan(5);
  await expect(tester).toContainText("max activation here");
});

test("relabel a feature and see the label persist after a reload", async ({ page }) => {
  await useApiToken(page);
  await openStrongestFeature(page);
  const original = (await page.getByTestId("feature-label").innerText()).trim();
  const label = `e2e label ${Date.now()}`;
  await page.getByRole("button", { name: "Edit label" }).click();
  await page.getByLabel("Label", { exact: true }).fill(label);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("feature-label")).toHaveText(label);
  await page.reload();
  await expect(page.getByTestId("feature-label")).toHaveText(label);
  await shot(page, "feature-relabelled");
  // the explorer shows the new label too
  const url = page.url();
  await page.getByRole("link", { name: "← Explorer" }).click();
  await page.getByLabel("Label contains").fill(label);
  await expect(page.getByTestId("feature-row")).toHaveCount(1);
  // put the original label back so reruns start from the same data
  if (original && original !== "unlabelled") {
    await page.goto(url);
    await page.getByRole("button", { name: "Edit label" }).click();
    await page.getByLabel("Label", { exact: true }).fill(original);
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("feature-label")).toHaveText(original);
  }
});
