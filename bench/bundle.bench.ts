/**
 * What the core adds to an application's bundle: `src/index.ts` bundled by esbuild, minified and gzipped,
 * with `effect`, `@effect/platform` and the other peers left out (an application has them anyway), divided
 * by the same for a minimal program that logs in and sends a bearer header on `effect` and
 * `@effect/platform` alone (`bench/bundleBaseline.ts`).
 */
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import * as esbuild from "esbuild"

export interface BundleSize {
  readonly minifiedBytes: number
  readonly gzippedBytes: number
}

export interface BundleBenchResult {
  readonly name: "bundle"
  /** The core's gzipped bytes ÷ the baseline program's gzipped bytes. */
  readonly ratio: number
  /** The core with its own dependencies (`@noble/hashes`, `otpauth`) bundled in, as an application gets it. */
  readonly core: BundleSize
  /** The core's own code only: its dependencies left out as well. */
  readonly ownCode: BundleSize
  readonly baseline: BundleSize
  /** Modules left out of every bundle. */
  readonly external: ReadonlyArray<string>
}

/** The peers of the package: an application using the core has them whether or not it uses the core. */
export const peers: ReadonlyArray<string> = [
  "effect",
  "@effect/platform",
  "@effect/platform-node",
  "@effect/cli",
  "ioredis"
]

const ownDependencies = ["@noble/hashes", "otpauth"]

const fromBench = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const measure = async (entryPoint: string, external: ReadonlyArray<string>): Promise<BundleSize> => {
  const result = await esbuild.build({
    entryPoints: [entryPoint],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    external: [...external],
    write: false,
    logLevel: "silent"
  })
  const code = result.outputFiles[0]!.contents
  return { minifiedBytes: code.byteLength, gzippedBytes: gzipSync(code, { level: 9 }).byteLength }
}

/**
 * Bundles the core and the baseline program and compares their gzipped sizes.
 */
export const run = async (): Promise<BundleBenchResult> => {
  const core = await measure(fromBench("../src/index.ts"), peers)
  const ownCode = await measure(fromBench("../src/index.ts"), [...peers, ...ownDependencies])
  const baseline = await measure(fromBench("./bundleBaseline.ts"), peers)
  return {
    name: "bundle",
    ratio: core.gzippedBytes / baseline.gzippedBytes,
    core,
    ownCode,
    baseline,
    external: peers
  }
}
