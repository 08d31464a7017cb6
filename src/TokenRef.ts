/**
 * The always-fresh bearer token: the layer other programs compose to get a valid token at any moment.
 *
 * A `TokenRef` holds the current grant and hands out its token with one read of a reference and one of the
 * clock. Past the grant's refresh point (issued-at + lifetime × `refreshRatio`, moved at random by up to
 * `jitter`) it still hands out the token and renews it in the background, retrying with `retryPolicy`. Past
 * the hard deadline (expires-at − `safetyMargin`), or with no grant at all, callers wait for one shared
 * refresh. Grants are loaded from and saved to the {@link TokenStore.TokenStore} under `storeKey`, so a
 * restarted program does not log in again while its grant is valid.
 *
 * Each refresh is a `TokenRef.refresh` span with the strategy, the reason (`initial`, `proactive`, `deadline`,
 * `invalidated`, `forced`), the replaced token's fingerprint, the outcome (`renewed`, `unchanged` when the
 * strategy answered the same token, `adopted` when another process had stored a newer grant, `failed`) and
 * either the new token's fingerprint or the error's tag; tokens appear by fingerprint only. {@link metrics}
 * count refreshes, callers that waited for one, and stale tokens handed out.
 *
 * @since 0.1.0
 */
import type { Schedule, Scope } from "effect"
import { Context, DateTime, type Duration, Effect, Layer, Option, Schema, Stream } from "effect"
import * as AuthError from "./AuthError.js"
import * as AuthStrategy from "./AuthStrategy.js"
import * as BearerToken from "./BearerToken.js"
import * as internal from "./internal/tokenRef.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as TokenGrant from "./TokenGrant.js"
import * as TokenStore from "./TokenStore.js"

/**
 * An always-fresh token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A token that is valid now, refreshing first when there is none or it is past its deadline. */
  readonly get: Effect.Effect<BearerToken.BearerToken, AuthError.AuthError>
  /** The current grant, without any refresh. */
  readonly current: Effect.Effect<Option.Option<TokenGrant.TokenGrant>>
  /** Marks `token` as rejected; the next `get` refreshes, unless `token` was already replaced. */
  readonly invalidate: (token: BearerToken.BearerToken) => Effect.Effect<void>
  /** Obtains a new grant now, joining a refresh already in flight. */
  readonly refresh: Effect.Effect<TokenGrant.TokenGrant, AuthError.AuthError>
  /** Every new grant, as it is installed. */
  readonly changes: Stream.Stream<TokenGrant.TokenGrant>
}

/**
 * The always-fresh token as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenRef extends Context.Tag("effect-opensolar-auth/TokenRef")<TokenRef, Service>() {}

/**
 * How a {@link TokenRef} schedules its refreshes. Every option is optional; durations are a `Duration`, a number
 * of milliseconds or a text such as `"10 minutes"`, and at most 100 years.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * How long a token lives after it is issued, from 1 millisecond to 100 years; set on every grant that expires.
   * @default 7 days
   */
  readonly lifetime?: Duration.DurationInput | undefined
  /** The fraction of the lifetime after which a grant is renewed in the background; above 0, below 1. @default 0.8 */
  readonly refreshRatio?: number | undefined
  /**
   * How far, either way, the refresh point moves at random, so that processes started together do not all
   * refresh at the same moment; zero or more. @default 2% of the lifetime
   */
  readonly jitter?: Duration.DurationInput | undefined
  /** How long before it expires a token stops being handed out: the hard deadline; zero or more. @default 60 seconds */
  readonly safetyMargin?: Duration.DurationInput | undefined
  /**
   * The longest the background fiber sleeps before it looks at the wall clock again, so that it notices a
   * machine that slept past a refresh point. Callers never depend on it: every `get` reads the clock itself.
   * @default 1% of the lifetime, at least 1 minute (about 1 hour 41 minutes for 7 days)
   */
  readonly wakeInterval?: Duration.DurationInput | undefined
  /**
   * When a failed background refresh is tried again. Retries end at the deadline; a policy that gives up on a
   * transient error before then starts again one `wakeInterval` later, and an error it does not retry ends
   * the background refreshes of that grant. A refresh that callers wait for is tried once.
   * @default RetryPolicy.default
   */
  readonly retryPolicy?: Schedule.Schedule<unknown, AuthError.AuthError> | undefined
  /**
   * What grants are loaded and saved under in the {@link TokenStore.TokenStore}: the API, the user and the
   * organisation. Without it the store is not used and grants live as long as the `TokenRef`.
   */
  readonly storeKey?: TokenStore.StoreKey | undefined
}

