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
 * The longest time Node's timers accept, in milliseconds: longer ones fire after 1 ms.
 *
 * @internal
 */
export const maximumTimerMillis = 2_147_483_647

const isSecretParameter = (name: string): boolean => /password|passphrase/i.test(name)

/**
 * A Redis URL with its passwords replaced, fit for messages and logs.
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
  for (const name of [...parsed.searchParams.keys()]) {
    if (isSecretParameter(name)) {
      parsed.searchParams.set(name, "***")
    }
  }
  return parsed.toString()
}

const credentialOptions = ["username", "password", "name", "connectionName", "sentinelUsername", "sentinelPassword"]

// The URL's query becomes `ioredis` options as text, so only options that are text can be given there.
const urlParameters = new Set(["family", ...credentialOptions])

const safeDecode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** @internal */
export const checkUrl = (url: string): string | undefined => {
  if (!URL.canParse(url)) {
    return `the Redis URL ${redactUrl(url)} is not a URL; use the form redis://host:6379 or rediss://host:6380`
  }
  const parsed = new URL(url)
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return `the Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`
  }
  if (safeDecode(parsed.username) === undefined || safeDecode(parsed.password) === undefined) {
    return "the Redis URL's user or password has a % not followed by two hexadecimal digits; write % as %25"
  }
  if (!/^\/?\d*$/.test(parsed.pathname)) {
    return `the Redis URL's path must be a database number, such as /0, not ${parsed.pathname}`
  }
  const unread = [...parsed.searchParams.keys()].filter((name) => !urlParameters.has(name))
  if (unread.length > 0) {
    return (
      `the Redis URL's query sets ${[...new Set(unread)].join(", ")}, which the store reads only from the redis ` +
      "option: pass it there, with a value of the right type"
    )
  }
  return undefined
}

const wholeNumberOptions: ReadonlyArray<readonly [name: string, minimum: number, maximum: number, unit: string]> = [
  ["connectTimeout", 1, maximumTimerMillis, " of milliseconds"],
  ["socketTimeout", 0, maximumTimerMillis, " of milliseconds"],
  ["keepAlive", 0, maximumTimerMillis, " of milliseconds"],
  ["disconnectTimeout", 0, maximumTimerMillis, " of milliseconds"],
  ["sentinelCommandTimeout", 0, maximumTimerMillis, " of milliseconds"],
  ["maxLoadingRetryTime", 0, maximumTimerMillis, " of milliseconds"],
  ["blockingTimeout", 0, maximumTimerMillis, " of milliseconds"],
  ["blockingTimeoutGrace", 0, maximumTimerMillis, " of milliseconds"],
  ["db", 0, maximumTimerMillis, ""],
  ["maxRetriesPerRequest", 0, maximumTimerMillis, ""],
  ["sentinelMaxConnections", 1, maximumTimerMillis, ""]
]

/** Options `ioredis` would let the store's URL override, so that setting them would silently do nothing. */
const urlOptions = ["host", "port", "path"]

const functionOptions = ["retryStrategy", "sentinelRetryStrategy", "sentinelReconnectStrategy", "reconnectOnError"]

const describeValue = (value: unknown): string =>
  typeof value === "number" ? String(value) : value === null ? "null" : `a value of type ${typeof value}`

/**
 * What is wrong with the `ioredis` options the store passes on, naming the option; `undefined` when nothing is.
 * Options `ioredis` reads as numbers must be numbers: it hands them to Node, which throws outside any caller.
 *
 * @internal
 */
export const checkRedisOptions = (
  redis: Readonly<Record<string, unknown>>
): { readonly option: string; readonly problem: string } | undefined => {
  for (const name of urlOptions) {
    if (redis[name] !== undefined) {
      return {
        option: name,
        problem: "is read from url, which always sets it: leave it out and write url as redis://host:port instead"
      }
    }
  }
  for (const [name, minimum, maximum, unit] of wholeNumberOptions) {
    const value = redis[name]
    const allowed = value === undefined || (name === "maxRetriesPerRequest" && value === null)
    if (!allowed && !(Number.isInteger(value) && (value as number) >= minimum && (value as number) <= maximum)) {
      return {
        option: name,
        problem: `must be a whole number${unit} from ${minimum} to ${maximum}; got ${describeValue(value)}`
      }
    }
  }
  for (const name of credentialOptions) {
    if (redis[name] !== undefined && typeof redis[name] !== "string") {
      // Never the value: it may be a password.
      return { option: name, problem: `must be a text; got a value of type ${typeof redis[name]}` }
    }
  }
  for (const name of functionOptions) {
    const value = redis[name]
    if (value !== undefined && value !== null && typeof value !== "function") {
      return { option: name, problem: `must be a function; got ${describeValue(value)}` }
    }
  }
  return undefined
}

