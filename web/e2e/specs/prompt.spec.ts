/** Prompt analyser: heatmap per token, a clicked token's top features, re-shading by one feature. */
import { expect, test } from "@playwright/test";
import { shot } from "../helpers";

test("type a prompt, see the heatmap, inspect a token and re-shade by a feature", async ({ page }) => {
  await page.goto("/prompt");
  const text = "Once upon a time there was a little cat named Tom. He liked to play in the park.";
  await page.getByLabel("Prompt").fill(text);
  const heat = page.getByTestId("prompt-heatmap");
  const tokens = heat.locator("button.tok");
  await expect(tokens.first()).toBeVisible();
  expect(await tokens.count()).toBeGreaterThan(8);
  await expect(page).toHaveURL(/text=Once/);
  const joined = (await tokens.allInnerTexts()).join("");
  expect(joined.replace(/\s+/g, "")).toContain("cat");

  // click the most active token
  const values = await tokens.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-activation"))));
  const best = values.indexOf(Math.max(...values));
  expect(values[best]).toBeGreaterThan(0);
  await tokens.nth(best).click();
  const list = page.getByTestId("token-features");
  await expect(list.locator("li").first()).toBeVisible();
  await shot(page, "prompt");

  await list.getByRole("button", { name: "Shade by" }).first().click();
  await expect(heat).toContainText("shaded by #");
  await expect(list.getByRole("button", { name: "Shading" })).toBeVisible();
  const featureLink = list.locator("a").first();
  await featureLink.click();
  await expect(page).toHaveURL(/\/features\/\d+$/);
});
