/**
 * Sweeps: several SAEs submitted from the Jobs page's sweep form on the seeded dataset, their runs' training
 * steps arriving live on the job page, each run evaluated, then the Compare page's Pareto points (hover names the
 * run, click opens it). E2E_SWEEP_STEPS sizes the training (long enough to watch steps arrive).
 */
import { expect, test } from "@playwright/test";
import { docShot, recordAttributes, recorded, shot, useApiToken } from "../helpers";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

test.beforeEach(async ({ page }) => useApiToken(page));

test("submit a sweep, watch its runs train, compare them on the Pareto view", async ({ page }) => {
  test.skip(process.env.E2E_MOCK === "1", "the in-memory mock has no trainer: sweeps need the real gateway");
  test.setTimeout(Number(env("E2E_JOB_TIMEOUT_MS", "600000")));
  await recordAttributes(page, [["sweep-run", "data-points"]]);
  await page.goto("/jobs");
  const form = page.getByRole("form", { name: "Submit a sweep" });
  const dataset = form.getByLabel("Sweep dataset", { exact: true });
  const firstReady = dataset.locator("option:not([disabled]):not([value=''])").first();
  await expect(firstReady).toBeAttached();
  await dataset.selectOption(await firstReady.getAttribute("value"));

  await form.getByLabel("Sweep name (optional)").fill(`e2e sweep ${Date.now()}`);
  await form.getByLabel("Sweep steps").fill(env("E2E_SWEEP_STEPS", "600"));
  await form.getByLabel("Sweep batch (tokens)").fill("128");
  await form.getByLabel("Sweep learning rate").fill("0.001");
  await form.getByLabel("Sweep seed").fill(String(Date.now() % 1_000_000_000)); // a fresh seed: really trains
  for (const i of [1, 2]) {
    await form.getByLabel(`SAE ${i} architecture`).selectOption("relu");
    await form.getByLabel(`SAE ${i} d_sae`).fill("64");
    await form.getByLabel(`SAE ${i} L1 coefficient`).fill("2");
  }
  // two identical SAEs pass the browser; the server refuses them and the message appears above the form
  await form.getByRole("button", { name: "Submit sweep" }).click();
  await expect(form.getByTestId("sweep-errors")).toContainText("same training config");
  await form.getByLabel("SAE 2 architecture").selectOption("topk");
  await form.getByLabel("SAE 2 k").fill("65"); // the browser's own check: k above d_sae, on that row
  await form.getByRole("button", { name: "Submit sweep" }).click();
  await expect(form.getByLabel("SAE 2 k")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("SAE 2 k").fill("8");
  await form.getByRole("button", { name: "Add an SAE" }).click();
  await form.getByLabel("SAE 3 architecture").selectOption("batchtopk");
  await form.getByLabel("SAE 3 d_sae").fill("128");
  await form.getByLabel("SAE 3 k").fill("8");
  await form.getByRole("button", { name: "Submit sweep" }).click();

  await expect(page).toHaveURL(/\/jobs\/[^/]+$/);
  await expect(page.getByTestId("job-page")).toBeVisible();
  const rows = page.getByTestId("sweep-run");
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("job-status").first()).toHaveText(/running|succeeded/, { timeout: 120_000 });
  await shot(page, "sweep-running");
  for (let i = 0; i < 3; i++) await expect(rows.nth(i)).toHaveAttribute("data-state", "analysed", { timeout: Number(env("E2E_JOB_TIMEOUT_MS", "600000")) });
  const seen = (await recorded(page, "sweep-run", "data-points")).filter((v) => v !== "absent").map(Number);
  expect(new Set(seen).size, `the first run's curve sizes seen: ${seen}`).toBeGreaterThanOrEqual(3); // arrived live
  for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  await docShot(page, "sweep");

  await page.getByRole("link", { name: /Compare these runs/ }).click();
  await expect(page).toHaveURL(/\/compare\?/);
  const ev = page.getByTestId("pareto-explainedVariance");
  await expect(ev).toHaveAttribute("data-points", "3");
  await expect(page.getByTestId("pareto-ceLossRecovered")).toHaveAttribute("data-points", "3");
  await expect(page.getByTestId("compare-row")).toHaveCount(3);
  const points = ev.locator(".recharts-scatter-symbol");
  await expect(points).toHaveCount(3);
  await expect(ev.locator(".recharts-legend-item")).toHaveCount(3); // one series per architecture
  expect((await ev.locator(".recharts-legend-item").allTextContents()).sort()).toEqual(["batchtopk", "relu", "topk"]);
  await points.first().hover();
  await expect(page.getByTestId("pareto-tooltip")).toContainText(/e2e sweep \d+\/\d\d-/);
  await shot(page, "compare");
  await docShot(page, "compare");
  await points.first().click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
});
