/**
 * Every benchmark in order, in a full or a quick configuration, turned into the figures of one report. A
 * benchmark that throws becomes a failed figure naming the error; the others still run.
 */
import { cpus, platform, totalmem } from "node:os"
import * as bundle from "./bundle.bench.js"
import * as client from "./client.bench.js"
import { type Figure, formatInteger, formatNumber, type MachineFacts, type Report } from "./harness.js"
import * as heap from "./heap.bench.js"
import * as herd from "./herd.bench.js"
import * as importCost from "./import.bench.js"
import * as tokenRef from "./tokenRef.bench.js"

export interface Configuration {
  readonly name: "full" | "quick"
  readonly tokenRef: tokenRef.TokenRefBenchOptions
  readonly client: client.ClientBenchOptions
  readonly herd: herd.HerdBenchOptions
  readonly importCost: importCost.ImportBenchOptions
  readonly heap: heap.HeapBenchOptions
}

export const full: Configuration = {
  name: "full",
  tokenRef: { iterations: 500_000, rounds: 7 },
  client: { requestsPerRound: 1000, rounds: 6, concurrency: 32 },
  herd: { callers: 10_000, rounds: 5, latency: "50 millis", roundTripSamples: 3 },
  importCost: { pairs: 7 },
  heap: { gets: 1_000_000, refreshCycles: 10_000, rounds: 3 }
}

/** Small enough for a smoke test: every benchmark runs, none of its figures means much. */
export const quick: Configuration = {
  name: "quick",
  tokenRef: { iterations: 10_000, rounds: 3 },
  client: { requestsPerRound: 50, rounds: 2, concurrency: 8 },
  herd: { callers: 500, rounds: 2, latency: "20 millis", roundTripSamples: 2 },
  importCost: { pairs: 2 },
  heap: { gets: 10_000, refreshCycles: 100, rounds: 2 }
}

export const machineFacts = (): MachineFacts => {
  const processors = cpus()
  return {
    node: process.version,
    cpus: processors.length,
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    platform: platform(),
    arch: process.arch,
    totalMemoryBytes: totalmem()
  }
}

const range = (values: ReadonlyArray<number>) =>
  `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))}`

const tokenRefFigures = (result: tokenRef.TokenRefBenchResult): Array<Figure> => [
  {
    id: "tokenRef.get",
    title: "TokenRef.get hot path",
    value: result.ratio,
    unit: "ratio",
    reading:
      "time per get ÷ time per bare Ref.get + Clock.currentTimeMillis, both in one Effect loop; " +
      "1 = the same cost, lower is better.",
    detail:
      `Median of ${result.rounds} rounds of ${formatInteger(result.iterations)} calls each (rounds ` +
      `${range(result.roundRatios)}); ${formatNumber(result.getNanosecondsPerCall, 0)} ns against ` +
      `${formatNumber(result.baselineNanosecondsPerCall, 0)} ns per call on this machine. ` +
      `Refreshes during the loops: ${result.refreshesDuringLoops} (must be 0).`,
    ok: result.refreshesDuringLoops === 0
  }
]

const clientFigures = (result: client.ClientBenchResult): Array<Figure> => [
  {
    id: "client.throughput",
    title: "OpenSolarClient throughput",
    value: result.ratio,
    unit: "ratio",
    reading:
      "requests/s through OpenSolarClient ÷ requests/s through the bare HttpClient sending the same " +
      "request with the same token, both against the simulator on loopback; 1 = no overhead, higher is better.",
    detail:
      `${result.rounds} alternating rounds of ${formatInteger(result.requestsPerRound)} requests, ` +
      `${result.concurrency} at a time; the ratio of totals: ${formatInteger(result.clientRequestsPerSecond)} ` +
      `against ${formatInteger(result.bareRequestsPerSecond)} requests/s on this machine.`,
    ok: true
  }
]

