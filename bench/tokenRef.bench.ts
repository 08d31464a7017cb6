/**
 * The cost of `TokenRef.get` on its hot path (a valid grant before its refresh point) divided by the cost of
 * a bare `Ref.get` followed by `Clock.currentTimeMillis`, the least any lock-free token cache must do. Both
 * run as N iterations of one `Effect.gen` loop in the same runtime, in alternating rounds.
 */
import { Clock, Duration, Effect, Ref } from "effect"
import { median } from "./harness.js"
import { makeCountingStrategy, makeTokenRef } from "./support.js"

export interface TokenRefBenchOptions {
  /** Calls per loop. @default 1_000_000 */
  readonly iterations?: number
  /** Rounds of one baseline loop and one `get` loop each. @default 7 */
  readonly rounds?: number
}

export interface TokenRefBenchResult {
  readonly name: "tokenRef.get"
  /** The median over rounds of (time of the `get` loop ÷ time of the baseline loop). */
  readonly ratio: number
  readonly roundRatios: ReadonlyArray<number>
  readonly getNanosecondsPerCall: number
  readonly baselineNanosecondsPerCall: number
  /** Strategy calls during the loops: the hot path must make none. */
  readonly refreshesDuringLoops: number
  readonly iterations: number
  readonly rounds: number
}

const timeLoop = (effect: Effect.Effect<unknown, unknown>, iterations: number): Effect.Effect<number, unknown> =>
  Effect.gen(function* () {
    const started = performance.now()
    for (let iteration = 0; iteration < iterations; iteration++) {
      yield* effect
    }
    return performance.now() - started
  })

const measure = (iterations: number, rounds: number) =>
  Effect.gen(function* () {
    const upstream = makeCountingStrategy(Duration.zero)
    const tokens = yield* makeTokenRef(upstream.strategy)
    yield* tokens.get
    const callsBefore = upstream.calls()

    const ref = yield* Ref.make(0)
    const baseline = Effect.flatMap(Ref.get(ref), () => Clock.currentTimeMillis)

    const warmUp = Math.max(1, Math.floor(iterations / 10))
    yield* timeLoop(baseline, warmUp)
    yield* timeLoop(tokens.get, warmUp)

    const baselineMillis: Array<number> = []
    const getMillis: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        baselineMillis.push(yield* timeLoop(baseline, iterations))
        getMillis.push(yield* timeLoop(tokens.get, iterations))
      } else {
        getMillis.push(yield* timeLoop(tokens.get, iterations))
        baselineMillis.push(yield* timeLoop(baseline, iterations))
      }
    }

    const toNanosPerCall = (millis: number) => (millis * 1e6) / iterations
    const roundRatios = getMillis.map((millis, round) => millis / baselineMillis[round]!)
    return {
      name: "tokenRef.get",
      ratio: median(roundRatios),
      roundRatios,
      getNanosecondsPerCall: toNanosPerCall(median(getMillis)),
      baselineNanosecondsPerCall: toNanosPerCall(median(baselineMillis)),
      refreshesDuringLoops: upstream.calls() - callsBefore,
      iterations,
      rounds
    } satisfies TokenRefBenchResult
  })

/**
 * Measures the hot path of `get` against the bare baseline.
 */
export const run = (options: TokenRefBenchOptions = {}): Promise<TokenRefBenchResult> =>
  Effect.runPromise(Effect.scoped(measure(options.iterations ?? 1_000_000, options.rounds ?? 7)))
