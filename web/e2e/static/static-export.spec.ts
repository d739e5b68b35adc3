/** A static export (fixture from the mock data) works from a sub-path with no API: explorer, detail, search. */
import { expect, test } from "@playwright/test";
import { shot } from "../helpers";

test("explorer, feature page and search work from static files; prompt and jobs say they need the API", async ({ page }) => {
  const graphql: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.endsWith("/graphql")) graphql.push(r.url());
  });
  await page.goto("index.html");
  await expect(page.getByText("static export")).toBeVisible();
  await expect(page.getByTestId("feature-row").first()).toBeVisible();
  await page.getByRole("button", { name: /^Density/ }).click();
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page).toHaveURL(/#\/\?.*page=2/);
  await expect(page.getByTestId("page-range")).toContainText(/^51–/);
  await shot(page, "static-explorer");

  await page.getByTestId("feature-row").first().locator("td:nth-child(2) a").click();
  await expect(page.getByTestId("feature-page")).toBeVisible();
  await expect(page.getByTestId("top-examples-list").getByTestId("max-token").first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Edit label" })).toHaveCount(0);
  await expect(page.getByTestId("static-notice")).toBeVisible();

  await page.getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Search features").fill("cats");
  await expect(page.getByTestId("search-hit").first()).toBeVisible();
  await page.getByTestId("search-hit").first().locator("a").first().click();
  await expect(page.getByTestId("feature-page")).toBeVisible();

  await page.getByRole("link", { name: "Prompt" }).click();
  await expect(page.getByTestId("static-notice")).toBeVisible();
  await page.getByRole("link", { name: "Jobs" }).click();
  await expect(page.getByTestId("static-notice")).toBeVisible();
  await page.goto("index.html#/runs/run-tiny");
  await expect(page.getByTestId("eval-card")).toBeVisible();
  expect(graphql).toEqual([]);
});
