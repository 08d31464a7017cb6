/**
 * The fault matrix: every fault the simulator injects, against every operation and strategy, each with its
 * expected recovery or typed error and the exact requests the simulator saw (so the number of attempts is
 * bounded and known). A fault applies once (`once`: the next attempt is answered normally) or to every request
 * (`always`), at the operation's endpoint or at any endpoint. Time is the `TestClock`, which `settle` moves
 * whenever the program sleeps and nothing is on the wire; every run is bounded in event-loop turns, so a hang
 * fails the test instead of stalling it.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import type * as AuthError from "../../src/AuthError.js"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as MfaCodeSource from "../../src/MfaCodeSource.js"
import { OpenSolarApi } from "../../src/OpenSolarApi.js"
import * as OpenSolarClient from "../../src/OpenSolarClient.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as TokenRef from "../../src/TokenRef.js"
import { accounts, type Endpoint, Fault, type FaultTarget, Simulator } from "../../src/testing/index.js"
import { outcome } from "./support/outcome.js"
import { requestTimeout } from "../support/drive.js"
import { settle } from "./support/settle.js"
import { trackedStack } from "./support/tracked.js"
import { clientLayer, describeEntry, logLines, times } from "./support/stack.js"

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

/**
 * The faults of the matrix, by kind: every kind of `Fault` the simulator has must be here (a kind added to it does
 * not compile until it is), and every fault here needs an expectation for every operation.
 */
const faultsByKind = {
  Status: {
    "400": Fault.Status({ status: 400 }),
    "400, code refused": Fault.Status({
      status: 400,
      body: { non_field_errors: ["Invalid two-factor authentication code."] }
    }),
    "401": Fault.Status({ status: 401 }),
    "402": Fault.Status({ status: 402 }),
    "403": Fault.Status({ status: 403 }),
    "429, Retry-After 5": Fault.Status({ status: 429, retryAfter: 5 }),
    // Five seconds after the start; a request answered later is told a moment already past.
    "429, Retry-After as a date": Fault.Status({ status: 429, retryAfter: new Date(start + 5_000).toUTCString() }),
    "500": Fault.Status({ status: 500 })
  },
  Delay: { "delay within the timeout": Fault.Delay({ duration: "5 seconds" }) },
  ConnectionReset: { "connection reset": Fault.ConnectionReset() },
  MalformedJson: { "malformed JSON": Fault.MalformedJson() },
  HtmlBody: { "HTML, 502": Fault.HtmlBody({ status: 502 }), "HTML, 200": Fault.HtmlBody({ status: 200 }) }
} as const satisfies { readonly [K in Fault["_tag"]]: Readonly<Record<string, Extract<Fault, { readonly _tag: K }>>> }

type FaultKind = keyof typeof faultsByKind

type FaultName = { readonly [K in FaultKind]: keyof (typeof faultsByKind)[K] }[FaultKind]

const faults = Object.assign({}, ...Object.values(faultsByKind)) as { readonly [F in FaultName]: Fault }

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
  /** How the `TokenRef` schedules refreshes. @default its defaults */
  readonly tokenRef?: TokenRef.Options
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
  operation: Operation<unknown>,
  timeout: Duration.DurationInput = requestTimeout
): Layer.Layer<Services, unknown> =>
  clientLayer(standardStrategy, { retryPolicy: policy, timeout, tokenRef: operation.tokenRef ?? {} }).pipe(
    Layer.provideMerge(base)
  )

type OperationName =
  | "password"
  | "password + TOTP"
  | "session refresh"
  | "standard, with a session"
  | "machine-user PATCH"
  | "TokenRef over standard"
  | "TokenRef background refresh"
  | "OpenSolarClient GET"
  | "orElse: session refresh, else password"
  | "timeout of 30 s over password"

const list = (outcome: string): ReadonlyArray<string> => [outcome]

const retried = <E extends AuthError.AuthError, R>(strategy: AuthStrategy.Strategy<E, R>) =>
  AuthStrategy.retry(strategy, policy)

/** A lifetime short enough that `settle` reaches the refresh point in one jump. */
const lifetime = Duration.hours(1)

