import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  DateTime,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Metric,
  MetricLabel,
  Option,
  Random,
  Schedule,
  Scope,
  Stream,
  TestClock
} from "effect"
import * as AuthError from "../src/AuthError.js"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { accounts, Fault, Simulator } from "../src/testing/index.js"
import { captureLogs, captureSpans, type SpanCapture } from "./reliability/support/capture.js"
import { type FakeStrategy, invalidCredentials, makeFakeStrategy, serverError } from "./support/fakeStrategy.js"

const day = Duration.toMillis("1 day")
const lifetime = 7 * day
const refreshPoint = lifetime * 0.8
const deadline = lifetime - Duration.toMillis("60 seconds")

/** No jitter, so that the refresh point is exact, and a wake interval that keeps TestClock steps few. */
const exact: TokenRef.Options = { jitter: 0, wakeInterval: "1 day" }

const storeKey: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "arnie@illbeback.com", orgId: 1 }

const makeRef = (fake: FakeStrategy, options: TokenRef.Options = {}, store?: TokenStore.Service) =>
  Effect.gen(function* () {
    const service = store ?? (yield* TokenStore.makeMemory)
    return yield* TokenRef.make({ ...exact, ...options }).pipe(
      Effect.provide(fake.layer),
      Effect.provideService(TokenStore.TokenStore, service)
    )
  })

const text = (token: BearerToken.BearerToken) => BearerToken.value(token)

const counter = (metric: Metric.Metric.Counter<number>, labels: ReadonlyArray<readonly [string, string]> = []) =>
  Effect.map(
    Metric.value(
      Metric.taggedWithLabels(
        metric,
        labels.map(([key, value]) => MetricLabel.make(key, value))
      )
    ),
    (state) => state.count
  )

/** Lets forked fibers run up to their next suspension without moving the clock. */
const letFibersRun = Effect.repeatN(Effect.yieldNow(), 20)

/**
 * A wall clock that can run ahead of the timers, as when a machine sleeps: timers do not fire while it is
 * suspended, and on waking the wall clock has jumped.
 */
const machineThatSleeps = Effect.map(TestClock.testClock(), (testClock) => {
  let slept = 0
  const wall = () => testClock.unsafeCurrentTimeMillis() + slept
  const wallClock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: wall,
    unsafeCurrentTimeNanos: () => BigInt(wall()) * 1_000_000n,
    currentTimeMillis: Effect.sync(wall),
    currentTimeNanos: Effect.sync(() => BigInt(wall()) * 1_000_000n),
    sleep: (duration) => testClock.sleep(duration)
  }
  return {
    wallClock,
    sleep: (millis: number) => {
      slept += millis
    }
  }
})

const grantAt = (token: string, issuedAt: number, options: { readonly lifetime?: number } = {}) =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt: DateTime.unsafeMake(issuedAt),
    expiresAt: Option.some(DateTime.unsafeMake(issuedAt + (options.lifetime ?? lifetime))),
    user: new TokenGrant.GrantUser({ email: "arnie@illbeback.com" }),
    org: Option.none(),
    orgs: [],
    strategy: "stored"
  })

/** A store in which another process saves a newer grant just before each refresh here gets the store's lock. */
const savedElsewhereFirst = Effect.map(
  TokenStore.makeMemory,
  (memory): TokenStore.Service => ({
    ...memory,
    exclusive: (key, refresh) =>
      Effect.zipRight(
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.orDie(memory.save(key, grantAt("from-elsewhere", now)))
        ),
        memory.exclusive(key, refresh)
      )
  })
)

const refreshSpans = (spans: SpanCapture) => spans.spans.filter((span) => span.name === "TokenRef.refresh")

