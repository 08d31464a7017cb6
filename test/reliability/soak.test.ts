/**
 * A simulated year of operation: a `TokenRef` over the standard strategy and the authenticated client over it,
 * with concurrent callers every day, bursts of thousands of callers at once at random moments between the days,
 * and a random schedule of faults, revocations and changes of how the API answers session refreshes (generated
 * by fast-check from a fixed seed). Over the year the simulator must never receive an expired or unknown token,
 * every caller must be answered, nothing may die or be left unhandled, at most one authentication may run at a
 * time, and the number of logins and refreshes must stay within what the token lifetime and the faults explain.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Exit, FastCheck as fc, Layer, Option, Predicate, TestClock } from "effect"
import * as AuthError from "../../src/AuthError.js"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as OpenSolarClient from "../../src/OpenSolarClient.js"
import * as TokenRef from "../../src/TokenRef.js"
import {
  accounts,
  type Endpoint,
  Fault,
  type FetchTokenMode,
  type RequestLogEntry,
  Simulator
} from "../../src/testing/index.js"
import { requestTimeout } from "../support/drive.js"
import { captureLogs, defectsOf, watchProcess } from "./support/capture.js"
import { describeExit } from "./support/outcome.js"
import { settle } from "./support/settle.js"
import { clientLayer } from "./support/stack.js"
import { trackedStack } from "./support/tracked.js"

const start = Date.parse("2026-01-01T00:00:00Z")

const days = 365

const lifetime = Duration.days(7)

const refreshRatio = 0.8

/** The default jitter of the refresh point: 2% of the lifetime, either way. */
const jitterRatio = 0.02

const tick = Duration.days(1)

const ticks = (days * Duration.toMillis(Duration.days(1))) / Duration.toMillis(tick)

const tickMillis = Duration.toMillis(tick)

/** Each tick: callers of `get`, and a request through the client, which shows the simulator the token of the day. */
const tokenCallersPerTick = 20

const clientCallersPerTick = 1

/** Each burst: this many requests through the client, the rest `get` on the `TokenRef`. */
const clientCallersPerBurst = 4

// ---------------------------------------------------------------------------------------------------------------
// The schedule

type Event =
  | {
      readonly kind: "fault"
      readonly atTick: number
      readonly endpoint: Extract<Endpoint, "login" | "fetchToken" | "org">
      readonly times: number
      readonly fault: Fault
    }
  | { readonly kind: "revoke"; readonly atTick: number }
  | { readonly kind: "fetchTokenMode"; readonly atTick: number; readonly mode: FetchTokenMode }

const atTick = fc.integer({ min: 0, max: ticks - 1 })

const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  fc.constantFrom(401, 403, 500, 502, 503).map((status) => Fault.Status({ status })),
  fc.integer({ min: 0, max: 30 }).map((retryAfter) => Fault.Status({ status: 429, retryAfter })),
  fc.integer({ min: 1, max: 30 }).map((seconds) => Fault.Delay({ duration: Duration.seconds(seconds) })),
  fc.constant(Fault.ConnectionReset()),
  fc.constant(Fault.MalformedJson()),
  fc.constantFrom(200 as const, 502 as const).map((status) => Fault.HtmlBody({ status }))
)

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("fault" as const),
      atTick,
      endpoint: fc.constantFrom("login" as const, "fetchToken" as const, "org" as const),
      times: fc.integer({ min: 1, max: 4 }),
      fault: faultArbitrary
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revoke" as const), atTick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fetchTokenMode" as const),
      atTick,
      mode: fc.constantFrom<FetchTokenMode>("rotate", "same", "same-extend")
    })
  }
)

/** Thousands of callers at once, at a moment of the year that is not a tick. */
interface Burst {
  readonly atMillis: number
  readonly callers: number
}

const burstArbitrary: fc.Arbitrary<Burst> = fc.record({
  atMillis: fc.integer({ min: 0, max: ticks * tickMillis - 1 }).filter((atMillis) => atMillis % tickMillis !== 0),
  callers: fc.integer({ min: 1_000, max: 4_000 })
})

interface Schedule {
  readonly events: ReadonlyArray<Event>
  readonly bursts: ReadonlyArray<Burst>
}

const scheduleArbitrary: fc.Arbitrary<Schedule> = fc.record({
  events: fc.array(eventArbitrary, { minLength: 20, maxLength: 60 }),
  bursts: fc.array(burstArbitrary, { minLength: 3, maxLength: 8 })
})

// ---------------------------------------------------------------------------------------------------------------
// The bound

const spoiledBy = (event: Event): number => {
  if (event.kind === "revoke") {
    return 2
  }
  if (event.kind !== "fault" || event.fault._tag === "Delay") {
    return 0
  }
  if (event.endpoint === "org") {
    return event.fault._tag === "Status" && event.fault.status === 401 ? event.times : 0
  }
  return 2 * event.times
}

