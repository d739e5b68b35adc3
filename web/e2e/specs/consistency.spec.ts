/** Numbers that agree: one quantity shows one value on the run page, the explorer and a feature page (dead count,
 * density, the offline label's F1, firing count), and each says what it was measured on. */
import { expect, test, type Page } from "@playwright/test";
import { openExplorer } from "../helpers";

async function total(page: Page): Promise<number> {
  const text = await page.getByTestId("page-range").innerText();
  const m = /of ([\d,]+)$/.exec(text.trim());
  if (!m) throw new Error(`no total in ${JSON.stringify(text)}`);
  return Number(m[1].replace(/,/g, ""));
}

const card = (page: Page, testId: string, name: string) => page.getByTestId(testId).locator(".stat", { has: page.locator(".name", { hasText: name }) }).locator(".value");

test("the run page's dead count agrees with its histogram and the explorer's filters", async ({ page }) => {
  await openExplorer(page, "?hide=none");
  const all = await total(page);
  await openExplorer(page); // dead hidden by default
  const live = await total(page);
  await page.getByRole("link", { name: "Run summary →" }).click();
  await expect(page.getByTestId("run-page")).toBeVisible();
  const dead = await card(page, "analysis-card", "dead (analysis)").innerText();
  const m = /^([\d,]+) of ([\d,]+) \(([\d.]+%)\)$/.exec(dead.trim());
  expect(m, dead).not.toBeNull();
  expect(Number(m![1].replace(/,/g, ""))).toBe(all - live);
  expect(Number(m![2].replace(/,/g, ""))).toBe(all);
  // the density histogram's caption quotes the same share, to the same digits
  await expect(page.locator("figcaption", { hasText: "never fired on them (dead)" })).toContainText(`${m![3]} of features never fired`);
  // held-out and training-time numbers say so
  await expect(page.getByText("dead (held-out)")).toBeVisible();
  await expect(page.getByTestId("analysis-split")).toContainText("Analysis pass");
  await expect(page.getByText(/^Dead fraction \(training:/)).toBeVisible();
});

test("a feature's density, F1 and firing count agree between the explorer and its page", async ({ page }) => {
  await openExplorer(page, "?sort=labelScore&order=desc");
  const row = page.getByTestId("feature-row").first();
  const density = (await row.locator(".density-bar + .num").innerText()).trim();
  const f1 = (await row.getByTestId("row-f1").innerText()).trim();
  expect(f1).toMatch(/^\d\.\d\d$/);
  await row.locator("td:nth-child(2) a").click();
  await expect(page.getByTestId("feature-page")).toBeVisible();

  await expect(card(page, "feature-stats", "density")).toHaveText(density);
  const statF1 = card(page, "feature-stats", "F1 of the offline label");
  await expect(statF1).toHaveText(new RegExp(`^${f1.replace(".", "\\.")} \\[`));
  const offline = page.getByTestId("explanation").filter({ has: page.getByTestId("explanation-method").filter({ hasText: "offline token-list labeller" }) });
  await expect(offline.locator('[data-score-name="F1"]').getByTestId("score-value")).toHaveText(await statF1.innerText());
  // firing count: the stat card and the histogram's axis label
  const fired = (await card(page, "feature-stats", "tokens fired on").innerText()).trim();
  await expect(page.locator("figcaption", { hasText: "firings" }).first()).toContainText(`over its ${fired} firings`);
  // token shares are shown once, in the chips (the explanation's description quotes tokens, not shares)
  const description = await offline.locator(".small.muted").first().innerText();
  expect(description).not.toMatch(/\d+\s?%/);
  await expect(page.getByTestId("top-tokens")).toContainText("%");
});
