/**
 * The newcomer's first run in Debian Chromium (e2e/run-newcomer.sh starts `saelab up` and sets E2E_BASE_URL):
 * the empty state before `saelab demo`, the demo's features after it.
 */
import { defineConfig } from "@playwright/test";

const baseURL = process.env.E2E_BASE_URL;
if (!baseURL) throw new Error("E2E_BASE_URL is not set: run this through e2e/run-newcomer.sh");

export default defineConfig({
  testDir: "e2e/newcomer",
  outputDir: "test-results",
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
