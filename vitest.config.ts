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
    // Limits for a test that hangs, not for a slow one: a loaded machine can take several times as long as usual.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
