/** Vite build + dev server (proxies /graphql, websockets included, to the gateway) + Vitest config. */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { moveAssetsAfterBase } from "./vite/assetsAfterBase";

const gateway = process.env.SAELAB_GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  // Relative asset URLs so a static export works from any sub-path; index.html adds <base href="/"> in API mode.
  base: "./",
  plugins: [
    react(),
    // Deep links: the asset tags are added after <base href="/"> applies (see vite/assetsAfterBase.ts).
    { name: "saelab-assets-after-base", apply: "build", transformIndexHtml: { order: "post", handler: moveAssetsAfterBase } },
  ],
  server: {
    proxy: { "/graphql": { target: gateway, ws: true, changeOrigin: true } },
  },
  build: {
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: { manualChunks: { recharts: ["recharts"], graphql: ["graphql", "urql", "@urql/core", "graphql-ws"] } },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}", "vite/**/*.test.ts"],
    css: false,
  },
});
