import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fault suite stops the shared services: it runs on its own (`npm run test:faults`).
    exclude: ["test/faults/**", "**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: argon2 and PGlite are CPU-heavy, so more workers only add contention.
    maxWorkers: 2,
    env: { UV_THREADPOOL_SIZE: "6" },
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
