import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, FastCheck as fc, Fiber, Redacted, Ref, TestClock } from "effect"
import * as AuthError from "../src/AuthError.js"
import * as BearerToken from "../src/BearerToken.js"
import { OpenSolarApi } from "../src/OpenSolarApi.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { accounts, Fault, Simulator } from "../src/testing/index.js"
import { drive } from "./support/drive.js"
import { simulatorApi } from "./support/simulatorApi.js"

const request = { method: "POST", url: "https://api.opensolar.com/api-token-auth/" }

const transientError = fc.oneof(
  fc.integer({ min: 500, max: 599 }).map((status) => new AuthError.ServerError({ ...request, status })),
  fc.constant(new AuthError.TransportError({ ...request, description: "connection reset" })),
  fc.constant(new AuthError.RequestTimeout({ ...request, timeoutMillis: 10_000 })),
  fc.constant(new AuthError.RateLimited(request))
)

const nonTransientErrors: ReadonlyArray<AuthError.AuthError> = [
  new AuthError.InvalidCredentials(request),
  new AuthError.MfaRequired(request),
  new AuthError.InvalidMfaCode(request),
  new AuthError.TokenRejected({ method: "GET", url: "https://api.opensolar.com/api/fetch_token/" }),
  new AuthError.ApiAccessNotEnabled(request),
  new AuthError.Forbidden(request),
  new AuthError.UnexpectedResponse({ ...request, status: 200, reason: "HTML instead of JSON" }),
  new AuthError.MfaCodeUnavailable({ reason: "the prompt was cancelled" }),
  new AuthError.ConfigurationError({ reason: "no credentials", variables: ["OPENSOLAR_USERNAME"] })
]

const policyOptions = fc.record({
  base: fc.integer({ min: 1, max: 2_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
  maxWait: fc.integer({ min: 1, max: 30_000 }),
  maxElapsed: fc.integer({ min: 0, max: 300_000 }),
  maxRetryAfter: fc.integer({ min: 0, max: 120_000 }),
  jitter: fc.double({ min: 0, max: 1, noNaN: true })
})

interface Run {
  readonly times: ReadonlyArray<number>
  readonly waits: ReadonlyArray<number>
  readonly exit: Exit.Exit<string, AuthError.AuthError>
}

/**
 * Runs an attempt that fails with `errors` in turn, then succeeds, under `policy`; records when each attempt began.
 * Nothing here waits on I/O, so one move of the clock far past any wait wakes each sleep in turn, at its moment.
 */
const runAgainst = (policy: RetryPolicy.RetryPolicy, errors: ReadonlyArray<AuthError.AuthError>) =>
  Effect.gen(function* () {
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const attempt = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const index = yield* Ref.modify(times, (all) => [all.length, [...all, now]] as const)
      return index < errors.length ? yield* Effect.fail(errors[index]!) : "done"
    })

    const fiber = yield* Effect.fork(Effect.exit(RetryPolicy.retry(attempt, policy)))
    yield* TestClock.adjust("1000 days")
    const exit = yield* Fiber.join(fiber)

    const recorded = yield* Ref.get(times)
    const waits = recorded.slice(1).map((time, index) => time - recorded[index]!)
    return { times: recorded, waits, exit } satisfies Run
  })

const failure = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

const sum = (values: ReadonlyArray<number>) => values.reduce((total, value) => total + value, 0)

