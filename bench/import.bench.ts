/**
 * What importing the package costs a program at start-up: `import()` of the package in a fresh Node process
 * divided by `import("effect")` in another fresh process, in alternating pairs.
 *
 * The package is imported as JavaScript, the way `dist/` is published: the modules `src/index.ts` reaches
 * are compiled file by file (esbuild, ES2022, no bundling, no minifying) into a temporary folder under
 * `node_modules/.cache`, so that the measurement neither needs a prior build nor counts TypeScript
 * transpilation. Only the `import()` itself is timed, not Node's own start.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import * as esbuild from "esbuild"
import { alternate, median } from "./harness.js"

export interface ImportBenchOptions {
  /** Pairs of fresh processes, one importing `effect` and one the package. @default 7 */
  readonly pairs?: number
}

export interface ImportBenchResult {
  readonly name: "import"
  /** The median over pairs of (the package's import time ÷ `effect`'s). */
  readonly ratio: number
  readonly pairRatios: ReadonlyArray<number>
  readonly packageMillis: number
  readonly effectMillis: number
  /** How many of the package's own modules the import loads. */
  readonly packageModules: number
  readonly pairs: number
}

const root = fileURLToPath(new URL("..", import.meta.url))

const run_ = promisify(execFile)

/** Compiles what `src/index.ts` reaches into `folder`, as `tsc` would emit it into `dist/`. */
const compilePackage = async (folder: string): Promise<number> => {
  const graph = await esbuild.build({
    entryPoints: [join(root, "src/index.ts")],
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "neutral",
    metafile: true,
    write: false,
    logLevel: "silent",
    absWorkingDir: root
  })
  const modules = Object.keys(graph.metafile.inputs).map((input) => join(root, input))
  await esbuild.build({
    entryPoints: modules,
    outdir: folder,
    outbase: join(root, "src"),
    bundle: false,
    format: "esm",
    platform: "node",
    target: "es2022",
    logLevel: "silent",
    absWorkingDir: root
  })
  // Below node_modules, Node would take the files for CommonJS without a package.json saying otherwise.
  writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module", sideEffects: false }))
  return modules.length
}

/** Imports `specifier` in a fresh Node process and answers how long the `import()` took, in milliseconds. */
const timeImport = async (specifier: string): Promise<number> => {
  const program = [
    "const started = performance.now()",
    `await import(${JSON.stringify(specifier)})`,
    "process.stdout.write(String(performance.now() - started))"
  ].join("\n")
  const { stdout } = await run_(process.execPath, ["--input-type=module", "--eval", program], { cwd: root })
  const millis = Number(stdout.trim())
  if (!Number.isFinite(millis)) {
    throw new Error(`The import of ${specifier} printed no time: ${stdout}`)
  }
  return millis
}

/**
 * Compiles the package, then times its import and `effect`'s in alternating fresh processes.
 */
export const run = async (options: ImportBenchOptions = {}): Promise<ImportBenchResult> => {
  const pairs = options.pairs ?? 7
  const cache = join(root, "node_modules", ".cache")
  mkdirSync(cache, { recursive: true })
  const folder = mkdtempSync(join(cache, "effect-opensolar-auth-bench-"))
  try {
    const packageModules = await compilePackage(folder)
    const packageUrl = pathToFileURL(join(folder, "index.js")).href

    // One unmeasured pair, so that neither side pays for a cold file-system cache.
    await timeImport("effect")
    await timeImport(packageUrl)

    const results = await alternate(
      pairs,
      () => timeImport("effect"),
      () => timeImport(packageUrl)
    )
    const pairRatios = results.map((pair) => pair.subject / pair.baseline)
    return {
      name: "import",
      ratio: median(pairRatios),
      pairRatios,
      packageMillis: median(results.map((pair) => pair.subject)),
      effectMillis: median(results.map((pair) => pair.baseline)),
      packageModules,
      pairs
    }
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}
