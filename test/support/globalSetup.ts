/**
 * Builds the programs the tests run as child processes, once per test run, and removes them at the end.
 *
 * Every entry point (the command, the standalone simulator, the fleet worker and each documentation snippet) is
 * bundled with its dependencies, in one build whose shared code is split into chunks, the package name resolving
 * to the source through the `paths` of tsconfig.json as it does for the type checker. Dependencies are bundled
 * too: a process then reads a few files instead of resolving and loading hundreds of modules. The `require` of
 * the CommonJS ones is the one `createRequire` makes for each chunk.
 *
 * ioredis, which the Redis store imports on demand, stays a package loaded from node_modules as an application
 * would load it: bundled into a chunk of its own, it would offer only a default export. The bundles therefore live
 * under node_modules/.cache, where Node finds the package.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as esbuild from "esbuild"
import type { TestProject } from "vitest/node"
import { entryPoints, snippetBundle } from "./entryPoints.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory holding the bundles. */
    readonly bundles: string
  }
}

const root = Path.resolve(import.meta.dirname, "../..")

const cache = Path.join(root, "node_modules", ".cache")

const prefix = "test-bundles-"

const snippets = Path.join(root, "docs", "snippets")

const snippetEntryPoints = (): Record<string, string> =>
  Object.fromEntries(
    Fs.readdirSync(snippets)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && file !== "vitest.config.ts")
      .map((file) => [snippetBundle(file), Path.join("docs", "snippets", file)])
  )

const requireShim =
  'import { createRequire as __bundleRequire } from "node:module"\n' +
  "const require = __bundleRequire(import.meta.url)"

/** Bundles of runs that ended without removing them (killed, say), old enough that no run is still using them. */
const removeAbandoned = () => {
  const dayAgo = Date.now() - 86_400_000
  for (const entry of Fs.readdirSync(cache)) {
    const path = Path.join(cache, entry)
    // Another run may be removing the same directory.
    const modified = entry.startsWith(prefix) ? Fs.statSync(path, { throwIfNoEntry: false })?.mtimeMs : undefined
    if (modified !== undefined && modified < dayAgo) {
      Fs.rmSync(path, { recursive: true, force: true })
    }
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  Fs.mkdirSync(cache, { recursive: true })
  removeAbandoned()
  const directory = Fs.mkdtempSync(Path.join(cache, prefix))

  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { ...entryPoints, ...snippetEntryPoints() },
    outdir: directory,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    tsconfig: Path.join(root, "tsconfig.json"),
    external: ["ioredis"],
    // Bundling renames clashing declarations; error and class names in output must stay what they are.
    keepNames: true,
    banner: { js: requireShim },
    logLevel: "warning"
  })

  project.provide("bundles", directory)

  return () => Fs.rmSync(directory, { recursive: true, force: true })
}
