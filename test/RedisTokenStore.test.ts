import { randomUUID } from "node:crypto"
import * as Util from "node:util"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it, layer } from "@effect/vitest"
import {
  Array as Arr,
  Cause,
  Context,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Ref,
  Schedule,
  Schema,
  TestServices,
  type Scope
} from "effect"
import { Redis } from "ioredis"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BearerToken from "../src/BearerToken.js"
import * as internal from "../src/internal/redisTokenStore.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { Simulator } from "../src/testing/index.js"
import { type Exposure, scan } from "./reliability/support/canaries.js"
import { captureLogs, captureSpans } from "./reliability/support/capture.js"
import * as RedisServer from "./support/redisServer.js"

const key: TokenStore.StoreKey = { baseUrl: "https://api.opensolar.com", subject: "arnie@illbeback.com", orgId: 1 }

const grantFor = (token: string, expiresAt: Option.Option<DateTime.Utc>, issuedAt = DateTime.unsafeMake(0)) =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt,
    expiresAt,
    user: new TokenGrant.GrantUser({ id: 7, email: "arnie@illbeback.com" }),
    org: Option.some(new TokenGrant.GrantOrg({ id: 1, name: "Skynet Solar" })),
    orgs: [new TokenGrant.GrantOrg({ id: 1, name: "Skynet Solar" })],
    strategy: "password"
  })

const inOneHour = grantFor("0123456789abcdef0123456789abcdef01234567", Option.some(DateTime.unsafeMake(3_600_000)))
const permanent = grantFor("s_MACHINEUSERTOKEN234567ABCDEFGHIJ", Option.none())

const encodeGrant = Schema.encodeSync(TokenGrant.TokenGrant)

/** A raw connection for looking at what the store wrote, as another process would. */
const rawClient = (url: string): Effect.Effect<Redis, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(url, { maxRetriesPerRequest: 0 })),
    (redis) => Effect.promise(() => redis.quit())
  )

const freshPrefix = () => `test-${randomUUID()}:`

/** Collects every log line (level and text) written while `effect` runs. */
const capturingLogs = <A, E, R>(effect: (logs: Ref.Ref<ReadonlyArray<string>>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const logs = yield* Ref.make<ReadonlyArray<string>>([])
    const logger = Logger.make(({ logLevel, message }) => {
      const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
      Effect.runSync(Ref.update(logs, (lines) => [...lines, `${logLevel.label} ${text}`]))
    })
    return yield* effect(logs).pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
  })

const warnings = (lines: ReadonlyArray<string>) => lines.filter((line) => line.startsWith("WARN"))

