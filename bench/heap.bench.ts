/**
 * Whether a `TokenRef` keeps memory it should not: the heap retained over 1,000,000 `get` calls on the hot
 * path and over 10,000 refresh cycles (the clock moved past the deadline, then `get` waits for a new grant),
 * each compared with a loop of as many bare `Ref.get` calls measured the same way in the same process.
 *
 * The loops run in a child process started with `node --expose-gc --import tsx heap.child.ts`, so that every
 * measurement is heapUsed after a full collection and nothing else in the benchmark run shares the heap.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { median } from "./harness.js"

export interface HeapBenchOptions {
  /** `get` calls per loop. @default 1_000_000 */
  readonly gets?: number
  /** Refresh cycles per loop. @default 10_000 */
  readonly refreshCycles?: number
  /** Measured rounds of one baseline loop and one subject loop each. @default 3 */
  readonly rounds?: number
}

/** What `heap.child.ts` is told to measure. */
export interface HeapChildOptions {
  readonly gets: number
  readonly refreshCycles: number
  readonly rounds: number
}

/** heapUsed after a full collection, before and after one loop. */
export interface HeapSample {
  readonly before: number
  readonly after: number
}

export interface HeapLoop {
  readonly operations: number
  readonly baseline: Array<HeapSample>
  readonly subject: Array<HeapSample>
}

/** What `heap.child.ts` prints. */
export interface HeapChildResult {
  readonly gets: HeapLoop
  readonly refreshCycles: HeapLoop
  readonly refreshesMade: number
  readonly refreshesExpected: number
}

export interface HeapGrowth {
  readonly operations: number
  /** The median over rounds of the subject's growth per operation, in bytes. */
  readonly subjectBytesPerOperation: number
  /** The median over rounds of the baseline's growth per operation, in bytes. */
  readonly baselineBytesPerOperation: number
  /** The median over rounds of (subject's growth − baseline's growth) per operation, in bytes. */
  readonly excessBytesPerOperation: number
  /** The median over rounds of (heapUsed after the subject's loop ÷ heapUsed after the baseline's loop). */
  readonly retainedRatio: number
  /** Whether the excess per operation is below `flatBelowBytesPerOperation`, the noise-aware bound. */
  readonly flat: boolean
  readonly flatBelowBytesPerOperation: number
}

export interface HeapBenchResult {
  readonly name: "heap"
  readonly gets: HeapGrowth
  readonly refreshCycles: HeapGrowth
  /** Refreshes the cycles made; each cycle must make exactly one. */
  readonly refreshesMade: number
  readonly refreshesExpected: number
  readonly rounds: number
  readonly samples: HeapChildResult
}

/**
 * What counts as flat. A leak keeps at least one object per operation: tens of bytes, hundreds for a grant.
 * heapUsed after a full collection still moves by up to a few hundred kilobytes between loops that keep
 * nothing, so the bound is the larger of a floor and that noise spread over the loop's operations.
 */
const flatFloor = { gets: 0.5, refreshCycles: 64 } as const

const heapNoiseBytes = 512 * 1024

const root = fileURLToPath(new URL("..", import.meta.url))

const child = fileURLToPath(new URL("./heap.child.ts", import.meta.url))

const run_ = promisify(execFile)

const analyse = (loop: HeapLoop, floor: number): HeapGrowth => {
  const flatBelowBytesPerOperation = Math.max(floor, heapNoiseBytes / loop.operations)
  const perOperation = (sample: HeapSample) => (sample.after - sample.before) / loop.operations
  const excess = loop.subject.map((sample, round) => perOperation(sample) - perOperation(loop.baseline[round]!))
  const excessBytesPerOperation = median(excess)
  return {
    operations: loop.operations,
    subjectBytesPerOperation: median(loop.subject.map(perOperation)),
    baselineBytesPerOperation: median(loop.baseline.map(perOperation)),
    excessBytesPerOperation,
    retainedRatio: median(loop.subject.map((sample, round) => sample.after / loop.baseline[round]!.after)),
    flat: excessBytesPerOperation < flatBelowBytesPerOperation,
    flatBelowBytesPerOperation
  }
}

/**
 * Runs the heap loops in a child process and compares each with its baseline.
 */
export const run = async (options: HeapBenchOptions = {}): Promise<HeapBenchResult> => {
  const childOptions: HeapChildOptions = {
    gets: options.gets ?? 1_000_000,
    refreshCycles: options.refreshCycles ?? 10_000,
    rounds: options.rounds ?? 3
  }
  const { stdout } = await run_(
    process.execPath,
    ["--expose-gc", "--import", "tsx", child, JSON.stringify(childOptions)],
    { cwd: root, maxBuffer: 16 * 2 ** 20 }
  )
  const samples: HeapChildResult = JSON.parse(stdout)
  return {
    name: "heap",
    gets: analyse(samples.gets, flatFloor.gets),
    refreshCycles: analyse(samples.refreshCycles, flatFloor.refreshCycles),
    refreshesMade: samples.refreshesMade,
    refreshesExpected: samples.refreshesExpected,
    rounds: childOptions.rounds,
    samples
  }
}
