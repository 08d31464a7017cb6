/**
 * The Redis token store: grants as versioned JSON with their expiry, and a lock per key with an owner, a
 * lease that the holder extends, and a pub/sub notification when it is released.
 *
 * @internal
 */
import { randomUUID } from "node:crypto"
import * as Os from "node:os"
import type { Redis as RedisClient, RedisOptions } from "ioredis"
import {
  Clock,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberId,
  Option,
  Redacted,
  Ref,
  Schedule,
  Schema,
  type Scope
} from "effect"
import * as AuthError from "../AuthError.js"
import type * as TokenGrant from "../TokenGrant.js"
import * as TokenStore from "../TokenStore.js"
import * as TokenStoreInternal from "./tokenStore.js"

/** @internal */
export interface Settings {
  readonly url: Redacted.Redacted<string>
  readonly redis: RedisOptions
  readonly keyPrefix: string
  readonly lockTtl: Duration.Duration
  readonly waitTimeout: Duration.Duration
  readonly pollInterval: Duration.Duration
  readonly commandTimeout: Duration.Duration
}

/** @internal */
export const grantKey = (keyPrefix: string, key: TokenStore.StoreKey): string => keyPrefix + TokenStore.keyToString(key)

/** @internal */
export const lockKey = (keyPrefix: string, key: TokenStore.StoreKey): string =>
  `${keyPrefix}lock:${TokenStore.keyToString(key)}`

/** @internal */
export const releaseChannel = (keyPrefix: string, key: TokenStore.StoreKey): string =>
  `${keyPrefix}released:${TokenStore.keyToString(key)}`

const releaseScript = `
if redis.call("get", KEYS[1]) == ARGV[1] then
  redis.call("del", KEYS[1])
  redis.call("publish", ARGV[2], "released")
  return 1
end
return 0`

const extendScript = `
if redis.call("get", KEYS[1]) == ARGV[1] then
  return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0`

/**
 * A Redis URL with its password replaced, fit for messages and logs.
 *
 * @internal
 */
export const redactUrl = (url: string): string => {
  if (!URL.canParse(url)) {
    return "redis://<unparseable url>"
  }
  const parsed = new URL(url)
  if (parsed.password !== "") {
    parsed.password = "***"
  }
  return parsed.toString()
}

/** @internal */
export const checkUrl = (url: string): string | undefined => {
  if (!URL.canParse(url)) {
    return `the Redis URL ${redactUrl(url)} is not a URL; use the form redis://host:6379 or rediss://host:6380`
  }
  const protocol = new URL(url).protocol
  return protocol === "redis:" || protocol === "rediss:"
    ? undefined
    : `the Redis URL must start with redis:// or rediss://, not ${protocol}//`
}

/** @internal */
export const lockOwner = (): string => `${Os.hostname()}/${process.pid}/${randomUUID()}`

const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (character) => `\\${character}`)

type LockOutcome = "acquired" | "unavailable" | "timed-out"

const loadIoredis: Effect.Effect<typeof RedisClient, AuthError.ConfigurationError> = Effect.tryPromise({
  try: () => import("ioredis").then((module) => module.Redis),
  catch: () =>
    new AuthError.ConfigurationError({
      reason: "The Redis token store needs the ioredis package: install it with `npm install ioredis`.",
      variables: []
    })
})

const close = (redis: RedisClient, commandTimeout: Duration.Duration): Effect.Effect<void> =>
  (redis.status === "ready"
    ? Effect.tryPromise(() => redis.quit()).pipe(Effect.timeout(commandTimeout), Effect.ignore)
    : Effect.void
  ).pipe(Effect.ensuring(Effect.sync(() => redis.disconnect())))

