/** Prompt page: click a token, see the features that push the model towards it, ablate one and see the prediction change. */
import { expect, test } from "@playwright/test";
import { shot } from "../helpers";
import { PROMPT } from "../pages";

test("attribute a clicked token to features and ablate the strongest", async ({ page }) => {
  await page.goto("/prompt");
  await page.getByRole("textbox", { name: "Prompt" }).fill(PROMPT);
  const tokens = page.getByTestId("prompt-heatmap").locator("button.tok");
  await expect(tokens.first()).toBeVisible();
  const n = await tokens.count();
  await tokens.nth(n - 2).click();

  const panel = page.getByTestId("attribution-panel");
  const rows = panel.getByTestId("attribution-row");
  await expect(rows.first()).toBeVisible();
  const scores = (await rows.locator("td:nth-child(4)").allInnerTexts()).map(Number);
  for (let i = 1; i < scores.length; i++) expect(Math.abs(scores[i])).toBeLessThanOrEqual(Math.abs(scores[i - 1]));
  expect(Math.abs(scores[0])).toBeGreaterThan(0);
  await expect(panel.getByTestId("attribution-check")).toContainText(/Check: ablating #\d+ at token \d+ moves the logit by/);

  await rows.first().getByRole("button", { name: /^Ablate feature/ }).click();
  const result = panel.getByTestId("ablation-result");
  await expect(result).toBeVisible();
  expect(Number(await result.getByTestId("ablation-kl").innerText())).toBeGreaterThan(0);
  await expect(result.getByTestId("ablation-clean-top").locator("li").first()).toBeVisible();
  await expect(result.getByTestId("ablation-ablated-top").locator("li").first()).toBeVisible();
  await shot(page, "attribution");

  // the first token has nothing before it to attribute
  await tokens.first().click();
  await expect(page.getByTestId("token-attribution")).toContainText("The first token has no earlier context");
});