/** Where the background refresh of a grant issued at the start happens: 80% of its lifetime, without jitter. */
const refreshPoint = Duration.times(lifetime, 0.8)

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
  "TokenRef background refresh": {
    endpoint: "fetchToken",
    // After the policy gives up, the next try would be a wake interval on: past the deadline.
    tokenRef: { lifetime, jitter: 0, retryPolicy: policy, wakeInterval: lifetime },
    prepare: Effect.flatMap(TokenRef.TokenRef, (tokens) => tokens.get),
    // The fault meets the refresh the background fiber starts at the refresh point. A `get` five minutes later,
    // before the deadline, is answered whatever became of that refresh.
    run: () =>
      Effect.gen(function* () {
        yield* Effect.sleep(Duration.sum(refreshPoint, Duration.minutes(5)))
        const tokens = yield* TokenRef.TokenRef
        return [yield* outcome(tokens.get)]
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
  },
  "orElse: session refresh, else password": {
    endpoint: "fetchToken",
    prepare: loginGrant,
    // Every error of the session refresh falls back to the password; the policy retries the pair.
    run: (grant) =>
      Effect.map(
        outcome(
          retried(AuthStrategy.orElse(AuthStrategy.sessionRefresh(), AuthStrategy.password(example))).authenticate(
            Option.some(grant)
          )
        ),
        list
      )
  },
  "timeout of 30 s over password": {
    endpoint: "login",
    prepare: Effect.void,
    // The limit covers every attempt and every wait of the policy: it ends retries the policy would still make.
    run: () =>
      Effect.map(
        outcome(
          AuthStrategy.timeout(retried(AuthStrategy.password(example)), "30 seconds").authenticate(Option.none())
        ),
        list
      )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Expectations

const ok = (...log: ReadonlyArray<string>): Expected => ({ outcomes: ["success"], log })

const fails = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag], log })

const failsThenOk = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag, "success"], log })

const failsTwice = (tag: string, ...log: ReadonlyArray<string>): Expected => ({ outcomes: [tag, tag], log })

/** `count` attempts of a session refresh that fall back to a login, both answered with `status`. */
const refreshThenLogin = (count: number, status: number): ReadonlyArray<string> =>
  Array.from({ length: count }, () => [`fetchToken ${status}`, `login ${status}`]).flat()

type Table<O extends OperationName = OperationName> = {
  readonly [F in FaultName]: { readonly [K in O]: Expected }
}

const throttledOnce = {
  password: ok("login 429", "login 200"),
  "password + TOTP": ok("login 429", "login 200"),
  "session refresh": ok("fetchToken 429", "fetchToken 200"),
  "standard, with a session": ok("fetchToken 429", "fetchToken 200"),
  "machine-user PATCH": ok("machineUser 429", "machineUser 200"),
  "TokenRef over standard": failsThenOk("RateLimited", "login 429", "login 200"),
  "TokenRef background refresh": ok("fetchToken 429", "fetchToken 200"),
  "OpenSolarClient GET": ok("org 429", "org 200"),
  "orElse: session refresh, else password": ok("fetchToken 429", "login 200"),
  "timeout of 30 s over password": ok("login 429", "login 200")
}

/**
 * The fault applies to one request; the next is answered normally. A background refresh that fails for good
 * leaves the grant in place, which the `get` after it is still given.
 */