layer(RedisServer.layer)("RedisTokenStore", (it) => {
  describe("grants", () => {
    it.scoped("loads what it saved, and nothing after removing it", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })

        expect(Option.isNone(yield* store.load(key))).toBe(true)

        yield* store.save(key, inOneHour)
        const loaded = yield* store.load(key)

        expect(Option.map(loaded, encodeGrant)).toEqual(Option.some(encodeGrant(inOneHour)))

        yield* store.remove(key)

        expect(Option.isNone(yield* store.load(key))).toBe(true)
      })
    )

    it.effect.prop(
      "keeps any grant that has not expired, exactly as it was",
      [TokenGrant.TokenGrant],
      ([grant]) =>
        Effect.gen(function* () {
          const server = yield* RedisServer.RedisServer
          const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })

          yield* store.save(key, grant)
          const loaded = yield* store.load(key)

          if (TokenGrant.isExpiredAt(grant, 0)) {
            expect(Option.isNone(loaded)).toBe(true)
          } else if (TokenGrant.isExpiredAt(grant, 0, "10 seconds")) {
            // Redis counts the entry's time to live on its own clock: one that ends within moments may be gone.
            expect(Option.getOrElse(Option.map(loaded, encodeGrant), () => encodeGrant(grant))).toEqual(
              encodeGrant(grant)
            )
          } else {
            expect(Option.map(loaded, encodeGrant)).toEqual(Option.some(encodeGrant(grant)))
          }
        }).pipe(Effect.scoped),
      { fastCheck: { numRuns: 100 } }
    )

    it.scoped("stores a grant until it expires, and a permanent grant without expiry", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)
        const name = keyPrefix + TokenStore.keyToString(key)

        yield* store.save(key, inOneHour)
        const expiring = yield* Effect.promise(() => raw.pttl(name))

        expect(expiring).toBeGreaterThan(0)
        expect(expiring).toBeLessThanOrEqual(3_600_000)

        yield* store.save(key, permanent)

        expect(yield* Effect.promise(() => raw.pttl(name))).toBe(-1)
      })
    )

    it.scoped("writes versioned JSON under the prefix and the key's text form", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)

        yield* store.save(key, permanent)
        const text = yield* Effect.promise(() => raw.get(`${keyPrefix}https://api.opensolar.com|arnie@illbeback.com|1`))

        expect(JSON.parse(text ?? "null")).toEqual({ version: 1, grant: encodeGrant(permanent) })
      })
    )

    it.scoped("does not keep a grant that has already expired", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        const expired = grantFor("expired-token", Option.some(DateTime.unsafeMake(-1)))

        yield* store.save(key, expired)

        expect(Option.isNone(yield* store.load(key))).toBe(true)
      })
    )

    it.scoped("never mixes grants of different APIs, users or orgs", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        const keys: ReadonlyArray<TokenStore.StoreKey> = [
          key,
          { ...key, baseUrl: "http://127.0.0.1:8080" },
          { ...key, subject: "sarah@cyberdyne.com" },
          { ...key, orgId: 2 },
          { baseUrl: key.baseUrl, subject: key.subject }
        ]

        yield* Effect.forEach(keys, (each, index) => store.save(each, grantFor(`token-${index}`, Option.none())))
        const tokens = yield* Effect.forEach(keys, (each) =>
          store.load(each).pipe(Effect.map(Option.map((grant) => BearerToken.value(grant.token))))
        )

        expect(tokens).toEqual(keys.map((_, index) => Option.some(`token-${index}`)))
      })
    )

    it.scoped("treats a user name in any case as the same user", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })

        yield* store.save(key, permanent)

        expect(Option.isSome(yield* store.load({ ...key, subject: "Arnie@IllBeBack.com" }))).toBe(true)
      })
    )

    it.scoped("fails to load unreadable data without quoting it", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)
        yield* Effect.promise(() =>
          raw.set(keyPrefix + TokenStore.keyToString(key), JSON.stringify({ version: 9, token: "leaky-secret" }))
        )

        const error = yield* Effect.flip(store.load(key))

        expect(error).toBeInstanceOf(TokenStore.TokenStoreError)
        expect(error.operation).toBe("load")
        expect(error.message).not.toContain("leaky-secret")
      })
    )
  })

  describe("refresh lock", () => {
    it.scoped("holds a lock owned by this process while the refresh runs, and releases it after", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)
        const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`

        const during = yield* store.exclusive(
          key,
          Effect.promise(() => Promise.all([raw.get(lockName), raw.pttl(lockName)]))
        )

        expect(during[0]).toMatch(new RegExp(`/${process.pid}/`))
        expect(during[1]).toBeGreaterThan(0)
        expect(yield* Effect.promise(() => raw.exists(lockName))).toBe(0)
      })
    )

    it.scoped("lets one process refresh at a time; the next starts when the first releases", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const first = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const second = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const events = yield* Ref.make<ReadonlyArray<string>>([])
        const firstEntered = yield* Deferred.make<void>()
        const letFirstFinish = yield* Deferred.make<void>()
        const record = (event: string) => Ref.update(events, Arr.append(event))

        const firstFiber = yield* first
          .exclusive(
            key,
            Effect.gen(function* () {
              yield* record("first starts")
              yield* Deferred.succeed(firstEntered, undefined)
              yield* Deferred.await(letFirstFinish)
              yield* record("first ends")
            })
          )
          .pipe(Effect.fork)
        yield* Deferred.await(firstEntered)
        const secondFiber = yield* second.exclusive(key, record("second runs")).pipe(Effect.fork)
        yield* Effect.yieldNow()

        yield* Deferred.succeed(letFirstFinish, undefined)
        yield* Fiber.join(firstFiber)
        yield* Fiber.join(secondFiber)

        // The clock is a test clock that never moves: the second can only have been woken by the release
        // notification, not by polling.
        expect(yield* Ref.get(events)).toEqual(["first starts", "first ends", "second runs"])
      })
    )

    it.scoped("runs refreshes for different keys side by side", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        const arnieStarted = yield* Deferred.make<void>()
        const sarahStarted = yield* Deferred.make<void>()
        const sarah = { ...key, subject: "sarah@cyberdyne.example" }

        // Each refresh waits for the other to start: serialised, they would wait for ever.
        const both = yield* Effect.all(
          [
            store.exclusive(
              key,
              Deferred.succeed(arnieStarted, undefined).pipe(Effect.zipRight(Deferred.await(sarahStarted)))
            ),
            store.exclusive(
              sarah,
              Deferred.succeed(sarahStarted, undefined).pipe(Effect.zipRight(Deferred.await(arnieStarted)))
            )
          ],
          { concurrency: 2 }
        )

        expect(both).toEqual([undefined, undefined])
      })
    )

    it.scoped("releases only its own lock: one taken over by another owner stays", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)
        const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`

        yield* store.exclusive(
          key,
          Effect.promise(() => raw.set(lockName, "another-owner", "PX", 60_000))
        )

        expect(yield* Effect.promise(() => raw.get(lockName))).toBe("another-owner")
      })
    )

    it.scoped("releases the lock when the refresh fails or is interrupted", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
        const raw = yield* rawClient(server.url)
        const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`
        const entered = yield* Deferred.make<void>()

        const failed = yield* Effect.exit(store.exclusive(key, Effect.fail("login refused")))
        const blocked = yield* store
          .exclusive(key, Deferred.succeed(entered, undefined).pipe(Effect.zipRight(Effect.never)))
          .pipe(Effect.fork)
        yield* Deferred.await(entered)
        yield* Fiber.interrupt(blocked)

        expect(failed).toEqual(Exit.fail("login refused"))
        expect(yield* Effect.promise(() => raw.exists(lockName))).toBe(0)
      })
    )

    it.scoped("runs concurrent refreshes of one process one at a time", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.RedisServer
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        const running = yield* Ref.make(0)
        const most = yield* Ref.make(0)
        const refresh = Effect.gen(function* () {
          const now = yield* Ref.updateAndGet(running, (count) => count + 1)
          yield* Ref.update(most, (count) => Math.max(count, now))
          yield* Effect.yieldNow()
          yield* Ref.update(running, (count) => count - 1)
        })

        yield* Effect.all(Arr.replicate(store.exclusive(key, refresh), 20), { concurrency: "unbounded" })

        expect(yield* Ref.get(most)).toBe(1)
      })
    )

    // Redis expires locks on its own clock, so these run on the real clock, with short lock TTLs.
    it.scoped("takes over a lock whose holder died once it expires", () =>
      TestServices.provideLive(
        Effect.gen(function* () {
          const server = yield* RedisServer.RedisServer
          const keyPrefix = freshPrefix()
          const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix, pollInterval: "20 millis" })
          const raw = yield* rawClient(server.url)
          const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`
          yield* Effect.promise(() => raw.set(lockName, "crashed-owner", "PX", 200))

          const holder = yield* store.exclusive(
            key,
            Effect.promise(() => raw.get(lockName))
          )

          expect(holder).not.toBe("crashed-owner")
          expect(holder).toMatch(new RegExp(`/${process.pid}/`))
        }).pipe(Effect.scoped)
      )
    )

    it.scoped("refreshes without the lock after waiting longer than the wait timeout", () =>
      TestServices.provideLive(
        capturingLogs((logs) =>
          Effect.gen(function* () {
            const server = yield* RedisServer.RedisServer
            const keyPrefix = freshPrefix()
            const store = yield* RedisTokenStore.make({
              url: server.url,
              keyPrefix,
              waitTimeout: "100 millis",
              pollInterval: "20 millis"
            })
            const raw = yield* rawClient(server.url)
            const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`
            yield* Effect.promise(() => raw.set(lockName, "stuck-owner", "PX", 60_000))

            const result = yield* store.exclusive(key, Effect.succeed("refreshed"))

            expect(result).toBe("refreshed")
            expect(yield* Effect.promise(() => raw.get(lockName))).toBe("stuck-owner")
            expect(warnings(yield* Ref.get(logs))).toHaveLength(1)
          }).pipe(Effect.scoped)
        )
      )
    )

    it.scoped("releases a lock that Redis took after the command had timed out here", () =>
      TestServices.provideLive(
        Effect.gen(function* () {
          const server = yield* RedisServer.RedisServer
          const keyPrefix = freshPrefix()
          const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix, commandTimeout: "50 millis" })
          const raw = yield* rawClient(server.url)
          const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`

          // Redis holds back every write for a while: the lock command times out here, and runs in Redis later.
          yield* Effect.promise(() => raw.call("CLIENT", "PAUSE", "300", "WRITE"))
          const holderDuringRefresh = yield* store.exclusive(
            key,
            Effect.promise(() => raw.set(`${keyPrefix}probe`, "after the pause").then(() => raw.get(lockName)))
          )
          // Released apart from the refresh: wait for it, as long as the test may run.
          const remaining = yield* Effect.promise(() => raw.exists(lockName)).pipe(
            Effect.delay("10 millis"),
            Effect.repeat({ until: (count) => count === 0 })
          )

          expect(holderDuringRefresh).toMatch(new RegExp(`/${process.pid}/`))
          expect(remaining).toBe(0)
        }).pipe(Effect.scoped)
      )
    )
  })
})

