/**
 * Everything wired together in one layer: the wire client, the strategy, the always-fresh token and the
 * authenticated `HttpClient`, over whichever platform `HttpClient` the program runs on. Give the plain platform
 * client (`NodeHttpClient.layerUndici`, `FetchHttpClient.layer`), never one wrapped with `HttpClient.followRedirects`:
 * a client that follows redirects itself carries the bearer token to wherever a redirect points.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { type Duration, Effect, Either, Layer, Option, Predicate, Redacted, Schema } from "effect"
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
import * as TokenStore from "./TokenStore.js"

/**
 * The services {@link layer} and {@link layerConfig} provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = OpenSolarClient.OpenSolarClient | TokenRef.TokenRef | OpenSolarApi.OpenSolarApi

/**
 * Where {@link layer} and {@link layerConfigWith} keep grants between runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions<StoreError = never, StoreRequirements = never> {
  /**
   * The token store: `FileTokenStore.layerNode()`, `RedisTokenStore.layer(...)`, `TokenStore.layerKeyValueStore()`
   * or `TokenStore.layerMemory`. Grants are filed under the base URL and the user, without the organisation, as the
   * `opensolar-auth` command files its logins, so a program and the command share them. A machine user's token is
   * never stored (it is at hand and never expires), and the store is then not built. @default TokenStore.layerMemory
   */
  readonly store?: Layer.Layer<TokenStore.TokenStore, StoreError, StoreRequirements> | undefined
}

/**
 * Options of {@link layer}. Give either `username` and `password` (and `mfa` for an account with two-factor
 * authentication), or a machine user's `token`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<StoreError = never, StoreRequirements = never>
  extends StoreOptions<StoreError, StoreRequirements> {
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
  /**
   * When the token is refreshed (refresh ratio, safety margin, retries); a `storeKey` here replaces the one
   * derived from the base URL and the user. @default its defaults
   */
  readonly tokenRef?: Omit<TokenRef.Options, "lifetime"> | undefined
}

interface Stack<StoreError, StoreRequirements> {
  readonly baseUrl: string
  readonly strategy: AuthStrategy.Strategy<AuthError.AuthError, OpenSolarApi.OpenSolarApi>
  readonly username: string | undefined
  readonly store: Layer.Layer<TokenStore.TokenStore, StoreError, StoreRequirements> | undefined
  readonly lifetime?: Duration.DurationInput | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly client?: Omit<OpenSolarClient.Options, "baseUrl"> | undefined
  readonly tokenRef?: Omit<TokenRef.Options, "lifetime"> | undefined
}

// The key `opensolar-auth` files its logins under: the base URL as the command decodes it, and the user. A token
// belongs to its user, whatever organisation a refresh is scoped to, so the organisation is left out and a program
// scoped to one organisation still finds the command's login.
const storeKeyOf = (baseUrl: string, username: string): TokenStore.StoreKey => ({
  baseUrl: Option.getOrElse(Schema.decodeUnknownOption(BaseUrl.BaseUrl)(baseUrl), () => baseUrl),
  subject: username
})

const stack = <StoreError, StoreRequirements>(
  settings: Stack<StoreError, StoreRequirements>
): Layer.Layer<Services, AuthError.ConfigurationError | StoreError, HttpClient.HttpClient | StoreRequirements> => {
  const storeKey =
    settings.tokenRef?.storeKey ??
    (settings.username === undefined ? undefined : storeKeyOf(settings.baseUrl, settings.username))
  const store = storeKey === undefined ? TokenStore.layerMemory : (settings.store ?? TokenStore.layerMemory)
  return OpenSolarClient.layer({ ...settings.client, baseUrl: settings.baseUrl }).pipe(
    Layer.provideMerge(TokenRef.layer({ ...settings.tokenRef, lifetime: settings.lifetime, storeKey })),
    Layer.provide(Layer.merge(AuthStrategy.layer(settings.strategy), store)),
    Layer.provideMerge(OpenSolarApi.layer({ baseUrl: settings.baseUrl, timeout: settings.timeout }))
  )
}

const misconfigured = (reason: string, ...variables: ReadonlyArray<string>) =>
  Effect.fail(new AuthError.ConfigurationError({ reason, variables }))

// The options are typed, but a program may build them from untyped data: what is not a store is refused here, before
// the layers are composed, rather than dying when the store is built.
const storeOf = <StoreError, StoreRequirements>(
  options: StoreOptions<StoreError, StoreRequirements>,
  owner: string
): Effect.Effect<
  Layer.Layer<TokenStore.TokenStore, StoreError, StoreRequirements> | undefined,
  AuthError.ConfigurationError
