/**
 * The heap measurements, run by `heap.bench.ts` in a process of their own started with `--expose-gc`: each
 * loop is measured as heapUsed after a full collection before it and after it. Prints one JSON object.
 */
import { Effect, Ref } from "effect"
import type { HeapChildOptions, HeapChildResult, HeapLoop } from "./heap.bench.js"
import { makeCountingStrategy, makeShiftedClock, makeTokenRef, pastEveryDeadline } from "./support.js"

const collect = (): number => {
  const fullCollection = globalThis.gc
  if (fullCollection === undefined) {
    throw new Error("Run this file with node --expose-gc")
  }
  fullCollection()
  fullCollection()
  return process.memoryUsage().heapUsed
}

/** Lets fibers woken by the last operation finish, so that what they hold is not counted as kept. */
const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Runs `effect` `operations` times in one loop; heapUsed after a full collection, before and after. */
const growth = (effect: Effect.Effect<unknown, unknown>, operations: number) =>
  Effect.gen(function* () {
    yield* settle
    const before = collect()

    for (let operation = 0; operation < operations; operation++) {
      yield* effect
    }

    yield* settle
    const after = collect()
    return { before, after }
  })

/**
 * Alternates baseline and subject loops, after an unmeasured pass of each: the first loops grow the heap
 * with compiled code and the runtime's own buffers, which would otherwise pass for a leak.
 */
const compare = (
  baseline: Effect.Effect<unknown, unknown>,
  subject: Effect.Effect<unknown, unknown>,
  operations: number,
  warmUp: number,
  rounds: number
) =>
  Effect.gen(function* () {
    yield* growth(baseline, warmUp)
    yield* growth(subject, warmUp)

    const result: HeapLoop = { operations, baseline: [], subject: [] }
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        result.baseline.push(yield* growth(baseline, operations))
        result.subject.push(yield* growth(subject, operations))
      } else {
        result.subject.push(yield* growth(subject, operations))
        result.baseline.push(yield* growth(baseline, operations))
      }
    }
    return result
  })

const measure = (options: HeapChildOptions) => {
  const shiftedClock = makeShiftedClock()
  return Effect.gen(function* () {
    const upstream = makeCountingStrategy(0)
    const tokens = yield* makeTokenRef(upstream.strategy)
    yield* tokens.get
    const ref = yield* Ref.make(0)
    const baseline = Ref.get(ref)

    const gets = yield* compare(baseline, tokens.get, options.gets, Math.ceil(options.gets / 10), options.rounds)

    const callsBefore = upstream.calls()
    const refreshCycle = Effect.suspend(() => {
      shiftedClock.advance(pastEveryDeadline)
      return tokens.get
    })
    // A shorter warm-up leaves megabytes of one-off growth in the first measured round of refreshes.
    const cycles = options.refreshCycles
    const refreshCycles = yield* compare(baseline, refreshCycle, cycles, cycles, options.rounds)

    return {
      gets,
      refreshCycles,
      refreshesMade: upstream.calls() - callsBefore,
      refreshesExpected: cycles * (options.rounds + 1)
    } satisfies HeapChildResult
  }).pipe(Effect.withClock(shiftedClock.clock), Effect.scoped)
}

const options: HeapChildOptions = JSON.parse(process.argv[2] ?? "{}")
Effect.runPromise(measure(options)).then(
  (result) => {
    process.stdout.write(JSON.stringify(result))
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
