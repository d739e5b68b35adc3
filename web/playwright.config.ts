/**
 * End-to-end tests in Debian Chromium against a running saelab gateway that serves this client:
 *   E2E_BASE_URL=http://127.0.0.1:8000 E2E_API_TOKEN=... npm run e2e
 * `npm run e2e:mock` runs the same specs against the in-memory mock (e2e/mock-server.mjs) instead; the real
 * check is the gateway run. See web/README.md for every E2E_* variable.
 */
import { defineConfig } from "@playwright/test";
import { freePort } from "./e2e/free-port";

const mock = process.env.E2E_MOCK === "1";
const mockPort = mock ? freePort("MOCK_PORT") : 0; // a free port per run: a busy fixed port would fail every spec
const baseURL = mock ? `http://127.0.0.1:${mockPort}` : process.env.E2E_BASE_URL;
if (!baseURL) throw new Error("E2E_BASE_URL is not set: point it at a running saelab gateway (or use `npm run e2e:mock`)");
if (mock) process.env.E2E_API_TOKEN ??= "test-token";

export default defineConfig({
  testDir: "e2e/specs",
  outputDir: "test-results",
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    viewport: { width: 1366, height: 860 },
    actionTimeout: 30_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  webServer: mock
    ? { command: `node e2e/mock-server.mjs --port ${mockPort}`, url: `http://127.0.0.1:${mockPort}/`, reuseExistingServer: false, env: { MOCK_TICK_MS: "250" } }
    : undefined,
});
