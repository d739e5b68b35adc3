/**
 * The LLM explainer from the feature page: open the form, read the cost/time estimate, start the job against the
 * real local model (SmolLM2-135M-Instruct behind tests/support/chat_server.py, which run-against-gateway.sh starts
 * and points the gateway at), watch its progress, then find the new explanation with its method, model and
 * detection/fuzzing scores in the feature's explanation list.
 */
import { expect, test } from "@playwright/test";
import { openExplorer, shot, useApiToken } from "../helpers";

const model = process.env.E2E_EXPLAINER_MODEL ?? "";

test("a user runs the LLM explainer on a feature and sees its scored explanation", async ({ page }) => {
  test.skip(!model, "needs the gateway with the local model server: npm run e2e:gateway (run-against-gateway.sh)");
  test.setTimeout(900_000); // a 135M model on shared CPUs: a few calls of tens of seconds each
  await useApiToken(page);
  // the feature firing most often has windows on both sides of the held-out split
  await openExplorer(page, "?sort=density&order=desc");
  await page.getByTestId("feature-row").first().locator("td:nth-child(2) a").click();
  await expect(page.getByTestId("feature-page")).toBeVisible();

  await page.getByRole("button", { name: "Explain with an LLM…" }).click();
  const form = page.getByRole("form", { name: "Explain with an LLM" });
  await form.getByLabel("Top examples shown").fill("4");
  await form.getByLabel("Held-out contexts per score").fill("3");
  const estimate = form.getByTestId("explain-estimate");
  // 1 explanation + ceil(6 / 5) detection + ceil(6 / 5) fuzzing calls
  await expect(estimate).toContainText("llm-delphi with");
  await expect(estimate).toContainText("5 LLM calls");
  await expect(form.getByTestId("explain-model")).toHaveText(model);
  await shot(page, "explainer-estimate");

  await form.getByRole("button", { name: "Explain with the LLM" }).click();
  const progress = form.getByTestId("explain-progress");
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 840_000 });
  await expect(form.getByTestId("explain-message")).toContainText("explained 1 features with");

  const row = page.getByTestId("explanation").filter({ has: page.getByTestId("explanation-method").filter({ hasText: "llm-delphi" }) });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("explanation-method")).toContainText(model);
  const names = await row.getByTestId("score").evaluateAll((els) => els.map((e) => e.getAttribute("data-score-name")));
  expect(names).toEqual(["detection", "fuzzing"]);
  await expect(row.locator('[data-score-name="detection"]')).toHaveAttribute("title", /Delphi.*held-out contexts answered/s);
  await shot(page, "explainer-result");
});
