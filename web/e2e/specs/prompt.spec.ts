/** Prompt analyser: heatmap per token, a clicked token's features (all of them), prompt-wide ranking, re-shading. */
import { expect, test } from "@playwright/test";
import { shot } from "../helpers";
import { PROMPT } from "../pages";

test("type a prompt, see the heatmap, inspect a token and re-shade by a feature", async ({ page }) => {
  await page.goto("/prompt");
  await page.getByRole("textbox", { name: "Prompt" }).fill(PROMPT);
  const heat = page.getByTestId("prompt-heatmap");
  const tokens = heat.locator("button.tok");
  await expect(tokens.first()).toBeVisible();
  expect(await tokens.count()).toBeGreaterThan(8);
  await expect(page).toHaveURL(/text=Once/);
  await expect(page).toHaveTitle(/^Prompt “Once upon/);
  const joined = (await tokens.allInnerTexts()).join("");
  expect(joined.replace(/\s+/g, "")).toContain("cat");

  // click the most active token: every active feature is listed (TopK k <= the server's cap), 8 first
  const values = await tokens.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-activation"))));
  const best = values.indexOf(Math.max(...values));
  expect(values[best]).toBeGreaterThan(0);
  await tokens.nth(best).click();
  const list = page.getByTestId("token-features");
  await expect(list.getByTestId("token-feature").first()).toBeVisible();
  const l0 = Number(/^(\d+) features? active/.exec(await list.getByTestId("token-l0").innerText())![1]);
  await expect(list.getByTestId("token-l0")).toContainText("all listed");
  if (l0 > 8) {
    await expect(list.getByTestId("token-feature")).toHaveCount(8);
    await list.getByTestId("token-show-all").click();
  }
  await expect(list.getByTestId("token-feature")).toHaveCount(l0);

  // features ranked over the whole prompt: by sum, highest first
  const ranked = page.getByTestId("ranked-feature");
  await expect(ranked.first()).toBeVisible();
  const sums = (await ranked.locator("td:nth-child(3)").allInnerTexts()).map(Number);
  for (let i = 1; i < sums.length; i++) expect(sums[i]).toBeLessThanOrEqual(sums[i - 1]);
  await shot(page, "prompt");

  await list.getByRole("button", { name: /^Shade by/ }).first().click();
  await expect(page.getByTestId("shading-note")).toContainText(/Shaded by activation of #\d+/);
  await expect(list.getByRole("button", { name: /^Shading by/ })).toBeVisible();
  await expect(page).toHaveURL(/shade=features&f=\d+/);
  const featureLink = list.locator("a").first();
  await featureLink.click();
  await expect(page).toHaveURL(/\/features\/\d+$/);
});