const passphrase = (tls: unknown): unknown =>
  typeof tls === "object" && tls !== null ? (tls as { readonly passphrase?: unknown }).passphrase : undefined

/**
 * Every form of every password the connection uses: as written in the URL, as `ioredis` decodes it, and the
 * password options, so that a message quoting any of them can be masked.
 *
 * @internal
 */
export const secretsOf = (url: string, redis: RedisOptions): ReadonlyArray<string> => {
  const found: Array<unknown> = [
    redis.password,
    redis.sentinelPassword,
    passphrase(redis.tls),
    passphrase(redis.sentinelTLS)
  ]
  if (URL.canParse(url)) {
    const parsed = new URL(url)
    // `ioredis` decodes user and password together and splits them at the first colon.
    const auth = safeDecode(`${parsed.username}:${parsed.password}`) ?? ""
    found.push(parsed.password, safeDecode(parsed.password), auth.slice(auth.indexOf(":") + 1))
    for (const [name, value] of parsed.searchParams) {
      if (isSecretParameter(name)) {
        found.push(value, encodeURIComponent(value))
      }
    }
  }
  const texts = found.filter((secret): secret is string => typeof secret === "string" && secret.length > 0)
  return [...new Set(texts)].sort((left, right) => right.length - left.length)
}

/**
 * The text with every secret replaced by `***`.
 *
 * @internal
 */
export const mask = (secrets: ReadonlyArray<string>, text: string): string =>
  secrets.reduce((masked, secret) => masked.replaceAll(secret, "***"), text)

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
    const secrets = secretsOf(plainUrl, settings.redis)
    const lockTtlMillis = Math.max(1, Math.ceil(Duration.toMillis(settings.lockTtl)))
    const waitTimeoutMillis = Duration.toMillis(settings.waitTimeout)

    const describe = (cause: unknown): string => mask(secrets, cause instanceof Error ? cause.message : String(cause))
    const refused = (cause: unknown) =>
      new AuthError.ConfigurationError({
        reason: `RedisTokenStore: ioredis refused the options for Redis at ${where}: ${describe(cause)}`,
        variables: ["redis"]
      })

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

    // Why the connection closed (a refused password, say), which a failing connect only reports as "closed".
    let lastConnectionError: unknown
    const client = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          new Redis(plainUrl, {
            connectTimeout: 5_000,
            maxRetriesPerRequest: 1,
            retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
            connectionName: "opensolar-auth",
            ...settings.redis,
            commandTimeout: Math.ceil(Duration.toMillis(settings.commandTimeout)),
            enableOfflineQueue: false,
            lazyConnect: true,
            keyPrefix: ""
          }),
        catch: refused
      }).pipe(
        // Connection errors surface as failed commands; without a listener ioredis would print each one.
        Effect.tap((redis) =>
          redis.on("error", (error) => {
            lastConnectionError = error
          })
        )
      ),
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
      Effect.try({
        // Unlike commands, the subscription waits for the connection and is renewed after every reconnect.
        try: () =>
          client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined }),
        catch: refused
      }).pipe(
        Effect.tap((redis) => {
          redis.on("error", () => {})
          redis.on("pmessage", (_pattern: string, channel: string) => onReleased(channel))
        })
      ),
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
    yield* Effect.tryPromise({
      try: () => client.connect(),
      catch: (cause) => describe(lastConnectionError ?? cause)
    }).pipe(
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

    const unlock = (name: string, channel: string, owner: string) =>
      command("lock", (redis) => redis.eval(releaseScript, 1, name, owner, channel))

    const release = (name: string, channel: string, owner: string) =>
      unlock(name, channel, owner).pipe(
        Effect.flatMap((released) =>
          released === 1
            ? Effect.void
            : Effect.logDebug("The Redis refresh lock had already expired when its holder released it.")
        ),
        Effect.ignore
      )

    const storeScope = yield* Effect.scope

    // A lock command that timed out here may still have run in Redis, leaving a lock that makes other processes
    // wait until it expires. Releasing it is harmless when it was never taken, and runs apart from the refresh,
    // which must not wait for a Redis that does not answer.
    const releaseIfTaken = (name: string, channel: string, owner: string) =>
      unlock(name, channel, owner).pipe(Effect.ignore, Effect.forkIn(storeScope), Effect.asVoid)

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

              if (outcome === "unavailable") {
                return yield* restore(refresh).pipe(Effect.ensuring(releaseIfTaken(name, channel, owner)))
              }
              if (outcome === "timed-out") {
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
