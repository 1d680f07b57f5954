/// <reference types="vitest/config" />
// Builds the dashboard into the Python package, where `tradewarden serve` mounts it at "/".
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../src/tradewarden/api/static", import.meta.url));
// `npm run dev` proxies the API to a running `tradewarden serve` (default port 8000; override with TW_API).
const api = process.env.TW_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [react()],
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
