import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Either, Fiber, Option, TestClock } from "effect"
import type * as AuthError from "../src/AuthError.js"
import * as BearerToken from "../src/BearerToken.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenStore from "../src/TokenStore.js"

const arnie: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "arnie@illbeback.com", orgId: 1 }
const sarah: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "sarah@cyberdyne.com" }

const grant = (token: string) =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt: DateTime.unsafeMake(0),
    expiresAt: Option.some(DateTime.unsafeMake(7 * 86_400_000)),
    user: new TokenGrant.GrantUser({ id: 7 }),
    org: Option.none(),
    orgs: [],
    strategy: "password"
  })

const tokenOf = (loaded: Option.Option<TokenGrant.TokenGrant>) =>
  Option.map(loaded, (stored) => BearerToken.value(stored.token))

/** The store contract, for every store that keeps grants in this process. */
const contract = (name: string, makeStore: Effect.Effect<TokenStore.Service, AuthError.ConfigurationError>) =>
  describe(name, () => {
    it.effect("loads what was saved, per key, and nothing after remove", () =>
      Effect.gen(function* () {
        const store = yield* makeStore

        yield* store.save(arnie, grant("arnies-token"))
        yield* store.save(sarah, grant("sarahs-token"))
        yield* store.save(arnie, grant("arnies-new-token"))
        yield* store.remove(sarah)

        expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-new-token"))
        expect(tokenOf(yield* store.load(sarah))).toEqual(Option.none())
        expect(tokenOf(yield* store.load({ ...arnie, orgId: 2 }))).toEqual(Option.none())
      })
    )

    it.effect("runs refreshes for one key one at a time, and for different keys side by side", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        let running = 0
        let mostAtOnce = 0
        const refresh = Effect.acquireUseRelease(
          Effect.sync(() => {
            running += 1
            mostAtOnce = Math.max(mostAtOnce, running)
          }),
          () => Effect.sleep("1 second"),
          () => Effect.sync(() => (running -= 1))
        )

        const sameKey = yield* Effect.fork(
          Effect.all([store.exclusive(arnie, refresh), store.exclusive(arnie, refresh)], { concurrency: 2 })
        )
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(sameKey)
        expect(mostAtOnce).toBe(1)

        const otherKeys = yield* Effect.fork(
          Effect.all([store.exclusive(arnie, refresh), store.exclusive(sarah, refresh)], { concurrency: 2 })
        )
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(otherKeys)
        expect(mostAtOnce).toBe(2)
      })
    )

    it.effect("releases the key when a refresh fails or is interrupted", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        const started = yield* Deferred.make<void>()

        const failed = yield* Effect.either(store.exclusive(arnie, Effect.fail("no")))
        const interrupted = yield* Effect.fork(
          store.exclusive(arnie, Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
        )
        yield* Deferred.await(started)
        yield* Fiber.interrupt(interrupted)
        const after = yield* store.exclusive(arnie, Effect.succeed("ran"))

        expect(Either.isLeft(failed)).toBe(true)
        expect(after).toBe("ran")
      })
    )
  })

describe("TokenStore", () => {
  describe("keyToString", () => {
    it("names the API without trailing slashes, the user in lower case, and the organisation or a dash", () => {
      expect(TokenStore.keyToString({ baseUrl: "https://api.opensolar.com/", subject: "Arnie@IllBeBack.com" })).toBe(
        "https://api.opensolar.com|arnie@illbeback.com|-"
      )
      expect(TokenStore.keyToString(arnie)).toBe("http://127.0.0.1:1|arnie@illbeback.com|1")
    })
  })

  contract("layerMemory", TokenStore.makeMemory)

  contract("layerKeyValueStore", TokenStore.makeKeyValueStore().pipe(Effect.provide(KeyValueStore.layerMemory)))

  describe("layerKeyValueStore", () => {
    it.effect("keeps each grant as versioned JSON under a prefixed key", () =>
      Effect.gen(function* () {
        const kv = yield* KeyValueStore.KeyValueStore
        const store = yield* TokenStore.makeKeyValueStore({ prefix: "tokens/" })

        yield* store.save(arnie, grant("arnies-token"))

        const raw = yield* kv.get(`tokens/${TokenStore.keyToString(arnie)}`)
        const stored = JSON.parse(Option.getOrThrow(raw))
        expect(stored.version).toBe(1)
        expect(stored.grant.token).toBe("arnies-token")
        expect(yield* kv.size).toBe(1)
      }).pipe(Effect.provide(KeyValueStore.layerMemory))
    )

    it.effect("fails load with a TokenStoreError that never quotes the entry, and recovers on the next save", () =>
      Effect.gen(function* () {
        const kv = yield* KeyValueStore.KeyValueStore
        const store = yield* TokenStore.makeKeyValueStore()
        const name = `effect-opensolar-auth/grant/${TokenStore.keyToString(arnie)}`

        for (const corrupt of [
          "{ not json",
          JSON.stringify({ version: 2, grant: {} }),
          '{"version":1,"grant":{"token":"se cret"}}'
        ]) {
          yield* kv.set(name, corrupt)
          const result = yield* Effect.either(store.load(arnie))
          expect(Either.isLeft(result) && result.left.operation).toBe("load")
          expect(Either.isLeft(result) && result.left.message).not.toContain("se cret")
        }
        yield* store.save(arnie, grant("arnies-token"))

        expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
      }).pipe(Effect.provide(KeyValueStore.layerMemory))
    )
  })
})
