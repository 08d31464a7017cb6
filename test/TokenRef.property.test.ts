/**
 * Properties of the refresh schedule, checked over generated lifetimes, refresh settings, caller arrival
 * times, upstream latencies and failures. Every case runs in a fresh TestContext, so time is TestClock time
 * starting at zero; fast-check shrinks a failing case to a small one.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Random,
  Schedule,
  Scope,
  TestClock
} from "effect"
import * as AuthError from "../src/AuthError.js"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BearerToken from "../src/BearerToken.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { accounts, Simulator } from "../src/testing/index.js"
import { type FakeStrategy, invalidCredentials, makeFakeStrategy, serverError } from "./support/fakeStrategy.js"

// The timeout leaves room for a loaded machine; the whole file usually takes well under half of it.
const runs = { timeout: 120_000, fastCheck: { numRuns: 100 } }

const nodeFiles = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/** Refresh settings, as fractions of a lifetime between 10 minutes and 7 days. */
const settings = fc.record({
  lifetimeMinutes: fc.integer({ min: 10, max: 7 * 24 * 60 }),
  refreshRatio: fc.double({ min: 0.5, max: 0.9, noNaN: true }),
  jitterRatio: fc.double({ min: 0, max: 0.05, noNaN: true }),
  marginRatio: fc.double({ min: 0, max: 0.04, noNaN: true }),
  wakeRatio: fc.double({ min: 0.5, max: 2, noNaN: true }),
  retryRatio: fc.double({ min: 0.1, max: 0.3, noNaN: true }),
  seed: fc.integer()
})

type Settings = typeof settings extends fc.Arbitrary<infer A> ? A : never

/** How long each upstream call takes, as fractions of the lifetime. */
const latencies = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.05, noNaN: true })), { maxLength: 8 })

/** How the upstream behaves: per-call latency and failure, and a window of time in which it is down. */
const upstream = fc.record({
  latencies,
  failingCalls: fc.array(fc.boolean(), { maxLength: 10 }),
  down: fc.option(fc.tuple(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })))
})

type Upstream = typeof upstream extends fc.Arbitrary<infer A> ? A : never

/** When callers arrive, as fractions of the lifetime. */
const arrivals = fc.array(fc.double({ min: 0, max: 1.6, noNaN: true }), { minLength: 1, maxLength: 5 })

const lifetimeOf = (generated: Settings) => generated.lifetimeMinutes * 60_000

/** The generated settings in whole milliseconds. */
const durationsOf = (generated: Settings) => {
  const lifetime = lifetimeOf(generated)
  return {
    lifetime,
    jitter: Math.round(lifetime * generated.jitterRatio),
    safetyMargin: Math.round(lifetime * generated.marginRatio),
    wakeInterval: Math.round(lifetime * generated.wakeRatio),
    retrySpacing: Math.round(lifetime * generated.retryRatio)
  }
}

const optionsOf = (generated: Settings): TokenRef.Options => {
  const durations = durationsOf(generated)
  return {
    lifetime: Duration.millis(durations.lifetime),
    refreshRatio: generated.refreshRatio,
    jitter: Duration.millis(durations.jitter),
    safetyMargin: Duration.millis(durations.safetyMargin),
    wakeInterval: Duration.millis(durations.wakeInterval),
    retryPolicy: Schedule.spaced(Duration.millis(durations.retrySpacing)).pipe(
      Schedule.whileInput(AuthError.isTransient)
    )
  }
}

const fakeOf = (generated: Settings, behaviour: Upstream) => {
  const lifetime = lifetimeOf(generated)
  return makeFakeStrategy({
    lifetime: Duration.millis(lifetime),
    latency: (index) => Duration.millis(Math.round((behaviour.latencies[index] ?? 0) * lifetime)),
    failure: (index, startedAt) => {
      const [from, length] = behaviour.down ?? [0, 0]
      const isDown = startedAt >= from * lifetime && startedAt < (from + length) * lifetime
      return behaviour.failingCalls[index] === true || isDown ? serverError : undefined
    }
  })
}

