import { spawn, spawnSync } from "node:child_process"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import * as FileSystem from "@effect/platform/FileSystem"
import * as PlatformError from "@effect/platform/Error"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  ConfigProvider,
  DateTime,
  Deferred,
  Effect,
  Either,
  Fiber,
  Layer,
  Option,
  Queue,
  type Scope,
  TestClock
} from "effect"
import * as BearerToken from "../src/BearerToken.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { accounts, Fault, Simulator } from "../src/testing/index.js"
import { captureLogs } from "./reliability/support/capture.js"
import { settle } from "./reliability/support/settle.js"
import { drive } from "./support/drive.js"
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

const root = NodePath.resolve(import.meta.dirname, "..")

interface ChildProcess {
  readonly nextLine: Effect.Effect<string>
  readonly send: (line: string) => Effect.Effect<void>
  readonly kill: Effect.Effect<void>
}

/**
 * Starts `test/support/fileStoreProcess.ts` with `args`; the process is killed when the scope closes. `nextLine`
 * dies with the process's standard error when it exits first.
 */
const startProcess = (args: ReadonlyArray<string>): Effect.Effect<ChildProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const lines = yield* Queue.unbounded<string | undefined>()
    let stderr = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", "test/support/fileStoreProcess.ts", ...args], {
          cwd: root,
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    Readline.createInterface({ input: child.stdout }).on("line", (line) => Queue.unsafeOffer(lines, line))
    child.once("close", () => Queue.unsafeOffer(lines, undefined))

    return {
      nextLine: Effect.flatMap(Queue.take(lines), (line) =>
        line === undefined
          ? Effect.dieMessage(`the process exited early: ${stderr.slice(-2_000)}`)
          : Effect.succeed(line)
      ),
      send: (line: string) => Effect.sync(() => child.stdin.write(`${line}\n`)),
      kill: Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return resume(Effect.void)
        }
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
    }
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

  it.effect("refuses a path that is not a text, or is empty, with a ConfigurationError naming path", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(FileTokenStore.make({ path: 0 } as unknown as FileTokenStore.Options))
      const empty = yield* Effect.flip(FileTokenStore.make({ path: " " }))

      expect(error.variables).toEqual(["path"])
      expect(error.message).toMatch(/^FileTokenStore: path must be a text/)
      expect(empty.variables).toEqual(["path"])
      expect(empty.message).toMatch(/^FileTokenStore: path must be a text.*got an empty text/)
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

  it.scoped("ignores a corrupt file with a debug log that quotes none of it, and replaces it on the next save", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const { fs, directory, file } = yield* fixture
      yield* fs.makeDirectory(directory, { recursive: true })
      const store = yield* FileTokenStore.make({ path: file })
      const truncated = `{ "version": 1, "grants": { "${TokenStore.keyToString(arnie)}": { "token": "arnies-lost-token`
      const corrupted = ["{ not json", JSON.stringify({ version: 2, grants: {} }), "[]", "", truncated]

      for (const corrupt of corrupted) {
        yield* fs.writeFileString(file, corrupt)
        const earlier = logs.entries.length

        expect(Option.isNone(yield* store.load(arnie))).toBe(true)
        const logged = logs.entries.slice(earlier)
        expect(logged.map((entry) => entry.level)).toEqual(["DEBUG"])
        expect(logged[0]?.text).toContain(`ignoring ${file}: it is not a version 1 token file`)
        expect(logged[0]?.text).not.toContain("arnies-lost-token")
      }
      yield* store.save(arnie, grant("arnies-token"))

      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
      expect(JSON.parse(yield* fs.readFileString(file)).version).toBe(1)
    }).pipe(Effect.provide(Layer.merge(NodeContext.layer, logs.layer)))
  })

  it.scoped("ignores a file it may not read with a debug log, and replaces it on the next save", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const { fs, directory, file } = yield* fixture
      yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 })
      yield* fs.writeFileString(file, JSON.stringify({ version: 1, grants: {} }))
      yield* fs.chmod(file, 0o000)
      // Permissions do not bind root. As root, reading is refused here as the kernel refuses it to any other
      // owner without read permission; the reliability tests read such a file as the user `nobody`.
      const files: FileSystem.FileSystem =
        process.getuid?.() === 0
          ? {
              ...fs,
              readFileString: (path, encoding) =>
                Effect.flatMap(fs.stat(path), (info) =>
                  path === file && (info.mode & 0o400) === 0
                    ? Effect.fail(
                        new PlatformError.SystemError({
                          reason: "PermissionDenied",
                          module: "FileSystem",
                          method: "readFile",
                          pathOrDescriptor: path,
                          syscall: "open",
                          description: `EACCES: permission denied, open '${path}'`
                        })
                      )
                    : fs.readFileString(path, encoding)
                )
            }
          : fs
      const store = yield* FileTokenStore.make({ path: file }).pipe(Effect.provideService(FileSystem.FileSystem, files))

      const before = yield* store.load(arnie)
      const logged = [...logs.entries]
      yield* store.save(arnie, grant("arnies-token"))

      expect(Option.isNone(before)).toBe(true)
      expect(logged.map((entry) => entry.level)).toEqual(["DEBUG"])
      expect(logged[0]?.text).toContain(`ignoring ${file}: PermissionDenied`)
      expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
      expect((yield* fs.stat(file)).mode & 0o777).toBe(0o600)
    }).pipe(Effect.provide(Layer.merge(NodeContext.layer, logs.layer)))
  })

  it.scoped("keeps its default directory private, however named, and leaves a directory it was given as it is", () =>
    Effect.gen(function* () {
      const { fs, path, root } = yield* fixture
      const ownDirectory = path.join(root, "opensolar-auth")
      const givenDirectory = path.join(root, "project")
      for (const directory of [ownDirectory, givenDirectory]) {
        yield* fs.makeDirectory(directory)
        yield* fs.chmod(directory, 0o755)
      }
      const withHome = Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["XDG_CONFIG_HOME", root]])))
      const own = yield* withHome(FileTokenStore.make())
      const given = yield* FileTokenStore.make({ path: path.join(givenDirectory, "tokens.json") })
      const modeOf = (file: string) => Effect.map(fs.stat(file), (info) => info.mode & 0o777)

      yield* own.save(arnie, grant("arnies-token"))
      yield* given.save(arnie, grant("arnies-token"))
      const ownMode = yield* modeOf(ownDirectory)
      yield* fs.chmod(ownDirectory, 0o755)
      const defaultByName = yield* withHome(FileTokenStore.make({ path: path.join(ownDirectory, "tokens.json") }))
      yield* defaultByName.save(sarah, grant("sarahs-token"))

      expect(ownMode).toBe(0o700)
      expect(yield* modeOf(ownDirectory)).toBe(0o700)
      expect(yield* modeOf(path.join(ownDirectory, "tokens.json"))).toBe(0o600)
      expect(yield* modeOf(givenDirectory)).toBe(0o755)
      expect(yield* modeOf(path.join(givenDirectory, "tokens.json"))).toBe(0o600)
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

  describe("lock files", () => {
    const lockFiles = (fs: FileSystem.FileSystem, directory: string) =>
      Effect.map(fs.readDirectory(directory), (names) => names.filter((name) => name.includes(".lock")).sort())

    /** A lock record as another process would write it. */
    const lockRecord = (owner: { readonly pid: number; readonly hostname: string; readonly renewedAt: number }) =>
      JSON.stringify({ ...owner, id: "another-holder", acquiredAt: owner.renewedAt })

    /** A process id that no process has any more. */
    const endedPid = () => spawnSync(process.execPath, ["--eval", ""]).pid

    const saveTimed = (store: TokenStore.Service) =>
      Effect.gen(function* () {
        const before = yield* Clock.currentTimeMillis
        // Hundreds of tries, each a few file operations that take more turns of the event loop the busier the
        // machine: the test's timeout, not a count of turns, is what catches a save that never ends.
        yield* settle(store.save(arnie, grant("arnies-token")), { maxTurns: Number.POSITIVE_INFINITY })
        return (yield* Clock.currentTimeMillis) - before
      })

    it.scoped("takes over at once a lock whose owner has ended, or whose lease lapsed long ago", () =>
      Effect.gen(function* () {
        const { fs, directory, file } = yield* fixture
        yield* fs.makeDirectory(directory, { recursive: true })
        const store = yield* FileTokenStore.make({ path: file })
        yield* TestClock.setTime(3_600_000)

        yield* fs.writeFileString(
          `${file}.lock`,
          lockRecord({ pid: endedPid(), hostname: Os.hostname(), renewedAt: 3_600_000 })
        )
        const afterEndedOwner = yield* saveTimed(store)
        yield* fs.writeFileString(`${file}.lock`, lockRecord({ pid: 1, hostname: "another-machine", renewedAt: 0 }))
        const afterLapsedLease = yield* saveTimed(store)

        expect({ afterEndedOwner, afterLapsedLease }).toEqual({ afterEndedOwner: 0, afterLapsedLease: 0 })
        expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
        expect(yield* lockFiles(fs, directory)).toEqual([])
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("takes over a lock that stays unrenewed, or empty, for its 10-second lease", () =>
      Effect.gen(function* () {
        const { fs, directory, file } = yield* fixture
        yield* fs.makeDirectory(directory, { recursive: true })
        const store = yield* FileTokenStore.make({ path: file })

        yield* fs.writeFileString(`${file}.lock`, lockRecord({ pid: 1, hostname: "another-machine", renewedAt: 0 }))
        const afterSilentOwner = yield* saveTimed(store)
        yield* fs.writeFileString(`${file}.lock`, "")
        const afterEmptyFile = yield* saveTimed(store)

        for (const waited of [afterSilentOwner, afterEmptyFile]) {
          expect(waited).toBeGreaterThan(10_000)
          expect(waited).toBeLessThan(10_100)
        }
        expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
        expect(yield* lockFiles(fs, directory)).toEqual([])
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("goes on without a lock it cannot take, after 20 seconds", () =>
      Effect.gen(function* () {
        const { fs, directory, file } = yield* fixture
        yield* fs.makeDirectory(`${file}.lock`, { recursive: true })
        const store = yield* FileTokenStore.make({ path: file })

        const waited = yield* saveTimed(store)

        expect(waited).toBe(20_000)
        expect(tokenOf(yield* store.load(arnie))).toEqual(Option.some("arnies-token"))
        expect(yield* lockFiles(fs, directory)).toEqual(["tokens.json.lock"])
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("holds a lock file while refreshing, and removes it after a failure and after an interruption", () =>
      Effect.gen(function* () {
        const { fs, directory, file } = yield* fixture
        const store = yield* FileTokenStore.make({ path: file })
        const holding = yield* Deferred.make<ReadonlyArray<string>>()

        const failed = yield* Effect.either(store.exclusive(arnie, Effect.fail("the login failed")))
        const afterFailure = yield* lockFiles(fs, directory)
        const refresh = yield* Effect.fork(
          store.exclusive(
            arnie,
            Effect.zipRight(
              Effect.flatMap(lockFiles(fs, directory), (names) => Deferred.succeed(holding, names)),
              Effect.never
            )
          )
        )
        const whileHeld = yield* Deferred.await(holding)
        yield* Fiber.interrupt(refresh)
        const afterInterruption = yield* lockFiles(fs, directory)

        expect(failed).toEqual(Either.left("the login failed"))
        expect(afterFailure).toEqual([])
        expect(whileHeld).toHaveLength(1)
        expect(whileHeld[0]).toMatch(/^tokens\.json\.refresh-[0-9a-f]{16}\.lock$/)
        expect(afterInterruption).toEqual([])
        expect(yield* store.exclusive(arnie, Effect.succeed("next"))).toBe("next")
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("leaves another's lock alone when interrupted while waiting for it", () =>
      Effect.gen(function* () {
        const { fs, directory, file } = yield* fixture
        yield* fs.makeDirectory(directory, { recursive: true })
        const store = yield* FileTokenStore.make({ path: file })
        const record = lockRecord({ pid: process.pid, hostname: Os.hostname(), renewedAt: 0 })
        yield* fs.writeFileString(`${file}.lock`, record)

        const saving = yield* Effect.fork(store.save(arnie, grant("arnies-token")))
        yield* TestClock.adjust("1 second")
        yield* Fiber.interrupt(saving)

        expect(yield* fs.readFileString(`${file}.lock`)).toBe(record)
        expect(yield* lockFiles(fs, directory)).toEqual(["tokens.json.lock"])
        expect(Option.isNone(yield* store.load(arnie))).toBe(true)
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("two stores in one process on the same file refresh one at a time: one login between them", () =>
      Effect.gen(function* () {
        const { file } = yield* fixture
        const fake = makeFakeStrategy({ latency: () => "2 seconds" })
        const tokensOver = TokenRef.make({ storeKey: arnie, jitter: 0, wakeInterval: "1 day" }).pipe(
          Effect.provide(Layer.merge(fake.layer, FileTokenStore.layer({ path: file })))
        )
        const one = yield* tokensOver
        const two = yield* tokensOver

        const [first, second] = yield* drive(Effect.all([one.get, two.get], { concurrency: "unbounded" }))

        expect(BearerToken.value(second)).toBe(BearerToken.value(first))
        expect({ logins: fake.calls.length, atOnce: fake.maxConcurrent() }).toEqual({ logins: 1, atOnce: 1 })
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped(
      "takes over at once the lock of a process killed while it held it",
      () =>
        Effect.gen(function* () {
          const { fs, directory, file } = yield* fixture
          const key = { baseUrl: arnie.baseUrl, subject: arnie.subject }
          const holder = yield* startProcess(["hold", file, key.baseUrl, key.subject])
          expect(yield* holder.nextLine).toBe("holding")
          yield* holder.kill
          const left = yield* lockFiles(fs, directory)
          const store = yield* FileTokenStore.make({ path: file })

          const result = yield* drive(store.exclusive(key, Effect.succeed("refreshed")))

          expect(left).toHaveLength(1)
          expect(result).toBe("refreshed")
          expect(yield* Clock.currentTimeMillis).toBe(0)
          expect(yield* lockFiles(fs, directory)).toEqual([])
        }).pipe(Effect.provide(NodeContext.layer)),
      30_000
    )

    it.live(
      "two processes asking for a token at the same moment make one login, and both use its grant",
      () =>
        Effect.gen(function* () {
          const { fs, directory, file } = yield* fixture
          const sim = yield* Simulator
          const { username, password } = accounts.example
          // Each login takes long enough that, without the lock, the second process would start its own.
          yield* sim.injectFault({ endpoint: "login", times: 2, fault: Fault.Delay({ duration: "500 millis" }) })
          const workers = yield* Effect.forEach([1, 2], () =>
            startProcess(["refresh", file, sim.url, username, password])
          )
          for (const worker of workers) {
            expect(yield* worker.nextLine).toBe("ready")
          }

          yield* Effect.forEach(workers, (worker) => worker.send("go"))
          const fingerprints = yield* Effect.forEach(workers, (worker) => worker.nextLine, { concurrency: "unbounded" })

          const logins = (yield* sim.requestLog).filter((entry) => entry.endpoint === "login")
          expect(logins).toHaveLength(1)
          expect(fingerprints[1]).toBe(fingerprints[0])
          expect(yield* lockFiles(fs, directory)).toEqual([])
        }).pipe(Effect.scoped, Effect.provide(Simulator.layer()), Effect.provide(NodeContext.layer)),
      60_000
    )
  })

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
