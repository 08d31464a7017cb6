/**
 * A token store in Redis, for a fleet of processes that share one OpenSolar account: they share the grant,
 * and a lock per key lets one of them refresh while the others wait and then adopt what it saved.
 *
 * Node only; needs the `ioredis` package, loaded when the layer is built.
 *
 * @since 0.1.0
 */
import type { RedisOptions } from "ioredis"
import { Duration, Either, Effect, Layer, Predicate, Redacted, type Scope } from "effect"
import * as AuthError from "./AuthError.js"
import * as duration from "./internal/duration.js"
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
   * Where Redis is: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS, with special characters
   * of the user and password percent-encoded. Its query may only set `family`, `username`, `password`, `name`,
   * `connectionName`, `sentinelUsername` and `sentinelPassword`. The password is never logged nor put in a message.
   *
   * @default "redis://127.0.0.1:6379"
   */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /**
   * Further `ioredis` options (TLS, Sentinel, timeouts, retry strategy). Host and port come from `url` only, and
   * `host`, `port` or `path` here is refused; the user, password and database come from the URL when it names
   * them. Options `ioredis` reads as numbers must be whole
   * numbers; its timeouts go up to 2147483647 milliseconds (about 24.8 days), the longest timer Node keeps.
   * Commands are never queued while disconnected, and `ioredis`'s own `keyPrefix` and `commandTimeout` are
   * ignored: use this store's.
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
   * time a lost connection takes to notice, and above the API's request timeout. From 1 millisecond to 1 hour.
   *
   * @default 30 seconds
   */
  readonly lockTtl?: Duration.DurationInput | undefined
  /**
   * How long a process waits for another's refresh before refreshing without the lock. From 1 millisecond to
   * 1 hour.
   *
   * @default 60 seconds
   */
  readonly waitTimeout?: Duration.DurationInput | undefined
  /**
   * How often a waiting process tries the lock again when no release notification arrives. From 1 millisecond to
   * 1 minute.
   *
   * @default 250 millis
   */
  readonly pollInterval?: Duration.DurationInput | undefined
  /**
   * How long one Redis command may take before it counts as failed. From 1 millisecond to 1 minute.
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

const configurationError = (reason: string, option: string) =>
  new AuthError.ConfigurationError({ reason: `RedisTokenStore: ${reason}`, variables: [option] })

interface DurationOption {
  readonly fallback: Duration.Duration
  readonly example: string
  readonly maximum: Duration.Duration
  readonly maximumText: string
}

// Each bound keeps the option useful and well inside what Redis expiries and Node's timers accept.
const durationOptions = {
  lockTtl: { fallback: Duration.seconds(30), example: "30 seconds", maximum: Duration.hours(1), maximumText: "1 hour" },
  waitTimeout: {
    fallback: Duration.seconds(60),
    example: "60 seconds",
    maximum: Duration.hours(1),
    maximumText: "1 hour"
  },
  pollInterval: {
    fallback: Duration.millis(250),
    example: "250 millis",
    maximum: Duration.minutes(1),
    maximumText: "1 minute"
  },
  commandTimeout: {
    fallback: Duration.seconds(2),
    example: "2 seconds",
    maximum: Duration.minutes(1),
    maximumText: "1 minute"
  }
} satisfies Record<string, DurationOption>

const decodeDuration = (
  name: keyof typeof durationOptions,
  input: unknown
): Either.Either<Duration.Duration, AuthError.ConfigurationError> => {
  const option: DurationOption = durationOptions[name]
  return input === undefined
    ? Either.right(option.fallback)
    : duration.check(input, { acceptsInfinity: true }).pipe(
        Either.filterOrLeft(Duration.lessThanOrEqualTo(option.maximum), () => `is longer than ${option.maximumText}`),
        Either.mapLeft((problem) =>
          configurationError(
            `${name} must be a duration from 1 millisecond to ${option.maximumText}, given as a Duration, a number ` +
              `of milliseconds or a text such as "${option.example}"; the ${name} given ${problem}`,
            name
          )
        )
      )
}

const settingsFrom = (input: unknown): Effect.Effect<internal.Settings, AuthError.ConfigurationError> =>
  Effect.gen(function* () {
    if (input !== undefined && input !== null && !Predicate.isRecord(input)) {
      return yield* configurationError(
        "the options must be an object, such as { url: process.env.REDIS_URL }",
        "options"
      )
    }
    const options: Options = input ?? {}

    const url = options.url ?? "redis://127.0.0.1:6379"
    const plainUrl = Redacted.isRedacted(url) ? Redacted.value(url) : url
    if (typeof plainUrl !== "string") {
      return yield* configurationError("url must be a text or a Redacted text, such as redis://host:6379", "url")
    }
    const urlProblem = internal.checkUrl(plainUrl)
    if (urlProblem !== undefined) {
      return yield* configurationError(`${urlProblem}.`, "url")
    }

    const redis = options.redis ?? {}
    if (!Predicate.isRecord(redis)) {
      return yield* configurationError("redis must be an object of ioredis options", "redis")
    }
    const redisProblem = internal.checkRedisOptions(redis)
    if (redisProblem !== undefined) {
      return yield* configurationError(
        `redis.${redisProblem.option} ${redisProblem.problem}.`,
        `redis.${redisProblem.option}`
      )
    }

    if (options.keyPrefix !== undefined && typeof options.keyPrefix !== "string") {
      return yield* configurationError('keyPrefix must be a text, such as "opensolar-auth:"', "keyPrefix")
    }

    return {
      url: Redacted.make(plainUrl),
      redis,
      keyPrefix: options.keyPrefix ?? defaultKeyPrefix,
      lockTtl: yield* decodeDuration("lockTtl", options.lockTtl),
      waitTimeout: yield* decodeDuration("waitTimeout", options.waitTimeout),
      pollInterval: yield* decodeDuration("pollInterval", options.pollInterval),
      commandTimeout: yield* decodeDuration("commandTimeout", options.commandTimeout)
    }
  })

/**
 * Connects to Redis for the lifetime of the scope and returns the store.
 *
 * Building it never fails because Redis is down: the store then warns once and behaves as a store that keeps
 * nothing, with refreshes taking turns within this process only, until Redis answers again. It fails with a
 * `ConfigurationError` naming the option for options that cannot work: a URL that is not a Redis URL, a duration
 * out of its range, an `ioredis` option of the wrong type, or `ioredis` not installed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options | undefined
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
export const layer = (
  options?: Options | undefined
): Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError> =>
  Layer.scoped(TokenStore.TokenStore, make(options))
