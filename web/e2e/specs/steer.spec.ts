/** Steering from the feature page: the steered continuation differs from the clean one and the changes are marked. */
import { expect, test } from "@playwright/test";
import { openExplorer, shot } from "../helpers";

test("steer a feature at 10 x its max activation and see the continuation change", async ({ page }) => {
  await openExplorer(page, "?sort=maxActivation&order=desc");
  await page.getByTestId("feature-row").first().locator("td:nth-child(2) a").click();
  const panel = page.getByTestId("steer-panel");
  await expect(panel).toBeVisible();
  await panel.getByRole("slider", { name: /Steering strength/ }).fill("10");
  await expect(panel.getByTestId("steer-strength")).toContainText("10 × max activation");
  await panel.getByRole("spinbutton", { name: "New tokens" }).fill("8");
  await panel.getByRole("button", { name: "Steer" }).click();

  const steered = panel.getByTestId("steer-steered");
  await expect(steered.getByTestId("steer-token").first()).toBeVisible();
  await expect(panel.getByTestId("steer-baseline").getByTestId("steer-token")).toHaveCount(8);
  const changed = steered.locator('[data-changed="true"]');
  expect(await changed.count()).toBeGreaterThan(0);
  await expect(panel.getByTestId("steer-summary")).toContainText(/[1-8] of 8 generated tokens differ/);
  const rows = panel.getByTestId("steer-top-tokens").locator("tbody tr");
  await expect(rows).toHaveCount(8);
  const kls = (await panel.getByTestId("steer-kl").allInnerTexts()).map(Number);
  expect(Math.max(...kls)).toBeGreaterThan(0);
  await shot(page, "steer");

  // strength 0: the two sides are the same text, nothing marked
  await panel.getByRole("slider", { name: /Steering strength/ }).fill("0");
  await panel.getByRole("button", { name: "Steer" }).click();
  await expect(panel.getByTestId("steer-summary")).toContainText("0 of 8 generated tokens differ");
  await expect(steered.locator('[data-changed="true"]')).toHaveCount(0);
});
