import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import type { Report } from "../../bench/harness.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

const execute = promisify(execFile)

interface Outcome {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

const bench = async (...args: Array<string>): Promise<Outcome> => {
  try {
    const { stdout, stderr } = await execute(process.execPath, ["--import", "tsx", "bench/index.ts", ...args], {
      cwd: root,
      maxBuffer: 16 * 2 ** 20
    })
    return { status: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { status: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" }
  }
}

const expectedFigures = [
  "tokenRef.get",
  "client.throughput",
  "herd.upstreamCalls",
  "herd.medianWait",
  "herd.worstWait",
  "herd.versusCached",
  "import",
  "bundle",
  "heap.get",
  "heap.refreshCycles"
]

describe("npm run bench", () => {
  it("runs every benchmark in the quick configuration and reports each figure as JSON", async () => {
    const outcome = await bench("--quick", "--json")
    const report: Report & { readonly ok: boolean } = JSON.parse(outcome.stdout)

    const failed = report.figures.filter((figure) => !figure.ok)
    expect(failed.map((figure) => `${figure.title}: ${figure.detail}`)).toEqual([])
    expect(outcome.status).toBe(0)
    expect(report.ok).toBe(true)

    expect(report.configuration).toBe("quick")
    expect(report.machine.node).toBe(process.version)
    expect(report.machine.cpus).toBeGreaterThan(0)
    expect(report.figures.map((figure) => figure.id)).toEqual(expectedFigures)
    for (const figure of report.figures) {
      expect(Number.isFinite(figure.value), figure.id).toBe(true)
      expect(["ratio", "count"]).toContain(figure.unit)
      expect(figure.reading.length, figure.id).toBeGreaterThan(0)
      expect(figure.detail.length, figure.id).toBeGreaterThan(0)
    }
    expect(report.figures.filter((figure) => figure.unit !== "ratio").map((figure) => figure.id)).toEqual([
      "herd.upstreamCalls"
    ])
    expect(Object.keys(report.results).sort()).toEqual(["bundle", "client", "heap", "herd", "import", "tokenRef"])

    const upstreamCalls = report.figures.find((figure) => figure.id === "herd.upstreamCalls")
    expect(upstreamCalls?.value).toBe(1)

    expect(outcome.stderr).toContain(`node ${process.version}`)
    expect(outcome.stderr).toContain("effect-opensolar-auth benchmarks (quick configuration)")
    expect(outcome.stderr).toContain("No failures.")
  }, 300_000)

  it("refuses an unknown option with the usage", async () => {
    const outcome = await bench("--fast")

    expect(outcome.status).toBe(2)
    expect(outcome.stdout).toBe("")
    expect(outcome.stderr).toContain("Unknown option --fast")
    expect(outcome.stderr).toContain("Usage: npm run bench")
  }, 60_000)
})