> => {
  const given: unknown = options
  if (given === undefined || given === null) {
    return Effect.succeed(undefined)
  }
  if (!Predicate.isRecord(given)) {
    return misconfigured(
      `${owner}: the options must be an object, such as { store: FileTokenStore.layerNode() }`,
      "options"
    )
  }
  if (given.store !== undefined && !Layer.isLayer(given.store)) {
    return misconfigured(
      `${owner}: store must be a Layer providing a TokenStore, such as FileTokenStore.layerNode(), or left out to ` +
        `keep grants in memory; got a value of type ${typeof given.store}`,
      "store"
    )
  }
  return Effect.succeed(options.store)
}

const chooseStrategy = (
  options: Options<unknown, unknown>
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
 * you provide, which must not follow redirects itself (no `HttpClient.followRedirects`). It logs in on the first
 * request, refreshes the session before the token expires, and keeps grants in the `store` (in memory unless given),
 * so that with a file or Redis a restarted program does not log in again.
 * Fails with a `ConfigurationError` naming the option to fix when the options cannot work.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"
 * import { FileTokenStore } from "effect-opensolar-auth/node"
 *
 * // The grant is kept in the file `opensolar-auth login` uses: restarts and the command share it.
 * const OpenSolarLive = OpenSolar.layer({
 *   username: "arnie@illbeback.com",
 *   password: "gettothechopper",
 *   store: FileTokenStore.layerNode()
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* OpenSolarClient.OpenSolarClient
 *   const response = yield* client.forOrg(1).filterStatusOk.get("projects/")
 *   return yield* response.json
 * }).pipe(Effect.provide(OpenSolarLive))
 * ```
 */
export const layer = <StoreError = never, StoreRequirements = never>(
  options: Options<StoreError, StoreRequirements>
): Layer.Layer<Services, AuthError.ConfigurationError | StoreError, HttpClient.HttpClient | StoreRequirements> =>
  Layer.unwrapEffect(
    Effect.flatMap(storeOf(options, "OpenSolar.layer"), (store) =>
      Effect.map(chooseStrategy(options), (strategy) =>
        stack({
          baseUrl: options.baseUrl ?? BaseUrl.production,
          strategy,
          username: options.token === undefined ? options.username : undefined,
          store,
          lifetime: options.lifetime,
          timeout: options.timeout,
          client: options.client,
          tokenRef: options.tokenRef
        })
      )
    )
  )

/**
 * The whole stack from the environment (any `ConfigProvider`), keeping grants in the `store`: `OPENSOLAR_BASE_URL`,
 * `OPENSOLAR_USERNAME`, `OPENSOLAR_PASSWORD`, `OPENSOLAR_MFA_CODE` or `OPENSOLAR_TOTP_SECRET`, or `OPENSOLAR_TOKEN`
 * for a machine user, `OPENSOLAR_ORG_ID` and `OPENSOLAR_TOKEN_LIFETIME`. Fails with one `ConfigurationError` naming
 * every variable to set or remove when the configuration cannot work, or naming `store` when it is not a layer.
 * The platform `HttpClient` you provide must not follow redirects itself.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"
 * import { FileTokenStore } from "effect-opensolar-auth/node"
 *
 * // OPENSOLAR_USERNAME=arnie@illbeback.com OPENSOLAR_PASSWORD=... node main.js
 * const OpenSolarLive = OpenSolar.layerConfigWith({ store: FileTokenStore.layerNode() }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* OpenSolarClient.OpenSolarClient
 *   return yield* client.filterStatusOk.get("/api/orgs/1/")
 * }).pipe(Effect.provide(OpenSolarLive))
 * ```
 */
export const layerConfigWith = <StoreError = never, StoreRequirements = never>(
  options: StoreOptions<StoreError, StoreRequirements>
): Layer.Layer<Services, AuthError.ConfigurationError | StoreError, HttpClient.HttpClient | StoreRequirements> =>
  Layer.unwrapEffect(
    Effect.flatMap(storeOf(options, "OpenSolar.layerConfigWith"), (store) =>
      Effect.map(OpenSolarConfig.load, (settings) =>
        stack({
          baseUrl: settings.baseUrl,
          strategy: AuthStrategy.fromSettings(settings),
          username: settings.credentials._tag === "Password" ? settings.credentials.username : undefined,
          store,
          lifetime: settings.lifetime
        })
      )
    )
  )

/**
 * The whole stack from the environment (any `ConfigProvider`), keeping grants in memory:
 * {@link layerConfigWith} without a store. `OPENSOLAR_BASE_URL`, `OPENSOLAR_USERNAME`, `OPENSOLAR_PASSWORD`,
 * `OPENSOLAR_MFA_CODE` or `OPENSOLAR_TOTP_SECRET`, or `OPENSOLAR_TOKEN` for a machine user, `OPENSOLAR_ORG_ID` and
 * `OPENSOLAR_TOKEN_LIFETIME`. Fails with one `ConfigurationError` naming every variable to set or remove when the
 * configuration cannot work. The platform `HttpClient` you provide must not follow redirects itself.
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
export const layerConfig: Layer.Layer<Services, AuthError.ConfigurationError, HttpClient.HttpClient> = layerConfigWith(
  {}
)
