/**
 * The thundering herd: many callers `get` at once just after the token passed its deadline. A `TokenRef`
 * must send exactly one request upstream and let every caller wait for it; the waits are counted in login
 * round trips, measured in the same round by calling the same strategy alone.
 *
 * Waking thousands of fibers costs the Effect runtime time of its own, so each round also releases the same
 * herd at `Effect.cached(login)`, the least a single-flight can do in Effect, and compares the two.
 *
 * Upstream is a strategy that answers after a fixed latency, so that the round trip is steady and the
 * figures show what the `TokenRef` adds to it, not the network's noise.
 */
import { Duration, Effect, Fiber, Option } from "effect"
import * as BearerToken from "../src/BearerToken.js"
import type * as TokenRef from "../src/TokenRef.js"
import { maximum, median } from "./harness.js"
import {
  type CountingStrategy,
  makeCountingStrategy,
  makeShiftedClock,
  makeTokenRef,
  pastEveryDeadline,
  type ShiftedClock
} from "./support.js"

export interface HerdBenchOptions {
  /** Concurrent callers of `get`. @default 10_000 */
  readonly callers?: number
  /** @default 5 */
  readonly rounds?: number
  /** How long one upstream login takes. @default 50 milliseconds */
  readonly latency?: Duration.DurationInput
  /** Lone logins timed per round; their median is the round trip. @default 3 */
  readonly roundTripSamples?: number
}

export interface HerdMeasurement {
  /** Logins the herd caused: must be 1. */
  readonly upstreamCalls: number
  /** Different tokens the callers received: must be 1. */
  readonly distinctTokens: number
  /** From each caller's own call until it had a token. */
  readonly medianWaitMillis: number
  readonly worstWaitMillis: number
  /** From the moment the herd was released until the last caller had a token. */
  readonly lastTokenAfterMillis: number
}

export interface HerdRound {
  readonly roundTripMillis: number
  readonly tokenRef: HerdMeasurement
  /** The same herd at `Effect.cached(login)`. */
  readonly cached: HerdMeasurement
}

export interface HerdBenchResult {
  readonly name: "herd"
  /** The most logins any round's `TokenRef` herd caused. */
  readonly upstreamCalls: number
  /** Whether every round's herd made one login and every caller received the same token. */
  readonly ok: boolean
  /** The median over rounds of (median wait ÷ round trip). */
  readonly medianWaitRoundTrips: number
  /** The median over rounds of (worst wait ÷ round trip). */
  readonly worstWaitRoundTrips: number
  /** The highest (worst wait ÷ round trip) of any round. */
  readonly highestWorstWaitRoundTrips: number
  /** The median over rounds of (last token after release, `TokenRef` ÷ `Effect.cached`). */
  readonly versusCachedRatio: number
  readonly callers: number
  readonly latencyMillis: number
  readonly rounds: ReadonlyArray<HerdRound>
}

const timeLogin = (upstream: CountingStrategy) =>
  Effect.gen(function* () {
    const started = performance.now()
    yield* Effect.orDie(upstream.strategy.authenticate(Option.none()))
    return performance.now() - started
  })

/** Holds `callers` fibers at a gate, releases them together into `get`, and times each until it has a token. */
const releaseHerd = (
  callers: number,
  upstream: CountingStrategy,
  get: Effect.Effect<BearerToken.BearerToken, unknown>
): Effect.Effect<HerdMeasurement> =>
  Effect.gen(function* () {
    const callsBefore = upstream.calls()
    const gate = yield* Effect.makeLatch(false)
    const waits = new Float64Array(callers)
    const tokensSeen = new Set<string>()
    let arrived = 0
    let lastDone = 0

    const caller = (index: number) =>
      Effect.gen(function* () {
        arrived += 1
        yield* gate.await

        const started = performance.now()
        const token = yield* Effect.orDie(get)
        const done = performance.now()

        waits[index] = done - started
        lastDone = Math.max(lastDone, done)
        tokensSeen.add(BearerToken.value(token))
      })

    const herd = yield* Effect.fork(
      Effect.forEach(
        Array.from({ length: callers }, (_, index) => index),
        caller,
        { concurrency: "unbounded", discard: true }
      )
    )
    while (arrived < callers) {
      yield* Effect.yieldNow()
    }

    const released = performance.now()
    yield* gate.open
    yield* Fiber.join(herd)

    const allWaits = Array.from(waits)
    return {
      upstreamCalls: upstream.calls() - callsBefore,
      distinctTokens: tokensSeen.size,
      medianWaitMillis: median(allWaits),
      worstWaitMillis: maximum(allWaits),
      lastTokenAfterMillis: lastDone - released
    }
  })