describe("TokenRef", () => {
  describe("get", () => {
    it.scoped("answers the same token until the refresh point, with one login", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake)

        const first = yield* tokens.get
        yield* TestClock.adjust(refreshPoint - 1)
        const second = yield* tokens.get

        expect(text(second)).toBe(text(first))
        expect(fake.calls.length).toBe(1)
      })
    )

    it.scoped("lets concurrent callers without a token share one login", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ latency: () => "2 seconds" })
        const tokens = yield* makeRef(fake)
        const joinedBefore = yield* counter(TokenRef.metrics.joinedRefreshes)

        const callers = yield* Effect.fork(
          Effect.all(
            Array.from({ length: 25 }, () => tokens.get),
            { concurrency: 25 }
          )
        )
        yield* TestClock.adjust("2 seconds")
        const received = yield* Fiber.join(callers)

        expect(fake.calls.length).toBe(1)
        expect(new Set(received.map(text)).size).toBe(1)
        expect((yield* counter(TokenRef.metrics.joinedRefreshes)) - joinedBefore).toBe(24)
      })
    )

    it.scoped("hands out the current token past the refresh point while one background refresh renews it", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ latency: (index) => (index === 0 ? 0 : "10 seconds") })
        const tokens = yield* makeRef(fake, { wakeInterval: "30 days" })
        const first = yield* tokens.get
        const staleBefore = yield* counter(TokenRef.metrics.staleTokensServed)

        yield* TestClock.adjust(refreshPoint + 1_000)
        const during = yield* Effect.all([tokens.get, tokens.get, tokens.get])

        expect(during.map(text)).toEqual([text(first), text(first), text(first)])
        expect(fake.calls.length).toBe(2)
        expect((yield* counter(TokenRef.metrics.staleTokensServed)) - staleBefore).toBe(3)

        yield* TestClock.adjust("10 seconds")
        const after = yield* tokens.get
        expect(text(after)).not.toBe(text(first))
        expect(text(after)).toBe(fake.calls[1]?.token)
        expect(fake.calls.length).toBe(2)
      })
    )

    it.scoped("renews at the refresh point without any caller", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake)
        yield* tokens.get

        yield* TestClock.adjust(refreshPoint - 1)
        expect(fake.calls.length).toBe(1)
        yield* TestClock.adjust(1)

        expect(fake.calls.map((call) => call.startedAt)).toEqual([0, refreshPoint])
        const current = yield* tokens.current
        expect(Option.map(current, (grant) => text(grant.token))).toEqual(Option.some(fake.calls[1]?.token))
      })
    )

    it.scoped("makes callers past the deadline wait for a new token instead of handing out the old one", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({
          latency: (index) => (index === 2 ? "5 seconds" : 0),
          failure: (index) => (index === 1 ? invalidCredentials : undefined)
        })
        const tokens = yield* makeRef(fake)
        const first = yield* tokens.get
        yield* TestClock.adjust(deadline)
        expect(fake.calls.length).toBe(2)

        const caller = yield* Effect.fork(tokens.get)
        yield* letFibersRun
        expect(Option.isNone(yield* Fiber.poll(caller))).toBe(true)
        yield* TestClock.adjust("5 seconds")
        const renewed = yield* Fiber.join(caller)

        expect(text(renewed)).not.toBe(text(first))
        expect(text(renewed)).toBe(fake.calls[2]?.token)
      })
    )

    it.scoped("does not cache a failed refresh: the next get tries again", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 0 ? serverError : undefined) })
        const tokens = yield* makeRef(fake)

        const failed = yield* Effect.either(tokens.get)
        const succeeded = yield* tokens.get

        expect(Either.isLeft(failed) && failed.left._tag).toBe("ServerError")
        expect(text(succeeded)).toBe(fake.calls[1]?.token)
        expect(fake.calls.length).toBe(2)
      })
    )

    it.scoped("fails with the strategy's typed error when the upstream stays down past the deadline", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 0 ? undefined : serverError) })
        const tokens = yield* makeRef(fake, { retryPolicy: Schedule.spaced("1 hour") })
        const first = yield* tokens.get

        yield* TestClock.adjust(deadline - 1)
        expect(text(yield* tokens.get)).toBe(text(first))
        yield* TestClock.adjust(1)
        const failed = yield* Effect.either(tokens.get)

        expect(Either.isLeft(failed) && failed.left._tag).toBe("ServerError")
      })
    )
  })

  describe("background refresh", () => {
    it.scoped("retries a failed background refresh with the policy and keeps the valid token meanwhile", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 1 || index === 2 ? serverError : undefined) })
        const tokens = yield* makeRef(fake, { retryPolicy: Schedule.spaced("1 hour") })
        const first = yield* tokens.get

        yield* TestClock.adjust(refreshPoint)
        expect(text(yield* tokens.get)).toBe(text(first))
        yield* TestClock.adjust("1 hour")
        expect(text(yield* tokens.get)).toBe(text(first))
        yield* TestClock.adjust("1 hour")

        expect(fake.calls.map((call) => call.startedAt - refreshPoint)).toEqual([
          -refreshPoint,
          0,
          3_600_000,
          7_200_000
        ])
        expect(text(yield* tokens.get)).toBe(fake.calls[3]?.token)
      })
    )

    it.scoped("stops background retries after an error the policy does not retry, then refreshes at the deadline", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 1 ? invalidCredentials : undefined) })
        const tokens = yield* makeRef(fake, {
          retryPolicy: Schedule.spaced("1 minute").pipe(Schedule.whileInput(AuthError.isTransient))
        })
        const first = yield* tokens.get

        yield* TestClock.adjust(deadline - 1)
        expect(fake.calls.length).toBe(2)
        expect(text(yield* tokens.get)).toBe(text(first))
        expect(fake.calls.length).toBe(2)

        yield* TestClock.adjust(1)
        const renewed = yield* tokens.get
        expect(text(renewed)).toBe(fake.calls[2]?.token)
      })
    )

    it.scoped("starts a new round of retries when the policy gives up on a transient error before the deadline", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index >= 1 && index <= 3 ? serverError : undefined) })
        const tokens = yield* makeRef(fake, {
          wakeInterval: "6 hours",
          retryPolicy: Schedule.intersect(Schedule.spaced("1 minute"), Schedule.recurs(1))
        })
        yield* tokens.get

        yield* TestClock.adjust(refreshPoint + Duration.toMillis("7 hours"))

        expect(fake.calls.map((call) => call.startedAt - refreshPoint).slice(1)).toEqual([
          0,
          60_000,
          60_000 + 6 * 3_600_000,
          2 * 60_000 + 6 * 3_600_000
        ])
      })
    )

    it.scoped("keeps the original issue time when the strategy answers with the same token, and does not loop", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ sameToken: true })
        const tokens = yield* makeRef(fake)
        const first = yield* tokens.get

        yield* TestClock.adjust(refreshPoint + 1)
        const grant = yield* tokens.refresh
        yield* TestClock.adjust("1 hour")

        expect(text(grant.token)).toBe(text(first))
        expect(DateTime.toEpochMillis(grant.issuedAt)).toBe(0)
        expect(fake.calls.length).toBe(3)
      })
    )
  })

  describe("invalidate", () => {
    it.scoped("refreshes on the next get when the rejected token is the current one", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake)
        const first = yield* tokens.get

        yield* tokens.invalidate(first)
        expect(fake.calls.length).toBe(1)
        const second = yield* tokens.get

        expect(text(second)).not.toBe(text(first))
        expect(fake.calls.length).toBe(2)
      })
    )

    it.scoped("does nothing for a token that was already replaced", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake)
        const first = yield* tokens.get
        const second = (yield* tokens.refresh).token

        yield* tokens.invalidate(first)
        const third = yield* tokens.get

        expect(text(third)).toBe(text(second))
        expect(fake.calls.length).toBe(2)
      })
    )

    it.scoped("cuts short the wait of a background refresh between retries", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 1 ? serverError : undefined) })
        const tokens = yield* makeRef(fake, { retryPolicy: Schedule.spaced("6 hours") })
        const first = yield* tokens.get
        yield* TestClock.adjust(refreshPoint)
        expect(fake.calls.length).toBe(2)

        yield* tokens.invalidate(first)
        const renewed = yield* tokens.get

        expect(text(renewed)).toBe(fake.calls[2]?.token)
        expect(fake.calls[2]?.startedAt).toBe(refreshPoint)
      })
    )
  })

  describe("refresh", () => {
    it.scoped("joins a refresh already in flight", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ latency: () => "3 seconds" })
        const tokens = yield* makeRef(fake)

        const fibers = yield* Effect.fork(Effect.all([tokens.get, tokens.refresh, tokens.refresh], { concurrency: 3 }))
        yield* TestClock.adjust("3 seconds")
        const [token, grant, again] = yield* Fiber.join(fibers)

        expect(fake.calls.length).toBe(1)
        expect(text(grant.token)).toBe(text(token))
        expect(again).toBe(grant)
      })
    )

    it.scoped("tries at once when forced during the wait of a background refresh between retries", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ failure: (index) => (index === 1 ? serverError : undefined) })
        const tokens = yield* makeRef(fake, { retryPolicy: Schedule.spaced("6 hours") })
        yield* tokens.get
        yield* TestClock.adjust(refreshPoint + 1)

        const grant = yield* tokens.refresh

        expect(text(grant.token)).toBe(fake.calls[2]?.token)
        expect(fake.calls[2]?.startedAt).toBe(refreshPoint + 1)
      })
    )

    it.scoped("publishes every new grant on changes", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake)
        const seen = yield* Effect.fork(Stream.runCollect(Stream.take(tokens.changes, 3)))
        yield* letFibersRun

        yield* tokens.get
        yield* tokens.refresh
        yield* TestClock.adjust(refreshPoint)
        const grants = Chunk.toReadonlyArray(yield* Fiber.join(seen))

        expect(grants.map((grant) => text(grant.token))).toEqual(fake.calls.map((call) => call.token))
      })
    )
  })

  describe("scope", () => {
    it.effect("stops every refresh when the scope closes, including one in flight", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ latency: (index) => (index === 0 ? 0 : "1 minute") })
        const scope = yield* Scope.make()
        const tokens = yield* Scope.extend(makeRef(fake), scope)
        yield* tokens.get
        yield* TestClock.adjust(refreshPoint)
        expect(fake.calls.length).toBe(2)

        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust(10 * lifetime)

        expect(fake.calls.length).toBe(2)
        expect(fake.calls[1]?.outcome).toBe("interrupted")
      })
    )

    it.effect("refuses to refresh after the scope closed", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const scope = yield* Scope.make()
        const tokens = yield* Scope.extend(makeRef(fake), scope)
        yield* Scope.close(scope, Exit.void)

        const exit = yield* Effect.exit(tokens.get)

        expect(Exit.isFailure(exit) && Exit.isInterrupted(exit)).toBe(false)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(fake.calls.length).toBe(0)
      })
    )
  })

  describe("interruption", () => {
    // The runtime lets a fiber run this many steps before it yields to others. The caller is padded by one more
    // step in each case, so across the cases its interruption lands on every step of starting a refresh.
    const stepsPerTurn = 64

    const afterSteps = (steps: number, effect: Effect.Effect<unknown, AuthError.AuthError>) =>
      Effect.withMaxOpsBeforeYield(
        Effect.zipRight(
          Array.from({ length: steps }).reduce<Effect.Effect<void>>(
            (padding) => Effect.zipRight(padding, Effect.void),
            Effect.void
          ),
          effect
        ),
        stepsPerTurn
      )

    it.effect("keeps serving later callers whichever step an interrupted caller had reached", () =>
      Effect.gen(function* () {
        const seen = { startedBeforeInterruption: 0, interruptedBeforeStart: 0 }

        for (const operation of ["get", "refresh"] as const) {
          for (let steps = 0; steps <= stepsPerTurn; steps++) {
            const fake = makeFakeStrategy()
            const scope = yield* Scope.make()
            const tokens = yield* Scope.extend(makeRef(fake), scope)
            const caller = yield* Effect.fork(afterSteps(steps, operation === "get" ? tokens.get : tokens.refresh))
            yield* Effect.yieldNow()
            yield* Fiber.interrupt(caller)
            yield* letFibersRun
            const startedByCaller = fake.calls.length > 0

            const later = yield* Effect.fork(Effect.all([tokens.get, tokens.refresh], { concurrency: 2 }))
            yield* letFibersRun
            const answered = yield* Fiber.poll(later)

            expect(Option.isSome(answered) && Exit.isSuccess(answered.value), `${operation} after ${steps}`).toBe(true)
            if (startedByCaller) {
              seen.startedBeforeInterruption += 1
            } else {
              seen.interruptedBeforeStart += 1
            }
            yield* Scope.close(scope, Exit.void)
          }
        }

        expect(seen.startedBeforeInterruption).toBeGreaterThan(0)
        expect(seen.interruptedBeforeStart).toBeGreaterThan(0)
      })
    )
  })

  describe("clock", () => {
    it.scoped("notices within one wake interval that the wall clock jumped past the refresh point", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const { wallClock, sleep } = yield* machineThatSleeps
        const tokens = yield* Effect.withClock(makeRef(fake, { wakeInterval: "10 minutes" }), wallClock)
        yield* Effect.withClock(tokens.get, wallClock)
        yield* letFibersRun

        sleep(refreshPoint + 1)
        yield* TestClock.adjust("9 minutes")
        expect(fake.calls.length).toBe(1)
        yield* TestClock.adjust("1 minute")
        expect(fake.calls.length).toBe(2)
        expect(fake.calls[1]?.startedAt).toBe(refreshPoint + 1 + Duration.toMillis("10 minutes"))
      })
    )

    it.scoped("lets a caller past the refresh point start the background refresh before the fiber wakes", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy({ latency: (index) => (index === 0 ? 0 : "1 second") })
        const { wallClock, sleep } = yield* machineThatSleeps
        const tokens = yield* Effect.withClock(makeRef(fake, { wakeInterval: "1 day" }), wallClock)
        const first = yield* Effect.withClock(tokens.get, wallClock)
        yield* letFibersRun

        sleep(refreshPoint + 1)
        const stale = yield* Effect.withClock(tokens.get, wallClock)
        yield* letFibersRun

        expect(text(stale)).toBe(text(first))
        expect(fake.calls.length).toBe(2)
        expect(fake.calls[1]?.startedAt).toBe(refreshPoint + 1)
      })
    )

    it.scoped("moves the refresh point at random within the jitter", () =>
      Effect.gen(function* () {
        const starts: Array<number> = []
        for (const seed of [1, 2, 3, 4, 5, 6]) {
          const fake = makeFakeStrategy()
          const scope = yield* Scope.make()
          const base = yield* Clock.currentTimeMillis
          const tokens = yield* Scope.extend(
            makeRef(fake, { jitter: "1 hour", wakeInterval: "30 days" }).pipe(Effect.withRandom(Random.make(seed))),
            scope
          )
          yield* tokens.get
          yield* TestClock.adjust(refreshPoint + Duration.toMillis("1 hour"))
          starts.push((fake.calls[1]?.startedAt ?? Number.NaN) - base)
          yield* Scope.close(scope, Exit.void)
        }

        for (const start of starts) {
          expect(Math.abs(start - refreshPoint)).toBeLessThanOrEqual(Duration.toMillis("1 hour"))
        }
        expect(new Set(starts).size).toBeGreaterThan(1)
      })
    )
  })

  describe("store", () => {
    it.scoped("starts from a valid stored grant without logging in", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const store = yield* TokenStore.makeMemory
        yield* store.save(storeKey, grantAt("stored-token", 0))
        yield* TestClock.adjust("2 days")

        const tokens = yield* makeRef(fake, { storeKey }, store)
        const token = yield* tokens.get

        expect(text(token)).toBe("stored-token")
        expect(fake.calls.length).toBe(0)
      })
    )

    it.scoped("logs in when the stored grant is past its deadline, and saves the new grant", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const store = yield* TokenStore.makeMemory
        yield* store.save(storeKey, grantAt("stored-token", 0))
        yield* TestClock.adjust(deadline)

        const tokens = yield* makeRef(fake, { storeKey }, store)
        const token = yield* tokens.get
        const saved = yield* store.load(storeKey)

        expect(text(token)).toBe(fake.calls[0]?.token)
        expect(Option.map(saved, (grant) => text(grant.token))).toEqual(Option.some(text(token)))
        expect(Option.map(fake.calls[0]?.current ?? Option.none(), (grant) => text(grant.token))).toEqual(
          Option.some("stored-token")
        )
      })
    )

    it.scoped("adopts a grant another process saved while this one waited for the store", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake, { storeKey }, yield* savedElsewhereFirst)

        const token = yield* tokens.get

        expect(text(token)).toBe("from-elsewhere")
        expect(fake.calls.length).toBe(0)
      })
    )

    it.scoped("does not adopt the stored grant it is replacing", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const store = yield* TokenStore.makeMemory
        yield* store.save(storeKey, grantAt("stored-token", 0))
        const tokens = yield* makeRef(fake, { storeKey }, store)

        yield* tokens.invalidate(BearerToken.unsafeMake("stored-token"))
        const token = yield* tokens.get

        expect(text(token)).toBe(fake.calls[0]?.token)
      })
    )

    it.scoped("carries on when the store fails", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const failure = (operation: "load" | "save" | "remove") =>
          Effect.fail(new TokenStore.TokenStoreError({ operation, reason: "the disk is on fire" }))
        const broken: TokenStore.Service = {
          load: () => failure("load"),
          save: () => failure("save"),
          remove: () => failure("remove"),
          exclusive: (_, refresh) => refresh
        }
        const tokens = yield* makeRef(fake, { storeKey }, broken)

        const token = yield* tokens.get

        expect(text(token)).toBe(fake.calls[0]?.token)
      })
    )
  })

  describe("observability", () => {
    const refreshCount = (reason: string, outcome: string) =>
      counter(TokenRef.metrics.refreshes, [
        ["reason", reason],
        ["outcome", outcome]
      ])

    it.scoped("records a span per refresh with the reason, outcome and fingerprint, never the token", () =>
      Effect.gen(function* () {
        const spans = captureSpans()
        const fake = makeFakeStrategy()
        const refreshesBefore = yield* refreshCount("initial", "renewed")
        const tokens = yield* makeRef(fake).pipe(Effect.provide(spans.layer))

        const token = yield* tokens.get.pipe(Effect.provide(spans.layer))

        const [refresh] = refreshSpans(spans)
        expect(refresh?.span.attributes.get("opensolar.refresh.reason")).toBe("initial")
        expect(refresh?.span.attributes.get("opensolar.refresh.outcome")).toBe("renewed")
        expect(refresh?.span.attributes.get("opensolar.auth.strategy")).toBe("fake")
        expect(refresh?.span.attributes.get("opensolar.token.fingerprint")).toBe(BearerToken.fingerprint(token))
        expect(refresh?.text()).not.toContain(text(token))
        expect((yield* refreshCount("initial", "renewed")) - refreshesBefore).toBe(1)
      })
    )

    it.scoped("records a failed refresh with the error's tag and the fingerprint of the token it kept", () =>
      Effect.gen(function* () {
        const spans = captureSpans()
        const fake = makeFakeStrategy({ failure: (index) => (index === 0 ? undefined : serverError) })
        const failedBefore = yield* refreshCount("forced", "failed")
        const tokens = yield* makeRef(fake)
        const token = yield* tokens.get

        const failed = yield* Effect.either(tokens.refresh.pipe(Effect.provide(spans.layer)))

        const [refresh] = refreshSpans(spans)
        expect(Either.isLeft(failed) && failed.left._tag).toBe("ServerError")
        expect(refresh?.span.attributes.get("opensolar.refresh.outcome")).toBe("failed")
        expect(refresh?.span.attributes.get("opensolar.refresh.error")).toBe("ServerError")
        expect(refresh?.span.attributes.get("opensolar.token.previous_fingerprint")).toBe(
          BearerToken.fingerprint(token)
        )
        expect(refresh?.text()).not.toContain(text(token))
        expect((yield* refreshCount("forced", "failed")) - failedBefore).toBe(1)
      })
    )

    it.scoped("records a refresh answered with the same token as unchanged", () =>
      Effect.gen(function* () {
        const spans = captureSpans()
        const fake = makeFakeStrategy({ sameToken: true })
        const unchangedBefore = yield* refreshCount("forced", "unchanged")
        const tokens = yield* makeRef(fake)
        const token = yield* tokens.get

        yield* tokens.refresh.pipe(Effect.provide(spans.layer))

        const [refresh] = refreshSpans(spans)
        expect(fake.calls.map((call) => call.token)).toEqual([text(token), text(token)])
        expect(refresh?.span.attributes.get("opensolar.refresh.outcome")).toBe("unchanged")
        expect(refresh?.span.attributes.get("opensolar.token.fingerprint")).toBe(BearerToken.fingerprint(token))
        expect((yield* refreshCount("forced", "unchanged")) - unchangedBefore).toBe(1)
      })
    )

    it.scoped("records a grant another process stored as adopted", () =>
      Effect.gen(function* () {
        const spans = captureSpans()
        const fake = makeFakeStrategy()
        const adoptedBefore = yield* refreshCount("initial", "adopted")
        const tokens = yield* makeRef(fake, { storeKey }, yield* savedElsewhereFirst)

        const token = yield* tokens.get.pipe(Effect.provide(spans.layer))

        const [refresh] = refreshSpans(spans)
        expect(text(token)).toBe("from-elsewhere")
        expect(refresh?.span.attributes.get("opensolar.refresh.outcome")).toBe("adopted")
        expect(refresh?.span.attributes.get("opensolar.token.fingerprint")).toBe(BearerToken.fingerprint(token))
        expect((yield* refreshCount("initial", "adopted")) - adoptedBefore).toBe(1)
      })
    )

    it.scoped("writes no log line that contains a token", () =>
      Effect.gen(function* () {
        const logs = captureLogs()
        const fake = makeFakeStrategy({ failure: (index) => (index === 1 ? serverError : undefined) })
        const broken: TokenStore.Service = {
          ...(yield* TokenStore.makeMemory),
          save: () => Effect.fail(new TokenStore.TokenStoreError({ operation: "save", reason: "the disk is full" }))
        }
        const machineToken = BearerToken.unsafeMake("machine-user-token")

        yield* Effect.gen(function* () {
          const tokens = yield* makeRef(fake, { storeKey, retryPolicy: Schedule.spaced("1 hour") }, broken)
          const first = yield* tokens.get
          yield* TestClock.adjust(refreshPoint)
          yield* TestClock.adjust("1 hour")
          yield* tokens.invalidate(yield* tokens.get)
          yield* tokens.invalidate(first)
          yield* tokens.get
          const machine = yield* TokenRef.makeStatic(machineToken)
          yield* machine.invalidate(machineToken)
        }).pipe(Effect.provide(logs.layer))

        const logged = logs.entries.map((entry) => entry.text)
        const issued = [
          ...fake.calls.flatMap((call) => (call.token === undefined ? [] : [call.token])),
          "machine-user-token"
        ]
        expect(fake.calls.length).toBe(4)
        expect(logged.some((line) => line.includes("retrying"))).toBe(true)
        expect(logged.some((line) => line.includes("the disk is full"))).toBe(true)
        expect(logged.some((line) => line.includes(BearerToken.fingerprint(machineToken)))).toBe(true)
        for (const token of issued) {
          expect(logged.filter((line) => line.includes(token))).toEqual([])
        }
      })
    )
  })

  describe("options", () => {
    it.scoped("refuses options that cannot work, naming the setting", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const cases: ReadonlyArray<[TokenRef.Options, string | ReadonlyArray<string>]> = [
          [{ refreshRatio: 1.2 }, "refreshRatio"],
          [{ refreshRatio: 0 }, "refreshRatio"],
          [{ lifetime: 0 }, "lifetime"],
          [{ lifetime: Duration.infinity }, "lifetime"],
          [{ wakeInterval: 0 }, "wakeInterval"],
          [{ refreshRatio: 0.99, jitter: "3 hours" }, ["refreshRatio", "jitter"]],
          [{ refreshRatio: 0.985, jitter: undefined }, "refreshRatio"],
          [{ lifetime: "5 minutes" }, "lifetime"],
          [{ lifetime: "1 hour", safetyMargin: "1 hour" }, ["lifetime", "safetyMargin"]],
          [{ jitter: "7 days" }, "jitter"],
          [{ lifetime: "abc" as Duration.DurationInput }, "lifetime"],
          [{ lifetime: Number.NaN }, "lifetime"],
          [{ lifetime: -1 }, "lifetime"],
          [{ lifetime: 8.64e15 }, "lifetime"],
          [{ lifetime: "99999999999999999999 weeks" }, "lifetime"],
          [{ jitter: -1 }, "jitter"],
          [{ safetyMargin: "NaN millis" as Duration.DurationInput }, "safetyMargin"],
          [{ safetyMargin: "-5 seconds" }, "safetyMargin"],
          [{ wakeInterval: Number.POSITIVE_INFINITY }, "wakeInterval"],
          [{ refreshRatio: "0.5" as unknown as number }, "refreshRatio"]
        ]
        for (const [options, variable] of cases) {
          const result = yield* Effect.either(makeRef(fake, options))
          expect(Either.isLeft(result) && result.left.variables, JSON.stringify(options)).toEqual(
            typeof variable === "string" ? [variable] : variable
          )
        }
      })
    )

    it.scoped("says how long a lifetime the refresh timing needs, when a longer one would do", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()

        const short = yield* Effect.flip(makeRef(fake, { lifetime: "90 seconds", jitter: undefined }))
        const tight = yield* Effect.flip(makeRef(fake, { lifetime: "1 hour", jitter: "20 minutes" }))
        const hopeless = yield* Effect.flip(makeRef(fake, { refreshRatio: 0.99, jitter: undefined }))

        // 60 s / (1 − 0.8 − 0.02), and (60 s + 20 minutes) / (1 − 0.8).
        expect(short.message).toContain("a lifetime of 1m 30s leaves no time between them")
        expect(short.message).toContain("lengthen lifetime beyond 5m 33s 334ms")
        expect(tight.message).toContain("lengthen lifetime beyond 1h 45m")
        expect(tight.variables).toEqual(["lifetime", "jitter"])
        // No lifetime helps when the default jitter, 2% of it, already reaches past a ratio of 0.98.
        expect(short.variables).toEqual(["lifetime"])
        expect(hopeless.variables).toEqual(["refreshRatio"])
        expect(hopeless.message).not.toContain("lengthen lifetime")
        expect(hopeless.message).toContain("lower refreshRatio or jitter, or shorten safetyMargin")
      })
    )

    it.scoped("takes a lifetime of up to 100 years, and zero jitter and safety margin", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const tokens = yield* makeRef(fake, { lifetime: "36525 days", jitter: 0, safetyMargin: 0 })

        yield* tokens.get
        const grant = yield* tokens.current

        const expiresAt = Option.flatMap(grant, (current) => current.expiresAt)
        const issuedAt = Option.map(grant, (current) => DateTime.toEpochMillis(current.issuedAt))
        expect(Option.map(expiresAt, DateTime.toEpochMillis)).toEqual(
          Option.map(issuedAt, (issued) => issued + Duration.toMillis("36525 days"))
        )
      })
    )
  })

  describe("layerStatic", () => {
    it.effect("answers a machine user's token forever without a request", () =>
      Effect.gen(function* () {
        const token = BearerToken.unsafeMake("machine-user-token")
        const tokens = yield* TokenRef.TokenRef

        yield* TestClock.adjust("365 days")
        yield* tokens.invalidate(token)
        const grant = yield* tokens.refresh

        expect(text(yield* tokens.get)).toBe("machine-user-token")
        expect(grant.isPermanent).toBe(true)
      }).pipe(Effect.provide(TokenRef.layerStatic(BearerToken.unsafeMake("machine-user-token"))))
    )

    it.effect("given plain text instead of a token, fails every get with a ConfigurationError that hides it", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenRef.makeStatic("plain-text-machine-token" as unknown as BearerToken.BearerToken)

        const error = yield* Effect.flip(tokens.get)

        expect(error._tag).toBe("ConfigurationError")
        expect(error._tag === "ConfigurationError" && error.variables).toEqual(["token"])
        expect(error.message).not.toContain("plain-text-machine-token")
        expect(yield* tokens.current).toEqual(Option.none())
      })
    )
  })

  describe("layer", () => {
    it.effect("builds from the strategy and store in context, or keeps grants in memory", () =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const token = yield* Effect.flatMap(TokenRef.TokenRef, (tokens) => tokens.get).pipe(
          Effect.provide(TokenRef.layerMemory(exact).pipe(Layer.provide(fake.layer)))
        )
        expect(text(token)).toBe(fake.calls[0]?.token)
      })
    )
  })

  describe("over the password strategy and the simulator", () => {
    // The wire client's timeout lies beyond any clock jump here, so moving the TestClock never times out a
    // request in flight.
    const world = Layer.unwrapEffect(
      Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: "30 days" }))
    ).pipe(Layer.provideMerge(Simulator.layer()), Layer.provideMerge(NodeHttpClient.layerUndici))

    const arnie = AuthStrategy.layer(
      AuthStrategy.password({ username: accounts.example.username, password: accounts.example.password })
    )

    it.scoped(
      "keeps arnie logged in for 8 days, through an outage past the deadline, never sending an expired token",
      () =>
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* HttpClient.HttpClient
          const tokens = yield* TokenRef.make({ wakeInterval: "6 hours" }).pipe(
            Effect.provide(arnie),
            Effect.provide(TokenStore.layerMemory)
          )
          const refusedAt: Array<number> = []

          for (let hour = 0; hour < 8 * 24; hour += 2) {
            // Logins fail from day 5 (before the refresh point) until 4 hours past the first token's expiry.
            if (hour === 5 * 24) {
              yield* sim.injectFault({ endpoint: "login", times: 1_000_000, fault: Fault.Status({ status: 503 }) })
            }
            if (hour === 7 * 24 + 4) {
              yield* sim.clearFaults
            }
            const token = yield* Effect.either(tokens.get)
            if (Either.isLeft(token)) {
              expect(token.left._tag).toBe("ServerError")
              refusedAt.push(hour)
            } else {
              const response = yield* client.execute(
                HttpClientRequest.get(`${sim.url}/api/orgs/1/`).pipe(HttpClientRequest.bearerToken(text(token.right)))
              )
              expect(response.status).toBe(200)
            }
            yield* TestClock.adjust("2 hours")
          }

          const log = yield* sim.requestLog
          const used = log.filter((entry) => entry.endpoint === "org")
          expect(refusedAt).toEqual([7 * 24, 7 * 24 + 2])
          expect(used).toHaveLength(4 * 24 - 2)
          expect(used.filter((entry) => entry.tokenState !== "valid")).toEqual([])
          expect(log.filter((entry) => entry.endpoint === "login" && entry.status === 200)).toHaveLength(2)
        }).pipe(Effect.provide(world))
    )
  })
})
