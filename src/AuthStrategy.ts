/**
 * How a token grant is obtained: by password, by password and two-factor code, by refreshing the current
 * session, from a machine user's fixed token, or by falling back from one to another.
 *
 * Strategies are values: combine them with {@link orElse}, {@link retry} and {@link timeout}, then hand one
 * to {@link layer}. A strategy's type names the errors it can still fail with and the services it needs.
 *
 * @since 0.1.0
 */
import type { Predicate, Schedule } from "effect"
import { Clock, Context, DateTime, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { constTrue, dual } from "effect/Function"
import * as AuthError from "./AuthError.js"
import type * as BearerToken from "./BearerToken.js"
import * as Credentials from "./Credentials.js"
import * as duration from "./internal/duration.js"
import * as MfaCodeSource from "./MfaCodeSource.js"
import { OpenSolarApi, toGrant } from "./OpenSolarApi.js"
import * as OpenSolarConfig from "./OpenSolarConfig.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as TokenGrant from "./TokenGrant.js"

/**
 * A way to obtain a grant. `authenticate` receives the current grant, if any, and yields a new one or fails
 * with `E`, which says exactly which errors remain possible; `R` is what it needs, such as `OpenSolarApi`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Strategy<out E = AuthError.AuthError, out R = never> {
  readonly name: string
  readonly authenticate: (current: Option.Option<TokenGrant.TokenGrant>) => Effect.Effect<TokenGrant.TokenGrant, E, R>
}

/**
 * The strategy a {@link TokenRef} uses, as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthStrategy extends Context.Tag("effect-opensolar-auth/AuthStrategy")<AuthStrategy, Strategy>() {}

/**
 * Whether a value is a {@link Strategy}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isStrategy = (u: unknown): u is Strategy<unknown, unknown> =>
  typeof u === "object" &&
  u !== null &&
  "name" in u &&
  typeof u.name === "string" &&
  "authenticate" in u &&
  typeof u.authenticate === "function"

/**
 * Makes a strategy from a name and a function, recording one span per attempt: the strategy's name, the
 * outcome and the obtained token's fingerprint (never the token).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <E, R>(
  name: string,
  authenticate: (current: Option.Option<TokenGrant.TokenGrant>) => Effect.Effect<TokenGrant.TokenGrant, E, R>
): Strategy<E, R> => ({
  name,
  authenticate: (current) =>
    authenticate(current).pipe(
      Effect.tapBoth({
        onSuccess: (grant) =>
          Effect.annotateCurrentSpan({
            "opensolar.auth.outcome": "success",
            "opensolar.token.fingerprint": grant.fingerprint
          }),
        onFailure: (error) =>
          Effect.annotateCurrentSpan({ "opensolar.auth.outcome": "failure", "opensolar.auth.error": errorName(error) })
      }),
      Effect.withSpan("AuthStrategy.authenticate", { attributes: { "opensolar.auth.strategy": name } })
    )
})

const errorName = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : "unknown"

/**
 * Options of {@link password}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PasswordOptions {
  /** The account's email address. */
  readonly username: string
  readonly password: Redacted.Redacted<string> | string
  /**
   * How long a token lives after issue, from 1 millisecond to 100 years; anything else fails every attempt with
   * a `ConfigurationError` naming `lifetime`, before any request. @default TokenGrant.standardLifetime (7 days)
   */
  readonly lifetime?: Duration.DurationInput | undefined
}

const redact = (secret: Redacted.Redacted<string> | string): Redacted.Redacted<string> =>
  Redacted.isRedacted(secret) ? secret : Redacted.make(secret)

