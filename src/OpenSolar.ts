/**
 * Everything wired together in one layer: the wire client, the strategy, the always-fresh token and the
 * authenticated `HttpClient`, over whichever platform `HttpClient` the program runs on.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { type Duration, Effect, Either, Layer, Redacted, Schema } from "effect"
import * as AuthError from "./AuthError.js"
import * as AuthStrategy from "./AuthStrategy.js"
import * as BaseUrl from "./BaseUrl.js"
import * as BearerToken from "./BearerToken.js"
import * as Credentials from "./Credentials.js"
import type * as MfaCodeSource from "./MfaCodeSource.js"
import * as OpenSolarApi from "./OpenSolarApi.js"
import * as OpenSolarClient from "./OpenSolarClient.js"
import * as OpenSolarConfig from "./OpenSolarConfig.js"
import * as TokenRef from "./TokenRef.js"

/**
 * The services {@link layer} and {@link layerConfig} provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = OpenSolarClient.OpenSolarClient | TokenRef.TokenRef | OpenSolarApi.OpenSolarApi

/**
 * Options of {@link layer}. Give either `username` and `password` (and `mfa` for an account with two-factor
 * authentication), or a machine user's `token`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API's base URL. @default "https://api.opensolar.com" */
  readonly baseUrl?: string | undefined
  /** The account's email address. */
  readonly username?: string | undefined
  /** The account's password; redacted from here on. */
  readonly password?: Redacted.Redacted<string> | string | undefined
  /** Where two-factor codes come from, for accounts that need them. @default none */
  readonly mfa?: MfaCodeSource.MfaCodeSource | undefined
  /** A machine user's token, which never expires; instead of `username` and `password`. */
  readonly token?: BearerToken.BearerToken | Redacted.Redacted<string> | string | undefined
  /** The organisation session refreshes are scoped to. @default none */
  readonly orgId?: number | undefined
  /** How long a standard token lives after issue. @default 7 days */
  readonly lifetime?: Duration.DurationInput | undefined
  /** How long one request to the token endpoints may take. @default 10 seconds */
  readonly timeout?: Duration.DurationInput | undefined
  /** Options of the authenticated client (redirects, timeout, retry policy). @default its defaults */
  readonly client?: Omit<OpenSolarClient.Options, "baseUrl"> | undefined
  /** When the token is refreshed (refresh ratio, safety margin, retries). @default its defaults */
  readonly tokenRef?: Omit<TokenRef.Options, "lifetime"> | undefined
}

interface Stack {
  readonly baseUrl: string
  readonly strategy: AuthStrategy.Strategy<AuthError.AuthError, OpenSolarApi.OpenSolarApi>
  readonly lifetime?: Duration.DurationInput | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly client?: Omit<OpenSolarClient.Options, "baseUrl"> | undefined
  readonly tokenRef?: Omit<TokenRef.Options, "lifetime"> | undefined
}

const stack = (settings: Stack): Layer.Layer<Services, AuthError.ConfigurationError, HttpClient.HttpClient> =>
  OpenSolarClient.layer({ ...settings.client, baseUrl: settings.baseUrl }).pipe(
    Layer.provideMerge(TokenRef.layerMemory({ ...settings.tokenRef, lifetime: settings.lifetime })),
    Layer.provide(AuthStrategy.layer(settings.strategy)),
    Layer.provideMerge(OpenSolarApi.layer({ baseUrl: settings.baseUrl, timeout: settings.timeout }))
  )

const misconfigured = (reason: string, ...variables: ReadonlyArray<string>) =>
  Effect.fail(new AuthError.ConfigurationError({ reason, variables }))

const chooseStrategy = (
  options: Options
): Effect.Effect<
  AuthStrategy.Strategy<AuthError.AuthError, OpenSolarApi.OpenSolarApi>,
  AuthError.ConfigurationError