/**
 * Makes a `TokenRef` over the {@link AuthStrategy.AuthStrategy} and {@link TokenStore.TokenStore} in context.
 * It first loads the stored grant; the first `get` without a valid grant obtains one. The background fiber
 * lives in the scope: closing it stops every refresh, and no request follows. Fails with a
 * `ConfigurationError` naming the option for options that cannot work, such as a duration that is not one or
 * a refresh point after the deadline.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TokenRef } from "effect-opensolar-auth"
 *
 * const program = Effect.gen(function* () {
 *   const tokens = yield* TokenRef.make({ refreshRatio: 0.75 })
 *   return yield* tokens.get
 * })
 * ```
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  Service,
  AuthError.ConfigurationError,
  AuthStrategy.AuthStrategy | TokenStore.TokenStore | Scope.Scope
> =>
  Effect.gen(function* () {
    const settings = yield* internal.resolveOptions(options, RetryPolicy.default)
    const strategy = yield* AuthStrategy.AuthStrategy
    const store = yield* TokenStore.TokenStore
    return yield* internal.make(settings, strategy, store)
  })

/**
 * Makes a `TokenRef` for a machine user's token, which never expires: `get` always answers it, and no
 * request is ever made. `invalidate` cannot replace it; a rejected machine-user token must be configured anew.
 * Given something other than a `BearerToken` (such as plain text), it makes a `TokenRef` whose `get` and
 * `refresh` fail with a `ConfigurationError` naming `token`, and which has no grant.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStatic = (token: BearerToken.BearerToken): Effect.Effect<Service> =>
  Effect.gen(function* () {
    if (!isBearerToken(token)) {
      return notAToken
    }

    const grant = new TokenGrant.TokenGrant({
      token,
      issuedAt: yield* DateTime.now,
      expiresAt: Option.none(),
      user: new TokenGrant.GrantUser({ isMachineUser: true }),
      org: Option.none(),
      orgs: [],
      strategy: "static"
    })
    const current = Effect.succeed(Option.some(grant))

    return {
      get: Effect.succeed(token),
      current,
      invalidate: (rejected) =>
        BearerToken.equals(rejected, token)
          ? Effect.logDebug(
              `TokenRef: the machine-user token ${grant.fingerprint} was rejected; a static token cannot be replaced`
            )
          : Effect.void,
      refresh: Effect.succeed(grant),
      changes: Stream.empty
    }
  })

const isBearerToken = Schema.is(Schema.typeSchema(BearerToken.BearerToken))

// The value is never shown: it may be a token given the wrong way.
const notATokenError = Effect.fail(
  new AuthError.ConfigurationError({
    reason:
      "TokenRef.makeStatic: the token must be a BearerToken, made from text without white space with " +
      "BearerToken.fromString or BearerToken.unsafeMake",
    variables: ["token"]
  })
)

const notAToken: Service = {
  get: notATokenError,
  current: Effect.succeedNone,
  invalidate: () => Effect.void,
  refresh: notATokenError,
  changes: Stream.empty
}

/**
 * The `TokenRef` as a layer, over an {@link AuthStrategy.AuthStrategy} and a {@link TokenStore.TokenStore}.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { TokenRef } from "effect-opensolar-auth"
 * import { FileTokenStore } from "effect-opensolar-auth/node"
 *
 * const Tokens = TokenRef.layer({
 *   storeKey: { baseUrl: "https://api.opensolar.com", subject: "arnie@illbeback.com" }
 * }).pipe(Layer.provide(FileTokenStore.layer()))
 * ```
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TokenRef, AuthError.ConfigurationError, AuthStrategy.AuthStrategy | TokenStore.TokenStore> =>
  Layer.scoped(TokenRef, make(options))

/**
 * The `TokenRef` as a layer over an {@link AuthStrategy.AuthStrategy}, keeping grants in memory only.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (
  options: Options = {}
): Layer.Layer<TokenRef, AuthError.ConfigurationError, AuthStrategy.AuthStrategy> =>
  Layer.provide(layer(options), TokenStore.layerMemory)

/**
 * A `TokenRef` for a machine user's token, which never expires and is never refreshed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (token: BearerToken.BearerToken): Layer.Layer<TokenRef> =>
  Layer.effect(TokenRef, makeStatic(token))

/**
 * The metrics every `TokenRef` records: `refreshes` (tagged with `reason` and `outcome`), `joinedRefreshes`
 * (callers that waited for a refresh another had started) and `staleTokensServed` (tokens handed out past
 * their refresh point while a background refresh renews them).
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  refreshes: internal.refreshes,
  joinedRefreshes: internal.joinedRefreshes,
  staleTokensServed: internal.staleTokensServed
} as const