/**
 * Logs in with email and password (`POST /api-token-auth/`). Grants carry `strategy: "password"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const password: {
  (options: PasswordOptions & { readonly lifetime?: undefined }): Strategy<AuthError.ApiError, OpenSolarApi>
  (options: PasswordOptions): Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
} = ((options: PasswordOptions): Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi> => {
  const secret = redact(options.password)
  // Decoding an absent lifetime cannot fail, which makes the overload without a lifetime exact.
  const lifetime = duration.decodeLifetime(options.lifetime)
  return make("password", () =>
    Effect.gen(function* () {
      const checkedLifetime = yield* lifetime
      const api = yield* OpenSolarApi

      const response = yield* api.login({ username: options.username, password: secret })
      return yield* toGrant(response, { strategy: "password", lifetime: checkedLifetime })
    })
  )
}) as typeof password

/**
 * Options of {@link passwordWithMfa}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PasswordWithMfaOptions extends PasswordOptions {
  /** Where the two-factor codes come from. */
  readonly mfa: MfaCodeSource.MfaCodeSource
}

/**
 * Logs in with email, password and a two-factor code asked of `mfa` afresh for every attempt. A refused
 * code is followed by one more attempt with the source's `afterRejection` code (a TOTP source's next step,
 * for a clock that lags the API's); a fixed code is never retried. Grants carry `strategy: "password-mfa"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const passwordWithMfa: {
  (
    options: PasswordWithMfaOptions & { readonly lifetime?: undefined }
  ): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable, OpenSolarApi>
  (
    options: PasswordWithMfaOptions
  ): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError, OpenSolarApi>
} = ((
  options: PasswordWithMfaOptions
): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError, OpenSolarApi> => {
  const secret = redact(options.password)
  // Decoding an absent lifetime cannot fail, which makes the overload without a lifetime exact.
  const lifetime = duration.decodeLifetime(options.lifetime)
  return make("password-mfa", () =>
    Effect.gen(function* () {
      const checkedLifetime = yield* lifetime
      const api = yield* OpenSolarApi
      const login = (mfaCode: Redacted.Redacted<string>) =>
        api.login({ username: options.username, password: secret, mfaCode })

      const response = yield* options.mfa.next.pipe(
        Effect.flatMap(login),
        Effect.catchTag("InvalidMfaCode", (refused) =>
          Option.match(options.mfa.afterRejection, {
            onNone: () => Effect.fail(refused),
            onSome: (code) =>
              Effect.logDebug("the two-factor code was refused; trying the next one once").pipe(
                Effect.zipRight(Effect.flatMap(code, login))
              )
          })
        )
      )

      return yield* toGrant(response, { strategy: "password-mfa", lifetime: checkedLifetime })
    })
  )
}) as typeof passwordWithMfa

/**
 * Options of {@link sessionRefresh}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionRefreshOptions {
  /** The organisation the answer is scoped to (`?org_id=`), a positive whole number. @default none */
  readonly orgId?: number | undefined
  /**
   * How long a newly issued token lives, from 1 millisecond to 100 years.
   * @default TokenGrant.standardLifetime (7 days)
   */
  readonly lifetime?: Duration.DurationInput | undefined
}

