/// <reference types="vitest/config" />
// Builds the dashboard into the Python package, where `tradewarden serve` mounts it at "/".
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const outDir = fileURLToPath(new URL("../src/tradewarden/api/static", import.meta.url));
// `npm run dev` proxies the API to a running `tradewarden serve` (default port 8000; override with TW_API).
const api = process.env.TW_API ?? "http://127.0.0.1:8000";

// Swagger UI for /api/v1/docs, served from the package itself (no CDN, works offline): the files of the
// swagger-ui-dist npm package (Apache-2.0; its LICENSE and NOTICE travel with them) into static/docs-assets.
const SWAGGER_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];
function swaggerAssets(): Plugin {
  return {
    name: "tradewarden-swagger-assets",
    apply: "build",
    closeBundle() {
      const from = fileURLToPath(new URL("node_modules/swagger-ui-dist/", import.meta.url));
      const to = `${outDir}/docs-assets`;
      mkdirSync(to, { recursive: true });
      for (const name of SWAGGER_FILES) copyFileSync(`${from}${name}`, `${to}/${name}`);
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [react(), swaggerAssets()],
  build: {
    outDir,
    emptyOutDir: true, // outDir lies outside web/, so Vite only empties it when told to
    sourcemap: false,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": { target: api, ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
