/** Accessibility: axe-core on every page (dark and light theme) finds no serious or critical violation. */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { readIds, targets, type Ids } from "../pages";

let ids: Ids;
test.beforeAll(async ({ request }) => {
  ids = await readIds(request);
});

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join("\n  ")}`);
}

for (const theme of ["dark", "light"] as const) {
  test(`no serious or critical axe violation on any page (${theme} theme)`, async ({ page }) => {
    test.slow(); // a dozen pages scanned, and the first visit to the prompt page may load the LM
    await page.addInitScript((t) => localStorage.setItem("saelab.theme", t), theme);
    // a bookmark, so the bookmarks page shows its table rather than the empty state
    await page.addInitScript(
      ([runId, index]) =>
        localStorage.setItem(
          "saelab.bookmarks",
          JSON.stringify({ version: 1, active: "Bookmarks", lists: { Bookmarks: [{ runId, index, label: "axe", addedAt: "2025-12-06T10:00:00Z" }] } }),
        ),
      [ids.runId, ids.feature] as const,
    );
    const failures: string[] = [];
    for (const t of targets(ids)) {
      await page.goto(t.path);
      await t.ready(page);
      await page.waitForLoadState("networkidle");
      if (t.name === "feature" || t.name === "explorer") {
        // open the disclosures so their content is scanned too
        await page.getByTestId("api-query-toggle").click();
        await expect(page.getByTestId("api-query")).toBeVisible();
      }
      if (t.name === "explorer") await page.getByTestId("column-legend").locator("summary").click();
      for (const v of await seriousViolations(page)) failures.push(`${t.name}: ${v}`);
    }
    expect(failures, failures.join("\n")).toEqual([]);
  });
}