/**
 * Refreshes the current session (`GET /api/fetch_token/`) with the current grant's token. Fails with
 * `TokenRejected` when there is no current grant or it has expired (without a request), or when the API refuses
 * the token. When the API answers with the same token string, the grant keeps its original issue and expiry
 * times. An `orgId` or `lifetime` that cannot work fails every attempt with a `ConfigurationError` naming it,
 * before any request. Grants carry `strategy: "session-refresh"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sessionRefresh: {
  (options?: { readonly orgId?: undefined; readonly lifetime?: undefined }): Strategy<AuthError.ApiError, OpenSolarApi>
  (options: SessionRefreshOptions): Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi>
} = ((
  options: SessionRefreshOptions = {}
): Strategy<AuthError.ApiError | AuthError.ConfigurationError, OpenSolarApi> => {
  // Decoding an absent orgId and lifetime cannot fail, which makes the overload without them exact.
  const orgId = decodeOrgId(options.orgId)
  const lifetime = duration.decodeLifetime(options.lifetime)
  return make("session-refresh", (current) =>
    Effect.gen(function* () {
      const checkedOrgId = yield* orgId
      const checkedLifetime = yield* lifetime
      const api = yield* OpenSolarApi
      const now = yield* Clock.currentTimeMillis

      // An expired token would only be refused: sending it costs a request and shows the API a dead credential.
      if (Option.isNone(current) || TokenGrant.isExpiredAt(current.value, now)) {
        const query = checkedOrgId === undefined ? "" : `?org_id=${checkedOrgId}`
        return yield* new AuthError.TokenRejected({ method: "GET", url: `${api.baseUrl}/api/fetch_token/${query}` })
      }

      const response = yield* api.fetchToken({ token: current.value.token, orgId: checkedOrgId })
      const grant = yield* toGrant(response, { strategy: "session-refresh", lifetime: checkedLifetime })
      return TokenGrant.continueFrom(current, grant)
    })
  )
}) as typeof sessionRefresh

const decodeOrgId = (orgId: number | undefined): Either.Either<number | undefined, AuthError.ConfigurationError> =>
  orgId === undefined || Schema.is(Credentials.OrgId)(orgId)
    ? Either.right(orgId)
    : Either.left(
        new AuthError.ConfigurationError({
          reason: `orgId must be an OpenSolar organisation id, a positive whole number; got ${String(orgId)}`,
          variables: ["orgId"]
        })
      )

/**
 * What is known about a machine user's token, recorded in its grants.
 *
 * @since 0.1.0
 * @category models
 */
export interface MachineUserMetadata {
  readonly user?: TokenGrant.GrantUser | undefined
  readonly org?: TokenGrant.GrantOrg | undefined
  readonly orgs?: ReadonlyArray<TokenGrant.GrantOrg> | undefined
}

/**
 * A machine user's fixed token: it never expires (`expiresAt` is `None`) and obtaining it sends no request.
 * Only an OpenSolar {@link BearerToken.BearerToken} is accepted — a Nearmap imagery token does not compile.
 * Grants carry `strategy: "machine-user"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const machineUser = (token: BearerToken.BearerToken, metadata: MachineUserMetadata = {}): Strategy<never> =>
  make("machine-user", (current) =>
    Effect.map(Clock.currentTimeMillis, (now) =>
      TokenGrant.continueFrom(
        current,
        new TokenGrant.TokenGrant({
          token,
          issuedAt: DateTime.unsafeMake(now),
          expiresAt: Option.none(),
          user: metadata.user ?? new TokenGrant.GrantUser({ isMachineUser: true }),
          org: Option.fromNullable(metadata.org),
          orgs:
            metadata.orgs ??
            Option.getOrElse(
              Option.map(Option.fromNullable(metadata.org), (org) => [org]),
              () => []
            ),
          strategy: "machine-user"
        })
      )
    )
  )

type Tag<E> = E extends { readonly _tag: infer T extends string } ? T : never

// In the data-last form of orElse, `self` is known only when the returned function is applied: a tag in `on` that
// none of its errors has turns the parameter into a type no strategy has, whose property the compiler then shows.
type FallsBackOn<T extends string, E> = [Exclude<T, Tag<E>>] extends [never]
  ? unknown
  : { readonly "orElse: these tags name no error of this strategy": Exclude<T, Tag<E>> }

/**
 * Tries `self`, and `that` when `self` fails with an error chosen by `options` (every error, without them).
 * The errors of `self` that fall back leave the error type: falling back on `TokenRejected` from a
 * `Strategy<TokenRejected | Forbidden>` to a `Strategy<InvalidCredentials>` gives a
 * `Strategy<Forbidden | InvalidCredentials>`. In both forms, `on` may name only tags of the errors `self` can fail
 * with, so that a misspelt tag does not compile instead of never falling back.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * ```ts
 * import { AuthStrategy } from "effect-opensolar-auth"
 *
 * const strategy = AuthStrategy.orElse(
 *   AuthStrategy.sessionRefresh(),
 *   AuthStrategy.password({ username: "arnie@illbeback.com", password: "gettothechopper" }),
 *   { on: ["TokenRejected"] }
 * )
 * ```
 */