/**
 * Logins and refreshes the year may take. While refreshes answer new tokens, one per refresh interval (the shortest
 * the jitter allows). While they answer the same token, that token cannot be renewed before it expires: each
 * lifetime then takes up to three (the refresh at the refresh point and at the deadline, then a login). Then the
 * first login, and for each fault or revocation the requests it spoils plus the one it can cause: a fault on a
 * token endpoint spoils its requests, each of which can be followed by one more (a refused refresh falls back to a
 * login; a background refresh that gave up is replaced by one at the deadline); a 401 on a resource makes the
 * client refresh once; a revocation costs a refused refresh and a login. Delays spoil nothing.
 */
const upstreamBound = (schedule: ReadonlyArray<Event>): number => {
  const dayMillis = Duration.toMillis(Duration.days(1))
  const renewals = Math.ceil((days * dayMillis) / (Duration.toMillis(lifetime) * (refreshRatio - jitterRatio)))
  const sameToken = schedule.some((event) => event.kind === "fetchTokenMode" && event.mode !== "rotate")
  const sameTokenLifetimes = sameToken ? Math.ceil((days * dayMillis) / Duration.toMillis(lifetime)) : 0
  const spoiled = schedule.reduce((total, event) => total + spoiledBy(event), 0)
  return 1 + renewals + 3 * sameTokenLifetimes + spoiled
}

// ---------------------------------------------------------------------------------------------------------------
// The year

/** The standard strategy, counting how many authentications run at once. */
const countedStrategy = () => {
  const standard = AuthStrategy.standard(accounts.example)
  const counts = { running: 0, maxRunning: 0, calls: 0 }
  const strategy: AuthStrategy.Strategy<AuthError.AuthError, any> = {
    name: standard.name,
    authenticate: (current) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          counts.calls += 1
          counts.running += 1
          counts.maxRunning = Math.max(counts.maxRunning, counts.running)
        }),
        () => standard.authenticate(current),
        () =>
          Effect.sync(() => {
            counts.running -= 1
          })
      )
  }
  return { strategy, counts }
}

const apply = (event: Event) =>
  Effect.flatMap(Simulator, (sim) => {
    switch (event.kind) {
      case "fault":
        return sim.injectFault({ endpoint: event.endpoint, times: event.times, fault: event.fault })
      case "revoke":
        return Effect.asVoid(sim.revokeUserTokens(accounts.example.username))
      case "fetchTokenMode":
        return sim.setFetchTokenMode(event.mode)
    }
  })

/** How a caller ended; a failure that is neither an `AuthError` nor an HTTP `ResponseError` is marked untyped. */
const classify = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<string, never, R> =>
  Effect.map(Effect.exit(effect), (exit) => {
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
    if (Option.isSome(failure)) {
      const error = failure.value
      const typed =
        AuthError.isAuthError(error) || (Predicate.isTagged(error, "ResponseError") && error instanceof Error)
      return typed ? (error as { readonly _tag: string })._tag : `untyped: ${String(error)}`
    }
    return describeExit(exit)
  })

const year = (schedule: Schedule) =>
  Effect.gen(function* () {
    const tokens = yield* TokenRef.TokenRef
    const client = yield* OpenSolarClient.OpenSolarClient
    const pending = [...schedule.events].sort((a, b) => a.atTick - b.atTick)
    const bursts = [...schedule.bursts].sort((a, b) => a.atMillis - b.atMillis)
    const outcomes = { ticks: new Map<string, number>(), bursts: new Map<string, number>() }
    const clientGet = Effect.flatMap(client.filterStatusOk.get("/api/orgs/1/"), (response) => response.json)

    const call = (count: number, clientCallers: number, into: Map<string, number>) =>
      Effect.gen(function* () {
        const results = yield* Effect.forEach(
          Array.from({ length: count }, (_, caller) => caller),
          (caller) => classify(caller < clientCallers ? clientGet : tokens.get),
          { concurrency: "unbounded" }
        )
        for (const result of results) {
          into.set(result, (into.get(result) ?? 0) + 1)
        }
      })

    for (let index = 0; index < ticks; index++) {
      while (pending.length > 0 && pending[0]!.atTick <= index) {
        yield* apply(pending.shift()!)
      }

      yield* call(tokenCallersPerTick + clientCallersPerTick, clientCallersPerTick, outcomes.ticks)

      let elapsed = 0
      while (bursts.length > 0 && bursts[0]!.atMillis < (index + 1) * tickMillis) {
        const burst = bursts.shift()!
        yield* Effect.sleep(burst.atMillis - index * tickMillis - elapsed)
        elapsed = burst.atMillis - index * tickMillis
        yield* call(burst.callers, clientCallersPerBurst, outcomes.bursts)
      }

      yield* Effect.sleep(tickMillis - elapsed)
    }

    return outcomes
  })

/** After the year, with the faults gone: the client still gets through. */
const afterwards = Effect.gen(function* () {
  const sim = yield* Simulator
  yield* sim.clearFaults
  yield* sim.setFetchTokenMode("rotate")
  const client = yield* OpenSolarClient.OpenSolarClient
  return yield* classify(Effect.flatMap(client.filterStatusOk.get("/api/orgs/1/"), (response) => response.json))
})

