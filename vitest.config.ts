import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds the programs that tests start as child processes, once for the run.
    globalSetup: ["test/support/globalSetup.ts"],
    // Many suites wait on child processes and loopback servers rather than the CPU, so more workers than cores pay.
    pool: "forks",
    maxWorkers: 3,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