export const orElse: {
  <In, X extends In, E2, R2>(
    that: Strategy<E2, R2>,
    options: { readonly when: Predicate.Refinement<In, X> }
  ): <E1 extends In, R1>(self: Strategy<E1, R1>) => Strategy<Exclude<E1, X> | E2, R1 | R2>
  <const T extends string, E2, R2>(
    that: Strategy<E2, R2>,
    options: { readonly on: ReadonlyArray<T> }
  ): <E1, R1>(self: Strategy<E1, R1> & FallsBackOn<T, E1>) => Strategy<Exclude<E1, { readonly _tag: T }> | E2, R1 | R2>
  <In, E2, R2>(
    that: Strategy<E2, R2>,
    options: { readonly when: Predicate.Predicate<In> }
  ): <E1 extends In, R1>(self: Strategy<E1, R1>) => Strategy<E1 | E2, R1 | R2>
  <E2, R2>(that: Strategy<E2, R2>): <E1, R1>(self: Strategy<E1, R1>) => Strategy<E2, R1 | R2>
  <E1, R1, X extends E1, E2, R2>(
    self: Strategy<E1, R1>,
    that: Strategy<E2, R2>,
    options: { readonly when: Predicate.Refinement<NoInfer<E1>, X> }
  ): Strategy<Exclude<E1, X> | E2, R1 | R2>
  <E1, R1, E2, R2>(
    self: Strategy<E1, R1>,
    that: Strategy<E2, R2>,
    options: { readonly when: Predicate.Predicate<NoInfer<E1>> }
  ): Strategy<E1 | E2, R1 | R2>
  <E1, R1, const T extends Tag<E1>, E2, R2>(
    self: Strategy<E1, R1>,
    that: Strategy<E2, R2>,
    options: { readonly on: ReadonlyArray<T> }
  ): Strategy<Exclude<E1, { readonly _tag: T }> | E2, R1 | R2>
  <E1, R1, E2, R2>(self: Strategy<E1, R1>, that: Strategy<E2, R2>): Strategy<E2, R1 | R2>
} = dual(
  (args) => isStrategy(args[1]),
  <E1, R1, E2, R2>(
    self: Strategy<E1, R1>,
    that: Strategy<E2, R2>,
    options?: { readonly when: Predicate.Predicate<E1> } | { readonly on: ReadonlyArray<string> }
  ): Strategy<E1 | E2, R1 | R2> => {
    const fallsBack = fallbackPredicate(options)
    return {
      name: `${self.name} | ${that.name}`,
      authenticate: (current) =>
        self
          .authenticate(current)
          .pipe(
            Effect.catchIf(fallsBack, (error) =>
              Effect.logDebug(`${self.name} failed; falling back to ${that.name}`).pipe(
                Effect.annotateLogs("error", errorName(error)),
                Effect.zipRight(that.authenticate(current))
              )
            )
          )
    }
  }
)

const fallbackPredicate = <E>(
  options: { readonly when: Predicate.Predicate<E> } | { readonly on: ReadonlyArray<string> } | undefined
): Predicate.Predicate<E> => {
  if (options === undefined) {
    return constTrue
  }
  if ("when" in options) {
    return options.when
  }
  const tags = new Set(options.on)
  return (error) => tags.has(errorName(error))
}