const makeRef = <R = never>(
  fake: FakeStrategy,
  generated: Settings,
  store: Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError, R> = TokenStore.layerMemory,
  extra: TokenRef.Options = {}
) =>
  TokenRef.make({ ...optionsOf(generated), ...extra }).pipe(
    Effect.provide(Layer.merge(fake.layer, store)),
    Effect.withRandom(Random.make(generated.seed))
  )

interface Outcome {
  readonly arrivedAt: number
  readonly answeredAt: number
  readonly result: Either.Either<BearerToken.BearerToken, AuthError.AuthError>
}

const caller = (tokens: TokenRef.Service, arrival: number): Effect.Effect<Outcome> =>
  Effect.delay(
    Effect.gen(function* () {
      const arrivedAt = yield* Clock.currentTimeMillis
      const result = yield* Effect.either(tokens.get)
      return { arrivedAt, answeredAt: yield* Clock.currentTimeMillis, result }
    }),
    Duration.millis(arrival)
  )

/** Callers arriving at the given times; the clock then runs far enough for every one of them to be answered. */
const runCallers = (tokens: TokenRef.Service, times: ReadonlyArray<number>, until: number) =>
  Effect.gen(function* () {
    const fibers = yield* Effect.forEach(times, (time) => Effect.fork(caller(tokens, time)))
    yield* TestClock.adjust(Duration.millis(until))
    return yield* Fiber.joinAll(fibers)
  })