describe("RetryPolicy", () => {
  // Each case waits mostly on the test clock's turns of the event loop, not on the CPU: the properties run
  // side by side. Every sleep the clock wakes costs such a turn, which a loaded machine makes slow; the timeout
  // only guards against a hang.
  describe.concurrent("properties", { timeout: 120_000 }, () => {
    it.effect.prop(
      "waits never decrease, never exceed the cap, and stay within the total bound",
      { options: policyOptions, errors: fc.array(transientError, { maxLength: 16 }) },
      ({ errors, options }) =>
        Effect.gen(function* () {
          const { waits, exit, times } = yield* runAgainst(RetryPolicy.make(options), errors)

          for (let index = 1; index < waits.length; index++) {
            expect(waits[index]).toBeGreaterThanOrEqual(waits[index - 1]!)
          }
          for (const wait of waits) {
            expect(wait).toBeLessThanOrEqual(options.maxWait)
          }
          expect(sum(waits)).toBeLessThanOrEqual(options.maxElapsed)
          if (Exit.isSuccess(exit)) {
            expect(times).toHaveLength(errors.length + 1)
          } else {
            expect(failure(exit)).toBe(errors[times.length - 1])
          }
        }),
      { fastCheck: { numRuns: 100 } }
    )

    it.effect.prop(
      "always waits at least as long as Retry-After, up to maxRetryAfter",
      {
        options: policyOptions,
        errors: fc.array(
          fc.oneof(
            transientError,
            fc.double({ min: 0, max: 1, noNaN: true }).map((share) => ({ share }))
          ),
          { maxLength: 16 }
        )
      },
      ({ errors, options }) =>
        Effect.gen(function* () {
          const concrete = errors.map((error) =>
            "share" in error
              ? new AuthError.RateLimited({
                  ...request,
                  retryAfterMillis: Math.floor(error.share * options.maxRetryAfter)
                })
              : error
          )

          const { waits, exit, times } = yield* runAgainst(RetryPolicy.make(options), concrete)

          waits.forEach((wait, index) => {
            const error = concrete[index]!
            if (error._tag === "RateLimited") {
              expect(wait).toBeGreaterThanOrEqual(error.retryAfterMillis ?? 0)
            }
          })
          expect(sum(waits)).toBeLessThanOrEqual(options.maxElapsed)
          expect(Exit.isSuccess(exit) || failure(exit) === concrete[times.length - 1]).toBe(true)
        }),
      { fastCheck: { numRuns: 100 } }
    )

    it.effect.prop(
      "fails at once with RateLimited when Retry-After exceeds maxRetryAfter",
      {
        options: policyOptions,
        before: fc.array(transientError, { maxLength: 3 }),
        excess: fc.integer({ min: 1, max: 10_000 })
      },
      ({ before, excess, options }) =>
        Effect.gen(function* () {
          const limited = new AuthError.RateLimited({ ...request, retryAfterMillis: options.maxRetryAfter + excess })
          const policy = RetryPolicy.make({ ...options, maxElapsed: 1_000_000 })

          const { times, exit } = yield* runAgainst(policy, [...before, limited, ...before])

          expect(times).toHaveLength(before.length + 1)
          expect(failure(exit)).toBe(limited)
        }),
      { fastCheck: { numRuns: 100 } }
    )

    it.effect.prop(
      "attempts a non-transient error exactly once",
      {
        index: fc.integer({ min: 0, max: nonTransientErrors.length - 1 }),
        before: fc.array(transientError, { maxLength: 5 })
      },
      ({ before, index }) =>
        Effect.gen(function* () {
          const error = nonTransientErrors[index]!
          const withoutRetryAfter = before.map((transient) =>
            transient._tag === "RateLimited" ? new AuthError.ServerError({ ...request, status: 503 }) : transient
          )

          const { times, exit } = yield* runAgainst(RetryPolicy.default, [...withoutRetryAfter, error, error])

          expect(times).toHaveLength(withoutRetryAfter.length + 1)
          expect(failure(exit)).toBe(error)
        }),
      { fastCheck: { numRuns: 100 } }
    )
  })

  describe("make", () => {
    it.effect("without jitter, doubles from 250 ms to the 10 s cap and stops within 60 s", () =>
      Effect.gen(function* () {
        const errors = Array.from({ length: 20 }, () => new AuthError.ServerError({ ...request, status: 503 }))

        const { waits, exit } = yield* runAgainst(RetryPolicy.make({ jitter: 0 }), errors)

        expect(waits).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000])
        expect(failure(exit)?._tag).toBe("ServerError")
      })
    )

    it.effect("the default policy jitters down from the exponential wait, never up", () =>
      Effect.gen(function* () {
        const errors = Array.from(
          { length: 6 },
          () => new AuthError.TransportError({ ...request, description: "reset" })
        )

        const { waits } = yield* runAgainst(RetryPolicy.default, errors)

        const exponential = [250, 500, 1_000, 2_000, 4_000, 8_000]
        waits.forEach((wait, index) => {
          expect(wait).toBeLessThanOrEqual(exponential[index]!)
          expect(wait).toBeGreaterThanOrEqual(Math.floor(exponential[index]! * 0.8))
        })
      })
    )

    it("refuses options that make no sense", () => {
      expect(() => RetryPolicy.make({ factor: 0.5 })).toThrow(Cause.IllegalArgumentException)
      expect(() => RetryPolicy.make({ factor: Number.NaN })).toThrow("factor")
      expect(() => RetryPolicy.make({ jitter: 1.5 })).toThrow("jitter")
      expect(() => RetryPolicy.make({ maxWait: Number.POSITIVE_INFINITY })).toThrow("maxWait")
    })
  })

  describe("against the simulator", () => {
    const loginCount = Effect.map(
      Effect.flatMap(Simulator, (sim) => sim.requestLog),
      (log) => log.filter((entry) => entry.endpoint === "login").length
    )

    const loginAs = (username: string, password: string) =>
      Effect.flatMap(OpenSolarApi, (api) => api.login({ username, password: Redacted.make(password) }))

    it.effect("sends a wrong password exactly once", () =>
      Effect.gen(function* () {
        const exit = yield* drive(Effect.exit(RetryPolicy.retry(loginAs(accounts.example.username, "wrong"))))

        expect(failure(exit)?._tag).toBe("InvalidCredentials")
        expect(yield* loginCount).toBe(1)
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("sends a login without the required two-factor code exactly once", () =>
      Effect.gen(function* () {
        const exit = yield* drive(Effect.exit(RetryPolicy.retry(loginAs(accounts.mfa.username, accounts.mfa.password))))

        expect(failure(exit)?._tag).toBe("MfaRequired")
        expect(yield* loginCount).toBe(1)
      }).pipe(Effect.provide(simulatorApi()))
    )

    for (const [status, tag] of [
      [401, "TokenRejected"],
      [402, "ApiAccessNotEnabled"],
      [403, "Forbidden"]
    ] as const) {
      it.effect(`sends a request answered ${status} exactly once`, () =>
        Effect.gen(function* () {
          const sim = yield* Simulator
          yield* sim.injectFault({ endpoint: "login", times: 5, fault: Fault.Status({ status }) })

          const exit = yield* drive(
            Effect.exit(RetryPolicy.retry(loginAs(accounts.example.username, accounts.example.password)))
          )

          expect(failure(exit)?._tag).toBe(tag)
          expect(yield* loginCount).toBe(1)
        }).pipe(Effect.provide(simulatorApi()))
      )
    }

    it.effect("sends a request answered with an HTML page exactly once", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* sim.injectFault({ endpoint: "login", times: 5, fault: Fault.HtmlBody({ status: 200 }) })

        const exit = yield* drive(
          Effect.exit(RetryPolicy.retry(loginAs(accounts.example.username, accounts.example.password)))
        )

        expect(failure(exit)?._tag).toBe("UnexpectedResponse")
        expect(yield* loginCount).toBe(1)
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("sends a refused session refresh exactly once", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        yield* sim.revokeToken(token)
        const api = yield* OpenSolarApi

        const exit = yield* drive(
          Effect.exit(RetryPolicy.retry(api.fetchToken({ token: BearerToken.unsafeMake(Redacted.value(token)) })))
        )

        expect(failure(exit)?._tag).toBe("TokenRejected")
        expect((yield* sim.requestLog).filter((entry) => entry.endpoint === "fetchToken")).toHaveLength(1)
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("retries server errors and resets with backoff until the login succeeds", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* sim.injectFault({ endpoint: "login", times: 2, fault: Fault.Status({ status: 503 }) })
        yield* sim.injectFault({ endpoint: "login", times: 1, fault: Fault.ConnectionReset() })
        const started = yield* Clock.currentTimeMillis

        const response = yield* drive(
          RetryPolicy.retry(
            loginAs(accounts.example.username, accounts.example.password),
            RetryPolicy.make({ jitter: 0 })
          )
        )

        expect(BearerToken.value(response.token)).toMatch(/^[0-9a-f]{40}$/)
        expect(yield* loginCount).toBe(4)
        expect((yield* Clock.currentTimeMillis) - started).toBe(250 + 500 + 1_000)
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("waits for the simulator's Retry-After, and gives up at once on one above maxRetryAfter", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* sim.injectFault({ endpoint: "login", fault: Fault.Status({ status: 429, retryAfter: 7 }) })
        const started = yield* Clock.currentTimeMillis

        yield* drive(RetryPolicy.retry(loginAs(accounts.example.username, accounts.example.password)))

        expect((yield* Clock.currentTimeMillis) - started).toBeGreaterThanOrEqual(7_000)
        expect(yield* loginCount).toBe(2)

        yield* sim.clearLog
        yield* sim.injectFault({ endpoint: "login", times: 5, fault: Fault.Status({ status: 429, retryAfter: 120 }) })

        const exit = yield* drive(
          Effect.exit(RetryPolicy.retry(loginAs(accounts.example.username, accounts.example.password)))
        )

        expect(failure(exit)?._tag).toBe("RateLimited")
        expect(yield* loginCount).toBe(1)
      }).pipe(Effect.provide(simulatorApi()))
    )
  })

  // One simulator for every case, reset before each: starting a server per case would cost more than the case.
  layer(simulatorApi())("properties against the simulator", (it) => {
    const transientFault = fc.oneof(
      fc.constantFrom(500, 502, 503, 504).map((status) => ({ fault: Fault.Status({ status }), status })),
      fc.constant({ fault: Fault.ConnectionReset(), status: 0 }),
      fc
        .integer({ min: 1, max: 3 })
        .map((retryAfter) => ({ fault: Fault.Status({ status: 429, retryAfter }), status: 429 }))
    )

    const example = { username: accounts.example.username, password: accounts.example.password }
    const mfa = { username: accounts.mfa.username, password: accounts.mfa.password }

    // Answers no retry can mend, given by the account's state or injected. Four digits are never a six-digit TOTP code.
    const finalAnswers = [
      { ...example, password: "wrong", status: 400, tag: "InvalidCredentials" },
      { ...mfa, status: 400, tag: "MfaRequired" },
      { ...mfa, mfaCode: Redacted.make("1234"), status: 400, tag: "InvalidMfaCode" },
      { ...example, fault: Fault.Status({ status: 401 }), status: 401, tag: "TokenRejected" },
      { ...example, fault: Fault.Status({ status: 402 }), status: 402, tag: "ApiAccessNotEnabled" },
      { ...example, fault: Fault.Status({ status: 403 }), status: 403, tag: "Forbidden" },
      { ...example, fault: Fault.HtmlBody({ status: 200 }), status: 200, tag: "UnexpectedResponse" }
    ] as const

    it.effect.prop(
      "after any transient failures, sends a login that cannot succeed exactly once more",
      {
        transients: fc.array(transientFault, { maxLength: 4 }),
        final: fc.constantFrom(...finalAnswers)
      },
      ({ final, transients }) =>
        Effect.gen(function* () {
          const sim = yield* Simulator
          const api = yield* OpenSolarApi
          yield* sim.reset
          for (const { fault } of transients) {
            yield* sim.injectFault({ endpoint: "login", fault })
          }
          if ("fault" in final) {
            yield* sim.injectFault({ endpoint: "login", fault: final.fault })
          }

          const exit = yield* drive(
            Effect.exit(
              RetryPolicy.retry(
                api.login({
                  username: final.username,
                  password: Redacted.make(final.password),
                  mfaCode: "mfaCode" in final ? final.mfaCode : undefined
                })
              )
            )
          )

          const logins = (yield* sim.requestLog).filter((entry) => entry.endpoint === "login")
          expect(failure(exit)?._tag).toBe(final.tag)
          expect(logins.map((entry) => entry.status)).toEqual([...transients.map(({ status }) => status), final.status])
        }),
      { fastCheck: { numRuns: 100 } }
    )
  })
})
