/**
 * The programs the tests start as child processes, by the name of their bundle (its path in the bundle directory,
 * without `.mjs`): built by `globalSetup.ts`, found by `bundle` in `bundles.ts`.
 */

/** The entry points besides the documentation snippets. */
export const entryPoints = {
  cli: "src/cli/bin.ts",
  simulator: "src/testing/bin.ts",
  "fleet-worker": "test/fleet/worker.ts"
} as const satisfies Record<string, string>

/** The bundle of a documentation snippet, given its file name in `docs/snippets/`. */
export const snippetBundle = (file: string): `snippets/${string}` => `snippets/${file.replace(/\.ts$/, "")}`

/** The name of a bundle. */
export type BundleName = keyof typeof entryPoints | `snippets/${string}`