// The cases wait mostly on TestClock's hand-offs between fibers, not on the processor: the properties run side by side.
describe.concurrent("TokenRef properties", () => {
  // 1a. No caller ever receives a token that is expired at that moment: every token handed out expires, as the
  //     upstream sees it, after the moment it is handed out, whatever the upstream does. A caller that gets no
  //     token gets the upstream's typed error, never a defect.
  it.scoped.prop(
    "no caller receives an expired token",
    [settings, upstream, arrivals],
    ([generated, behaviour, times]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = fakeOf(generated, behaviour)
        const tokens = yield* makeRef(fake, generated)

        const outcomes = yield* runCallers(
          tokens,
          times.map((time) => Math.round(time * lifetime)),
          2 * lifetime
        )

        expect(fake.maxConcurrent()).toBeLessThanOrEqual(1)
        for (const outcome of outcomes) {
          if (Either.isRight(outcome.result)) {
            const expiresAt = fake.expiries.get(BearerToken.value(outcome.result.right))
            expect(expiresAt).toBeGreaterThan(outcome.answeredAt)
          } else {
            expect(AuthError.isAuthError(outcome.result.left)).toBe(true)
            expect(outcome.result.left._tag).toBe("ServerError")
          }
        }
      }),
    runs
  )

  // 1b. When the upstream goes down after the first login and stays down past the deadline, callers before the
  //     deadline get the token they have, and every caller from the deadline on gets the upstream's typed error
  //     instead of the token it can no longer trust.
  it.scoped.prop(
    "past the deadline, callers of a down upstream get its typed error",
    [settings, latencies, arrivals],
    ([generated, latency, times]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = makeFakeStrategy({
          lifetime: Duration.millis(lifetime),
          latency: (index) => Duration.millis(index === 0 ? 0 : Math.round((latency[index] ?? 0) * lifetime)),
          failure: (index) => (index === 0 ? undefined : serverError)
        })
        const tokens = yield* makeRef(fake, generated)
        const token = BearerToken.value(yield* tokens.get)
        const deadline = fake.expiries.get(token)! - durationsOf(generated).safetyMargin

        const outcomes = yield* runCallers(
          tokens,
          times.map((time) => Math.round(time * lifetime)),
          2 * lifetime
        )

        for (const outcome of outcomes) {
          if (outcome.arrivedAt < deadline) {
            expect(Either.map(outcome.result, BearerToken.value)).toEqual(Either.right(token))
            expect(outcome.answeredAt).toBe(outcome.arrivedAt)
          } else {
            const error = Either.isLeft(outcome.result) ? outcome.result.left : undefined
            expect(AuthError.isAuthError(error) && error._tag).toBe("ServerError")
          }
        }
      }),
    runs
  )

  // 2a. At most one refresh is in flight per TokenRef, whatever the callers do: bursts of concurrent callers at
  //     generated moments, over an upstream with generated latencies and failures.
  it.scoped.prop(
    "at most one refresh is in flight",
    [
      settings,
      upstream,
      fc.array(fc.tuple(fc.double({ min: 0, max: 1.6, noNaN: true }), fc.integer({ min: 1, max: 20 })), {
        minLength: 1,
        maxLength: 3
      })
    ],
    ([generated, behaviour, bursts]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = fakeOf(generated, behaviour)
        const tokens = yield* makeRef(fake, generated)
        const burstFibers = yield* Effect.forEach(bursts, ([time, size]) =>
          Effect.fork(
            Effect.delay(
              Effect.all(
                Array.from({ length: size }, () => Effect.either(tokens.get)),
                { concurrency: "unbounded" }
              ),
              Duration.millis(Math.round(time * lifetime))
            )
          )
        )

        yield* TestClock.adjust(Duration.millis(2 * lifetime))
        yield* Fiber.joinAll(burstFibers)

        expect(fake.maxConcurrent()).toBeLessThanOrEqual(1)
      }),
    runs
  )

  // 2b. N callers arriving together with no valid token — none yet, or past the deadline after the background
  //     refresh was refused — cause exactly one upstream call between them, and all get its token.
  it.scoped.prop(
    "N concurrent callers without a valid token make one upstream call",
    [settings, fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true })],
    ([generated, concurrent, lateness]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const latency = Math.round(lifetime * 0.01)
        const fake = makeFakeStrategy({
          lifetime: Duration.millis(lifetime),
          latency: () => Duration.millis(latency),
          failure: (index) => (index === 1 ? invalidCredentials : undefined)
        })
        const tokens = yield* makeRef(fake, generated, TokenStore.layerMemory, {
          wakeInterval: Duration.millis(lifetime)
        })
        const callTogether = Effect.gen(function* () {
          const fiber = yield* Effect.fork(
            Effect.all(
              Array.from({ length: concurrent }, () => tokens.get),
              { concurrency: "unbounded" }
            )
          )
          yield* TestClock.adjust(Duration.millis(latency))
          return (yield* Fiber.join(fiber)).map(BearerToken.value)
        })

        const first = yield* callTogether
        expect(fake.calls.length).toBe(1)
        expect(new Set(first)).toEqual(new Set([fake.calls[0]?.token]))

        const deadline = fake.expiries.get(fake.calls[0]!.token!)! - durationsOf(generated).safetyMargin
        const now = yield* Clock.currentTimeMillis
        yield* TestClock.adjust(Duration.millis(Math.ceil(deadline - now + lateness * lifetime)))
        expect(fake.calls.length).toBe(2)
        const second = yield* callTogether

        expect(fake.calls.length).toBe(3)
        expect(fake.maxConcurrent()).toBe(1)
        expect(new Set(second)).toEqual(new Set([fake.calls[2]?.token]))
      }),
    runs
  )

  // 3. With nobody asking, the background refresh of a grant starts inside
  //    [refresh point − jitter, refresh point + jitter], where the refresh point is issued-at + lifetime × ratio;
  //    callers arriving meanwhile do not move it earlier.
  it.scoped.prop(
    "proactive refreshes start within the jitter of the refresh point",
    [settings, fc.double({ min: 0, max: 1, noNaN: true }), arrivals],
    ([generated, start, times]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = makeFakeStrategy({ lifetime: Duration.millis(lifetime) })
        const tokens = yield* makeRef(fake, generated)
        yield* TestClock.adjust(Duration.millis(Math.round(start * lifetime)))
        yield* tokens.get
        const issuedAt = fake.calls[0]!.startedAt

        yield* runCallers(
          tokens,
          times.map((time) => Math.round((time / 2) * lifetime)),
          lifetime
        )

        const refreshPoint = issuedAt + lifetime * generated.refreshRatio
        const jitter = durationsOf(generated).jitter
        const proactive = fake.calls[1]!.startedAt
        expect(proactive).toBeGreaterThanOrEqual(Math.floor(refreshPoint - jitter))
        expect(proactive).toBeLessThanOrEqual(Math.ceil(refreshPoint + jitter))
      }),
    runs
  )

  // 4. Once a token is held, upstream failures (any pattern of them) before its deadline never reach a caller:
  //    everyone arriving before that deadline gets a token.
  it.scoped.prop(
    "failures before the deadline never reach callers",
    [settings, upstream, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 })],
    ([generated, behaviour, times]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        // After the first login the upstream fails as generated, or (when a down window was generated) always.
        const fake = makeFakeStrategy({
          lifetime: Duration.millis(lifetime),
          latency: (index) =>
            Duration.millis(index === 0 ? 0 : Math.round((behaviour.latencies[index] ?? 0) * lifetime)),
          failure: (index) =>
            index > 0 && (behaviour.down !== null || behaviour.failingCalls[index - 1] === true)
              ? serverError
              : undefined
        })
        const tokens = yield* makeRef(fake, generated)
        yield* tokens.get
        const deadline = fake.expiries.get(fake.calls[0]!.token!)! - durationsOf(generated).safetyMargin

        const outcomes = yield* runCallers(
          tokens,
          times.map((time) => Math.floor(time * (deadline - 1))),
          deadline
        )

        for (const outcome of outcomes) {
          expect(outcome.arrivedAt).toBeLessThan(deadline)
          expect(Either.isRight(outcome.result)).toBe(true)
        }
      }),
    runs
  )

  // 5. `invalidate` of a token that was already replaced makes no request, now or at the next `get`: only the
  //    explicit refreshes call the upstream.
  it.scoped.prop(
    "invalidating an already replaced token causes no request",
    [
      settings,
      fc.array(
        fc.tuple(
          fc.constantFrom("refresh", "invalidate-old", "get"),
          fc.nat(),
          fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.01, noNaN: true }))
        ),
        { maxLength: 10 }
      )
    ],
    ([generated, operations]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = makeFakeStrategy({ lifetime: Duration.millis(lifetime) })
        const tokens = yield* makeRef(fake, generated)
        const seen: Array<BearerToken.BearerToken> = [yield* tokens.get]
        let refreshes = 0

        for (const [operation, pick, wait] of operations) {
          if (wait > 0) {
            yield* TestClock.adjust(Duration.millis(Math.round(wait * lifetime)))
          }
          const current = seen[seen.length - 1]!
          if (operation === "refresh") {
            seen.push((yield* tokens.refresh).token)
            refreshes += 1
          } else if (operation === "invalidate-old" && seen.length > 1) {
            yield* tokens.invalidate(seen[pick % (seen.length - 1)]!)
          } else {
            expect(BearerToken.value(yield* tokens.get)).toBe(BearerToken.value(current))
          }
        }

        expect(fake.calls.length).toBe(1 + refreshes)
      }),
    runs
  )

  // 6. After the TokenRef's scope closes — whatever is in flight, whatever the callers do afterwards — no
  //    upstream call starts, and a call in flight at that moment does not complete.
  it.effect.prop(
    "after the scope closes, no upstream call is made",
    [settings, upstream, arrivals, fc.double({ min: 0, max: 2, noNaN: true })],
    ([generated, behaviour, times, closing]) =>
      Effect.gen(function* () {
        const lifetime = lifetimeOf(generated)
        const fake = fakeOf(generated, behaviour)
        const scope = yield* Scope.make()
        const tokens = yield* Scope.extend(makeRef(fake, generated), scope)
        const callers = yield* Effect.forEach(times, (time) =>
          Effect.fork(Effect.exit(caller(tokens, Math.round(time * lifetime * 1.5))))
        )

        yield* TestClock.adjust(Duration.millis(Math.round(closing * lifetime)))
        yield* Scope.close(scope, Exit.void)
        const closedAt = yield* Clock.currentTimeMillis
        const callsAtClose = fake.calls.length
        yield* TestClock.adjust(Duration.millis(5 * lifetime))
        yield* Fiber.joinAll(callers)

        expect(fake.calls.length).toBe(callsAtClose)
        for (const call of fake.calls) {
          expect(call.startedAt).toBeLessThanOrEqual(closedAt)
          if (call.outcome === "success") {
            expect(call.endedAt).toBeLessThanOrEqual(closedAt)
          }
        }
      }),
    runs
  )

  // 7. A machine user's token never causes an upstream call, whatever is asked of the TokenRef holding it — `get`,
  //    `refresh`, `invalidate` of that very token or of another — and however much time passes. This holds for
  //    `TokenRef.makeStatic`; for a TokenRef over the machine-user strategy that configuration picks for
  //    OPENSOLAR_TOKEN, whose renewals ask that strategy, which answers the same token without a request (the
  //    wire client under it records none); and, after the first login, for a strategy that answers with a
  //    permanent grant, which is never renewed unless its own token is rejected.
  it.effect.prop(
    "a machine user's token causes no upstream call, ever",
    [
      fc.array(
        fc.tuple(
          fc.constantFrom("get", "invalidate-machine", "invalidate-other", "refresh"),
          fc.integer({ min: 0, max: 400 * 86_400_000 })
        ),
        { maxLength: 10 }
      )
    ],
    ([operations]) =>
      Effect.gen(function* () {
        const machineToken = BearerToken.unsafeMake("machine-user-token")
        const other = BearerToken.unsafeMake("some-other-token")
        const requests: Array<string> = []
        const wire = HttpClient.make((request) => {
          requests.push(request.url)
          return Effect.dieMessage("a machine user's TokenRef sent a request")
        })
        const configured = AuthStrategy.layerConfig.pipe(
          Layer.provide(OpenSolarApi.layer({ baseUrl: "http://127.0.0.1:1" })),
          Layer.provide(Layer.succeed(HttpClient.HttpClient, wire))
        )
        const fake = makeFakeStrategy({ permanent: true })
        const scope = yield* Scope.make()
        const fixed = yield* TokenRef.makeStatic(machineToken)
        const machineUser = yield* Scope.extend(
          TokenRef.make({ wakeInterval: "1 day" }).pipe(
            Effect.provide(Layer.merge(configured, TokenStore.layerMemory)),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OPENSOLAR_TOKEN", "machine-user-token"]])))
          ),
          scope
        )
        const permanent = yield* Scope.extend(
          TokenRef.make({ wakeInterval: "1 day" }).pipe(
            Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory))
          ),
          scope
        )
        const permanentToken = BearerToken.value(yield* permanent.get)

        for (const [operation, at] of [...operations].sort(([, a], [, b]) => a - b)) {
          yield* TestClock.setTime(at)
          if (operation === "get") {
            expect(BearerToken.value(yield* fixed.get)).toBe("machine-user-token")
            expect(BearerToken.value(yield* machineUser.get)).toBe("machine-user-token")
            expect(BearerToken.value(yield* permanent.get)).toBe(permanentToken)
          } else if (operation === "refresh") {
            for (const grant of [yield* fixed.refresh, yield* machineUser.refresh]) {
              expect(BearerToken.value(grant.token)).toBe("machine-user-token")
              expect(grant.isPermanent).toBe(true)
            }
          } else {
            const rejected = operation === "invalidate-machine" ? machineToken : other
            yield* fixed.invalidate(rejected)
            yield* machineUser.invalidate(rejected)
            yield* permanent.invalidate(rejected)
          }
        }
        yield* TestClock.adjust("400 days")
        expect(BearerToken.value(yield* machineUser.get)).toBe("machine-user-token")

        expect(requests).toEqual([])
        expect(fake.calls.length).toBe(1)
        yield* Scope.close(scope, Exit.void)
      }),
    runs
  )

  // 8. A program restarted over the file store makes no login while the stored grant is before its refresh
  //    point; between the refresh point and the deadline it answers the stored token at once (renewing it in
  //    the background); past the deadline it logs in once.
  it.scoped.prop(
    "a restart over the file store makes no login while the stored grant is valid",
    [settings, fc.double({ min: 0, max: 1.2, noNaN: true })],
    ([generated, restartAfter]) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const directory = yield* fs.makeTempDirectoryScoped({ prefix: "token-ref-restart-" })
        const store = FileTokenStore.layer({ path: path.join(directory, "tokens.json") })
        const lifetime = lifetimeOf(generated)
        const key: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "arnie@illbeback.com" }
        const fake = makeFakeStrategy({ lifetime: Duration.millis(lifetime) })
        const exact = { storeKey: key, jitter: 0 }

        const first = yield* Effect.scoped(
          Effect.flatMap(makeRef(fake, generated, store, exact), (tokens) => tokens.get)
        )
        yield* TestClock.adjust(Duration.millis(Math.round(restartAfter * lifetime)))
        const restarted = yield* makeRef(fake, generated, store, exact)
        const second = yield* restarted.get

        const now = yield* Clock.currentTimeMillis
        const refreshPoint = lifetime * generated.refreshRatio
        const deadline = lifetime - durationsOf(generated).safetyMargin
        if (now < refreshPoint) {
          expect(fake.calls.length).toBe(1)
          expect(BearerToken.value(second)).toBe(BearerToken.value(first))
        } else if (now < deadline) {
          expect(BearerToken.value(second)).toBe(BearerToken.value(first))
        } else {
          expect(fake.calls.length).toBe(2)
          expect(BearerToken.value(second)).toBe(fake.calls[1]?.token)
        }
      }).pipe(Effect.provide(nodeFiles)),
    runs
  )

  // 8, against the simulator: arnie logs in with his password, the program stops, and starts again after a
  // generated pause over the same file. The simulator's request log shows no second login while the stored
  // grant is before its refresh point, exactly one past its deadline, and the restarted program's token is
  // always one the simulator accepts.
  it.scoped.prop(
    "a restart over the file store makes no login while the stored grant is valid, by the simulator's log",
    [fc.double({ min: 0, max: 1.2, noNaN: true })],
    ([restartAfter]) =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* HttpClient.HttpClient
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const directory = yield* fs.makeTempDirectoryScoped({ prefix: "token-ref-simulator-" })
        const lifetime = Duration.toMillis("7 days")
        const options: TokenRef.Options = {
          storeKey: { baseUrl: sim.url, subject: accounts.example.username },
          jitter: 0,
          wakeInterval: "3 days"
        }
        const program = TokenRef.make(options).pipe(
          Effect.provide(
            Layer.mergeAll(
              AuthStrategy.layer(
                AuthStrategy.password({ username: accounts.example.username, password: accounts.example.password })
              ),
              FileTokenStore.layer({ path: path.join(directory, "tokens.json") })
            )
          )
        )
        const logins = Effect.map(sim.requestLog, (log) => log.filter((entry) => entry.endpoint === "login").length)

        const first = yield* Effect.scoped(Effect.flatMap(program, (tokens) => tokens.get))
        yield* TestClock.adjust(Duration.millis(Math.round(restartAfter * lifetime)))
        const restarted = yield* program
        const second = yield* restarted.get
        const loginsAfterRestart = yield* logins
        const response = yield* client.execute(
          HttpClientRequest.get(`${sim.url}/api/orgs/1/`).pipe(HttpClientRequest.bearerToken(BearerToken.value(second)))
        )

        const now = yield* Clock.currentTimeMillis
        expect(response.status).toBe(200)
        if (now < lifetime * 0.8) {
          expect(loginsAfterRestart).toBe(1)
          expect(BearerToken.value(second)).toBe(BearerToken.value(first))
        } else if (now < lifetime - 60_000) {
          expect(BearerToken.value(second)).toBe(BearerToken.value(first))
        } else {
          expect(loginsAfterRestart).toBe(2)
          expect(BearerToken.value(second)).not.toBe(BearerToken.value(first))
        }
      }).pipe(
        Effect.provide(
          Layer.unwrapEffect(
            Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: "30 days" }))
          ).pipe(
            Layer.provideMerge(Simulator.layer()),
            Layer.provideMerge(NodeHttpClient.layerUndici),
            Layer.provideMerge(nodeFiles)
          )
        )
      ),
    runs
  )
})
