/**
 * The fault matrix: every fault the simulator injects, against every operation and strategy, each with its
 * expected recovery or typed error and the exact requests the simulator saw (so the number of attempts is
 * bounded and known). A fault applies once (`once`: the next attempt is answered normally) or to every request
 * (`always`). Time is the `TestClock`, which `settle` moves whenever the program sleeps and nothing is on the
 * wire; every run is bounded in event-loop turns, so a hang fails the test instead of stalling it.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import type * as AuthError from "../../src/AuthError.js"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as MfaCodeSource from "../../src/MfaCodeSource.js"
import { OpenSolarApi } from "../../src/OpenSolarApi.js"
import * as OpenSolarClient from "../../src/OpenSolarClient.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as TokenRef from "../../src/TokenRef.js"
import { accounts, type Endpoint, Fault, Simulator } from "../../src/testing/index.js"
import { outcome } from "./support/outcome.js"
import { requestTimeout } from "../support/drive.js"
import { settle } from "./support/settle.js"
import { trackedStack } from "./support/tracked.js"
import { apiLayer, clientLayer, logLines, times } from "./support/stack.js"

// On a TOTP step boundary, so that the number of steps a retried MFA login waits for is known.
const start = Date.parse("2026-03-04T05:06:00Z")

const example = accounts.example

const mfa = accounts.mfa

/**
 * The default policy without jitter, so that the number of attempts is exact: waits of 250 ms doubling up to
 * 10 s, for at most 60 s after the first failure — 11 attempts for an instant failure, 9 when each failure asks
 * for a 5-second `Retry-After`.
 */
const policy = RetryPolicy.make({ jitter: 0 })

// ---------------------------------------------------------------------------------------------------------------
// Faults

const faults = {
  "400": Fault.Status({ status: 400 }),
  "400, code refused": Fault.Status({
    status: 400,
    body: { non_field_errors: ["Invalid two-factor authentication code."] }
  }),
  "401": Fault.Status({ status: 401 }),
  "402": Fault.Status({ status: 402 }),
  "403": Fault.Status({ status: 403 }),
  "429, Retry-After 5": Fault.Status({ status: 429, retryAfter: 5 }),
  "500": Fault.Status({ status: 500 }),
  "delay within the timeout": Fault.Delay({ duration: "5 seconds" }),
  "connection reset": Fault.ConnectionReset(),
  "malformed JSON": Fault.MalformedJson(),
  "HTML, 502": Fault.HtmlBody({ status: 502 }),
  "HTML, 200": Fault.HtmlBody({ status: 200 })
} as const

type FaultName = keyof typeof faults

// ---------------------------------------------------------------------------------------------------------------
// Operations

/** What an operation ended with (one entry per call it makes) and what the simulator saw. */
interface Expected {
  readonly outcomes: ReadonlyArray<string>
  readonly log: ReadonlyArray<string>
}

type Services = Simulator | OpenSolarApi | TokenRef.TokenRef | OpenSolarClient.OpenSolarClient

interface Operation<A> {
  /** Where the fault is injected. */
  readonly endpoint: Endpoint
  /** Runs before the fault is injected; its requests are not part of the expectation. */
  readonly prepare: Effect.Effect<A, AuthError.AuthError, Services>
  /** The outcome of each call the operation makes. */
  readonly run: (prepared: A) => Effect.Effect<ReadonlyArray<string>, never, Services>
}

const loginGrant = AuthStrategy.password(example).authenticate(Option.none())

const standardStrategy = AuthStrategy.standard(example)

/** A `TokenRef` over the standard strategy and the client over it, on top of a simulator and wire client. */
const withClient = (
  base: Layer.Layer<Simulator | OpenSolarApi | HttpClient.HttpClient, AuthError.ConfigurationError>,
  timeout: Duration.DurationInput = requestTimeout
): Layer.Layer<Services, unknown> =>
  clientLayer(standardStrategy, { retryPolicy: policy, timeout }).pipe(Layer.provideMerge(base))

type OperationName =
  | "password"
  | "password + TOTP"
  | "session refresh"
  | "standard, with a session"
  | "machine-user PATCH"
  | "TokenRef over standard"
  | "OpenSolarClient GET"

