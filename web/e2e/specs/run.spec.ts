/** Run summary: eval card, density histogram, curves, link back to the explorer. */
import { expect, test } from "@playwright/test";
import { docShot, openExplorer, shot } from "../helpers";

test("the run summary shows its evaluation, density histogram and curves", async ({ page }) => {
  await openExplorer(page);
  await page.getByRole("link", { name: "Run summary →" }).click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  await expect(page.getByTestId("run-page")).toBeVisible();
  await expect(page.getByTestId("config-table")).toBeVisible();
  await expect(page.getByText("Feature density")).toBeVisible();
  await expect(page.getByTestId("training-curves")).toBeVisible();
  await expect(page).toHaveTitle(/run summary — saelab$/);
  // every number says its split: held-out evaluation with its token counts, training window, analysis tokens
  await expect(page.getByTestId("eval-split")).toContainText(/reconstruction metrics on [\d,]+ tokens/);
  await expect(page.getByTestId("curves-caption")).toContainText("Training split");
  // no server path anywhere on the page
  const text = await page.locator("main").innerText();
  expect(text).not.toMatch(/(^|\s)\/(tmp|work|home|srv|usr|root)\//m);
  expect(text).not.toContain("artifacts/");
  // axis ticks are plain numbers, never a fractional exponent like "1e-4.0"
  for (const tick of await page.locator("svg text").allTextContents()) expect(tick).not.toMatch(/e-?\d+\.\d/);
  // architecture-aware: what a TopK run ignores is not listed, and no chart repeats another or stays flat
  const facts = await page.getByTestId("run-facts").innerText();
  if (facts.includes("topk")) {
    const keys = await page.getByTestId("config-table").locator("dt").allInnerTexts();
    expect(keys).toContain("k");
    expect(keys).not.toContain("l1_coefficient");
    if (await page.getByTestId("curve-loss").count()) await expect(page.getByTestId("curve-mse")).toBeVisible();
    else await expect(page.getByTestId("curves-note").first()).toContainText("Loss and MSE are equal");
    if (!(await page.getByTestId("curve-l0").count())) await expect(page.getByTestId("training-curves").locator("..")).toContainText(/L0 is [\d.]+ at every logged step/);
  }
  await shot(page, "run");
  await docShot(page, "run");
  await page.getByRole("link", { name: /^Explore .* features/ }).click();
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
});

test("an unreachable API shows a banner and each page says what failed", async ({ page }) => {
  await page.route("**/graphql", (route) => route.abort("connectionrefused"));
  await page.goto("/");
  await expect(page.getByTestId("api-banner")).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "Could not load" })).toBeVisible();
  await shot(page, "api-unreachable");
  await page.unroute("**/graphql");
  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
  await expect(page.getByTestId("api-banner")).toBeHidden();
});