describe("RedisTokenStore lock lease", () => {
  // Redis counts a lock's time on its own clock, so this runs on the real clock with a short lock TTL.
  it.scoped("extends the lock while its refresh runs, and warns when it was lost", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const server = yield* RedisServer.make
        const keyPrefix = freshPrefix()
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix, lockTtl: "300 millis" })
        const raw = yield* rawClient(server.url)
        const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`
        const pttl = Effect.promise(() => raw.pttl(lockName))

        // The remaining time only ever goes down, unless the holder extends the lock.
        const extended = yield* store.exclusive(
          key,
          Effect.flatMap(pttl, (first) =>
            Effect.iterate(
              { previous: first, current: first },
              {
                while: ({ current, previous }) => current <= previous && current > 0,
                body: ({ current }) => Effect.map(pttl, (next) => ({ previous: current, current: next }))
              }
            )
          )
        )
        const lost = yield* store.exclusive(
          key,
          Effect.gen(function* () {
            yield* Effect.promise(() => raw.set(lockName, "another-owner", "PX", 60_000))
            return yield* Effect.promise(() => raw.ping()).pipe(
              Effect.zipRight(Ref.get(logs)),
              Effect.repeat({ until: (lines) => warnings(lines).length > 0 })
            )
          })
        )

        expect(extended.current).toBeGreaterThan(extended.previous)
        expect(warnings(lost)[0]).toContain("lock expired while its refresh was still running")
        expect(yield* Effect.promise(() => raw.get(lockName))).toBe("another-owner")
      }).pipe(TestServices.provideLive)
    )
  )
})

describe("RedisTokenStore without Redis", () => {
  const unreachable = Effect.map(RedisServer.freePort, (port) => `redis://:sup3r-secret@127.0.0.1:${port}`)

  it.scoped("builds, counts loads as failed, runs refreshes locally and warns once", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const url = yield* unreachable
        const store = yield* RedisTokenStore.make({ url: Redacted.make(url) })

        const load = yield* Effect.flip(store.load(key))
        const save = yield* Effect.flip(store.save(key, permanent))
        const results = yield* Effect.all(Arr.replicate(store.exclusive(key, Effect.succeed("refreshed")), 5), {
          concurrency: "unbounded"
        })

        expect(load.operation).toBe("load")
        expect(save.operation).toBe("save")
        expect(results).toEqual(Arr.replicate("refreshed", 5))
        const lines = yield* Ref.get(logs)
        expect(warnings(lines)).toHaveLength(1)
        expect(warnings(lines)[0]).toContain("127.0.0.1")
        expect([...lines, load.message, save.message].join("\n")).not.toContain("sup3r-secret")
      })
    )
  )

  it.scoped("never logs a grant's token", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const store = yield* RedisTokenStore.make({ url: yield* unreachable })

        yield* Effect.ignore(store.save(key, inOneHour))
        yield* store.exclusive(key, Effect.void)

        expect((yield* Ref.get(logs)).join("\n")).not.toContain(BearerToken.value(inOneHour.token))
      })
    )
  )

  it.live("recovers when Redis comes back, and warns again at the next outage", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const server = yield* RedisServer.make
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        yield* store.save(key, permanent)

        yield* server.stop
        const duringOutage = yield* Effect.exit(store.load(key))
        const refreshed = yield* Effect.all(Arr.replicate(store.exclusive(key, Effect.succeed(1)), 3))

        yield* server.start
        // Redis kept nothing (persistence is off); wait for the client to reconnect on its own.
        yield* store.save(key, permanent).pipe(Effect.retry(Schedule.spaced("50 millis")))
        const afterRecovery = yield* store.load(key)

        yield* server.stop
        yield* Effect.exit(store.load(key))

        expect(Exit.isFailure(duringOutage)).toBe(true)
        expect(refreshed).toEqual([1, 1, 1])
        expect(Option.isSome(afterRecovery)).toBe(true)
        expect(warnings(yield* Ref.get(logs))).toHaveLength(2)
      }).pipe(Effect.scoped)
    )
  )

  it.effect("refuses a URL that is not a Redis URL, and durations below a millisecond", () =>
    Effect.gen(function* () {
      const badUrl = yield* Effect.flip(Effect.scoped(RedisTokenStore.make({ url: "https://:pw-123@example.com" })))
      const badTtl = yield* Effect.flip(Effect.scoped(RedisTokenStore.make({ url: "redis://127.0.0.1:1", lockTtl: 0 })))

      expect(badUrl._tag).toBe("ConfigurationError")
      expect(badUrl.message).toContain("redis://")
      expect(badUrl.message).not.toContain("pw-123")
      expect(badTtl.message).toContain("lockTtl")
    })
  )
})

