import * as FileSystem from "@effect/platform/FileSystem"
import * as PlatformError from "@effect/platform/Error"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Effect, Either, Layer, Option } from "effect"
import * as BearerToken from "../src/BearerToken.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { makeFakeStrategy } from "./support/fakeStrategy.js"

const arnie: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "arnie@illbeback.com", orgId: 1 }
const arnieOtherOrg: TokenStore.StoreKey = { ...arnie, orgId: 2 }
const arnieElsewhere: TokenStore.StoreKey = { ...arnie, baseUrl: "https://api.opensolar.com" }
const sarah: TokenStore.StoreKey = { baseUrl: "http://127.0.0.1:1", subject: "sarah@cyberdyne.com", orgId: 1 }

const grant = (token: string, issuedAt = 0) =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt: DateTime.unsafeMake(issuedAt),
    expiresAt: Option.some(DateTime.unsafeMake(issuedAt + 7 * 86_400_000)),
    user: new TokenGrant.GrantUser({ id: 7, email: "arnie@illbeback.com" }),
    org: Option.some(new TokenGrant.GrantOrg({ id: 1, name: "Skynet Solar" })),
    orgs: [new TokenGrant.GrantOrg({ id: 1 })],
    strategy: "password"
  })

const tokenOf = (loaded: Option.Option<TokenGrant.TokenGrant>) =>
  Option.map(loaded, (stored) => BearerToken.value(stored.token))

/** A fresh directory for the test, and the store's file inside a directory the store has to create. */
const fixture = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const root = yield* fs.makeTempDirectoryScoped({ prefix: "file-token-store-" })
  const directory = path.join(root, "config", "opensolar-auth")
  return { fs, path, root, directory, file: path.join(directory, "tokens.json") }
})

