import { defineConfig } from "vitest/config";

/**
 * `npm run test:faults`: stops and starts Postgres and Redis, kills servers with -9 and SIGTERM.
 * One file at a time (they share the services), against the real services only.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
    env: { UV_THREADPOOL_SIZE: "6" },
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