/** @internal */
export const make = (
  settings: Settings
): Effect.Effect<TokenStore.Service, AuthError.ConfigurationError, Scope.Scope> =>
  Effect.gen(function* () {
    const Redis = yield* loadIoredis
    const plainUrl = Redacted.value(settings.url)
    const where = redactUrl(plainUrl)
    const secrets = [new URL(plainUrl).password, settings.redis.password ?? ""].filter((secret) => secret.length > 0)
    const lockTtlMillis = Math.max(1, Math.ceil(Duration.toMillis(settings.lockTtl)))
    const waitTimeoutMillis = Duration.toMillis(settings.waitTimeout)

    const describe = (cause: unknown): string => {
      const text = cause instanceof Error ? cause.message : String(cause)
      return secrets.reduce((message, secret) => message.replaceAll(secret, "***"), text)
    }

    const reachable = yield* Ref.make(true)

    const markUnreachable = (reason: string) =>
      Ref.getAndSet(reachable, false).pipe(
        Effect.flatMap((wasReachable) =>
          wasReachable
            ? Effect.logWarning(
                `Redis at ${where} cannot be used (${reason}): tokens held in memory are still served, and ` +
                  "refreshes run one at a time within each process until Redis answers again."
              )
            : Effect.void
        )
      )

    const markReachable = Ref.getAndSet(reachable, true).pipe(
      Effect.flatMap((wasReachable) =>
        wasReachable ? Effect.void : Effect.logDebug(`Redis at ${where} answers again; refreshes are shared again.`)
      )
    )

    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const redis = new Redis(plainUrl, {
          connectTimeout: 5_000,
          maxRetriesPerRequest: 1,
          retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
          connectionName: "opensolar-auth",
          ...settings.redis,
          commandTimeout: Duration.toMillis(settings.commandTimeout),
          enableOfflineQueue: false,
          lazyConnect: true,
          keyPrefix: ""
        })
        // Connection errors surface as failed commands; without a listener ioredis would print each one.
        redis.on("error", () => {})
        return redis
      }),
      (redis) => close(redis, settings.commandTimeout)
    )

    const waiters = new Map<string, Deferred.Deferred<void>>()
    const releaseSignal = (channel: string): Deferred.Deferred<void> => {
      let signal = waiters.get(channel)
      if (signal === undefined) {
        signal = Deferred.unsafeMake<void>(FiberId.none)
        waiters.set(channel, signal)
      }
      return signal
    }
    const onReleased = (channel: string) => {
      const signal = waiters.get(channel)
      if (signal !== undefined) {
        waiters.delete(channel)
        Deferred.unsafeDone(signal, Exit.void)
      }
    }

    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // Unlike commands, the subscription waits for the connection and is renewed after every reconnect.
        const redis = client.duplicate({
          enableOfflineQueue: true,
          maxRetriesPerRequest: null,
          commandTimeout: undefined
        })
        redis.on("error", () => {})
        redis.on("pmessage", (_pattern: string, channel: string) => onReleased(channel))
        return redis
      }),
      (redis) => Effect.sync(() => redis.disconnect())
    )

    const command = <A>(
      operation: TokenStore.TokenStoreError["operation"],
      run: (redis: RedisClient) => Promise<A>
    ): Effect.Effect<A, TokenStore.TokenStoreError> =>
      Effect.tryPromise({ try: () => run(client), catch: describe }).pipe(
        Effect.timeoutFail({
          duration: settings.commandTimeout,
          onTimeout: () => `no answer within ${Duration.format(settings.commandTimeout)}`
        }),
        Effect.tapBoth({ onFailure: markUnreachable, onSuccess: () => markReachable }),
        Effect.mapError(
          (reason) => new TokenStore.TokenStoreError({ operation, reason: `Redis at ${where}: ${reason}` })
        )
      )

    const connectTimeout = Duration.millis(settings.redis.connectTimeout ?? 5_000)
    const subscription = Effect.tryPromise(() => subscriber.psubscribe(`${escapeGlob(settings.keyPrefix)}released:*`))
    yield* Effect.tryPromise({ try: () => client.connect(), catch: describe }).pipe(
      Effect.timeoutFail({ duration: connectTimeout, onTimeout: () => "no connection within the connect timeout" }),
      Effect.matchEffect({
        // The subscription stays queued until Redis answers; a missed release only costs a poll interval.
        onFailure: (reason) =>
          markUnreachable(reason).pipe(Effect.zipRight(Effect.forkScoped(Effect.ignore(subscription)))),
        onSuccess: () => subscription.pipe(Effect.timeout(connectTimeout), Effect.ignore)
      })
    )

    const decodeStored = Schema.decode(TokenStoreInternal.StoredGrant)
    const encodeStored = Schema.encode(TokenStoreInternal.StoredGrant)

    const load = (key: TokenStore.StoreKey) =>
      command("load", (redis) => redis.get(grantKey(settings.keyPrefix, key))).pipe(
        Effect.flatMap((text) =>
          text === null
            ? Effect.succeedNone
            : decodeStored(text).pipe(
                Effect.map(({ grant }) => Option.some(grant)),
                // The parse error may quote the stored token, so it is not passed on.
                Effect.mapError(
                  () =>
                    new TokenStore.TokenStoreError({
                      operation: "load",
                      reason:
                        `the grant stored in Redis at ${where} is not in a format this version reads; ` +
                        "the next refresh replaces it"
                    })
                )
              )
        ),
        Effect.withSpan("RedisTokenStore.load")
      )

    const save = (key: TokenStore.StoreKey, grant: TokenGrant.TokenGrant) =>
      Effect.gen(function* () {
        const text = yield* encodeStored({ version: 1, grant }).pipe(
          Effect.mapError(
            () => new TokenStore.TokenStoreError({ operation: "save", reason: "the grant could not be encoded" })
          )
        )
        const name = grantKey(settings.keyPrefix, key)

        if (Option.isNone(grant.expiresAt)) {
          yield* command("save", (redis) => redis.set(name, text))
          return
        }

        const now = yield* Clock.currentTimeMillis
        const remaining = Math.ceil(DateTime.toEpochMillis(grant.expiresAt.value) - now)
        if (remaining <= 0) {
          yield* Effect.logDebug(`Not saving grant ${grant.fingerprint} to Redis: it has already expired.`)
          return
        }
        yield* command("save", (redis) => redis.set(name, text, "PX", remaining))
      }).pipe(Effect.withSpan("RedisTokenStore.save"))

    const remove = (key: TokenStore.StoreKey) =>
      command("remove", (redis) => redis.del(grantKey(settings.keyPrefix, key))).pipe(
        Effect.asVoid,
        Effect.withSpan("RedisTokenStore.remove")
      )

    const release = (name: string, channel: string, owner: string) =>
      command("lock", (redis) => redis.eval(releaseScript, 1, name, owner, channel)).pipe(
        Effect.flatMap((released) =>
          released === 1
            ? Effect.void
            : Effect.logDebug("The Redis refresh lock had already expired when its holder released it.")
        ),
        Effect.ignore
      )

    const waitForLock = (name: string, channel: string, owner: string): Effect.Effect<LockOutcome> =>
      Effect.gen(function* () {
        const startedAt = yield* Clock.currentTimeMillis

        while (true) {
          const signal = releaseSignal(channel)
          const attempt = yield* Effect.either(
            command("lock", (redis) => redis.set(name, owner, "PX", lockTtlMillis, "NX"))
          )
          if (attempt._tag === "Left") {
            return "unavailable"
          }
          if (attempt.right === "OK") {
            return "acquired"
          }

          const waited = (yield* Clock.currentTimeMillis) - startedAt
          if (waited >= waitTimeoutMillis) {
            yield* Effect.logWarning(
              `Another process has held the Redis refresh lock for ${Duration.format(settings.waitTimeout)}; ` +
                "refreshing here without it."
            )
            return "timed-out"
          }
          const pause = Duration.min(settings.pollInterval, Duration.millis(waitTimeoutMillis - waited))
          yield* Deferred.await(signal).pipe(Effect.timeout(pause), Effect.ignore)
        }
      })

    const extendWhileHolding = (name: string, owner: string) =>
      command("lock", (redis) => redis.eval(extendScript, 1, name, owner, String(lockTtlMillis))).pipe(
        Effect.either,
        Effect.repeat({
          schedule: Schedule.spaced(Duration.millis(Math.max(1, Math.floor(lockTtlMillis / 3)))),
          while: (extended) => extended._tag === "Left" || extended.right === 1
        }),
        Effect.zipRight(
          Effect.logWarning(
            "The Redis refresh lock expired while its refresh was still running, so another process may refresh " +
              "at the same time: consider a longer lock TTL."
          )
        ),
        Effect.delay(Duration.millis(Math.max(1, Math.floor(lockTtlMillis / 3))))
      )

    const holding = <A, E, R>(name: string, owner: string, refresh: Effect.Effect<A, E, R>) =>
      Effect.flatMap(Effect.fork(extendWhileHolding(name, owner)), (extender) =>
        refresh.pipe(Effect.ensuring(Fiber.interrupt(extender)))
      )

    const localLock = TokenStoreInternal.makeKeyedLock()

    const exclusive = <A, E, R>(key: TokenStore.StoreKey, refresh: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
      const name = lockKey(settings.keyPrefix, key)
      const channel = releaseChannel(settings.keyPrefix, key)
      return localLock
        .withLock(
          name,
          Effect.uninterruptibleMask((restore) =>
            Effect.gen(function* () {
              const owner = lockOwner()
              // Releasing is a compare-and-delete by owner, so it is safe even when the lock was never taken.
              const outcome = yield* restore(waitForLock(name, channel, owner)).pipe(
                Effect.onInterrupt(() => release(name, channel, owner))
              )
              yield* Effect.annotateCurrentSpan("opensolar.lock", outcome)

              if (outcome !== "acquired") {
                return yield* restore(refresh)
              }
              return yield* restore(holding(name, owner, refresh)).pipe(Effect.ensuring(release(name, channel, owner)))
            })
          )
        )
        .pipe(Effect.withSpan("RedisTokenStore.exclusive"))
    }

    return { load, save, remove, exclusive } satisfies TokenStore.Service
  })