> => {
  const hasLogin = options.username !== undefined || options.password !== undefined
  if (options.token !== undefined && hasLogin) {
    return misconfigured(
      "Give either a machine user's token or a username and password, not both",
      "token",
      "username",
      "password"
    )
  }
  if (options.token !== undefined) {
    const text = Redacted.isRedacted(options.token) ? Redacted.value(options.token) : options.token
    return Either.match(BearerToken.fromString(text), {
      onLeft: () => misconfigured("The token must be a non-empty string without white space", "token"),
      onRight: (token) => Effect.succeed(AuthStrategy.machineUser(token))
    })
  }
  if (options.username === undefined || options.password === undefined) {
    const missing = options.username === undefined ? "username" : "password"
    return hasLogin
      ? misconfigured(`A ${missing} is needed to log in`, missing)
      : misconfigured("Give a username and password, or a machine user's token", "username", "password", "token")
  }
  if (Either.isLeft(Schema.decodeUnknownEither(Credentials.Username)(options.username))) {
    return misconfigured(
      "The username must be the account's email address, without surrounding white space",
      "username"
    )
  }
  if (options.orgId !== undefined && Either.isLeft(Schema.decodeUnknownEither(Credentials.OrgId)(options.orgId))) {
    return misconfigured(`The organisation id must be a positive integer, got ${options.orgId}`, "orgId")
  }
  return Effect.succeed(
    AuthStrategy.standard({
      username: options.username,
      password: options.password,
      mfa: options.mfa,
      orgId: options.orgId,
      lifetime: options.lifetime
    })
  )
}

/**
 * The whole stack from options: `OpenSolarClient`, `TokenRef` and `OpenSolarApi`, over the platform `HttpClient`
 * you provide. It logs in on the first request, refreshes the session before the token expires, and keeps grants
 * in memory. Fails with a `ConfigurationError` naming the option to fix when the options cannot work.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"
 *
 * const OpenSolarLive = OpenSolar.layer({ username: "arnie@illbeback.com", password: "gettothechopper" }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* OpenSolarClient.OpenSolarClient
 *   const response = yield* client.forOrg(1).filterStatusOk.get("projects/")
 *   return yield* response.json
 * }).pipe(Effect.provide(OpenSolarLive))
 * ```
 */
export const layer = (options: Options): Layer.Layer<Services, AuthError.ConfigurationError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(chooseStrategy(options), (strategy) =>
      stack({
        baseUrl: options.baseUrl ?? BaseUrl.production,
        strategy,
        lifetime: options.lifetime,
        timeout: options.timeout,
        client: options.client,
        tokenRef: options.tokenRef
      })
    )
  )

/**
 * The whole stack from the environment (any `ConfigProvider`): `OPENSOLAR_BASE_URL`, `OPENSOLAR_USERNAME`,
 * `OPENSOLAR_PASSWORD`, `OPENSOLAR_MFA_CODE` or `OPENSOLAR_TOTP_SECRET`, or `OPENSOLAR_TOKEN` for a machine user,
 * `OPENSOLAR_ORG_ID` and `OPENSOLAR_TOKEN_LIFETIME`. Fails with one `ConfigurationError` naming every variable to
 * set or remove when the configuration cannot work.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"
 *
 * // OPENSOLAR_USERNAME=arnie@illbeback.com OPENSOLAR_PASSWORD=... OPENSOLAR_ORG_ID=1 node main.js
 * const OpenSolarLive = OpenSolar.layerConfig.pipe(Layer.provide(FetchHttpClient.layer))
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* OpenSolarClient.OpenSolarClient
 *   return yield* client.filterStatusOk.get("/api/orgs/1/")
 * }).pipe(Effect.provide(OpenSolarLive))
 * ```
 */
export const layerConfig: Layer.Layer<Services, AuthError.ConfigurationError, HttpClient.HttpClient> =
  Layer.unwrapEffect(
    Effect.map(OpenSolarConfig.load, (settings) =>
      stack({
        baseUrl: settings.baseUrl,
        strategy: AuthStrategy.fromSettings(settings),
        lifetime: settings.lifetime
      })
    )
  )