describe("RedisTokenStore built while Redis is down", () => {
  it.scoped("uses Redis once it starts: grants, the lock and its release notifications", () =>
    Effect.gen(function* () {
      const server = yield* RedisServer.makeWith({ stopped: true })
      const keyPrefix = freshPrefix()
      const early = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
      const failedLoad = yield* Effect.exit(early.load(key))

      yield* server.start
      const raw = yield* rawClient(server.url)
      const lockName = `${keyPrefix}lock:${TokenStore.keyToString(key)}`
      const live = TestServices.provideLive
      yield* live(early.save(key, permanent).pipe(Effect.retry(Schedule.spaced("20 millis"))))
      const loaded = yield* early.load(key)
      const holder = yield* early.exclusive(
        key,
        Effect.promise(() => raw.get(lockName))
      )
      // Its subscription, queued while Redis was down, is in place once Redis counts it.
      yield* live(
        Effect.promise(() => raw.call("PUBSUB", "NUMPAT")).pipe(
          Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (count) => Number(count) >= 1 })
        )
      )

      // The clock is a test clock that never moves: only the release notification can wake the early store.
      const later = yield* RedisTokenStore.make({ url: server.url, keyPrefix })
      const laterEntered = yield* Deferred.make<void>()
      const letLaterFinish = yield* Deferred.make<void>()
      const laterFiber = yield* later
        .exclusive(key, Deferred.succeed(laterEntered, undefined).pipe(Effect.zipRight(Deferred.await(letLaterFinish))))
        .pipe(Effect.fork)
      yield* Deferred.await(laterEntered)
      const earlyFiber = yield* early.exclusive(key, Effect.succeed("woken")).pipe(Effect.fork)
      yield* Effect.yieldNow()
      yield* Deferred.succeed(letLaterFinish, undefined)
      yield* Fiber.join(laterFiber)

      expect(Exit.isFailure(failedLoad)).toBe(true)
      expect(Option.map(loaded, encodeGrant)).toEqual(Option.some(encodeGrant(permanent)))
      expect(holder).toMatch(new RegExp(`/${process.pid}/`))
      expect(yield* Fiber.join(earlyFiber)).toBe("woken")
    })
  )
})

