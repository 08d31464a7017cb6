import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import {
  Clock,
  ConfigProvider,
  DateTime,
  Duration,
  Effect,
  Exit,
  Layer,
  Option,
  pipe,
  Predicate,
  Redacted,
  Ref,
  TestClock,
  Tracer
} from "effect"
import { Secret, TOTP } from "otpauth"
import * as AuthError from "../src/AuthError.js"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BaseUrl from "../src/BaseUrl.js"
import * as BearerToken from "../src/BearerToken.js"
import * as MfaCodeSource from "../src/MfaCodeSource.js"
import { OpenSolarApi, type TokenResponse } from "../src/OpenSolarApi.js"
import { accounts, Simulator } from "../src/testing/index.js"
import * as TokenGrant from "../src/TokenGrant.js"
import { drive } from "./support/drive.js"
import { simulatorApi } from "./support/simulatorApi.js"

const start = Date.parse("2026-03-04T05:06:10Z")

const baseUrl = BaseUrl.unsafeMake("https://api.opensolar.com")

const loginUrl = "https://api.opensolar.com/api-token-auth/"

const fetchUrl = "https://api.opensolar.com/api/fetch_token/"

const firstToken = "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"

const secondToken = "s_abcdefghijklmnopqrstuvwxyz234567"

const totpSecret = "JBSWY3DPEHPK3PXP"

const codeAt = (timestamp: number) =>
  new TOTP({ secret: Secret.fromBase32(totpSecret), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp })

const response = (token: string, options: { readonly machine?: boolean } = {}): TokenResponse => ({
  token: BearerToken.unsafeMake(token),
  user: new TokenGrant.GrantUser({ id: 1, email: "arnie@illbeback.com", isMachineUser: options.machine ?? false }),
  org: Option.some(new TokenGrant.GrantOrg({ id: 1, name: "Cyberdyne Solar" })),
  orgs: [new TokenGrant.GrantOrg({ id: 1, name: "Cyberdyne Solar" })],
  fields: {}
})

interface Call {
  readonly operation: "login" | "fetchToken"
  readonly at: number
  readonly username?: string
  readonly password?: string
  readonly mfaCode?: string
  readonly token?: string
  readonly orgId?: number
}

type Answer = (call: Call, index: number) => Effect.Effect<TokenResponse, AuthError.ApiError>

/** An `OpenSolarApi` that records every call and answers with `answer`. */
const stubApi = (answer: Answer) =>
  Effect.gen(function* () {
    const calls = yield* Ref.make<ReadonlyArray<Call>>([])
    const record = (call: Omit<Call, "at">) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const entry = { ...call, at }
        const index = yield* Ref.modify(calls, (all) => [all.length, [...all, entry]] as const)
        return yield* answer(entry, index)
      })
    const layer = Layer.succeed(
      OpenSolarApi,
      OpenSolarApi.of({
        baseUrl,
        login: (request) =>
          record({
            operation: "login",
            username: request.username,
            password: Redacted.value(request.password),
            ...(request.mfaCode === undefined ? {} : { mfaCode: Redacted.value(request.mfaCode) })
          }),
        fetchToken: (request) =>
          record({
            operation: "fetchToken",
            token: BearerToken.value(request.token),
            ...(request.orgId === undefined ? {} : { orgId: request.orgId })
          }),
        setMachineUser: () => Effect.die("not used")
      })
    )
    return { layer, calls: Ref.get(calls) }
  })

const failure = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

const grantOf = (token: string, issuedAt: number, strategy = "password") =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt: DateTime.unsafeMake(issuedAt),
    expiresAt: Option.some(DateTime.unsafeMake(issuedAt + Duration.toMillis("7 days"))),
    user: new TokenGrant.GrantUser({ id: 1 }),
    org: Option.none(),
    orgs: [],
    strategy
  })

const credentials = { username: "arnie@illbeback.com", password: "gettothechopper" }

