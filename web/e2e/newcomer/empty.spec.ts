/** Before any run: the explorer says what to run, and the commands it names are the real ones. */
import { expect, test } from "@playwright/test";

test("with no runs the explorer says to run make demo or saelab register", async ({ page }) => {
  await page.goto("/");
  const empty = page.getByTestId("no-runs");
  await expect(empty).toBeVisible();
  await expect(empty).toContainText("make demo");
  await expect(empty).toContainText("saelab register artifacts/runs/<name>");
  await expect(page.getByTestId("feature-row")).toHaveCount(0);
});