const list = (outcome: string): ReadonlyArray<string> => [outcome]

const retried = <E extends AuthError.AuthError, R>(strategy: AuthStrategy.Strategy<E, R>) =>
  AuthStrategy.retry(strategy, policy)

const testedOperations: { readonly [K in OperationName]: Operation<any> } = {
  password: {
    endpoint: "login",
    prepare: Effect.void,
    run: () => Effect.map(outcome(retried(AuthStrategy.password(example)).authenticate(Option.none())), list)
  },
  "password + TOTP": {
    endpoint: "login",
    prepare: Effect.void,
    run: () =>
      Effect.map(
        outcome(
          retried(AuthStrategy.passwordWithMfa({ ...mfa, mfa: MfaCodeSource.totp(mfa.totpSecret) })).authenticate(
            Option.none()
          )
        ),
        list
      )
  },
  "session refresh": {
    endpoint: "fetchToken",
    prepare: loginGrant,
    run: (grant) => Effect.map(outcome(retried(AuthStrategy.sessionRefresh()).authenticate(Option.some(grant))), list)
  },
  "standard, with a session": {
    endpoint: "fetchToken",
    prepare: loginGrant,
    run: (grant) => Effect.map(outcome(retried(standardStrategy).authenticate(Option.some(grant))), list)
  },
  "machine-user PATCH": {
    endpoint: "machineUser",
    prepare: Effect.flatMap(Simulator, (sim) => sim.issueToken(example.username)),
    run: (token: Redacted.Redacted<string>) =>
      Effect.gen(function* () {
        const api = yield* OpenSolarApi
        const request = api.setMachineUser({
          token: BearerToken.unsafeMake(Redacted.value(token)),
          userId: example.id,
          enabled: true
        })
        return [yield* outcome(RetryPolicy.retry(request, policy))]
      })
  },
  "TokenRef over standard": {
    endpoint: "login",
    prepare: Effect.void,
    // A failed foreground refresh is not cached: a second `get` after a failure tries again, once.
    run: () =>
      Effect.gen(function* () {
        const tokens = yield* TokenRef.TokenRef
        const first = yield* outcome(tokens.get)
        return first === "success" ? [first] : [first, yield* outcome(tokens.get)]
      })
  },
  "OpenSolarClient GET": {
    endpoint: "org",
    prepare: Effect.flatMap(TokenRef.TokenRef, (tokens) => tokens.get),
    run: () =>
      Effect.gen(function* () {
        const client = yield* OpenSolarClient.OpenSolarClient
        return [yield* outcome(Effect.flatMap(client.filterStatusOk.get("/api/orgs/1/"), (response) => response.json))]
      })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Expectations

const ok = (...log: ReadonlyArray<string>): Expected => ({ outcomes: ["success"], log })

const fails = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag], log })

const failsThenOk = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag, "success"], log })

const failsTwice = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag, tag], log })

type Table = { readonly [F in FaultName]: { readonly [O in OperationName]: Expected } }