const once: Table = {
  "400": {
    password: fails("InvalidCredentials", "login 400"),
    "password + TOTP": fails("InvalidCredentials", "login 400"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 400"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 400"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 400"),
    "TokenRef over standard": failsThenOk("InvalidCredentials", "login 400", "login 200"),
    "TokenRef background refresh": ok("fetchToken 400"),
    "OpenSolarClient GET": fails("ResponseError", "org 400"),
    "orElse: session refresh, else password": ok("fetchToken 400", "login 200"),
    "timeout of 30 s over password": fails("InvalidCredentials", "login 400")
  },
  "400, code refused": {
    password: fails("MfaRequired", "login 400"),
    // The refused code is followed by one attempt with the next step's code.
    "password + TOTP": ok("login 400", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 400"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 400"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 400"),
    "TokenRef over standard": failsThenOk("MfaRequired", "login 400", "login 200"),
    "TokenRef background refresh": ok("fetchToken 400"),
    "OpenSolarClient GET": fails("ResponseError", "org 400"),
    "orElse: session refresh, else password": ok("fetchToken 400", "login 200"),
    "timeout of 30 s over password": fails("MfaRequired", "login 400")
  },
  "401": {
    password: fails("TokenRejected", "login 401"),
    "password + TOTP": fails("TokenRejected", "login 401"),
    "session refresh": fails("TokenRejected", "fetchToken 401"),
    // A rejected session falls back to the password.
    "standard, with a session": ok("fetchToken 401", "login 200"),
    "machine-user PATCH": fails("TokenRejected", "machineUser 401"),
    "TokenRef over standard": failsThenOk("TokenRejected", "login 401", "login 200"),
    "TokenRef background refresh": ok("fetchToken 401", "login 200"),
    // One re-authentication (the session is still good, so it is refreshed) and one resend.
    "OpenSolarClient GET": ok("org 401", "fetchToken 200", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 401", "login 200"),
    "timeout of 30 s over password": fails("TokenRejected", "login 401")
  },
  "402": {
    password: fails("ApiAccessNotEnabled", "login 402"),
    "password + TOTP": fails("ApiAccessNotEnabled", "login 402"),
    "session refresh": fails("ApiAccessNotEnabled", "fetchToken 402"),
    "standard, with a session": fails("ApiAccessNotEnabled", "fetchToken 402"),
    "machine-user PATCH": fails("ApiAccessNotEnabled", "machineUser 402"),
    "TokenRef over standard": failsThenOk("ApiAccessNotEnabled", "login 402", "login 200"),
    "TokenRef background refresh": ok("fetchToken 402"),
    "OpenSolarClient GET": fails("ApiAccessNotEnabled", "org 402"),
    "orElse: session refresh, else password": ok("fetchToken 402", "login 200"),
    "timeout of 30 s over password": fails("ApiAccessNotEnabled", "login 402")
  },
  "403": {
    password: fails("Forbidden", "login 403"),
    "password + TOTP": fails("Forbidden", "login 403"),
    "session refresh": fails("Forbidden", "fetchToken 403"),
    "standard, with a session": fails("Forbidden", "fetchToken 403"),
    "machine-user PATCH": fails("Forbidden", "machineUser 403"),
    "TokenRef over standard": failsThenOk("Forbidden", "login 403", "login 200"),
    "TokenRef background refresh": ok("fetchToken 403"),
    "OpenSolarClient GET": fails("Forbidden", "org 403"),
    "orElse: session refresh, else password": ok("fetchToken 403", "login 200"),
    "timeout of 30 s over password": fails("Forbidden", "login 403")
  },
  "429, Retry-After 5": throttledOnce,
  "429, Retry-After as a date": throttledOnce,
  "500": {
    password: ok("login 500", "login 200"),
    "password + TOTP": ok("login 500", "login 200"),
    "session refresh": ok("fetchToken 500", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 500", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 500", "machineUser 200"),
    "TokenRef over standard": failsThenOk("ServerError", "login 500", "login 200"),
    "TokenRef background refresh": ok("fetchToken 500", "fetchToken 200"),
    "OpenSolarClient GET": ok("org 500", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 500", "login 200"),
    "timeout of 30 s over password": ok("login 500", "login 200")
  },
  "delay within the timeout": {
    password: ok("login 200"),
    "password + TOTP": ok("login 200"),
    "session refresh": ok("fetchToken 200"),
    "standard, with a session": ok("fetchToken 200"),
    "machine-user PATCH": ok("machineUser 200"),
    "TokenRef over standard": ok("login 200"),
    "TokenRef background refresh": ok("fetchToken 200"),
    "OpenSolarClient GET": ok("org 200"),
    "orElse: session refresh, else password": ok("fetchToken 200"),
    "timeout of 30 s over password": ok("login 200")
  },
  "connection reset": {
    password: ok("login 0", "login 200"),
    "password + TOTP": ok("login 0", "login 200"),
    "session refresh": ok("fetchToken 0", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 0", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 0", "machineUser 200"),
    "TokenRef over standard": failsThenOk("TransportError", "login 0", "login 200"),
    "TokenRef background refresh": ok("fetchToken 0", "fetchToken 200"),
    "OpenSolarClient GET": ok("org 0", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 0", "login 200"),
    "timeout of 30 s over password": ok("login 0", "login 200")
  },
  "malformed JSON": {
    password: fails("UnexpectedResponse", "login 200"),
    "password + TOTP": fails("UnexpectedResponse", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 200"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 200"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 200"),
    "TokenRef over standard": failsThenOk("UnexpectedResponse", "login 200", "login 200"),
    "TokenRef background refresh": ok("fetchToken 200"),
    // The client hands out the response; reading it as JSON fails.
    "OpenSolarClient GET": fails("ResponseError", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 200", "login 200"),
    "timeout of 30 s over password": fails("UnexpectedResponse", "login 200")
  },
  "HTML, 502": {
    password: ok("login 502", "login 200"),
    "password + TOTP": ok("login 502", "login 200"),
    "session refresh": ok("fetchToken 502", "fetchToken 200"),
    "standard, with a session": ok("fetchToken 502", "fetchToken 200"),
    "machine-user PATCH": ok("machineUser 502", "machineUser 200"),
    "TokenRef over standard": failsThenOk("ServerError", "login 502", "login 200"),
    "TokenRef background refresh": ok("fetchToken 502", "fetchToken 200"),
    "OpenSolarClient GET": ok("org 502", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 502", "login 200"),
    "timeout of 30 s over password": ok("login 502", "login 200")
  },
  "HTML, 200": {
    password: fails("UnexpectedResponse", "login 200"),
    "password + TOTP": fails("UnexpectedResponse", "login 200"),
    "session refresh": fails("UnexpectedResponse", "fetchToken 200"),
    "standard, with a session": fails("UnexpectedResponse", "fetchToken 200"),
    "machine-user PATCH": fails("UnexpectedResponse", "machineUser 200"),
    "TokenRef over standard": failsThenOk("UnexpectedResponse", "login 200", "login 200"),
    "TokenRef background refresh": ok("fetchToken 200"),
    "OpenSolarClient GET": fails("ResponseError", "org 200"),
    "orElse: session refresh, else password": ok("fetchToken 200", "login 200"),
    "timeout of 30 s over password": fails("UnexpectedResponse", "login 200")
  }
}

/** Every attempt fails with a transient `status` (0: the connection is reset): the policy's count of attempts. */
const transient = (tag: string, status: number): { readonly [O in OperationName]: Expected } => ({
  password: fails(tag, ...times(11, "login", status)),
  "password + TOTP": fails(tag, ...times(3, "login", status)),
  "session refresh": fails(tag, ...times(11, "fetchToken", status)),
  "standard, with a session": fails(tag, ...times(11, "fetchToken", status)),
  "machine-user PATCH": fails(tag, ...times(11, "machineUser", status)),
  "TokenRef over standard": failsTwice(tag, `login ${status}`, `login ${status}`),
  "TokenRef background refresh": ok(...times(11, "fetchToken", status)),
  "OpenSolarClient GET": fails(tag, ...times(11, "org", status)),
  "orElse: session refresh, else password": ok(`fetchToken ${status}`, "login 200"),
  "timeout of 30 s over password": fails("RequestTimeout", ...times(8, "login", status))
})

/**
 * Every request to the endpoint meets the fault. Transient faults are retried until the policy gives up: 11
 * attempts, 9 with a 5-second `Retry-After`, 3 for TOTP logins (each retry waits for a fresh 30-second step, so
 * the 60 seconds run out sooner). A limit of 30 seconds cuts that short: 8 attempts, 6 with a 5-second
 * `Retry-After`. A `Retry-After` given as a date is five seconds away for the first answer only, later ones being
 * told a moment already past: the first wait is 5 seconds and the rest the policy's own, 10 attempts in 60 s and
 * 7 in 30 s; the background refresh, long after that date, retries as for a server error.
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
    "TokenRef background refresh": ok(...times(9, "fetchToken", 429)),
    "OpenSolarClient GET": fails("RateLimited", ...times(9, "org", 429)),
    "orElse: session refresh, else password": ok("fetchToken 429", "login 200"),
    "timeout of 30 s over password": fails("RequestTimeout", ...times(6, "login", 429))
  },
  "429, Retry-After as a date": {
    password: fails("RateLimited", ...times(10, "login", 429)),
    "password + TOTP": fails("RateLimited", ...times(3, "login", 429)),
    "session refresh": fails("RateLimited", ...times(10, "fetchToken", 429)),
    "standard, with a session": fails("RateLimited", ...times(10, "fetchToken", 429)),
    "machine-user PATCH": fails("RateLimited", ...times(10, "machineUser", 429)),
    "TokenRef over standard": failsTwice("RateLimited", "login 429", "login 429"),
    "TokenRef background refresh": ok(...times(11, "fetchToken", 429)),
    "OpenSolarClient GET": fails("RateLimited", ...times(10, "org", 429)),
    "orElse: session refresh, else password": ok("fetchToken 429", "login 200"),
    "timeout of 30 s over password": fails("RequestTimeout", ...times(7, "login", 429))
  },
  "500": transient("ServerError", 500),
  "delay within the timeout": once["delay within the timeout"],
  "connection reset": transient("TransportError", 0),
  "malformed JSON": {
    ...once["malformed JSON"],
    "TokenRef over standard": failsTwice("UnexpectedResponse", "login 200", "login 200")
  },
  "HTML, 502": transient("ServerError", 502),
  "HTML, 200": {
    ...once["HTML, 200"],
    "TokenRef over standard": failsTwice("UnexpectedResponse", "login 200", "login 200")
  }
}

/** The operations that reach a second endpoint after the first one failed. */
const severalEndpoints = [
  "standard, with a session",
  "TokenRef background refresh",
  "OpenSolarClient GET",
  "orElse: session refresh, else password"
] as const

type SeveralEndpoints = (typeof severalEndpoints)[number]

const firstEndpointOnly = (fault: FaultName, orElse: Expected): { readonly [O in SeveralEndpoints]: Expected } => ({
  "standard, with a session": always[fault]["standard, with a session"],
  "TokenRef background refresh": always[fault]["TokenRef background refresh"],
  "OpenSolarClient GET": always[fault]["OpenSolarClient GET"],
  "orElse: session refresh, else password": orElse
})

/**
 * Every request, to whichever endpoint, meets the fault. The operations that reach a second endpoint only on a
 * 401 end as at the first endpoint, but for a 401: a rejected session falls back to a login that is rejected
 * too. A fallback on every error meets the fault twice per attempt, and the policy retries the pair.
 */
const alwaysAnywhere: Table<SeveralEndpoints> = {
  "400": firstEndpointOnly("400", fails("InvalidCredentials", "fetchToken 400", "login 400")),
  "400, code refused": firstEndpointOnly("400, code refused", fails("MfaRequired", "fetchToken 400", "login 400")),
  "401": {
    "standard, with a session": fails("TokenRejected", "fetchToken 401", "login 401"),
    "TokenRef background refresh": ok("fetchToken 401", "login 401"),
    "OpenSolarClient GET": fails("TokenRejected", "org 401", "fetchToken 401", "login 401"),
    "orElse: session refresh, else password": fails("TokenRejected", "fetchToken 401", "login 401")
  },
  "402": firstEndpointOnly("402", fails("ApiAccessNotEnabled", "fetchToken 402", "login 402")),
  "403": firstEndpointOnly("403", fails("Forbidden", "fetchToken 403", "login 403")),
  "429, Retry-After 5": firstEndpointOnly("429, Retry-After 5", fails("RateLimited", ...refreshThenLogin(9, 429))),
  "429, Retry-After as a date": firstEndpointOnly(
    "429, Retry-After as a date",
    fails("RateLimited", ...refreshThenLogin(10, 429))
  ),
  "500": firstEndpointOnly("500", fails("ServerError", ...refreshThenLogin(11, 500))),
  "delay within the timeout": firstEndpointOnly("delay within the timeout", ok("fetchToken 200")),
  "connection reset": firstEndpointOnly("connection reset", fails("TransportError", ...refreshThenLogin(11, 0))),
  "malformed JSON": firstEndpointOnly("malformed JSON", fails("UnexpectedResponse", "fetchToken 200", "login 200")),
  "HTML, 502": firstEndpointOnly("HTML, 502", fails("ServerError", ...refreshThenLogin(11, 502))),
  "HTML, 200": firstEndpointOnly("HTML, 200", fails("UnexpectedResponse", "fetchToken 200", "login 200"))
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

const runCase = (
  operation: Operation<any>,
  fault: Fault,
  repeat: number,
  layer: Layer.Layer<Services, unknown>,
  target: FaultTarget = operation.endpoint
): Effect.Effect<Expected, unknown> =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    const prepared = yield* operation.prepare
    yield* sim.clearLog

    yield* sim.injectFault({ endpoint: target, times: repeat, fault })
    const outcomes = yield* operation.run(prepared)

    return { outcomes, log: yield* logLines }
  }).pipe(Effect.provide(layer))

/**
 * Runs one case from the start, moving the clock only while nothing is on the wire: a sleep that ends while a
 * request travels (a strategy's time limit, the next `get`) is not reached before the request is answered.
 */
const observe = (operationName: OperationName, fault: Fault, repeat: number, target?: FaultTarget) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const operation = testedOperations[operationName]
    const { layer, exchanges } = trackedStack({ timeout: requestTimeout, stall: false })

    return yield* settle(runCase(operation, fault, repeat, withClient(layer, operation), target), {
      canJump: exchanges.canJump
    })
  })

const title = (operationName: OperationName, expected: Expected) =>
  `${operationName} → ${expected.outcomes.join(", then ")} after ${expected.log.length}`

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
            it.effect(title(operationName, expected), () =>
              Effect.gen(function* () {
                const observed = yield* observe(operationName, faults[faultName], repeat)

                expect(observed).toEqual(expected)
              })
            )
          }
        })
      }
    })
  }
})