/**
 * Tries a strategy again according to a retry policy ({@link RetryPolicy.default} unless given): transient
 * errors are retried with backoff, credentials errors never.
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  (): <E extends AuthError.AuthError, R>(self: Strategy<E, R>) => Strategy<E, R>
  <In, R2>(policy: Schedule.Schedule<unknown, In, R2>): <E extends In, R>(self: Strategy<E, R>) => Strategy<E, R | R2>
  <E extends AuthError.AuthError, R>(self: Strategy<E, R>): Strategy<E, R>
  <E, R, R2>(self: Strategy<E, R>, policy: Schedule.Schedule<unknown, NoInfer<E>, R2>): Strategy<E, R | R2>
} = dual(
  (args) => isStrategy(args[0]),
  <E, R, R2>(
    self: Strategy<E, R>,
    policy: Schedule.Schedule<unknown, E, R2> = RetryPolicy.default as unknown as Schedule.Schedule<unknown, E>
  ): Strategy<E, R | R2> => ({
    name: self.name,
    authenticate: (current) => Effect.retry(self.authenticate(current), policy)
  })
)

/**
 * Fails with `RequestTimeout` when a strategy has not obtained a grant within `duration`, interrupting it. The
 * error's method is `AUTHENTICATE` and its URL the strategy's name.
 *
 * A `Duration` is always usable, so it adds no `ConfigurationError`: one shorter than a millisecond counts as one
 * millisecond, and one longer than 100 years (or `Duration.infinity`) sets no limit. Any other input (a number of
 * milliseconds, a text such as `"30 seconds"`) must be from 1 millisecond to 100 years; otherwise every attempt
 * fails with a `ConfigurationError` naming `timeout`, without starting the strategy.
 *
 * @since 0.1.0
 * @category combinators
 */
export const timeout: {
  (duration: Duration.Duration): <E, R>(self: Strategy<E, R>) => Strategy<E | AuthError.RequestTimeout, R>
  (
    duration: Duration.DurationInput
  ): <E, R>(self: Strategy<E, R>) => Strategy<E | AuthError.RequestTimeout | AuthError.ConfigurationError, R>
  <E, R>(self: Strategy<E, R>, duration: Duration.Duration): Strategy<E | AuthError.RequestTimeout, R>
  <E, R>(
    self: Strategy<E, R>,
    duration: Duration.DurationInput
  ): Strategy<E | AuthError.RequestTimeout | AuthError.ConfigurationError, R>
} = dual(
  2,
  <E, R>(
    self: Strategy<E, R>,
    input: Duration.DurationInput
  ): Strategy<E | AuthError.RequestTimeout | AuthError.ConfigurationError, R> => {
    const limit = Duration.isDuration(input)
      ? Either.right(usableLimit(input))
      : duration.decode(input, { name: "timeout", acceptsInfinity: true })
    return {
      name: self.name,
      authenticate: (current) =>
        Effect.flatMap(limit, (checkedLimit) =>
          Effect.timeoutFail(self.authenticate(current), {
            duration: checkedLimit,
            onTimeout: () =>
              new AuthError.RequestTimeout({
                method: "AUTHENTICATE",
                url: self.name,
                timeoutMillis: Duration.toMillis(checkedLimit)
              })
          })
        )
    }
  }
)

// Timers count whole milliseconds, and no attempt outlives a century: a Duration needs no check, only bounds.
const usableLimit = (limit: Duration.Duration): Duration.Duration =>
  Duration.lessThan(limit, Duration.millis(1))
    ? Duration.millis(1)
    : Duration.greaterThan(limit, duration.maximum)
      ? Duration.infinity
      : limit

/**
 * Options of {@link standard}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StandardOptions extends PasswordOptions {
  /** Where two-factor codes come from, for accounts with two-factor authentication. @default none */
  readonly mfa?: MfaCodeSource.MfaCodeSource | undefined
  /** The organisation session refreshes are scoped to, a positive whole number. @default none */
  readonly orgId?: number | undefined
}

