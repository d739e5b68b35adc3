/** The dictionary map: reached from the explorer, one linked dot per live feature coloured by density, a click opens
 * the feature, and a direct load of its URL works. */
import { expect, test } from "@playwright/test";
import { docShot, openExplorer, shot } from "../helpers";

test("the dictionary map shows every live feature and a click opens one", async ({ page }) => {
  await openExplorer(page);
  const live = Number(/of ([\d,]+)$/.exec((await page.getByTestId("page-range").innerText()).trim())![1].replace(/,/g, ""));
  await page.getByRole("link", { name: "Map →" }).click();
  await expect(page).toHaveURL(/\/runs\/[^/]+\/map$/);
  await expect(page.getByTestId("feature-map")).toBeVisible();
  await expect(page).toHaveTitle(/^Dictionary map/);
  const points = page.getByTestId("map-point");
  await expect(points).toHaveCount(live); // dead hidden by default, like the explorer
  await expect(page.getByTestId("map-legend")).toContainText("Colour: density");
  // dots differ in colour with density (not one flat colour)
  const fills = new Set(await points.locator("circle").evaluateAll((els) => els.slice(0, 200).map((e) => e.getAttribute("fill"))));
  expect(fills.size).toBeGreaterThan(1);
  // positions fill the plot: the layout of every feature (dead ones included, so shown for this check) is scaled
  // to [0, 1] on both axes, i.e. 960 of the 1000 viewBox units between the padding
  const hideDead = page.getByRole("checkbox", { name: "hide dead" });
  await hideDead.uncheck();
  const every = page.getByTestId("map-point").locator("circle");
  for (const axis of ["cx", "cy"]) {
    const values = await every.evaluateAll((els, a) => els.map((e) => Number(e.getAttribute(a))), axis);
    expect(Math.max(...values) - Math.min(...values)).toBeCloseTo(960, 3);
  }
  await hideDead.check();
  await expect(points).toHaveCount(live);
  await shot(page, "map");
  await docShot(page, "map");
  // the last dot is drawn on top of any it overlaps, so clicking it opens that feature
  const last = points.last();
  const index = await last.getAttribute("data-index");
  await last.click();
  await expect(page).toHaveURL(new RegExp(`/features/${index}$`));
  await expect(page.getByTestId("feature-page")).toBeVisible();
  await expect(page.getByText(`feature #${index}`)).toBeVisible();
});