const herdFigures = (result: herd.HerdBenchResult): Array<Figure> => {
  const conditions =
    `${formatInteger(result.callers)} concurrent get at an expired token, ${result.rounds.length} rounds; ` +
    `upstream answers after ${formatInteger(result.latencyMillis)} ms, and one login alone, timed in the same ` +
    "round, is the round trip."
  const roundTrips = result.rounds.map((round) => formatNumber(round.roundTripMillis, 1)).join(", ")
  const loginsPerRound = result.rounds.map((round) => round.tokenRef.upstreamCalls).join(", ")
  const lastToken = (round: herd.HerdRound) =>
    `${formatInteger(round.tokenRef.lastTokenAfterMillis)}/${formatInteger(round.cached.lastTokenAfterMillis)}`
  const lastTokens = result.rounds.map(lastToken).join(", ")
  return [
    {
      id: "herd.upstreamCalls",
      title: "Herd: upstream logins",
      value: result.upstreamCalls,
      unit: "count",
      reading: "logins the herd caused; must be 1 in every round, with every caller receiving the same token.",
      detail: `${conditions} Logins per round: ${loginsPerRound}.`,
      ok: result.ok
    },
    {
      id: "herd.medianWait",
      title: "Herd: median wait",
      value: result.medianWaitRoundTrips,
      unit: "ratio",
      reading:
        "the median caller's wait, from its own get until it had a token, ÷ one login round trip; " +
        "1 = it waited for the login and nothing else.",
      detail: `Median over rounds. Round trips: ${roundTrips} ms.`,
      ok: true
    },
    {
      id: "herd.worstWait",
      title: "Herd: worst wait",
      value: result.worstWaitRoundTrips,
      unit: "ratio",
      reading: "the slowest caller's wait ÷ one login round trip.",
      detail:
        `Median over rounds of each round's slowest caller; the highest of any round: ` +
        `${formatNumber(result.highestWorstWaitRoundTrips)}×.`,
      ok: true
    },
    {
      id: "herd.versusCached",
      title: "Herd: TokenRef ÷ Effect.cached",
      value: result.versusCachedRatio,
      unit: "ratio",
      reading:
        "time from releasing the herd until its last caller had a token, at the TokenRef ÷ the same herd " +
        "at Effect.cached(login); 1 = nothing beyond what waking the fibers costs the runtime, lower is better.",
      detail:
        "Median over rounds; the two herds alternate within each round. Last token after release, TokenRef " +
        `against Effect.cached: ${lastTokens} ms.`,
      ok: true
    }
  ]
}

const importFigures = (result: importCost.ImportBenchResult): Array<Figure> => [
  {
    id: "import",
    title: "Import cost",
    value: result.ratio,
    unit: "ratio",
    reading:
      'time of import() of the package (src compiled to JavaScript as in dist/) ÷ time of import("effect"), ' +
      "each in a fresh Node process; the package imports effect itself, so 1 is the floor, lower is better.",
    detail:
      `Median of ${result.pairs} alternating pairs (pairs ${range(result.pairRatios)}); ` +
      `${formatNumber(result.packageMillis, 0)} ms against ${formatNumber(result.effectMillis, 0)} ms on this ` +
      `machine; ${result.packageModules} modules of the package's own.`,
    ok: true
  }
]

const bundleFigures = (result: bundle.BundleBenchResult): Array<Figure> => [
  {
    id: "bundle",
    title: "Bundle size (min + gzip)",
    value: result.ratio,
    unit: "ratio",
    reading:
      "the core (src/index.ts) bundled, minified and gzipped ÷ the same for a minimal login-and-bearer program " +
      "on effect and @effect/platform's HttpClient (bench/bundleBaseline.ts); peers left out of both.",
    detail:
      `${formatInteger(result.core.gzippedBytes)} B against ${formatInteger(result.baseline.gzippedBytes)} B ` +
      `gzipped (${formatInteger(result.core.minifiedBytes)} B and ${formatInteger(result.baseline.minifiedBytes)} B ` +
      `minified). Of the core, its own code is ${formatInteger(result.ownCode.gzippedBytes)} B gzipped; the ` +
      `rest is @noble/hashes and otpauth. Left out: ${result.external.join(", ")}.`,
    ok: true
  }
]

