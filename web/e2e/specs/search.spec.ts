/** Search: debounced query in the URL, ranked hits, landing on a feature. */
import { expect, test } from "@playwright/test";
import { openExplorer, shot } from "../helpers";

test("search for a label word and land on the feature", async ({ page }) => {
  await openExplorer(page, "?sort=labelScore&order=desc");
  const label = (await page.getByTestId("feature-row").first().locator("td:nth-child(2)").innerText()).trim();
  const word = label.split(/\s+/).find((w) => w.length >= 3) ?? label;
  expect(word, "the top feature should carry a label to search for").not.toBe("unlabelled");

  await page.getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Search features").fill(word);
  await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(word).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const hits = page.getByTestId("search-hit");
  await expect(hits.first()).toBeVisible();
  await expect(hits.first().locator("mark").first()).toBeVisible();
  await shot(page, "search");

  await page.reload(); // the query lives in the URL
  await expect(page.getByLabel("Search features")).toHaveValue(word);
  await expect(hits.first()).toBeVisible();

  const target = hits.first().locator("a").first();
  const index = (await target.innerText()).replace("#", "");
  await target.click();
  await expect(page).toHaveURL(new RegExp(`/features/${index}$`));
  await expect(page.getByTestId("feature-page")).toBeVisible();
});