/**
 * The usual way: the first grant by password (with a two-factor code when `mfa` is given), every later one
 * by refreshing the session, and by password again when the API rejects the session (`TokenRejected`).
 * Grants carry the name of the strategy that obtained them: `"session-refresh"`, `"password"` or
 * `"password-mfa"`.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { AuthStrategy, MfaCodeSource } from "effect-opensolar-auth"
 *
 * const strategy = AuthStrategy.standard({
 *   username: "arnie@illbeback.com",
 *   password: "gettothechopper",
 *   mfa: MfaCodeSource.totp("JBSWY3DPEHPK3PXP")
 * })
 * ```
 */
export const standard: {
  (
    options: StandardOptions & { readonly lifetime?: undefined; readonly orgId?: undefined }
  ): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable, OpenSolarApi>
  (
    options: StandardOptions
  ): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError, OpenSolarApi>
} = ((
  options: StandardOptions
): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError, OpenSolarApi> => {
  // The overload without an orgId or a lifetime is exact: then neither strategy below can fail to decode them.
  const login: Strategy<
    AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError,
    OpenSolarApi
  > =
    options.mfa === undefined
      ? password(options)
      : passwordWithMfa({
          username: options.username,
          password: options.password,
          mfa: options.mfa,
          lifetime: options.lifetime
        })
  const strategy = orElse(sessionRefresh({ orgId: options.orgId, lifetime: options.lifetime }), login, {
    on: ["TokenRejected"]
  })
  return { name: "standard", authenticate: strategy.authenticate }
}) as typeof standard

/**
 * The strategy described by configuration read by {@link OpenSolarConfig}: a machine user's token when
 * `OPENSOLAR_TOKEN` is set, its grants naming the `OPENSOLAR_ORG_ID` organisation as their `org`; otherwise
 * {@link standard} with codes from the TOTP secret or the fixed code, its session refreshes scoped to
 * `OPENSOLAR_ORG_ID`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings = (
  settings: OpenSolarConfig.OpenSolarSettings
): Strategy<AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError, OpenSolarApi> => {
  const credentials = settings.credentials
  if (credentials._tag === "MachineUser") {
    return machineUser(credentials.token, {
      org: Option.getOrUndefined(Option.map(settings.orgId, (id) => new TokenGrant.GrantOrg({ id })))
    })
  }
  return standard({
    username: credentials.username,
    password: credentials.password,
    mfa: Option.getOrUndefined(
      Option.map(credentials.mfa, (mfa) =>
        mfa._tag === "Totp" ? MfaCodeSource.totp(mfa.secret) : MfaCodeSource.static(mfa.code)
      )
    ),
    orgId: Option.getOrUndefined(settings.orgId),
    lifetime: settings.lifetime
  })
}

/**
 * A strategy as the {@link AuthStrategy} service; the services it needs are taken from the layer's context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E extends AuthError.AuthError, R>(
  strategy: Strategy<E, R>
): Layer.Layer<AuthStrategy, never, R> =>
  Layer.effect(
    AuthStrategy,
    Effect.map(Effect.context<R>(), (context) =>
      AuthStrategy.of({
        name: strategy.name,
        authenticate: (current) => Effect.provide(strategy.authenticate(current), context)
      })
    )
  )

/**
 * The {@link AuthStrategy} service chosen by configuration (see {@link fromSettings}), failing with one
 * `ConfigurationError` that names the variables to set or remove when the configuration cannot work.
 *
 * Its requests go wherever the `OpenSolarApi` it is given points. `OPENSOLAR_BASE_URL` is checked with the rest of
 * the configuration, so that every problem is reported at once, but the base URL belongs to the `OpenSolarApi`
 * layer (with its timeout and HTTP client): build that layer from the same settings, as
 * `OpenSolarApi.layer({ baseUrl: settings.baseUrl })` after `OpenSolarConfig.load`, or use `OpenSolar.layerConfig`,
 * which wires the API, the strategy, the token and the client from the environment in one layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<AuthStrategy, AuthError.ConfigurationError, OpenSolarApi> = Layer.unwrapEffect(
  Effect.map(OpenSolarConfig.load, (settings) => layer(fromSettings(settings)))
)