const tally = (log: ReadonlyArray<RequestLogEntry>, key: (entry: RequestLogEntry) => string) =>
  log.reduce<Record<string, number>>((counts, entry) => {
    counts[key(entry)] = (counts[key(entry)] ?? 0) + 1
    return counts
  }, {})

const answered = (outcomes: ReadonlyMap<string, number>): number =>
  [...outcomes.values()].reduce((total, count) => total + count, 0)

describe("soak: a year of operation", () => {
  it.scoped.prop(
    "never sends an expired token, never dies, refreshes one at a time and within the bound",
    [scheduleArbitrary],
    ([schedule]) =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const unhandled = yield* watchProcess
        const logs = captureLogs()
        const { strategy, counts } = countedStrategy()
        const { exchanges, layer } = trackedStack({ timeout: requestTimeout, stall: false })
        // The logger is given to the library's layers only: the simulator's own fibers are not under test. The
        // background fiber wakes once a tick rather than every 101 minutes: it still sleeps exactly until each
        // refresh point, and the clock makes far fewer jumps.
        const world = clientLayer(strategy, {
          timeout: requestTimeout,
          tokenRef: { lifetime, refreshRatio, wakeInterval: tick }
        }).pipe(Layer.provide(logs.layer), Layer.provideMerge(layer))

        const { outcomes, final, log, end } = yield* settle(
          Effect.gen(function* () {
            const outcomes = yield* year(schedule)
            const final = yield* afterwards
            const sim = yield* Simulator
            return { outcomes, final, log: yield* sim.requestLog, end: yield* Clock.currentTimeMillis }
          }).pipe(Effect.provide(world)),
          { horizon: "2 days", maxTurns: 5_000_000, canJump: exchanges.canJump }
        )

        const tokenStates = tally(log, (entry) => entry.tokenState)
        const upstream = log.filter((entry) => entry.endpoint === "login" || entry.endpoint === "fetchToken").length
        const failures = [...outcomes.ticks.keys(), ...outcomes.bursts.keys()].filter((result) => result !== "success")

        expect(end - start).toBeGreaterThanOrEqual(days * Duration.toMillis(Duration.days(1)))
        expect({ expired: tokenStates.expired ?? 0, unknown: tokenStates.unknown ?? 0 }).toEqual({
          expired: 0,
          unknown: 0
        })
        expect(failures.filter((result) => result.startsWith("untyped") || result.startsWith("defect"))).toEqual([])
        expect(failures.filter((result) => result === "interrupted")).toEqual([])
        expect(final).toBe("success")
        expect(logs.entries.flatMap((entry) => defectsOf(entry.cause))).toEqual([])
        expect(unhandled).toEqual([])
        expect(counts.maxRunning).toBe(1)
        expect(upstream).toBeGreaterThanOrEqual(Math.floor(days / Duration.toDays(lifetime)))
        expect(upstream).toBeLessThanOrEqual(upstreamBound(schedule.events))
        expect(answered(outcomes.ticks)).toBe(ticks * (tokenCallersPerTick + clientCallersPerTick))
        expect(answered(outcomes.bursts)).toBe(schedule.bursts.reduce((total, burst) => total + burst.callers, 0))
        // A burst that meets a failing refresh fails as one, its callers sharing that refresh: only the daily
        // callers tell how much of the year went well.
        expect(outcomes.ticks.get("success") ?? 0).toBeGreaterThan(
          ticks * (tokenCallersPerTick + clientCallersPerTick) * 0.9
        )
      }),
    { timeout: 120_000, fastCheck: { seed: 20260101, numRuns: 2, endOnFailure: true } }
  )
})

describe("soak: a grant past its expiry", () => {
  it.scoped("is replaced by a login, without sending it, when refreshes kept answering the same token", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const { exchanges, layer } = trackedStack({ timeout: requestTimeout, stall: false })
      const world = clientLayer(AuthStrategy.standard(accounts.example), { tokenRef: { lifetime } }).pipe(
        Layer.provideMerge(layer)
      )

      const log = yield* settle(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const tokens = yield* TokenRef.TokenRef
          yield* sim.setFetchTokenMode("same")
          yield* tokens.get
          yield* Effect.sleep(Duration.sum(lifetime, Duration.days(1)))

          yield* tokens.get

          return yield* sim.requestLog
        }).pipe(Effect.provide(world)),
        { horizon: "30 days", canJump: exchanges.canJump }
      )

      // The refresh at the refresh point answers the same token, which then cannot be renewed; once it has
      // expired, the next token comes from a login.
      expect(log.map((entry) => `${entry.endpoint} ${entry.status} ${entry.tokenState}`)).toEqual([
        "login 200 none",
        "fetchToken 200 valid",
        "login 200 none"
      ])
    })
  )
})
