/** Shared e2e helpers: API token injection, screenshots, reading the page's numbers. */
import { expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "screenshots");
const DOC_IMAGES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "images");

/** Full-page screenshot under web/e2e/screenshots/<name>.png for reviewers. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0)); // keep the sticky header at the top of a full-page shot
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * A small screenshot of what the page shows first (the viewport, 1280 x 800) for the README, written to
 * docs/images/<name>.png only when E2E_DOC_SHOTS=1 (so ordinary runs leave the committed images alone);
 * always also under e2e/screenshots/.
 */
export async function docShot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  const size = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `doc-${name}.png`) });
  if (process.env.E2E_DOC_SHOTS === "1") {
    mkdirSync(DOC_IMAGES, { recursive: true });
    await page.screenshot({ path: join(DOC_IMAGES, `${name}.png`) });
  }
  if (size) await page.setViewportSize(size);
}

/** Put the API token (E2E_API_TOKEN) where the client reads it, before any page script runs. */
export async function useApiToken(page: Page): Promise<void> {
  const token = process.env.E2E_API_TOKEN;
  if (!token) throw new Error("E2E_API_TOKEN is not set: mutations (relabel, submit) need the gateway's API token");
  await page.addInitScript((t) => localStorage.setItem("saelab.apiToken", t), token);
}

/** "1.2%" / "0.0012%" / "0" -> fraction. */
export function parseDensity(text: string): number {
  const t = text.trim();
  if (t === "0") return 0;
  const m = /^([\d.eE+-]+)%$/.exec(t);
  if (!m) throw new Error(`not a density: ${JSON.stringify(text)}`);
  return Number(m[1]) / 100;
}

/** Open the explorer and wait for its table. */
export async function openExplorer(page: Page, query = ""): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
}

/** Indices shown in the explorer table, in order. */
export async function rowIndices(page: Page): Promise<number[]> {
  const cells = await page.getByTestId("feature-row").locator("td:first-child").allInnerTexts();
  return cells.map((c) => Number.parseInt(c, 10));
}

/**
 * Record every value the given attributes of test-id'd elements take, from the first render of every page the
 * test opens (an init script with a MutationObserver, so fast live updates between two polls are not missed).
 * Read them back with `recorded`. Call before `page.goto`.
 */
export async function recordAttributes(page: Page, targets: [testId: string, attr: string][]): Promise<void> {
  await page.addInitScript((list) => {
    const w = window as unknown as { __rec: Record<string, string[]> };
    w.__rec = {};
    const read = () => {
      for (const [id, name] of list) {
        const seen = (w.__rec[`${id}/${name}`] ??= []);
        const v = document.querySelector(`[data-testid="${id}"]`)?.getAttribute(name) ?? "absent";
        if (seen.at(-1) !== v) seen.push(v);
      }
    };
    // observe the Document node itself: at init time the <html> element may not exist yet
    new MutationObserver(read).observe(document, { subtree: true, childList: true, attributes: true });
  }, targets);
}

export async function recorded(page: Page, testId: string, attr: string): Promise<string[]> {
  return page.evaluate(([id, name]) => (window as unknown as { __rec: Record<string, string[]> }).__rec[`${id}/${name}`] ?? [], [testId, attr]);
}
