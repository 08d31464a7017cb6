/**
 * A token store in Redis, for a fleet of processes that share one OpenSolar account: they share the grant,
 * and a lock per key lets one of them refresh while the others wait and then adopt what it saved.
 *
 * Node only; needs the `ioredis` package, loaded when the layer is built.
 *
 * @since 0.1.0
 */
import type { RedisOptions } from "ioredis"
import { Duration, Effect, Layer, Redacted, type Scope } from "effect"
import * as AuthError from "./AuthError.js"
import * as internal from "./internal/redisTokenStore.js"
import * as TokenStore from "./TokenStore.js"

/**
 * Options of the Redis token store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Where Redis is: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The password is never
   * logged nor put in a message.
   *
   * @default "redis://127.0.0.1:6379"
   */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /**
   * Further `ioredis` options (TLS, Sentinel, timeouts, retry strategy), applied over the URL. Commands are never
   * queued while disconnected, and `ioredis`'s own `keyPrefix` is ignored: use this store's `keyPrefix`.
   */
  readonly redis?: RedisOptions | undefined
  /**
   * Prefix of every Redis key and channel this store uses. A grant is kept under the prefix followed by the text
   * form of its key, its lock under `<prefix>lock:…`, and releases are announced on `<prefix>released:…`.
   *
   * @default "opensolar-auth:"
   */
  readonly keyPrefix?: string | undefined
  /**
   * How long a refresh lock lasts unless its holder extends it. The holder extends it every third of this while
   * its refresh runs, so it only bounds how long the others wait after the holder dies: keep it well above the
   * time a lost connection takes to notice, and above the API's request timeout.
   *
   * @default 30 seconds
   */
  readonly lockTtl?: Duration.DurationInput | undefined
  /**
   * How long a process waits for another's refresh before refreshing without the lock.
   *
   * @default 60 seconds
   */
  readonly waitTimeout?: Duration.DurationInput | undefined
  /**
   * How often a waiting process tries the lock again when no release notification arrives.
   *
   * @default 250 millis
   */
  readonly pollInterval?: Duration.DurationInput | undefined
  /**
   * How long one Redis command may take before it counts as failed.
   *
   * @default 2 seconds
   */
  readonly commandTimeout?: Duration.DurationInput | undefined
}

/**
 * The default prefix of Redis keys and channels.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultKeyPrefix = "opensolar-auth:"

const configurationError = (reason: string) => new AuthError.ConfigurationError({ reason, variables: [] })

const positiveDuration = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.DurationInput
): Effect.Effect<Duration.Duration, AuthError.ConfigurationError> => {
  const duration = Duration.decodeUnknown(input ?? fallback)
  return duration._tag === "Some" && Duration.isFinite(duration.value) && Duration.toMillis(duration.value) >= 1
    ? Effect.succeed(duration.value)
    : Effect.fail(configurationError(`The Redis token store's ${name} must be a finite duration of at least 1 ms.`))
}

const settingsFrom = (options: Options): Effect.Effect<internal.Settings, AuthError.ConfigurationError> =>
  Effect.gen(function* () {
    const url = Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url ?? "redis://127.0.0.1:6379")
    const urlProblem = internal.checkUrl(Redacted.value(url))
    if (urlProblem !== undefined) {
      return yield* Effect.fail(configurationError(`The Redis token store cannot connect: ${urlProblem}.`))
    }

    return {
      url,
      redis: options.redis ?? {},
      keyPrefix: options.keyPrefix ?? defaultKeyPrefix,
      lockTtl: yield* positiveDuration("lockTtl", options.lockTtl, "30 seconds"),
      waitTimeout: yield* positiveDuration("waitTimeout", options.waitTimeout, "60 seconds"),
      pollInterval: yield* positiveDuration("pollInterval", options.pollInterval, "250 millis"),
      commandTimeout: yield* positiveDuration("commandTimeout", options.commandTimeout, "2 seconds")
    }
  })

/**
 * Connects to Redis for the lifetime of the scope and returns the store.
 *
 * Building it never fails because Redis is down: the store then warns once and behaves as a store that keeps
 * nothing, with refreshes taking turns within this process only, until Redis answers again.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<TokenStore.Service, AuthError.ConfigurationError, Scope.Scope> =>
  Effect.flatMap(settingsFrom(options), internal.make)

/**
 * The Redis token store as a layer: one connection (and one subscriber connection) for the layer's lifetime.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { TokenRef } from "effect-opensolar-auth"
 * import { RedisTokenStore } from "effect-opensolar-auth/redis"
 *
 * // Every process of the fleet files the grant under the same key and shares one refresh.
 * const Tokens = TokenRef.layer({
 *   storeKey: { baseUrl: "https://api.opensolar.com", subject: "arnie@illbeback.com", orgId: 1 }
 * }).pipe(Layer.provide(RedisTokenStore.layer({ url: process.env.REDIS_URL, lockTtl: "30 seconds" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError> =>
  Layer.scoped(TokenStore.TokenStore, make(options))