const herdRound = (
  round: number,
  tokens: TokenRef.Service,
  upstream: CountingStrategy,
  shiftedClock: ShiftedClock,
  callers: number,
  roundTripSamples: number
) =>
  Effect.gen(function* () {
    const trips: Array<number> = []
    for (let sample = 0; sample < roundTripSamples; sample++) {
      trips.push(yield* timeLogin(upstream))
    }

    const atTokenRef = Effect.suspend(() => {
      shiftedClock.advance(pastEveryDeadline)
      return releaseHerd(callers, upstream, tokens.get)
    })
    const atCached = Effect.flatMap(
      Effect.cached(Effect.map(upstream.strategy.authenticate(Option.none()), (grant) => grant.token)),
      (login) => releaseHerd(callers, upstream, login)
    )

    // Alternate which herd goes first, so that neither always runs on a warmer or a more loaded process.
    if (round % 2 === 0) {
      const cached = yield* atCached
      return { roundTripMillis: median(trips), tokenRef: yield* atTokenRef, cached } satisfies HerdRound
    }
    const tokenRef = yield* atTokenRef
    return { roundTripMillis: median(trips), tokenRef, cached: yield* atCached } satisfies HerdRound
  })

const measure = (callers: number, rounds: number, latency: Duration.Duration, roundTripSamples: number) => {
  const shiftedClock = makeShiftedClock()
  return Effect.gen(function* () {
    const upstream = makeCountingStrategy(latency)
    const tokens = yield* makeTokenRef(upstream.strategy)
    yield* tokens.get

    const results: Array<HerdRound> = []
    for (let round = 0; round < rounds; round++) {
      results.push(yield* herdRound(round, tokens, upstream, shiftedClock, callers, roundTripSamples))
    }

    const worstRatios = results.map((round) => round.tokenRef.worstWaitMillis / round.roundTripMillis)
    return {
      name: "herd",
      upstreamCalls: maximum(results.map((round) => round.tokenRef.upstreamCalls)),
      ok: results.every((round) => round.tokenRef.upstreamCalls === 1 && round.tokenRef.distinctTokens === 1),
      medianWaitRoundTrips: median(results.map((round) => round.tokenRef.medianWaitMillis / round.roundTripMillis)),
      worstWaitRoundTrips: median(worstRatios),
      highestWorstWaitRoundTrips: maximum(worstRatios),
      versusCachedRatio: median(
        results.map((round) => round.tokenRef.lastTokenAfterMillis / round.cached.lastTokenAfterMillis)
      ),
      callers,
      latencyMillis: Duration.toMillis(latency),
      rounds: results
    } satisfies HerdBenchResult
  }).pipe(Effect.withClock(shiftedClock.clock))
}

/**
 * Releases a herd of callers at an expired token, round after round, and counts logins and waits.
 */
export const run = (options: HerdBenchOptions = {}): Promise<HerdBenchResult> =>
  Effect.runPromise(
    Effect.scoped(
      measure(
        options.callers ?? 10_000,
        options.rounds ?? 5,
        Duration.decode(options.latency ?? Duration.millis(50)),
        options.roundTripSamples ?? 3
      )
    )
  )