describe("RedisTokenStore options", () => {
  const refusal = (options: unknown) =>
    Effect.flip(Effect.scoped(RedisTokenStore.make(options as RedisTokenStore.Options)))

  const unreachableUrl = Effect.map(RedisServer.freePort, (port) => `redis://127.0.0.1:${port}`)

  it.effect("refuses durations out of range, naming the option and its range", () =>
    Effect.gen(function* () {
      const url = yield* unreachableUrl
      const cases: ReadonlyArray<readonly [string, unknown, string]> = [
        ["lockTtl", 1e300, "1 hour"],
        ["lockTtl", "2 hours", "1 hour"],
        ["waitTimeout", Duration.infinity, "1 hour"],
        ["pollInterval", "61 seconds", "1 minute"],
        ["commandTimeout", 2 ** 31, "1 minute"],
        ["commandTimeout", 0, "1 minute"],
        ["lockTtl", "soon", "1 hour"]
      ]

      const errors = yield* Effect.forEach(cases, ([name, value]) => refusal({ url, [name]: value }))

      for (const [[name, , maximum], error] of Arr.zip(cases, errors)) {
        expect(error._tag).toBe("ConfigurationError")
        expect(error.variables).toEqual([name])
        expect(error.message).toContain(`${name} must be a duration from 1 millisecond to ${maximum}`)
      }
    })
  )

  it.effect("accepts each duration at its maximum", () =>
    Effect.gen(function* () {
      const url = yield* unreachableUrl
      const options = { url, lockTtl: "1 hour", waitTimeout: "1 hour", pollInterval: "1 minute" } as const

      const built = yield* Effect.exit(Effect.scoped(RedisTokenStore.make({ ...options, commandTimeout: 60_000 })))

      expect(Exit.isSuccess(built)).toBe(true)
    })
  )

  it.effect("refuses ioredis options of the wrong type or range, naming them", () =>
    Effect.gen(function* () {
      const url = yield* unreachableUrl
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string, string]> = [
        [{ connectTimeout: "x" }, "redis.connectTimeout", "whole number of milliseconds from 1 to 2147483647"],
        [{ connectTimeout: 2 ** 31 }, "redis.connectTimeout", "got 2147483648"],
        [{ socketTimeout: -1 }, "redis.socketTimeout", "from 0 to 2147483647"],
        [{ keepAlive: 1.5 }, "redis.keepAlive", "whole number"],
        [{ port: 6380 }, "redis.port", "write url as redis://host:port"],
        [{ host: "10.0.0.1" }, "redis.host", "is read from url"],
        [{ db: Number.NaN }, "redis.db", "whole number"],
        [{ maxRetriesPerRequest: "3" }, "redis.maxRetriesPerRequest", "whole number"],
        [{ password: 1234 }, "redis.password", "must be a text"],
        [{ retryStrategy: 100 }, "redis.retryStrategy", "must be a function"]
      ]

      const errors = yield* Effect.forEach(cases, ([redis]) => refusal({ url, redis }))

      for (const [[, name, text], error] of Arr.zip(cases, errors)) {
        expect(error._tag).toBe("ConfigurationError")
        expect(error.variables).toEqual([name])
        expect(error.message).toContain(text)
      }
      expect(errors[8]?.message).not.toContain("1234")
    })
  )

  it.effect("turns options ioredis itself refuses into a ConfigurationError", () =>
    Effect.gen(function* () {
      const error = yield* refusal({ url: yield* unreachableUrl, redis: { sentinels: [], name: "primary" } })

      expect(error._tag).toBe("ConfigurationError")
      expect(error.message).toContain("ioredis refused the options")
    })
  )

  it.effect("refuses URLs ioredis would read wrongly, without quoting the password", () =>
    Effect.gen(function* () {
      const errors = yield* Effect.forEach(
        [
          "redis://:pw-123@127.0.0.1:1?connectTimeout=5000&enableOfflineQueue=true",
          "redis://:pw-123@127.0.0.1:1/cache",
          "redis://:pw-123%zz@127.0.0.1:1"
        ],
        (url) => refusal({ url })
      )

      expect(errors.map((error) => error.variables)).toEqual([["url"], ["url"], ["url"]])
      expect(errors[0]?.message).toContain("connectTimeout, enableOfflineQueue")
      expect(errors[1]?.message).toContain("database number")
      expect(errors[2]?.message).toContain("%25")
      expect(errors.map((error) => error.message).join("\n")).not.toContain("pw-123")
    })
  )

  it.effect("refuses options that are not an object, a URL that is not text and a prefix that is not text", () =>
    Effect.gen(function* () {
      const errors = yield* Effect.forEach(
        ["redis://127.0.0.1:6379", { url: 6379 }, { url: Redacted.make(6379) }, { keyPrefix: 7 }, { redis: [] }],
        refusal
      )

      expect(errors.map((error) => error.variables)).toEqual([["options"], ["url"], ["url"], ["keyPrefix"], ["redis"]])
    })
  )

  it.effect("builds with no options at all, null included", () =>
    Effect.gen(function* () {
      const built = yield* Effect.forEach([null, undefined], (options) =>
        Effect.exit(Effect.scoped(RedisTokenStore.make(options as unknown as RedisTokenStore.Options)))
      )

      expect(built.map(Exit.isSuccess)).toEqual([true, true])
    })
  )
})