describe("fault matrix: a fault at any endpoint, applied always", () => {
  for (const faultName of Object.keys(faults) as Array<FaultName>) {
    describe(faultName, () => {
      for (const operationName of severalEndpoints) {
        const expected = alwaysAnywhere[faultName][operationName]
        it.effect(title(operationName, expected), () =>
          Effect.gen(function* () {
            const observed = yield* observe(operationName, faults[faultName], 1_000, "any")

            expect(observed).toEqual(expected)
          })
        )
      }
    })
  }
})

describe("fault matrix: Retry-After as a date", () => {
  it.effect("the retry waits until the date the answer gave", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const { layer, exchanges } = trackedStack({ timeout: requestTimeout, stall: false })

      const log = yield* settle(
        Effect.gen(function* () {
          const sim = yield* Simulator
          yield* sim.injectFault({ endpoint: "login", fault: faults["429, Retry-After as a date"] })
          yield* retried(AuthStrategy.password(example)).authenticate(Option.none())
          return yield* sim.requestLog
        }).pipe(Effect.provide(layer)),
        { canJump: exchanges.canJump }
      )

      expect(log.map((entry) => [describeEntry(entry), DateTime.toEpochMillis(entry.time) - start])).toEqual([
        ["login 429", 0],
        ["login 200", 5_000]
      ])
    })
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Request timeouts

const timeout = Duration.seconds(10)

const stalled = Fault.Delay({ duration: "1 second" })

/**
 * The simulator holds the request and never answers; the client gives up after 10 seconds (status 0 in the log).
 * Once: the retry succeeds. Always: the policy gives up after 6 attempts (each failure comes 10 s after its
 * attempt, so the 60 s run out sooner), 3 for TOTP logins and within a limit of 30 s; `TokenRef` tries once per
 * `get`.
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
  "TokenRef background refresh": {
    once: ok("fetchToken 0", "fetchToken 200"),
    always: ok(...times(6, "fetchToken", 0))
  },
  "OpenSolarClient GET": { once: ok("org 0", "org 200"), always: fails("RequestTimeout", ...times(6, "org", 0)) },
  "orElse: session refresh, else password": {
    once: ok("fetchToken 0", "login 200"),
    always: ok("fetchToken 0", "login 200")
  },
  "timeout of 30 s over password": {
    once: ok("login 0", "login 200"),
    always: fails("RequestTimeout", ...times(3, "login", 0))
  }
}

describe("fault matrix: a request that is never answered", () => {
  for (const [mode, repeat] of modes) {
    describe(`applied ${mode}`, () => {
      for (const operationName of Object.keys(testedOperations) as Array<OperationName>) {
        const expected = timeouts[operationName][mode]
        it.effect(title(operationName, expected), () =>
          Effect.gen(function* () {
            yield* TestClock.setTime(start)
            const operation = testedOperations[operationName]
            const { layer, exchanges } = trackedStack({ timeout, stall: true })

            const observed = yield* settle(runCase(operation, stalled, repeat, withClient(layer, operation, timeout)), {
              canJump: exchanges.canJump
            })

            expect(observed).toEqual(expected)
          })
        )
      }
    })
  }
})

describe("fault matrix: coverage", () => {
  it("has faults of every kind the simulator injects, each filed under its kind", () => {
    const kinds = Object.entries(faultsByKind).map(([kind, byName]) => ({
      kind,
      faults: Object.keys(byName).length,
      misfiled: Object.entries(byName)
        .filter(([, fault]) => fault._tag !== kind)
        .map(([name]) => name)
    }))

    expect(kinds.filter((entry) => entry.faults === 0 || entry.misfiled.length > 0)).toEqual([])
  })
})
