/** After `saelab demo`: the URL it printed opens the explorer on the demo's run, listing its features. */
import { expect, test } from "@playwright/test";

const demoPath = process.env.E2E_DEMO_PATH;

test("the URL the demo printed lists the demo's features, and a feature page opens", async ({ page }) => {
  expect(demoPath, "E2E_DEMO_PATH: the path of the URL the demo printed").toMatch(/^\/\?run=[0-9a-f]{32}$/);
  const runId = demoPath!.split("=")[1];
  await page.goto(demoPath!);
  await expect(page.getByRole("heading", { name: "Feature explorer" })).toBeVisible();
  const picker = page.getByRole("combobox", { name: "Run" });
  await expect(picker).toHaveValue(runId);
  await expect(picker.locator("option:checked")).toHaveText(/^demo · [a-z_]+ · 64 features$/); // the preset picks the architecture
  const rows = page.getByTestId("feature-row");
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId("page-range")).toHaveText(/^1–50 of (5\d|6[0-4])$/); // 64 features, a few maybe dead
  expect(await rows.count()).toBe(50);

  // the bare root opens the same run (the newest analysed one), and a feature's page shows its examples
  await page.goto("/");
  await expect(picker).toHaveValue(runId);
  await rows.first().getByRole("link").first().click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}/features/\\d+$`));
  await expect(page.getByTestId("feature-label")).toBeVisible();
});