describe("RedisTokenStore passwords", () => {
  const password = "p@ss w:rd/%é#"

  it("masks every form of the passwords: as written in the URL, decoded, and the Sentinel password", () => {
    const url = `redis://someone:${encodeURIComponent(password)}@127.0.0.1:6379?sentinelPassword=s%26ntinel`
    const secrets = internal.secretsOf(url, { sentinelPassword: "another-secret", tls: { passphrase: "tls-secret" } })
    const text = [password, encodeURIComponent(password), "s&ntinel", "another-secret", "tls-secret"].join(" | ")

    expect(internal.mask(secrets, text)).toBe("*** | *** | *** | *** | ***")
    expect(internal.redactUrl(url)).not.toContain("s%26ntinel")
    expect(internal.redactUrl(url)).not.toContain(encodeURIComponent(password))
  })

  it.scoped("connects with a password that has to be percent-encoded, and never says it", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const server = yield* RedisServer.makeWith({ password })
        const wrongUrl = server.url.replace(encodeURIComponent(password), encodeURIComponent(`${password}!`))
        const store = yield* RedisTokenStore.make({ url: server.url, keyPrefix: freshPrefix() })
        const refused = yield* RedisTokenStore.make({ url: wrongUrl, keyPrefix: freshPrefix() })

        yield* store.save(key, permanent)
        const loaded = yield* store.load(key)
        const error = yield* Effect.flip(refused.load(key))

        expect(Option.isSome(loaded)).toBe(true)
        expect(error.message).toContain("127.0.0.1")
        const said = [...(yield* Ref.get(logs)), error.message].join("\n")
        expect(said).toContain("WRONGPASS")
        expect(said).not.toContain(password)
        expect(said).not.toContain(encodeURIComponent(password))
      })
    )
  )
})

