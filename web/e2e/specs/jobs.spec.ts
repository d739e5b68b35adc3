/**
 * Jobs: server validation messages, then a real pipeline on the tiny model whose progress and training curves
 * update live over the subscription. E2E_MODEL / E2E_CORPUS / E2E_LAYER / E2E_N_TOKENS / E2E_STEPS size it
 * (training must last a few seconds so that its steps can be watched arriving: 3000 steps by default).
 */
import { expect, test, type Page } from "@playwright/test";
import { docShot, recordAttributes, recorded, shot, useApiToken } from "../helpers";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

async function fillPipeline(page: Page, over: Record<string, string> = {}) {
  const values: Record<string, string> = {
    Model: env("E2E_MODEL", "gpt2"),
    Layer: env("E2E_LAYER", "1"),
    Corpus: env("E2E_CORPUS", "roneneldan/TinyStories"),
    Tokens: env("E2E_N_TOKENS", "4096"),
    "Context length": env("E2E_CONTEXT", "32"),
    d_sae: env("E2E_D_SAE", "64"),
    "L1 coefficient": "5",
    "Learning rate": "0.001",
    Steps: env("E2E_STEPS", "200"),
    "Batch (tokens)": env("E2E_BATCH", "256"),
    ...over,
  };
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

test.beforeEach(async ({ page }) => useApiToken(page));

test("the server's validation message appears next to the field", async ({ page }) => {
  await page.goto("/jobs");
  await fillPipeline(page, { "Context length": "9000" }); // the browser allows it; CollectConfig says <= 8192
  await page.getByRole("button", { name: "Submit pipeline" }).click();
  const field = page.getByLabel("Context length", { exact: true });
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator(".field-invalid")).toContainText("8192");
  await expect(page).toHaveURL(/\/jobs$/);
  await shot(page, "jobs-validation");
});

test("submit a pipeline and watch progress and training curves update live", async ({ page }) => {
  test.setTimeout(Number(env("E2E_JOB_TIMEOUT_MS", "600000")));
  // Record every value the progress bar and the loss curve take: they must climb step by step while the page
  // stays open (no reload), i.e. from the live subscriptions, not jump once at the end.
  await recordAttributes(page, [["job-progress", "aria-valuenow"], ["curve-loss", "data-points"]]);
  await page.goto("/jobs");
  await fillPipeline(page, {
    "Name (optional)": `e2e pipeline ${Date.now()}`,
    // a token count not collected before, so the pipeline runs every stage (not a cached dataset)
    Tokens: env("E2E_N_TOKENS", String(4096 + 64 * (1 + (Date.now() % 32)))),
    Steps: env("E2E_STEPS", "3000"),
    // identical configs are reused by the server: a fresh seed makes it train for real
    Seed: String(Date.now() % 1_000_000_000),
  });
  await page.getByRole("button", { name: "Submit pipeline" }).click();
  await expect(page).toHaveURL(/\/jobs\/[^/]+$/);
  await expect(page.getByTestId("job-page")).toBeVisible();

  await expect(page.getByTestId("job-status").first()).toHaveText(/running|succeeded/, { timeout: 120_000 });
  await shot(page, "job-running");
  await expect(page.getByTestId("job-status").first()).toHaveText("succeeded", { timeout: Number(env("E2E_JOB_TIMEOUT_MS", "600000")) });
  const bar = page.getByTestId("job-progress");
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  const progress = (await recorded(page, "job-progress", "aria-valuenow")).filter((v) => v !== "absent").map(Number);
  expect(new Set(progress).size, `progress values seen: ${progress}`).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < progress.length; i++) expect(progress[i], `progress went back: ${progress}`).toBeGreaterThanOrEqual(progress[i - 1]);
  const points = (await recorded(page, "curve-loss", "data-points")).filter((v) => v !== "absent").map(Number);
  expect(new Set(points).size, `loss curve sizes seen: ${points}`).toBeGreaterThanOrEqual(3);
  expect(points.at(-1)).toBeGreaterThan(points[0]);
  for (const metric of ["loss", "mse", "l0", "explainedVariance", "deadFraction"])
    expect(Number(await page.getByTestId(`curve-${metric}`).getAttribute("data-points"))).toBeGreaterThan(1);
  await shot(page, "job-done");
  await docShot(page, "job");

  await page.getByRole("link", { name: "Jobs", exact: true }).first().click();
  await expect(page.getByTestId("job-row").first()).toBeVisible();
  await shot(page, "jobs");
  await docShot(page, "jobs");
});
