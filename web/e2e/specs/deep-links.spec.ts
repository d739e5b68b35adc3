/**
 * Deep links: a direct load of every page's URL makes no failed request (no asset fetched from the wrong folder,
 * no 404 icon), shows the page and gives it its own tab title.
 */
import { expect, test } from "@playwright/test";
import { readIds, targets, type Ids } from "../pages";

let ids: Ids;
test.beforeAll(async ({ request }) => {
  ids = await readIds(request);
});

test("every page loads directly from its URL with 0 failed requests and its own title", async ({ page }) => {
  for (const t of targets(ids)) {
    const failed: string[] = [];
    const onFailed = (r: import("@playwright/test").Request) => failed.push(`${r.url()} (${r.failure()?.errorText})`);
    const onResponse = (r: import("@playwright/test").Response) => {
      if (r.status() >= 400) failed.push(`${r.url()} answered ${r.status()}`);
    };
    page.on("requestfailed", onFailed);
    page.on("response", onResponse);
    await page.goto(t.path);
    await t.ready(page);
    await page.waitForLoadState("networkidle");
    page.off("requestfailed", onFailed);
    page.off("response", onResponse);
    expect(failed, `${t.name} (${t.path})`).toEqual([]);
    await expect(page, `${t.name} title`).toHaveTitle(t.title);
  }
});

test("a feature index outside the run suggests only indices inside it", async ({ page }) => {
  await page.goto(`/runs/${encodeURIComponent(ids.runId)}/features/${ids.dSae + 5}`);
  const range = page.getByTestId("feature-range");
  await expect(range).toContainText(`#0 – #${ids.dSae - 1}`);
  const suggested = await range.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
  const indices = suggested.map((h) => /\/features\/(\d+)$/.exec(h)?.[1]).filter(Boolean).map(Number);
  expect(indices.length).toBeGreaterThan(0);
  for (const i of indices) expect(i).toBeLessThan(ids.dSae);
  // the feature navigation never links past the end either
  await page.goto(`/runs/${encodeURIComponent(ids.runId)}/features/${ids.dSae - 1}`);
  await expect(page.getByTestId("feature-page")).toBeVisible();
  await expect(page.getByRole("link", { name: `#${ids.dSae} ›` })).toHaveCount(0);
  await expect(page.getByRole("link", { name: `‹ #${ids.dSae - 2}` })).toBeVisible();
});