describe("RedisTokenStore and secrets", () => {
  const canary = {
    redisPassword: "Canary-Redis-p@ss w:rd/%-61d3",
    wrongRedisPassword: "Canary-Redis-Wrong-0b7e",
    userPassword: "Canary-User-Password-9a4c"
  }
  const user = { username: "canary.fleet@example.test", password: canary.userPassword }

  /** A failure as a logger, an exporter or a program printing it would render it. */
  const rendered = (source: string, cause: Cause.Cause<unknown>): Exposure => ({
    source,
    text: [
      Cause.pretty(cause, { renderErrorCause: true }),
      String(Cause.squash(cause)),
      Util.inspect(Cause.squash(cause), { depth: 12 })
    ].join("\n")
  })

  it.live("no log line, span or error holds a Redis password or a token, through login, refresh and an outage", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.addUser({ ...user, orgIds: [1] })
      const server = yield* RedisServer.makeWith({ password: canary.redisPassword })
      const wrongUrl = `redis://:${encodeURIComponent(canary.wrongRedisPassword)}@127.0.0.1:${server.port}`
      const keyPrefix = freshPrefix()
      const storeKey = { baseUrl: sim.url, subject: user.username }
      const logs = captureLogs()
      const spans = captureSpans()
      const exposures: Array<Exposure> = []
      const tokensSeen: Array<string> = []

      /** Runs one step, keeping the rendering of its failure and the token of the grant it returned, if any. */
      const step = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
        Effect.tap(Effect.exit(effect), (exit) =>
          Effect.sync(() => {
            if (Exit.isFailure(exit)) {
              exposures.push(rendered(label, exit.cause))
            } else if (exit.value instanceof TokenGrant.TokenGrant) {
              tokensSeen.push(BearerToken.value(exit.value.token))
            }
          })
        )

      yield* Effect.gen(function* () {
        const dependencies = yield* Layer.build(
          Layer.mergeAll(
            AuthStrategy.layer(AuthStrategy.standard(user)).pipe(
              Layer.provide(OpenSolarApi.layer({ baseUrl: sim.url })),
              Layer.provide(NodeHttpClient.layerUndici)
            ),
            RedisTokenStore.layer({ url: Redacted.make(server.url), keyPrefix, commandTimeout: "500 millis" })
          )
        )
        const store = Context.get(dependencies, TokenStore.TokenStore)
        const tokens = yield* TokenRef.make({ storeKey }).pipe(Effect.provide(dependencies))

        yield* step("login", tokens.refresh)
        yield* step("refresh", tokens.refresh)
        yield* step(
          "wrong Redis password",
          RedisTokenStore.make({ url: wrongUrl, keyPrefix }).pipe(Effect.flatMap((other) => other.load(storeKey)))
        )

        yield* server.stop
        yield* step("get during the outage", tokens.get)
        yield* step("refresh during the outage", tokens.refresh)
        yield* step("load during the outage", store.load(storeKey))
        yield* step("remove during the outage", store.remove(storeKey))

        yield* server.start
        yield* store.load(storeKey).pipe(Effect.retry(Schedule.spaced("20 millis")))
        yield* step("refresh after the outage", tokens.refresh)
      }).pipe(
        Effect.provide(Layer.mergeAll(logs.layer, spans.layer, Logger.remove(Logger.defaultLogger))),
        Effect.scoped
      )

      for (const entry of yield* sim.requestLog) {
        tokensSeen.push(...Option.toArray(entry.token).map(Redacted.value))
      }
      const canaries = new Map([
        ["Redis password", canary.redisPassword],
        ["Redis password, percent-encoded", encodeURIComponent(canary.redisPassword)],
        ["wrong Redis password", canary.wrongRedisPassword],
        ["user password", canary.userPassword],
        ...Arr.dedupe(tokensSeen).map((token, index) => [`token ${index}`, token] as const)
      ])
      exposures.push(
        ...logs.entries.map((entry) => ({ source: `log ${entry.level}`, text: entry.text })),
        ...spans.spans.map((span) => ({ source: `span ${span.name}`, text: span.text() }))
      )

      expect(Arr.dedupe(tokensSeen).length).toBeGreaterThanOrEqual(4)
      expect(spans.spans.map((span) => span.name)).toContain("RedisTokenStore.exclusive")
      expect(logs.entries.map((entry) => entry.text).join("\n")).toContain("WRONGPASS")
      expect(scan(exposures, canaries)).toEqual([])
    }).pipe(Effect.provide(Simulator.layer()), Effect.scoped)
  )
})
