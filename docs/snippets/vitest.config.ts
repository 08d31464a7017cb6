import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Runs the test files among the snippets, resolving the package name to the source as docs/tsconfig.json does.
const source = (file: string) => fileURLToPath(new URL(`../../src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-opensolar-auth$/, replacement: source("index.ts") },
      { find: /^effect-opensolar-auth\/node$/, replacement: source("node.ts") },
      { find: /^effect-opensolar-auth\/redis$/, replacement: source("redis.ts") },
      { find: /^effect-opensolar-auth\/testing$/, replacement: source("testing/index.ts") }
    ]
  },
  cacheDir: fileURLToPath(new URL("../../node_modules/.vite-docs-snippets", import.meta.url)),
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["*.test.ts"],
    testTimeout: 30_000
  }
})
