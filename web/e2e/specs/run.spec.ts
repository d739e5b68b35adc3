/** Run summary: eval card, density histogram, curves, link back to the explorer. */
import { expect, test } from "@playwright/test";
import { openExplorer, shot } from "../helpers";

test("the run summary shows its evaluation, density histogram and curves", async ({ page }) => {
  await openExplorer(page);
  await page.getByRole("link", { name: "Run summary →" }).click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  await expect(page.getByTestId("run-page")).toBeVisible();
  await expect(page.getByTestId("config-table")).toBeVisible();
  await expect(page.getByText("Feature density")).toBeVisible();
  await expect(page.getByTestId("training-curves")).toBeVisible();
  await shot(page, "run");
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
