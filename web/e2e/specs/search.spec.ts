/** Search: debounced query in the URL, ranked hits, landing on a feature. */
import { expect, test } from "@playwright/test";
import { docShot, openExplorer, shot } from "../helpers";

test("search for a label word and land on the feature", async ({ page }) => {
  await openExplorer(page, "?sort=labelScore&order=desc");
  // a word of a label itself, not its punctuation or the "(after 'x')" context note: labels are token lists such
  // as "park, Lily (after 'the')"; the best-scored labels of the tiny random model can be punctuation only, so
  // take the first row (by label score) whose label has a word
  const labels = await page.getByTestId("feature-row").locator("td:nth-child(2)").allInnerTexts();
  const wordsOf = (label: string) =>
    (label.replace(/\(after .*\)$/, "").match(/[\p{L}\p{N}]{3,}/gu) ?? []).filter((w) => w !== "unlabelled");
  const word = labels.map(wordsOf).find((ws) => ws.length > 0)?.[0];
  expect(word, `one of the top labels ${JSON.stringify(labels.slice(0, 5))} should carry a word`).toBeTruthy();
  if (!word) return;

  await page.getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Search features").fill(word);
  await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe(word);
  const hits = page.getByTestId("search-hit");
  await expect(hits.first()).toBeVisible();
  await expect(hits.first().locator("mark").first()).toBeVisible();
  await shot(page, "search");
  await docShot(page, "search");

  await page.reload(); // the query lives in the URL
  await expect(page.getByLabel("Search features")).toHaveValue(word);
  await expect(hits.first()).toBeVisible();

  const target = hits.first().locator("a").first();
  const index = (await target.innerText()).replace("#", "");
  await target.click();
  await expect(page).toHaveURL(new RegExp(`/features/${index}$`));
  await expect(page.getByTestId("feature-page")).toBeVisible();
});