const heapFigure = (
  id: string,
  title: string,
  operations: string,
  growth: heap.HeapGrowth,
  extra: string,
  ok: boolean
): Figure => ({
  id,
  title,
  value: growth.retainedRatio,
  unit: "ratio",
  reading:
    `heapUsed after a full GC following a loop of ${operations} ÷ the same after a loop of as many bare Ref.get, ` +
    "alternating in one process; 1 = nothing more kept, lower is better.",
  detail:
    `${growth.flat ? "Flat" : "GROWS"}: ${formatNumber(growth.retainedRatio, 4)}×; kept per operation ` +
    `(heapUsed after the loop − before it) ${formatNumber(growth.subjectBytesPerOperation, 3)} B against ` +
    `${formatNumber(growth.baselineBytesPerOperation, 3)} B for the baseline, over ` +
    `${formatInteger(growth.operations)} operations; the excess, ${formatNumber(growth.excessBytesPerOperation, 3)} ` +
    `B/op, is flat below ${formatNumber(growth.flatBelowBytesPerOperation)} B/op.${extra}`,
  ok: ok && growth.flat
})

const heapFigures = (result: heap.HeapBenchResult): Array<Figure> => [
  heapFigure("heap.get", `Heap, ${formatInteger(result.gets.operations)} get`, "get calls", result.gets, "", true),
  heapFigure(
    "heap.refreshCycles",
    `Heap, ${formatInteger(result.refreshCycles.operations)} refresh cycles`,
    "refresh cycles (clock past the deadline, then get)",
    result.refreshCycles,
    ` Refreshes made: ${formatInteger(result.refreshesMade)} of ${formatInteger(result.refreshesExpected)} expected.`,
    result.refreshesMade === result.refreshesExpected
  )
]

interface Step {
  readonly name: string
  readonly title: string
  readonly run: (configuration: Configuration) => Promise<{ readonly result: unknown; readonly figures: Array<Figure> }>
}

const steps: ReadonlyArray<Step> = [
  {
    name: "tokenRef",
    title: "TokenRef.get hot path",
    run: async (configuration) => {
      const result = await tokenRef.run(configuration.tokenRef)
      return { result, figures: tokenRefFigures(result) }
    }
  },
  {
    name: "client",
    title: "OpenSolarClient throughput",
    run: async (configuration) => {
      const result = await client.run(configuration.client)
      return { result, figures: clientFigures(result) }
    }
  },
  {
    name: "herd",
    title: "Thundering herd",
    run: async (configuration) => {
      const result = await herd.run(configuration.herd)
      return { result, figures: herdFigures(result) }
    }
  },
  {
    name: "import",
    title: "Import cost",
    run: async (configuration) => {
      const result = await importCost.run(configuration.importCost)
      return { result, figures: importFigures(result) }
    }
  },
  {
    name: "bundle",
    title: "Bundle size",
    run: async () => {
      const result = await bundle.run()
      return { result, figures: bundleFigures(result) }
    }
  },
  {
    name: "heap",
    title: "Heap growth",
    run: async (configuration) => {
      const result = await heap.run(configuration.heap)
      return { result, figures: heapFigures(result) }
    }
  }
]

const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    return error.message.split("\n")[0] ?? error.name
  }
  return String(error)
}

/**
 * Runs every benchmark in turn, telling `progress` when each starts, and gathers their figures.
 */
export const runSuite = async (
  configuration: Configuration,
  progress: (message: string) => void = () => {}
): Promise<Report> => {
  const figures: Array<Figure> = []
  const results: Record<string, unknown> = {}
  for (const step of steps) {
    progress(`${step.title}…`)
    try {
      const outcome = await step.run(configuration)
      results[step.name] = outcome.result
      figures.push(...outcome.figures)
    } catch (error) {
      results[step.name] = { error: describeError(error) }
      figures.push({
        id: step.name,
        title: step.title,
        value: Number.NaN,
        unit: "ratio",
        reading: "the benchmark did not finish.",
        detail: describeError(error),
        ok: false
      })
    }
  }
  return { configuration: configuration.name, machine: machineFacts(), figures, results }
}
