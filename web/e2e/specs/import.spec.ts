/**
 * Bring your own SAE: import a SAELens-format SAE through the "Import an SAE" form, watch its import -> collect ->
 * evaluate -> analyse pipeline progress live, then open one of its feature pages. E2E_SAE_SOURCE names the SAELens
 * folder on the server (run-against-gateway.sh writes one for the tiny GPT-2 under the artifact directory).
 */
import { expect, test } from "@playwright/test";
import { recordAttributes, recorded, shot, useApiToken } from "../helpers";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

test.beforeEach(async ({ page }) => useApiToken(page));

test("a server path outside the data roots is refused next to the source field", async ({ page }) => {
  await page.goto("/jobs");
  const form = page.getByRole("form", { name: "Import an SAE" });
  await form.getByLabel("SAE source", { exact: true }).fill("/etc");
  await form.getByRole("button", { name: "Import and analyse" }).click();
  await expect(form.getByLabel("SAE source", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(form.locator(".field-invalid")).toContainText("outside the allowed data roots");
  await expect(page).toHaveURL(/\/jobs$/);
});

test("import a SAELens folder through the form, watch it analyse, open one of its features", async ({ page }) => {
  const timeout = Number(env("E2E_JOB_TIMEOUT_MS", "600000"));
  test.setTimeout(timeout);
  await recordAttributes(page, [["job-progress", "aria-valuenow"]]);
  await page.goto("/jobs");
  const form = page.getByRole("form", { name: "Import an SAE" });
  await form.getByLabel("SAE source", { exact: true }).fill(env("E2E_SAE_SOURCE", "/data/saes/tiny"));
  await form.getByLabel("Run name (optional)").fill(`e2e import ${Date.now()}`);
  await form.getByLabel("Corpus for activations").fill(env("E2E_CORPUS", "roneneldan/TinyStories"));
  // a token count not collected before, so every stage runs (not a reused import)
  await form.getByLabel("Tokens to collect").fill(String(2048 + 64 * (1 + (Date.now() % 32))));
  await form.getByRole("button", { name: "Import and analyse" }).click();

  await expect(page).toHaveURL(/\/jobs\/[^/]+$/);
  const stages = page.getByTestId("job-stages");
  for (const kind of ["import", "collect", "evaluate", "analyse"]) await expect(stages).toContainText(kind);
  await expect(page.getByTestId("job-status").first()).toHaveText("succeeded", { timeout });
  await expect(page.getByTestId("job-progress")).toHaveAttribute("aria-valuenow", "100");
  const progress = (await recorded(page, "job-progress", "aria-valuenow")).filter((v) => v !== "absent").map(Number);
  expect(new Set(progress).size, `progress values seen: ${progress}`).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < progress.length; i++) expect(progress[i], `progress went back: ${progress}`).toBeGreaterThanOrEqual(progress[i - 1]);
  await shot(page, "import-done");

  await page.getByRole("link", { name: "Explore features" }).click();
  const row = page.getByTestId("feature-row").first();
  await expect(row).toBeVisible();
  const index = (await row.locator("td:first-child").innerText()).trim();
  await row.locator("td:first-child a").click();
  await expect(page).toHaveURL(new RegExp(`/runs/[^/]+/features/${index}$`));
  await expect(page.getByTestId("feature-page")).toBeVisible();
  await expect(page.getByTestId("feature-stats")).toBeVisible();
  await expect(page.getByTestId("top-examples-list").locator(".example").first()).toBeVisible();
  await shot(page, "import-feature");
});