describe("AuthStrategy", () => {
  describe("machineUser", () => {
    it.effect("yields a permanent grant without any request or service", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const strategy = AuthStrategy.machineUser(BearerToken.unsafeMake(accounts.machine.token), {
          org: new TokenGrant.GrantOrg({ id: 1 })
        })

        const grant = yield* strategy.authenticate(Option.none())
        yield* TestClock.adjust("30 days")
        const again = yield* strategy.authenticate(Option.some(grant))

        expectTypeOf(strategy).toEqualTypeOf<AuthStrategy.Strategy<never, never>>()
        expect(BearerToken.value(grant.token)).toBe(accounts.machine.token)
        expect(grant.isPermanent).toBe(true)
        expect(grant.strategy).toBe("machine-user")
        expect(grant.user.isMachineUser).toBe(true)
        expect(grant.orgs).toEqual([new TokenGrant.GrantOrg({ id: 1 })])
        expect(DateTime.toEpochMillis(grant.issuedAt)).toBe(start)
        expect(DateTime.toEpochMillis(again.issuedAt)).toBe(start)
      })
    )

    it("accepts only an OpenSolar bearer token, never a Nearmap imagery token or a plain string", () => {
      const nearmapToken = Redacted.make("nearmap-imagery-token") as BearerToken.NearmapImageryToken

      // @ts-expect-error a Nearmap imagery token is not an OpenSolar bearer token
      AuthStrategy.machineUser(nearmapToken)
      // @ts-expect-error a plain string is not a bearer token
      AuthStrategy.machineUser("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")
      // @ts-expect-error an unbranded redacted string is not a bearer token
      AuthStrategy.machineUser(Redacted.make("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"))

      expect(AuthStrategy.machineUser(BearerToken.unsafeMake(firstToken)).name).toBe("machine-user")
    })
  })

  describe("password", () => {
    it.effect("logs in once and grants the token for 7 days from now", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const grant = yield* AuthStrategy.password(credentials)
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer))

        expect(yield* api.calls).toEqual([
          { operation: "login", at: start, username: credentials.username, password: credentials.password }
        ])
        expect(grant.strategy).toBe("password")
        expect(BearerToken.value(grant.token)).toBe(firstToken)
        expect(DateTime.toEpochMillis(grant.issuedAt)).toBe(start)
        expect(Option.map(grant.expiresAt, DateTime.toEpochMillis)).toEqual(
          Option.some(start + Duration.toMillis("7 days"))
        )
      })
    )

    it.effect("honours a lifetime and a machine user's answer", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi((_, index) => Effect.succeed(response(firstToken, { machine: index === 1 })))
        const strategy = AuthStrategy.password({ ...credentials, lifetime: "1 day" })

        const standard = yield* strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer))
        const machine = yield* strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer))

        expect(Option.map(standard.expiresAt, DateTime.toEpochMillis)).toEqual(
          Option.some(start + Duration.toMillis("1 day"))
        )
        expect(machine.isPermanent).toBe(true)
      })
    )
  })

  describe("passwordWithMfa", () => {
    it.effect("sends the code source's code with the password", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const grant = yield* AuthStrategy.passwordWithMfa({ ...credentials, mfa: MfaCodeSource.static("123456") })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer))

        expect((yield* api.calls).map((call) => call.mfaCode)).toEqual(["123456"])
        expect(grant.strategy).toBe("password-mfa")
      })
    )

    it.effect("never retries a refused fixed code", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.fail(new AuthError.InvalidMfaCode({ method: "POST", url: loginUrl })))

        const exit = yield* AuthStrategy.passwordWithMfa({ ...credentials, mfa: MfaCodeSource.static("123456") })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer), Effect.exit)

        expect(failure(exit)?._tag).toBe("InvalidMfaCode")
        expect(yield* api.calls).toHaveLength(1)
      })
    )

    it.effect("retries a refused TOTP code once, at once, with the next step's code", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi((_, index) =>
          index === 0
            ? Effect.fail(new AuthError.InvalidMfaCode({ method: "POST", url: loginUrl }))
            : Effect.succeed(response(firstToken))
        )

        const grant = yield* AuthStrategy.passwordWithMfa({ ...credentials, mfa: MfaCodeSource.totp(totpSecret) })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer))

        const calls = yield* api.calls
        expect(calls.map((call) => call.mfaCode)).toEqual([codeAt(start), codeAt(start + 30_000)])
        expect(calls.map((call) => call.at)).toEqual([start, start])
        expect(grant.strategy).toBe("password-mfa")
      })
    )

    it.effect("gives up after the second refused TOTP code", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.fail(new AuthError.InvalidMfaCode({ method: "POST", url: loginUrl })))

        const exit = yield* AuthStrategy.passwordWithMfa({ ...credentials, mfa: MfaCodeSource.totp(totpSecret) })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer), Effect.exit)

        expect(failure(exit)?._tag).toBe("InvalidMfaCode")
        expect(yield* api.calls).toHaveLength(2)
      })
    )

    it.effect("sends no request when no code is available", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))
        const mfa = MfaCodeSource.fromEffect(Effect.fail(new AuthError.MfaCodeUnavailable({ reason: "vault down" })))

        const exit = yield* AuthStrategy.passwordWithMfa({ ...credentials, mfa })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer), Effect.exit)

        expect(failure(exit)?._tag).toBe("MfaCodeUnavailable")
        expect(yield* api.calls).toHaveLength(0)
      })
    )

    it.effect("asks for a fresh code on every retried attempt, waiting for the next step", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi((_, index) =>
          index === 0
            ? Effect.fail(new AuthError.ServerError({ method: "POST", url: loginUrl, status: 503 }))
            : Effect.succeed(response(firstToken))
        )
        const strategy = AuthStrategy.retry(
          AuthStrategy.passwordWithMfa({ ...credentials, mfa: MfaCodeSource.totp(totpSecret) })
        )

        yield* drive(strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer)))

        const calls = yield* api.calls
        const nextStep = Math.ceil(start / 30_000) * 30_000
        expect(calls.map((call) => call.mfaCode)).toEqual([codeAt(start), codeAt(nextStep)])
        expect(calls[1]!.at).toBe(nextStep)
      })
    )
  })

  describe("sessionRefresh", () => {
    it.effect("fails with TokenRejected, without a request, when there is no session", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const exit = yield* AuthStrategy.sessionRefresh({ orgId: 7 })
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer), Effect.exit)

        const error = failure(exit)
        expect(error).toBeInstanceOf(AuthError.TokenRejected)
        expect(error).toMatchObject({ method: "GET", url: `${fetchUrl}?org_id=7` })
        expect(yield* api.calls).toHaveLength(0)
      })
    )

    it.effect("refreshes with the current token; a new token starts a new lifetime", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(secondToken)))
        yield* TestClock.adjust("1 day")

        const grant = yield* AuthStrategy.sessionRefresh({ orgId: 7 })
          .authenticate(Option.some(grantOf(firstToken, start)))
          .pipe(Effect.provide(api.layer))

        expect(yield* api.calls).toEqual([
          { operation: "fetchToken", at: start + Duration.toMillis("1 day"), token: firstToken, orgId: 7 }
        ])
        expect(grant.strategy).toBe("session-refresh")
        expect(BearerToken.value(grant.token)).toBe(secondToken)
        expect(DateTime.toEpochMillis(grant.issuedAt)).toBe(start + Duration.toMillis("1 day"))
      })
    )

    it.effect("keeps the original issue and expiry times when the same token comes back", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))
        const current = grantOf(firstToken, start)
        yield* TestClock.adjust("3 days")

        const grant = yield* AuthStrategy.sessionRefresh()
          .authenticate(Option.some(current))
          .pipe(Effect.provide(api.layer))

        expect(grant.issuedAt).toEqual(current.issuedAt)
        expect(grant.expiresAt).toEqual(current.expiresAt)
        expect(grant.org).toEqual(Option.some(new TokenGrant.GrantOrg({ id: 1, name: "Cyberdyne Solar" })))
      })
    )
  })

  describe("orElse", () => {
    const failing = <E>(name: string, error: E): AuthStrategy.Strategy<E> =>
      AuthStrategy.make(name, () => Effect.fail(error))
    const rejected = new AuthError.TokenRejected({ method: "GET", url: fetchUrl })
    const forbidden = new AuthError.Forbidden({ method: "GET", url: fetchUrl })
    const fallback = AuthStrategy.machineUser(BearerToken.unsafeMake(firstToken))

    it("removes the errors that fall back from the error type", () => {
      const session = failing<AuthError.TokenRejected | AuthError.Forbidden>("session", rejected)
      const login = failing<AuthError.InvalidCredentials>(
        "login",
        new AuthError.InvalidCredentials({ method: "POST", url: loginUrl })
      )
      const isRejected = (error: AuthError.AuthError): error is AuthError.TokenRejected =>
        error._tag === "TokenRejected"

      expectTypeOf(AuthStrategy.orElse(session, login, { on: ["TokenRejected"] })).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.Forbidden | AuthError.InvalidCredentials>
      >()
      expectTypeOf(pipe(session, AuthStrategy.orElse(login, { on: ["TokenRejected"] }))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.Forbidden | AuthError.InvalidCredentials>
      >()
      expectTypeOf(AuthStrategy.orElse(session, login, { when: isRejected })).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.Forbidden | AuthError.InvalidCredentials>
      >()
      expectTypeOf(pipe(session, AuthStrategy.orElse(login, { when: isRejected }))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.Forbidden | AuthError.InvalidCredentials>
      >()
      expectTypeOf(
        AuthStrategy.orElse(session, login, {
          when: (error): error is AuthError.Forbidden => error._tag === "Forbidden"
        })
      ).toEqualTypeOf<AuthStrategy.Strategy<AuthError.TokenRejected | AuthError.InvalidCredentials>>()
      expectTypeOf(AuthStrategy.orElse(session, login, { when: (error) => !error.transient })).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.TokenRejected | AuthError.Forbidden | AuthError.InvalidCredentials>
      >()
      expectTypeOf(pipe(session, AuthStrategy.orElse(login, { when: Predicate.isTagged("Forbidden") }))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.TokenRejected | AuthError.InvalidCredentials>
      >()
      expectTypeOf(AuthStrategy.orElse(session, login)).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.InvalidCredentials>
      >()
      expectTypeOf(
        AuthStrategy.orElse(AuthStrategy.sessionRefresh(), fallback, { on: ["TokenRejected"] })
      ).toEqualTypeOf<AuthStrategy.Strategy<Exclude<AuthError.ApiError, AuthError.TokenRejected>, OpenSolarApi>>()
      // @ts-expect-error only tags the first strategy can fail with may be named
      AuthStrategy.orElse(session, login, { on: ["RateLimited"] })
      // @ts-expect-error a misspelt tag names no error of the first strategy
      AuthStrategy.orElse(session, login, { on: ["TokenRejectd"] })
      // @ts-expect-error the same holds in the data-last form
      pipe(session, AuthStrategy.orElse(login, { on: ["TokenRejectd"] }))
      // @ts-expect-error and for a tag of an error the first strategy cannot fail with
      pipe(session, AuthStrategy.orElse(login, { on: ["TokenRejected", "RateLimited"] }))
    })

    it.effect("falls back on the chosen errors only", () =>
      Effect.gen(function* () {
        const onRejected = AuthStrategy.orElse(failing("session", rejected), fallback, { on: ["TokenRejected"] })
        const onForbidden = AuthStrategy.orElse(
          failing<AuthError.TokenRejected | AuthError.Forbidden>("session", forbidden),
          fallback,
          { on: ["TokenRejected"] }
        )
        const onAny = AuthStrategy.orElse(failing("session", forbidden), fallback)
        const byRefinement = AuthStrategy.orElse(failing("session", rejected), fallback, {
          when: (error): error is AuthError.TokenRejected => error._tag === "TokenRejected"
        })

        expect((yield* onRejected.authenticate(Option.none())).strategy).toBe("machine-user")
        expect(failure(yield* Effect.exit(onForbidden.authenticate(Option.none())))?._tag).toBe("Forbidden")
        expect((yield* onAny.authenticate(Option.none())).strategy).toBe("machine-user")
        expect((yield* byRefinement.authenticate(Option.none())).strategy).toBe("machine-user")
        expect(onRejected.name).toBe("session | machine-user")
      })
    )
  })

  describe("retry", () => {
    it.effect("retries transient errors and never credentials errors", () =>
      Effect.gen(function* () {
        const flaky = yield* stubApi((_, index) =>
          index < 2
            ? Effect.fail(new AuthError.TransportError({ method: "POST", url: loginUrl, description: "reset" }))
            : Effect.succeed(response(firstToken))
        )
        const wrong = yield* stubApi(() =>
          Effect.fail(new AuthError.InvalidCredentials({ method: "POST", url: loginUrl }))
        )
        const strategy = pipe(AuthStrategy.password(credentials), AuthStrategy.retry())

        yield* drive(strategy.authenticate(Option.none()).pipe(Effect.provide(flaky.layer)))
        const exit = yield* drive(Effect.exit(strategy.authenticate(Option.none()).pipe(Effect.provide(wrong.layer))))

        expect(yield* flaky.calls).toHaveLength(3)
        expect(failure(exit)?._tag).toBe("InvalidCredentials")
        expect(yield* wrong.calls).toHaveLength(1)
        expectTypeOf(strategy).toEqualTypeOf<AuthStrategy.Strategy<AuthError.ApiError, OpenSolarApi>>()
      })
    )
  })

  describe("timeout", () => {
    it.effect("fails with RequestTimeout when no grant arrives in time", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.as(Effect.sleep("1 minute"), response(firstToken)))
        const strategy = pipe(AuthStrategy.password(credentials), AuthStrategy.timeout("5 seconds"))

        const exit = yield* drive(Effect.exit(strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer))))

        const error = failure(exit)
        expect(error).toBeInstanceOf(AuthError.RequestTimeout)
        expect(error).toMatchObject({ method: "AUTHENTICATE", url: "password", timeoutMillis: 5_000 })
        expect(error?.transient).toBe(true)
        expectTypeOf(strategy).toEqualTypeOf<
          AuthStrategy.Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
        >()
      })
    )
  })

  describe("standard", () => {
    it.effect("logs in first, refreshes later, and logs in again when the session is rejected", () =>
      Effect.gen(function* () {
        const api = yield* stubApi((call, index) => {
          if (call.operation === "fetchToken" && call.token === secondToken) {
            return Effect.fail(new AuthError.TokenRejected({ method: "GET", url: fetchUrl }))
          }
          return Effect.succeed(response(index === 0 ? firstToken : secondToken))
        })
        const strategy = AuthStrategy.standard({ ...credentials, orgId: 7 })
        const run = (current: Option.Option<TokenGrant.TokenGrant>) =>
          strategy.authenticate(current).pipe(Effect.provide(api.layer))

        const first = yield* run(Option.none())
        const second = yield* run(Option.some(first))
        const third = yield* run(Option.some(second))

        expect((yield* api.calls).map((call) => call.operation)).toEqual(["login", "fetchToken", "fetchToken", "login"])
        expect([first.strategy, second.strategy, third.strategy]).toEqual(["password", "session-refresh", "password"])
        expect(strategy.name).toBe("standard")
      })
    )

    it.effect("uses the MFA source for its logins and does not fall back on other errors", () =>
      Effect.gen(function* () {
        const api = yield* stubApi((call) =>
          call.operation === "fetchToken"
            ? Effect.fail(new AuthError.Forbidden({ method: "GET", url: fetchUrl }))
            : Effect.succeed(response(firstToken))
        )
        const strategy = AuthStrategy.standard({ ...credentials, mfa: MfaCodeSource.static("654321") })

        const first = yield* strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer))
        const exit = yield* Effect.exit(strategy.authenticate(Option.some(first)).pipe(Effect.provide(api.layer)))

        expect(first.strategy).toBe("password-mfa")
        expect((yield* api.calls).map((call) => call.mfaCode)).toEqual(["654321", undefined])
        expect(failure(exit)?._tag).toBe("Forbidden")
      })
    )
  })

  describe("options that cannot work", () => {
    const badLifetimes: ReadonlyArray<unknown> = [
      "abc",
      " seconds",
      "NaN millis",
      0,
      Number.NaN,
      -1,
      0.5,
      Duration.infinity,
      8.64e15,
      "99999999999999999999 weeks"
    ]

    it.effect("a lifetime fails every attempt with a ConfigurationError naming it, before any request", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(secondToken)))
        const current = Option.some(grantOf(firstToken, start))

        for (const lifetime of badLifetimes) {
          const strategies = [
            AuthStrategy.password({ ...credentials, lifetime: lifetime as Duration.DurationInput }),
            AuthStrategy.passwordWithMfa({
              ...credentials,
              mfa: MfaCodeSource.static("123456"),
              lifetime: lifetime as Duration.DurationInput
            }),
            AuthStrategy.sessionRefresh({ lifetime: lifetime as Duration.DurationInput }),
            AuthStrategy.standard({ ...credentials, lifetime: lifetime as Duration.DurationInput })
          ]
          for (const strategy of strategies) {
            for (const attempt of [Option.none(), current]) {
              const error = failure(yield* Effect.exit(strategy.authenticate(attempt).pipe(Effect.provide(api.layer))))

              expect(error, `${strategy.name}, ${String(lifetime)}`).toBeInstanceOf(AuthError.ConfigurationError)
              expect(error).toMatchObject({ variables: ["lifetime"] })
              expect(error?.message).toContain("from 1 millisecond to 100 years")
            }
          }
        }

        expect(yield* api.calls).toEqual([])
      })
    )

    it.effect("a lifetime from 1 millisecond to 100 years sets the expiry", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        for (const lifetime of [1, "36525 days"] as const) {
          const grant = yield* AuthStrategy.password({ ...credentials, lifetime })
            .authenticate(Option.none())
            .pipe(Effect.provide(api.layer))

          expect(Option.map(grant.expiresAt, DateTime.toEpochMillis)).toEqual(
            Option.some(start + Duration.toMillis(lifetime))
          )
        }
      })
    )

    it.effect("an orgId that is not a positive whole number fails with a ConfigurationError naming it", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(secondToken)))
        const current = Option.some(grantOf(firstToken, start))

        for (const orgId of [Number.NaN, -1, 0, 1.5, Number.POSITIVE_INFINITY]) {
          for (const strategy of [
            AuthStrategy.sessionRefresh({ orgId }),
            AuthStrategy.standard({ ...credentials, orgId })
          ]) {
            for (const attempt of [Option.none(), current]) {
              const error = failure(yield* Effect.exit(strategy.authenticate(attempt).pipe(Effect.provide(api.layer))))

              expect(error, `${strategy.name}, ${orgId}`).toBeInstanceOf(AuthError.ConfigurationError)
              expect(error).toMatchObject({ variables: ["orgId"] })
              expect(error?.message).toContain("positive whole number")
            }
          }
        }

        expect(yield* api.calls).toEqual([])
      })
    )

    it.effect("a timeout that is not a duration fails every attempt, without starting the strategy", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        for (const duration of [undefined, "abc", "5e-324 days", Number.NaN, -1, 0, "36526 days"]) {
          const strategy = AuthStrategy.timeout(AuthStrategy.password(credentials), duration as Duration.DurationInput)

          const error = failure(
            yield* Effect.exit(strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer)))
          )

          expect(error, String(duration)).toBeInstanceOf(AuthError.ConfigurationError)
          expect(error).toMatchObject({ variables: ["timeout"] })
        }

        expect(yield* api.calls).toEqual([])
      })
    )

    it.effect("Duration.infinity as a timeout sets no limit", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.as(Effect.sleep("30 days"), response(firstToken)))
        const strategy = AuthStrategy.timeout(AuthStrategy.password(credentials), Duration.infinity)

        const grant = yield* drive(strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer)), "60 days")

        expect(BearerToken.value(grant.token)).toBe(firstToken)
      })
    )

    it.effect("a Duration as a timeout is always usable: below a millisecond is one, beyond 100 years no limit", () =>
      Effect.gen(function* () {
        const slow = yield* stubApi(() => Effect.as(Effect.sleep("30 days"), response(firstToken)))
        const authenticate = (limit: Duration.Duration) =>
          AuthStrategy.timeout(AuthStrategy.password(credentials), limit)
            .authenticate(Option.none())
            .pipe(Effect.provide(slow.layer), Effect.exit)

        const tooShort = yield* drive(authenticate(Duration.zero))
        const barelyAny = yield* drive(authenticate(Duration.nanos(1n)))
        const endless = yield* drive(authenticate(Duration.days(40_000)), "60 days")

        expect(failure(tooShort)).toMatchObject({ _tag: "RequestTimeout", timeoutMillis: 1 })
        expect(failure(barelyAny)).toMatchObject({ _tag: "RequestTimeout", timeoutMillis: 1 })
        expect(Exit.map(endless, (grant) => BearerToken.value(grant.token))).toEqual(Exit.succeed(firstToken))
        expect(
          yield* AuthStrategy.timeout(AuthStrategy.machineUser(BearerToken.unsafeMake(firstToken)), Duration.zero)
            .authenticate(Option.none())
            .pipe(Effect.map((grant) => grant.strategy))
        ).toBe("machine-user")
      })
    )

    it("name ConfigurationError in a strategy's type only when an option that can be wrong is given", () => {
      const credentialsOnly = { username: credentials.username, password: credentials.password }
      const machine = AuthStrategy.machineUser(BearerToken.unsafeMake(firstToken))

      expectTypeOf(AuthStrategy.password(credentialsOnly)).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.password({ ...credentialsOnly, lifetime: "1 day" })).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.sessionRefresh()).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.sessionRefresh({ orgId: 7 })).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.standard(credentialsOnly)).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.standard({ ...credentialsOnly, orgId: 7 })).toEqualTypeOf<
        AuthStrategy.Strategy<
          AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError,
          OpenSolarApi
        >
      >()
      const options: AuthStrategy.PasswordOptions = credentialsOnly
      expectTypeOf(AuthStrategy.password(options)).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
      >()
      expectTypeOf(AuthStrategy.timeout(machine, Duration.seconds(30))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.RequestTimeout>
      >()
      expectTypeOf(pipe(machine, AuthStrategy.timeout(Duration.infinity))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.RequestTimeout>
      >()
      expectTypeOf(AuthStrategy.timeout(machine, "30 seconds")).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.RequestTimeout | AuthError.ConfigurationError>
      >()
      expectTypeOf(pipe(machine, AuthStrategy.timeout(30_000))).toEqualTypeOf<
        AuthStrategy.Strategy<AuthError.RequestTimeout | AuthError.ConfigurationError>
      >()
    })
  })

  describe("spans", () => {
    it.effect("record the strategy, the outcome and the token's fingerprint, never the token", () =>
      Effect.gen(function* () {
        const spans: Array<Tracer.Span> = []
        const base = yield* Effect.tracer
        const tracer = Tracer.make({
          span: (...args) => {
            const span = base.span(...args)
            spans.push(span)
            return span
          },
          context: (f, fiber) => base.context(f, fiber)
        })
        const api = yield* stubApi((_, index) =>
          index === 0
            ? Effect.succeed(response(firstToken))
            : Effect.fail(new AuthError.InvalidCredentials({ method: "POST", url: loginUrl }))
        )
        const strategy = AuthStrategy.password(credentials)

        yield* strategy.authenticate(Option.none()).pipe(Effect.provide(api.layer), Effect.withTracer(tracer))
        yield* strategy
          .authenticate(Option.none())
          .pipe(Effect.provide(api.layer), Effect.withTracer(tracer), Effect.exit)

        const attributes = spans
          .filter((span) => span.name === "AuthStrategy.authenticate")
          .map((span) => Object.fromEntries(span.attributes))
        expect(attributes).toMatchObject([
          {
            "opensolar.auth.strategy": "password",
            "opensolar.auth.outcome": "success",
            "opensolar.token.fingerprint": BearerToken.fingerprint(BearerToken.unsafeMake(firstToken))
          },
          {
            "opensolar.auth.strategy": "password",
            "opensolar.auth.outcome": "failure",
            "opensolar.auth.error": "InvalidCredentials"
          }
        ])
        expect(JSON.stringify(attributes)).not.toContain(firstToken)
        expect(JSON.stringify(attributes)).not.toContain(credentials.password)
      })
    )
  })

  describe("layers", () => {
    it.effect("layer provides a strategy with the services it needs taken from context", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const grant = yield* Effect.flatMap(AuthStrategy.AuthStrategy, (strategy) =>
          strategy.authenticate(Option.none())
        ).pipe(Effect.provide(AuthStrategy.layer(AuthStrategy.password(credentials)).pipe(Layer.provide(api.layer))))

        expect(grant.strategy).toBe("password")
        expect(yield* api.calls).toHaveLength(1)
      })
    )

    const fromConfig = (variables: Record<string, string>, layer: Layer.Layer<OpenSolarApi>) =>
      Effect.flatMap(AuthStrategy.AuthStrategy, (strategy) => strategy.authenticate(Option.none())).pipe(
        Effect.provide(AuthStrategy.layerConfig.pipe(Layer.provide(layer))),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))),
        Effect.exit
      )

    it.effect("layerConfig picks a machine user for OPENSOLAR_TOKEN, the standard strategy otherwise", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const machine = yield* fromConfig({ OPENSOLAR_TOKEN: secondToken }, api.layer)
        expect(yield* api.calls).toHaveLength(0)
        const withTotp = yield* fromConfig(
          {
            OPENSOLAR_USERNAME: credentials.username,
            OPENSOLAR_PASSWORD: credentials.password,
            OPENSOLAR_TOTP_SECRET: totpSecret.toLowerCase()
          },
          api.layer
        )
        const withCode = yield* fromConfig(
          {
            OPENSOLAR_USERNAME: credentials.username,
            OPENSOLAR_PASSWORD: credentials.password,
            OPENSOLAR_MFA_CODE: "13579"
          },
          api.layer
        )
        const plain = yield* fromConfig(
          {
            OPENSOLAR_USERNAME: credentials.username,
            OPENSOLAR_PASSWORD: credentials.password,
            OPENSOLAR_TOKEN_LIFETIME: "2 days"
          },
          api.layer
        )

        expect(Exit.map(machine, (grant) => [grant.strategy, grant.isPermanent])).toEqual(
          Exit.succeed(["machine-user", true])
        )
        expect(Exit.map(withTotp, (grant) => grant.strategy)).toEqual(Exit.succeed("password-mfa"))
        expect(Exit.map(withCode, (grant) => grant.strategy)).toEqual(Exit.succeed("password-mfa"))
        expect(Exit.map(plain, (grant) => Option.map(grant.expiresAt, DateTime.toEpochMillis))).toEqual(
          Exit.succeed(Option.some(start + Duration.toMillis("2 days")))
        )
        expect((yield* api.calls).map((call) => call.mfaCode)).toEqual([codeAt(start), "13579", undefined])
      })
    )

    it.effect("layerConfig honours the base URL, organisation and lifetime settings, and refuses contradictions", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))
        const environment = ConfigProvider.fromMap(
          new Map([
            ["OPENSOLAR_BASE_URL", "http://127.0.0.1:8080"],
            ["OPENSOLAR_USERNAME", credentials.username],
            ["OPENSOLAR_PASSWORD", credentials.password],
            ["OPENSOLAR_ORG_ID", "42"],
            ["OPENSOLAR_TOKEN_LIFETIME", "2 days"]
          ])
        )

        const [login, refresh] = yield* Effect.gen(function* () {
          const strategy = yield* AuthStrategy.AuthStrategy
          const first = yield* strategy.authenticate(Option.none())
          return [first, yield* strategy.authenticate(Option.some(first))] as const
        }).pipe(
          Effect.provide(AuthStrategy.layerConfig.pipe(Layer.provide(api.layer))),
          Effect.withConfigProvider(environment)
        )
        const machine = yield* fromConfig(
          { OPENSOLAR_TOKEN: secondToken, OPENSOLAR_ORG_ID: " 42 ", OPENSOLAR_TOKEN_LIFETIME: " " },
          api.layer
        )
        const machineWithLifetime = yield* fromConfig(
          { OPENSOLAR_TOKEN: secondToken, OPENSOLAR_TOKEN_LIFETIME: "2 days" },
          api.layer
        )
        const badBaseUrl = yield* fromConfig(
          { OPENSOLAR_TOKEN: secondToken, OPENSOLAR_BASE_URL: "http://api.opensolar.com", OPENSOLAR_ORG_ID: "" },
          api.layer
        )

        expect([login.strategy, refresh.strategy]).toEqual(["password", "session-refresh"])
        expect(Option.map(login.expiresAt, DateTime.toEpochMillis)).toEqual(
          Option.some(start + Duration.toMillis("2 days"))
        )
        expect((yield* api.calls).map((call) => [call.operation, call.orgId])).toEqual([
          ["login", undefined],
          ["fetchToken", 42]
        ])
        expect(Exit.map(machine, (grant) => [grant.strategy, grant.org, grant.orgs])).toEqual(
          Exit.succeed([
            "machine-user",
            Option.some(new TokenGrant.GrantOrg({ id: 42 })),
            [new TokenGrant.GrantOrg({ id: 42 })]
          ])
        )
        expect(failure(machineWithLifetime)).toMatchObject({
          _tag: "ConfigurationError",
          variables: ["OPENSOLAR_TOKEN_LIFETIME"]
        })
        expect(failure(machineWithLifetime)?.message).toContain("a machine user's token never expires")
        expect(failure(badBaseUrl)).toMatchObject({ _tag: "ConfigurationError", variables: ["OPENSOLAR_BASE_URL"] })
        expect(yield* api.calls).toHaveLength(2)
      })
    )

    it.effect("layerConfig fails with the configuration error", () =>
      Effect.gen(function* () {
        const api = yield* stubApi(() => Effect.succeed(response(firstToken)))

        const exit = yield* fromConfig({ OPENSOLAR_USERNAME: credentials.username }, api.layer)

        const error = failure(exit)
        expect(error?._tag).toBe("ConfigurationError")
        expect(error?.message).toContain("OPENSOLAR_PASSWORD")
      })
    )
  })

  describe("against the simulator", () => {
    const log = Effect.flatMap(Simulator, (sim) => sim.requestLog)
    const endpoints = Effect.map(log, (entries) => entries.map((entry) => `${entry.endpoint} ${entry.status}`))

    const run = <E>(strategy: AuthStrategy.Strategy<E, OpenSolarApi>, current = Option.none<TokenGrant.TokenGrant>()) =>
      drive(Effect.exit(strategy.authenticate(current)))

    const mfa = accounts.mfa
    const example = accounts.example

    it.effect("password logs in the docs' example account", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)

        const grant = yield* run(AuthStrategy.password(example))

        const granted = Exit.getOrElse(grant, () => undefined as never)
        expect(BearerToken.value(granted.token)).toMatch(/^[0-9a-f]{40}$/)
        expect(granted.strategy).toBe("password")
        expect(Option.map(granted.expiresAt, DateTime.toEpochMillis)).toEqual(
          Option.some(start + Duration.toMillis("7 days"))
        )
        expect(yield* endpoints).toEqual(["login 200"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("a wrong password yields InvalidCredentials with the Nearmap hint, after one request", () =>
      Effect.gen(function* () {
        const exit = yield* run(AuthStrategy.retry(AuthStrategy.password({ ...example, password: "illbeback" })))

        const error = failure(exit)
        expect(error).toBeInstanceOf(AuthError.InvalidCredentials)
        expect(error?.message).toContain("Nearmap")
        expect(error?.message).toContain("Forgot Password")
        expect(error?._tag === "InvalidCredentials" && error.hint).toContain("set an OpenSolar password")
        expect(error?.message).not.toContain('illbeback"')
        expect(yield* endpoints).toEqual(["login 400"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("password + TOTP logs in at the simulator's clock, and a second login waits for the next step", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const strategy = AuthStrategy.passwordWithMfa({ ...mfa, mfa: MfaCodeSource.totp(mfa.totpSecret) })

        const first = yield* run(strategy)
        const second = yield* run(strategy)

        expect(Exit.isSuccess(first) && first.value.strategy).toBe("password-mfa")
        expect(Exit.isSuccess(second)).toBe(true)
        const times = (yield* log).map((entry) => DateTime.toEpochMillis(entry.time))
        expect(times).toEqual([start, Math.ceil(start / 30_000) * 30_000])
        expect(yield* endpoints).toEqual(["login 200", "login 200"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("a TOTP code refused because the API's clock runs ahead is retried once with the next step's code", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const sim = yield* Simulator
        yield* sim.advanceClock("60 seconds")

        const exit = yield* run(AuthStrategy.passwordWithMfa({ ...mfa, mfa: MfaCodeSource.totp(mfa.totpSecret) }))

        expect(Exit.isSuccess(exit)).toBe(true)
        expect(yield* endpoints).toEqual(["login 400", "login 200"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("a wrong fixed code is sent once and fails with InvalidMfaCode; no code fails with MfaRequired", () =>
      Effect.gen(function* () {
        const wrongCode = yield* run(
          AuthStrategy.retry(AuthStrategy.passwordWithMfa({ ...mfa, mfa: MfaCodeSource.static("000000") }))
        )
        const noCode = yield* run(AuthStrategy.retry(AuthStrategy.password(mfa)))

        expect(failure(wrongCode)?._tag).toBe("InvalidMfaCode")
        expect(failure(noCode)?._tag).toBe("MfaRequired")
        expect(yield* endpoints).toEqual(["login 400", "login 400"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("session refresh keeps the issue time for the same token and restarts it for a new one", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const sim = yield* Simulator
        const login = Exit.getOrElse(yield* run(AuthStrategy.password(example)), () => undefined as never)
        yield* TestClock.adjust("1 day")

        yield* sim.setFetchTokenMode("same")
        const same = Exit.getOrElse(
          yield* run(AuthStrategy.sessionRefresh({ orgId: 1 }), Option.some(login)),
          () => undefined as never
        )
        yield* sim.setFetchTokenMode("rotate")
        const rotated = Exit.getOrElse(
          yield* run(AuthStrategy.sessionRefresh(), Option.some(same)),
          () => undefined as never
        )

        expect(BearerToken.equals(same.token, login.token)).toBe(true)
        expect(same.issuedAt).toEqual(login.issuedAt)
        expect(same.expiresAt).toEqual(login.expiresAt)
        expect(BearerToken.equals(rotated.token, login.token)).toBe(false)
        expect(DateTime.toEpochMillis(rotated.issuedAt)).toBe(start + Duration.toMillis("1 day"))
        expect((yield* log).map((entry) => `${entry.endpoint}${entry.search}`)).toEqual([
          "login",
          "fetchToken?org_id=1",
          "fetchToken"
        ])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("a machine user's token sends nothing", () =>
      Effect.gen(function* () {
        const exit = yield* run(AuthStrategy.machineUser(BearerToken.unsafeMake(accounts.machine.token)))

        expect(Exit.isSuccess(exit) && exit.value.isPermanent).toBe(true)
        expect(yield* log).toEqual([])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("standard falls back from a revoked session to password + TOTP", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const sim = yield* Simulator
        const strategy = AuthStrategy.standard({ ...mfa, mfa: MfaCodeSource.totp(mfa.totpSecret) })

        const first = Exit.getOrElse(yield* run(strategy), () => undefined as never)
        yield* TestClock.adjust("1 day")
        const refreshed = Exit.getOrElse(yield* run(strategy, Option.some(first)), () => undefined as never)
        yield* sim.revokeToken(BearerToken.value(refreshed.token))
        const relogged = Exit.getOrElse(yield* run(strategy, Option.some(refreshed)), () => undefined as never)

        expect([first.strategy, refreshed.strategy, relogged.strategy]).toEqual([
          "password-mfa",
          "session-refresh",
          "password-mfa"
        ])
        expect(yield* sim.tokenState(BearerToken.value(relogged.token))).toBe("valid")
        expect(yield* endpoints).toEqual(["login 200", "fetchToken 200", "fetchToken 401", "login 200"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("standard sends non-transient failures exactly once", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const strategy = AuthStrategy.retry(AuthStrategy.standard({ ...example, password: "wrong", orgId: 1 }))

        const exit = yield* run(strategy)
        const token = yield* sim.issueToken(example.username)
        const grant = grantOf(Redacted.value(token), yield* Clock.currentTimeMillis)
        yield* sim.injectFault({ endpoint: "fetchToken", fault: { _tag: "Status", status: 403 } })
        const forbidden = yield* run(strategy, Option.some(grant))

        expect(failure(exit)?._tag).toBe("InvalidCredentials")
        expect(failure(forbidden)?._tag).toBe("Forbidden")
        expect(yield* endpoints).toEqual(["login 400", "fetchToken 403"])
      }).pipe(Effect.provide(simulatorApi()))
    )

    it.effect("layerConfig authenticates with the configured MFA account", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)

        const grant = yield* drive(
          Effect.flatMap(AuthStrategy.AuthStrategy, (strategy) => strategy.authenticate(Option.none())).pipe(
            Effect.provide(AuthStrategy.layerConfig),
            Effect.withConfigProvider(
              ConfigProvider.fromMap(
                new Map([
                  ["OPENSOLAR_USERNAME", mfa.username],
                  ["OPENSOLAR_PASSWORD", mfa.password],
                  ["OPENSOLAR_TOTP_SECRET", `otpauth://totp/OpenSolar:${mfa.username}?secret=${mfa.totpSecret}`]
                ])
              )
            )
          )
        )

        expect(grant.strategy).toBe("password-mfa")
        expect(yield* endpoints).toEqual(["login 200"])
      }).pipe(Effect.provide(simulatorApi()))
    )
  })
})
