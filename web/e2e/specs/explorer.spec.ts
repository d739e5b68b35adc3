/** Explorer: server-side sort and pagination, both kept in the URL. */
import { expect, test } from "@playwright/test";
import { docShot, openExplorer, parseDensity, rowIndices, shot } from "../helpers";

test("sort by density and paginate, with page and sort surviving a reload", async ({ page }) => {
  await openExplorer(page);
  await expect(page.getByTestId("page-range")).toContainText(/^1–\d/);
  const byIndex = await rowIndices(page);
  expect(byIndex).toEqual([...byIndex].sort((a, b) => a - b));

  await page.getByRole("button", { name: /^Density/ }).click();
  await expect(page).toHaveURL(/sort=density/);
  await expect(page).toHaveURL(/order=desc/);
  await expect.poll(async () => (await rowIndices(page)).join(",")).not.toBe(byIndex.join(","));
  const densities = (await page.getByTestId("feature-row").locator("td:nth-child(4) .num").allInnerTexts()).map(parseDensity);
  for (let i = 1; i < densities.length; i++) expect(densities[i]).toBeLessThanOrEqual(densities[i - 1]);
  const firstPage = await rowIndices(page);
  // the bars are a labelled log scale: longer for denser features, a tick label per decade or two
  const widths = await page.getByTestId("feature-row").locator(".density-bar > span").evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.width)));
  for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThanOrEqual(widths[i - 1]);
  await expect(page.getByTestId("density-scale")).toContainText("100%");
  await shot(page, "explorer");
  await docShot(page, "explorer");

  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByTestId("page-range")).toContainText(/^51–/);
  await expect.poll(async () => (await rowIndices(page))[0]).not.toBe(firstPage[0]);
  const secondPage = await rowIndices(page);
  expect(secondPage.some((i) => firstPage.includes(i))).toBe(false);
  const lastOfFirst = densities.at(-1)!;
  const firstOfSecond = parseDensity(await page.getByTestId("feature-row").first().locator("td:nth-child(4) .num").innerText());
  expect(firstOfSecond).toBeLessThanOrEqual(lastOfFirst);

  await page.reload();
  await expect(page.getByTestId("page-range")).toContainText(/^51–/);
  expect(await rowIndices(page)).toEqual(secondPage);

  await page.getByRole("button", { name: /^#/ }).click(); // back to index order resets to page 1
  await expect(page).not.toHaveURL(/page=/);
});

test("explorer on a phone-sized screen and in the light theme", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openExplorer(page);
  await shot(page, "explorer-phone");
  await page.setViewportSize({ width: 1366, height: 860 });
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await shot(page, "explorer-light");
});

test("dead features are hidden by default; hiding dense ones narrows the list; every column is explained", async ({ page }) => {
  await openExplorer(page, "?hide=none");
  const all = Number(/of ([\d,]+)/.exec(await page.getByTestId("page-range").innerText())![1].replace(/,/g, ""));
  // the boxes follow the URL, which the router updates in a transition: click, then wait for the new state
  // (locator.check() reads the state back at once and can see the box before the URL caught up)
  await page.getByRole("checkbox", { name: "dead" }).click();
  await expect(page.getByRole("checkbox", { name: "dead" })).toBeChecked();
  await expect(page).not.toHaveURL(/hide=/); // the default
  await page.getByRole("checkbox", { name: /^dense/ }).click();
  await expect(page.getByRole("checkbox", { name: /^dense/ })).toBeChecked();
  await expect(page).toHaveURL(/hide=dead%2Cdense|hide=dead,dense/);
  const threshold = Number(/> ([\d.]+) %/.exec(await page.getByRole("checkbox", { name: /^dense/ }).locator("..").innerText())![1]) / 100;
  const range = page.getByTestId("page-range");
  await expect(range).not.toContainText(`of ${all.toLocaleString("en")}`);
  if (await page.getByTestId("feature-row").count()) {
    const densities = (await page.getByTestId("feature-row").locator("td:nth-child(4) .num").allInnerTexts()).map(parseDensity);
    for (const d of densities) {
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(threshold + 5e-4); // shown rounded to 0.1 %
    }
  } else await expect(page.getByTestId("empty-state")).toContainText("No feature matches");

  await openExplorer(page);
  for (const header of ["Density", "F1 \\(held-out\\)", "Max act."])
    expect(await page.getByRole("columnheader", { name: new RegExp(`^${header}`) }).getAttribute("title")).toBeTruthy();
  // flags, not a grade: a dense feature is named as such before any score
  await expect(page.getByRole("columnheader", { name: /^Grade/ })).toHaveCount(0);
  await expect(page.getByRole("columnheader", { name: /^Flags/ })).toHaveCount(1);
  await page.getByTestId("column-legend").locator("summary").click();
  await expect(page.getByTestId("column-legend")).toContainText("F1 (held-out)");
  await expect(page.getByTestId("column-legend")).toContainText("held-out");
});
