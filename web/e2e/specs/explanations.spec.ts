/** Explanations on a feature page: the offline labeller's with its method and named scores (interval, sample,
 * tooltip, legend), a user's own added and edited with the API token, and kept after a reload. */
import { expect, test } from "@playwright/test";
import { openExplorer, shot, useApiToken } from "../helpers";

test("a feature page lists explanations with their method and scores; a user adds and edits one", async ({ page }) => {
  await useApiToken(page);
  // the densest scored features have the largest held-out samples
  await openExplorer(page, "?sort=labelScore&order=desc");
  await page.getByTestId("feature-row").first().locator("td:nth-child(2) a").click();
  await expect(page.getByTestId("feature-page")).toBeVisible();

  const list = page.getByTestId("explanations");
  const offline = list.getByTestId("explanation").filter({ has: page.getByTestId("explanation-method").filter({ hasText: "offline token-list labeller" }) });
  await expect(offline).toHaveCount(1);
  // the offline label's items are quoted tokens
  await expect(offline.getByTestId("explanation-text")).toHaveText(/^".*"/);
  const names = await offline.getByTestId("score").evaluateAll((els) => els.map((e) => e.getAttribute("data-score-name")));
  expect(names).toEqual(["F1", "precision", "recall"]);
  const f1 = offline.locator('[data-score-name="F1"]');
  await expect(f1).toHaveAttribute("title", /held-out.*Measured on \d+ held-out firings/);
  await expect(f1.getByTestId("score-value")).toHaveText(/^(\d\.\d\d \[\d\.\d\d–\d\.\d\d\]|no score)$/);
  // the stat card quotes the same F1 as the explanation
  const card = page.getByTestId("feature-stats").locator(".stat", { hasText: "F1 of the offline label" }).locator(".value");
  await expect(card).toHaveText((await f1.getByTestId("score-value").innerText()).replace("no score", "—"));
  await page.getByTestId("score-legend").locator("summary").click();
  await expect(page.getByTestId("score-legend")).toContainText("95 % confidence");

  const text = `e2e explanation ${Date.now()}`;
  await page.getByRole("button", { name: "Add an explanation" }).click();
  await page.getByLabel("Explanation", { exact: true }).fill(text);
  await page.getByRole("button", { name: "Add explanation" }).click();
  const mine = list.getByTestId("explanation").filter({ hasText: text });
  await expect(mine).toHaveCount(1);
  await expect(mine.getByTestId("explanation-method")).toHaveText("human");
  await expect(mine).toContainText("not scored");

  await mine.getByRole("button", { name: /Edit explanation/ }).click();
  await page.getByLabel("Explanation", { exact: true }).fill(`${text} (edited)`);
  await page.getByRole("button", { name: "Save explanation" }).click();
  await expect(list.getByTestId("explanation-text").filter({ hasText: `${text} (edited)` })).toHaveCount(1);
  await page.reload();
  await expect(page.getByTestId("explanations").getByTestId("explanation-text").filter({ hasText: `${text} (edited)` })).toHaveCount(1);
  await shot(page, "feature-explanations");
});
