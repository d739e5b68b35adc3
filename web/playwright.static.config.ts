/** The static-export smoke test: builds a fixture export from the mock data and opens it with no API at all. */
import { defineConfig } from "@playwright/test";
import { freePort } from "./e2e/free-port";

const port = freePort("STATIC_PORT"); // a free port per run, never a fixed one

export default defineConfig({
  testDir: "e2e/static",
  outputDir: "test-results",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}/sub/`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  webServer: {
    command: `rm -rf test-results/static-site && mkdir -p test-results/static-site && node e2e/mock/export-static.mjs test-results/static-site/sub && node e2e/static-server.mjs test-results/static-site ${port}`,
    url: `http://127.0.0.1:${port}/sub/index.html`,
    reuseExistingServer: false,
  },
});