describe("FileTokenStore", () => {
  it.scoped("saves and loads grants, keeping the file and its directory private", () =>
    Effect.gen(function* () {
      const { fs, directory, file } = yield* fixture
      const store = yield* FileTokenStore.make({ path: file })

      yield* store.save(arnie, grant("arnies-token"))
      const loaded = yield* store.load(arnie)

      expect(tokenOf(loaded)).toEqual(Option.some("arnies-token"))
      expect(Option.map(loaded, (stored) => stored.org)).toEqual(Option.some(grant("x").org))
      expect((yield* fs.stat(file)).mode & 0o777).toBe(0o600)
      expect((yield* fs.stat(directory)).mode & 0o777).toBe(0o700)
      const contents = JSON.parse(yield* fs.readFileString(file))
      expect(contents.version).toBe(1)
      expect(Object.keys(contents.grants)).toEqual([TokenStore.keyToString(arnie)])
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("loads nothing when the file does not exist", () =>
    Effect.gen(function* () {
      const { file } = yield* fixture
      const store = yield* FileTokenStore.make({ path: file })

      expect(Option.isNone(yield* store.load(arnie))).toBe(true)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("keeps accounts apart: base URL, user and organisation each make a different entry", () =>
    Effect.gen(function* () {
      const { file } = yield* fixture
      const store = yield* FileTokenStore.make({ path: file })

      yield* store.save(arnie, grant("arnie-org-1"))
      yield* store.save(arnieOtherOrg, grant("arnie-org-2"))
      yield* store.save(arnieElsewhere, grant("arnie-production"))
      yield* store.save(sarah, grant("sarahs-token"))
      yield* store.remove(arnieOtherOrg)

      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnie-org-1"))
      expect(tokenOf(yield* store.load(arnieOtherOrg))).toEqual(Option.none())
      expect(tokenOf(yield* store.load(arnieElsewhere))).toEqual(Option.some("arnie-production"))
      expect(tokenOf(yield* store.load(sarah))).toEqual(Option.some("sarahs-token"))
      expect(tokenOf(yield* store.load({ ...arnie, subject: "ARNIE@illbeback.com" }))).toEqual(
        Option.some("arnie-org-1")
      )
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("serialises concurrent writers in one process: no save is lost", () =>
    Effect.gen(function* () {
      const { file } = yield* fixture
      const one = yield* FileTokenStore.make({ path: file })
      const two = yield* FileTokenStore.make({ path: file })
      const keys = Array.from({ length: 20 }, (_, index) => ({ ...arnie, orgId: index + 1 }))

      yield* Effect.forEach(keys, (key, index) => (index % 2 === 0 ? one : two).save(key, grant(`token-${index}`)), {
        concurrency: "unbounded"
      })

      const loaded = yield* Effect.forEach(keys, (key) => one.load(key))
      expect(loaded.map(tokenOf)).toEqual(keys.map((_, index) => Option.some(`token-${index}`)))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("keeps entries another process wrote since this store last read the file", () =>
    Effect.gen(function* () {
      const { fs, file } = yield* fixture
      const store = yield* FileTokenStore.make({ path: file })
      yield* store.save(arnie, grant("arnies-token"))
      const written = JSON.parse(yield* fs.readFileString(file))
      written.grants[TokenStore.keyToString(sarah)] = {
        ...written.grants[TokenStore.keyToString(arnie)],
        token: "sarahs-token"
      }
      yield* fs.writeFileString(file, JSON.stringify(written))

      yield* store.save(arnieOtherOrg, grant("arnie-org-2"))

      expect(tokenOf(yield* store.load(sarah))).toEqual(Option.some("sarahs-token"))
      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("ignores a corrupt file and replaces it on the next save", () =>
    Effect.gen(function* () {
      const { fs, directory, file } = yield* fixture
      yield* fs.makeDirectory(directory, { recursive: true })
      const store = yield* FileTokenStore.make({ path: file })

      for (const corrupt of ["{ not json", JSON.stringify({ version: 2, grants: {} }), "[]", ""]) {
        yield* fs.writeFileString(file, corrupt)
        expect(Option.isNone(yield* store.load(arnie))).toBe(true)
      }
      yield* store.save(arnie, grant("arnies-token"))

      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
      expect(JSON.parse(yield* fs.readFileString(file)).version).toBe(1)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("ignores one unreadable entry without losing the others", () =>
    Effect.gen(function* () {
      const { fs, file } = yield* fixture
      const store = yield* FileTokenStore.make({ path: file })
      yield* store.save(arnie, grant("arnies-token"))
      const written = JSON.parse(yield* fs.readFileString(file))
      written.grants[TokenStore.keyToString(sarah)] = { token: "has white space" }
      yield* fs.writeFileString(file, JSON.stringify(written))

      expect(Option.isNone(yield* store.load(sarah))).toBe(true)
      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("writes atomically: a failed write leaves the old file whole and no temporary file behind", () =>
    Effect.gen(function* () {
      const { fs, directory, file } = yield* fixture
      const healthy = yield* FileTokenStore.make({ path: file })
      yield* healthy.save(arnie, grant("arnies-token"))
      const before = yield* fs.readFileString(file)
      const failingRename = Layer.succeed(FileSystem.FileSystem, {
        ...fs,
        rename: (from: string) =>
          Effect.fail(
            new PlatformError.SystemError({
              reason: "Busy",
              module: "FileSystem",
              method: "rename",
              pathOrDescriptor: from
            })
          )
      })
      const failing = yield* FileTokenStore.make({ path: file }).pipe(Effect.provide(failingRename))

      const result = yield* Effect.either(failing.save(sarah, grant("sarahs-token")))

      expect(Either.isLeft(result) && result.left.operation).toBe("save")
      expect(yield* fs.readFileString(file)).toBe(before)
      expect(yield* fs.readDirectory(directory)).toEqual(["tokens.json"])
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("lets a restarted TokenRef use the saved grant instead of logging in", () =>
    Effect.gen(function* () {
      const { file } = yield* fixture
      const fake = makeFakeStrategy()
      const first = yield* Effect.scoped(
        Effect.flatMap(
          TokenRef.make({ storeKey: arnie, jitter: 0, wakeInterval: "1 day" }),
          (tokens) => tokens.get
        ).pipe(Effect.provide(Layer.merge(fake.layer, FileTokenStore.layer({ path: file }))))
      )
      const second = yield* Effect.scoped(
        Effect.flatMap(
          TokenRef.make({ storeKey: arnie, jitter: 0, wakeInterval: "1 day" }),
          (tokens) => tokens.get
        ).pipe(Effect.provide(Layer.merge(fake.layer, FileTokenStore.layer({ path: file }))))
      )

      expect(BearerToken.value(second)).toBe(BearerToken.value(first))
      expect(fake.calls.length).toBe(1)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  describe("defaultPath", () => {
    const pathWith = (environment: Record<string, string>) =>
      FileTokenStore.defaultPath.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(environment)))),
        Effect.provide(NodeContext.layer)
      )

    it.effect("is under XDG_CONFIG_HOME when it is set, else under ~/.config", () =>
      Effect.gen(function* () {
        expect(yield* pathWith({ XDG_CONFIG_HOME: "/xdg", HOME: "/home/arnie" })).toBe(
          "/xdg/opensolar-auth/tokens.json"
        )
        expect(yield* pathWith({ HOME: "/home/arnie" })).toBe("/home/arnie/.config/opensolar-auth/tokens.json")
        expect(yield* pathWith({ XDG_CONFIG_HOME: "relative", HOME: "/home/arnie" })).toBe(
          "/home/arnie/.config/opensolar-auth/tokens.json"
        )
      })
    )
  })
})