/** The fault applies to one request; the next is answered normally. */
const once: Table = {
  "400": {
    password: fails("InvalidCredentials", "login 400"),
    "password + TOTP": fails("InvalidCredentials", "login 400"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 400"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 400"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 400"),
    "TokenRef over standard": failsThenOk("InvalidCredentials", "login 400", "login 200"),
    "OpenSolarClient GET": fails("ResponseError", "org 400")
  },
  "400, code refused": {
    password: fails("MfaRequired", "login 400"),
    // The refused code is followed by one attempt with the next step's code.
    "password + TOTP": ok("login 400", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 400"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 400"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 400"),
    "TokenRef over standard": failsThenOk("MfaRequired", "login 400", "login 200"),
    "OpenSolarClient GET": fails("ResponseError", "org 400")
  },
  "401": {
    password: fails("TokenRejected", "login 401"),
    "password + TOTP": fails("TokenRejected", "login 401"),
    "session refresh": fails("TokenRejected", "fetchToken 401"),
    // A rejected session falls back to the password.
    "standard, with a session": ok("fetchToken 401", "login 200"),
    "machine-user PATCH": fails("TokenRejected", "machineUser 401"),
    "TokenRef over standard": failsThenOk("TokenRejected", "login 401", "login 200"),
    // One re-authentication (the session is still good, so it is refreshed) and one resend.
    "OpenSolarClient GET": ok("org 401", "fetchToken 200", "org 200")
  },
  "402": {
    password: fails("ApiAccessNotEnabled", "login 402"),
    "password + TOTP": fails("ApiAccessNotEnabled", "login 402"),
    "session refresh": fails("ApiAccessNotEnabled", "fetchToken 402"),
    "standard, with a session": fails("ApiAccessNotEnabled", "fetchToken 402"),
    "machine-user PATCH": fails("ApiAccessNotEnabled", "machineUser 402"),
    "TokenRef over standard": failsThenOk("ApiAccessNotEnabled", "login 402", "login 200"),
    "OpenSolarClient GET": fails("ApiAccessNotEnabled", "org 402")
  },
  "403": {
    password: fails("Forbidden", "login 403"),
    "password + TOTP": fails("Forbidden", "login 403"),
    "session refresh": fails("Forbidden", "fetchToken 403"),
    "standard, with a session": fails("Forbidden", "fetchToken 403"),
    "machine-user PATCH": fails("Forbidden", "machineUser 403"),
    "TokenRef over standard": failsThenOk("Forbidden", "login 403", "login 200"),
    "OpenSolarClient GET": fails("Forbidden", "org 403")
  },
  "429, Retry-After 5": {
    password: ok("login 429", "login 200"),
    "password + TOTP": ok("login 429", "login 200"),
    "session refresh": ok("fetchToken 429", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 429", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 429", "machineUser 200"),
    "TokenRef over standard": failsThenOk("RateLimited", "login 429", "login 200"),
    "OpenSolarClient GET": ok("org 429", "org 200")
  },
  "500": {
    password: ok("login 500", "login 200"),
    "password + TOTP": ok("login 500", "login 200"),
    "session refresh": ok("fetchToken 500", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 500", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 500", "machineUser 200"),
    "TokenRef over standard": failsThenOk("ServerError", "login 500", "login 200"),
    "OpenSolarClient GET": ok("org 500", "org 200")
  },
  "delay within the timeout": {
    password: ok("login 200"),
    "password + TOTP": ok("login 200"),
    "session refresh": ok("fetchToken 200"),
    "standard, with a session": ok("fetchToken 200"),
    "machine-user PATCH": ok("machineUser 200"),
    "TokenRef over standard": ok("login 200"),
    "OpenSolarClient GET": ok("org 200")
  },
  "connection reset": {
    password: ok("login 0", "login 200"),
    "password + TOTP": ok("login 0", "login 200"),
    "session refresh": ok("fetchToken 0", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 0", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 0", "machineUser 200"),
    "TokenRef over standard": failsThenOk("TransportError", "login 0", "login 200"),
    "OpenSolarClient GET": ok("org 0", "org 200")
  },
  "malformed JSON": {
    password: fails("UnexpectedResponse", "login 200"),
    "password + TOTP": fails("UnexpectedResponse", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 200"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 200"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 200"),
    "TokenRef over standard": failsThenOk("UnexpectedResponse", "login 200", "login 200"),
    // The client hands out the response; reading it as JSON fails.
    "OpenSolarClient GET": fails("ResponseError", "org 200")
  },
  "HTML, 502": {
    password: ok("login 502", "login 200"),
    "password + TOTP": ok("login 502", "login 200"),
    "session refresh": ok("fetchToken 502", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 502", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 502", "machineUser 200"),
    "TokenRef over standard": failsThenOk("ServerError", "login 502", "login 200"),
    "OpenSolarClient GET": ok("org 502", "org 200")
  },
  "HTML, 200": {
    password: fails("UnexpectedResponse", "login 200"),
    "password + TOTP": fails("UnexpectedResponse", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 200"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 200"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 200"),
    "TokenRef over standard": failsThenOk("UnexpectedResponse", "login 200", "login 200"),
    "OpenSolarClient GET": fails("ResponseError", "org 200")
  }
}

/**
 * Every request to the endpoint meets the fault. Transient faults are retried until the policy gives up: 11
 * attempts, 9 with a 5-second `Retry-After`, 3 for TOTP logins (each retry waits for a fresh 30-second step, so
 * the 60 seconds run out sooner).
 */
const always: Table = {
  "400": { ...once["400"], "TokenRef over standard": failsTwice("InvalidCredentials", "login 400", "login 400") },
  "400, code refused": {
    ...once["400, code refused"],
    "password + TOTP": fails("InvalidMfaCode", "login 400", "login 400"),
    "TokenRef over standard": failsTwice("MfaRequired", "login 400", "login 400")
  },
  "401": {
    ...once["401"],
    "TokenRef over standard": failsTwice("TokenRejected", "login 401", "login 401"),
    "OpenSolarClient GET": fails("TokenRejected", "org 401", "fetchToken 200", "org 401")
  },
  "402": { ...once["402"], "TokenRef over standard": failsTwice("ApiAccessNotEnabled", "login 402", "login 402") },
  "403": { ...once["403"], "TokenRef over standard": failsTwice("Forbidden", "login 403", "login 403") },
  "429, Retry-After 5": {
    password: fails("RateLimited", ...times(9, "login", 429)),
    "password + TOTP": fails("RateLimited", ...times(3, "login", 429)),
    "session refresh": fails("RateLimited", ...times(9, "fetchToken", 429)),
    "standard, with a session": fails("RateLimited", ...times(9, "fetchToken", 429)),
    "machine-user PATCH": fails("RateLimited", ...times(9, "machineUser", 429)),
    "TokenRef over standard": failsTwice("RateLimited", "login 429", "login 429"),
    "OpenSolarClient GET": fails("RateLimited", ...times(9, "org", 429))
  },
  "500": {
    password: fails("ServerError", ...times(11, "login", 500)),
    "password + TOTP": fails("ServerError", ...times(3, "login", 500)),
    "session refresh": fails("ServerError", ...times(11, "fetchToken", 500)),
    "standard, with a session": fails("ServerError", ...times(11, "fetchToken", 500)),
    "machine-user PATCH": fails("ServerError", ...times(11, "machineUser", 500)),
    "TokenRef over standard": failsTwice("ServerError", "login 500", "login 500"),
    "OpenSolarClient GET": fails("ServerError", ...times(11, "org", 500))
  },
  "delay within the timeout": once["delay within the timeout"],
  "connection reset": {
    password: fails("TransportError", ...times(11, "login", 0)),
    "password + TOTP": fails("TransportError", ...times(3, "login", 0)),
    "session refresh": fails("TransportError", ...times(11, "fetchToken", 0)),
    "standard, with a session": fails("TransportError", ...times(11, "fetchToken", 0)),
    "machine-user PATCH": fails("TransportError", ...times(11, "machineUser", 0)),
    "TokenRef over standard": failsTwice("TransportError", "login 0", "login 0"),
    "OpenSolarClient GET": fails("TransportError", ...times(11, "org", 0))
  },
  "malformed JSON": {
    ...once["malformed JSON"],
    "TokenRef over standard": failsTwice("UnexpectedResponse", "login 200", "login 200")
  },
  "HTML, 502": {
    password: fails("ServerError", ...times(11, "login", 502)),
    "password + TOTP": fails("ServerError", ...times(3, "login", 502)),
    "session refresh": fails("ServerError", ...times(11, "fetchToken", 502)),
    "standard, with a session": fails("ServerError", ...times(11, "fetchToken", 502)),
    "machine-user PATCH": fails("ServerError", ...times(11, "machineUser", 502)),
    "TokenRef over standard": failsTwice("ServerError", "login 502", "login 502"),
    "OpenSolarClient GET": fails("ServerError", ...times(11, "org", 502))
  },
  "HTML, 200": {
    ...once["HTML, 200"],
    "TokenRef over standard": failsTwice("UnexpectedResponse", "login 200", "login 200")
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

const runCase = (
  operation: Operation<any>,
  fault: Fault,
  repeat: number,
  layer: Layer.Layer<Services, unknown>
): Effect.Effect<Expected, unknown> =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    const prepared = yield* operation.prepare
    yield* sim.clearLog

    yield* sim.injectFault({ endpoint: operation.endpoint, times: repeat, fault })
    const outcomes = yield* operation.run(prepared)

    return { outcomes, log: yield* logLines }
  }).pipe(Effect.provide(layer))

const modes = [
  ["once", 1, once],
  ["always", 1_000, always]
] as const

describe("fault matrix", () => {
  for (const [mode, repeat, table] of modes) {
    describe(`a fault applied ${mode}`, () => {
      for (const faultName of Object.keys(faults) as Array<FaultName>) {
        describe(faultName, () => {
          for (const operationName of Object.keys(testedOperations) as Array<OperationName>) {
            const expected = table[faultName][operationName]
            it.effect(`${operationName} → ${expected.outcomes.join(", then ")} after ${expected.log.length}`, () =>
              Effect.gen(function* () {
                yield* TestClock.setTime(start)

                const observed = yield* settle(
                  runCase(testedOperations[operationName], faults[faultName], repeat, withClient(apiLayer()))
                )

                expect(observed).toEqual(expected)
              })
            )
          }
        })
      }
    })
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Request timeouts

const timeout = Duration.seconds(10)

const stalled = Fault.Delay({ duration: "1 second" })

/**
 * The simulator holds the request and never answers; the client gives up after 10 seconds (status 0 in the log).
 * Once: the retry succeeds. Always: the policy gives up after 6 attempts (each failure comes 10 s after its
 * attempt, so the 60 s run out sooner), 3 for TOTP logins; `TokenRef` tries once per `get`.
 */
const timeouts: { readonly [O in OperationName]: { readonly once: Expected; readonly always: Expected } } = {
  password: { once: ok("login 0", "login 200"), always: fails("RequestTimeout", ...times(6, "login", 0)) },
  "password + TOTP": {
    once: ok("login 0", "login 200"),
    always: fails("RequestTimeout", ...times(3, "login", 0))
  },
  "session refresh": {
    once: ok("fetchToken 0", "fetchToken 200"),
    always: fails("RequestTimeout", ...times(6, "fetchToken", 0))
  },
  "standard, with a session": {
    once: ok("fetchToken 0", "fetchToken 200"),
    always: fails("RequestTimeout", ...times(6, "fetchToken", 0))
  },
  "machine-user PATCH": {
    once: ok("machineUser 0", "machineUser 200"),
    always: fails("RequestTimeout", ...times(6, "machineUser", 0))
  },
  "TokenRef over standard": {
    once: failsThenOk("RequestTimeout", "login 0", "login 200"),
    always: failsTwice("RequestTimeout", "login 0", "login 0")
  },
  "OpenSolarClient GET": { once: ok("org 0", "org 200"), always: fails("RequestTimeout", ...times(6, "org", 0)) }
}

describe("fault matrix: a request that is never answered", () => {
  for (const [mode, repeat] of modes) {
    describe(`applied ${mode}`, () => {
      for (const operationName of Object.keys(testedOperations) as Array<OperationName>) {
        const expected = timeouts[operationName][mode]
        it.effect(`${operationName} → ${expected.outcomes.join(", then ")} after ${expected.log.length}`, () =>
          Effect.gen(function* () {
            yield* TestClock.setTime(start)
            const { layer, exchanges } = trackedStack({ timeout, stall: true })

            const observed = yield* settle(
              runCase(testedOperations[operationName], stalled, repeat, withClient(layer, timeout)),
              { canJump: exchanges.canJump }
            )

            expect(observed).toEqual(expected)
          })
        )
      }
    })
  }
})

describe("fault matrix: sanity", () => {
  it("covers every fault the simulator can inject", () => {
    const tags = new Set(Object.values(faults).map((fault) => fault._tag))
    expect([...tags].sort()).toEqual(["ConnectionReset", "Delay", "HtmlBody", "MalformedJson", "Status"])
  })
})
