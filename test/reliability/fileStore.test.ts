/**
 * The file token store under abuse: corrupt files, files other users can read, files this user cannot read, a
 * directory where the file should be, and two processes saving into one file at the same moment. The store must
 * never crash its program, never mix up accounts, and never lose a valid grant.
 */
import { spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Data, Effect, Layer, Option, type Scope, TestClock } from "effect"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as FileTokenStore from "../../src/FileTokenStore.js"
import * as TokenRef from "../../src/TokenRef.js"
import * as TokenStore from "../../src/TokenStore.js"
import { accounts, Simulator } from "../../src/testing/index.js"
import { settle } from "./support/settle.js"
import { apiLayer } from "./support/stack.js"

const root = Path.resolve(import.meta.dirname, "../..")

const worker = "test/reliability/support/fileStoreWorker.ts"

const start = Date.parse("2026-03-04T05:06:00Z")

const example = accounts.example

/** A fresh directory, open to every user so that a process running as another user can write in it. */
const sharedDirectory = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "reliability-file-store-" })
  yield* fs.chmod(directory, 0o777)
  return { fs, directory, file: Path.join(directory, "tokens.json") }
})

const modeOf = (fs: FileSystem.FileSystem, path: string) => Effect.map(fs.stat(path), (info) => info.mode & 0o777)

// ---------------------------------------------------------------------------------------------------------------
// A TokenRef over the file, against the simulator

/** A `TokenRef` over the standard strategy, keeping its grant in `file` under the simulator's URL. */
const tokensOver = (file: string) =>
  Layer.unwrapEffect(
    Effect.map(Simulator, (sim) =>
      TokenRef.layer({ storeKey: { baseUrl: sim.url, subject: example.username } }).pipe(
        Layer.provide(AuthStrategy.layer(AuthStrategy.standard(example))),
        Layer.provide(FileTokenStore.layerNode({ path: file }))
      )
    )
  )

/** Starts a `TokenRef` over the file, takes a token, and stops it again, as a run of a command would. */
const runOnce = (file: string) =>
  settle(
    Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(tokensOver(file))
        const tokens = yield* Effect.provide(TokenRef.TokenRef, context)
        return BearerToken.value(yield* tokens.get)
      })
    )
  )

const logins = Effect.flatMap(Simulator, (sim) =>
  Effect.map(sim.requestLog, (log) => log.filter((entry) => entry.endpoint === "login").length)
)

const storedKeys = (fs: FileSystem.FileSystem, file: string) =>
  Effect.map(fs.readFileString(file), (text) => {
    const contents = JSON.parse(text)
    return { version: contents.version, keys: Object.keys(contents.grants).sort() }
  })

const corruptions: ReadonlyArray<readonly [string, string]> = [
  ["empty", ""],
  ["truncated JSON", '{"version": 1, "grants": {"http://127.0.0.1'],
  ["binary", "\u0000\u0001\u0002\uffff\ud800garbage"],
  ["a JSON array", "[]"],
  ["another version", JSON.stringify({ version: 2, grants: {} })],
  ["grants that are a list", JSON.stringify({ version: 1, grants: [] })],
  ["no grants", JSON.stringify({ version: 1 })],
  ["a megabyte of text", "x".repeat(1_000_000)]
]

describe("file token store: damaged files", () => {
  for (const [name, contents] of corruptions) {
    it.scoped(`${name}: ignored, replaced by one login's grant, which the next run uses`, () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const { fs, file } = yield* sharedDirectory
        yield* fs.writeFileString(file, contents)

        const first = yield* runOnce(file)
        const second = yield* runOnce(file)

        expect(second).toBe(first)
        expect(yield* logins).toBe(1)
        expect((yield* storedKeys(fs, file)).version).toBe(1)
        expect(yield* modeOf(fs, file)).toBe(0o600)
      }).pipe(Effect.provide(apiLayer()), Effect.provide(NodeContext.layer))
    )
  }

  it.scoped("an unreadable entry of this account is replaced, and other accounts' entries are kept", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const { fs, file } = yield* sharedDirectory
      const sim = yield* Simulator
      const ours = TokenStore.keyToString({ baseUrl: sim.url, subject: example.username })
      const theirs = TokenStore.keyToString({ baseUrl: sim.url, subject: accounts.multiOrg.username })
      yield* runOnce(file)
      const valid = JSON.parse(yield* fs.readFileString(file)).grants[ours]
      yield* fs.writeFileString(
        file,
        JSON.stringify({ version: 1, grants: { [ours]: { token: 42 }, [theirs]: { ...valid, token: "their-token" } } })
      )

      yield* runOnce(file)

      const grants = JSON.parse(yield* fs.readFileString(file)).grants
      expect(grants[theirs].token).toBe("their-token")
      expect(typeof grants[ours].token).toBe("string")
      expect(grants[ours].token).not.toBe("their-token")
      expect(yield* logins).toBe(2)
    }).pipe(Effect.provide(apiLayer()), Effect.provide(NodeContext.layer))
  )

  it.scoped("a directory where the file should be: every run still gets its token, and nothing crashes", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const { fs, file } = yield* sharedDirectory
      yield* fs.makeDirectory(Path.join(file, "inside"), { recursive: true })

      const first = yield* runOnce(file)
      const second = yield* runOnce(file)

      expect(first.length).toBeGreaterThan(0)
      expect(second.length).toBeGreaterThan(0)
      expect(yield* logins).toBe(2)
      expect((yield* fs.stat(file)).type).toBe("Directory")
    }).pipe(Effect.provide(apiLayer()), Effect.provide(NodeContext.layer))
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Permissions

describe("file token store: permissions", () => {
  it.scoped("a file others can read (0644) is still used, and the next save makes it owner-only (0600)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const { fs, file } = yield* sharedDirectory
      const first = yield* runOnce(file)
      yield* fs.chmod(file, 0o644)

      const second = yield* runOnce(file)
      expect(second).toBe(first)
      expect(yield* logins).toBe(1)

      const store = yield* FileTokenStore.make({ path: file })
      const sim = yield* Simulator
      const key = { baseUrl: sim.url, subject: accounts.multiOrg.username }
      const loaded = yield* store.load({ baseUrl: sim.url, subject: example.username })
      yield* store.save(key, Option.getOrThrow(loaded))

      expect(yield* modeOf(fs, file)).toBe(0o600)
      expect((yield* storedKeys(fs, file)).keys).toEqual(
        [TokenStore.keyToString(key), TokenStore.keyToString({ baseUrl: sim.url, subject: example.username })].sort()
      )
    }).pipe(Effect.provide(apiLayer()), Effect.provide(NodeContext.layer))
  )

  it.scoped("a file this user cannot read is ignored, not a crash, and the next save replaces it", () =>
    Effect.gen(function* () {
      const { fs, file } = yield* sharedDirectory
      yield* fs.writeFileString(file, JSON.stringify({ version: 1, grants: {} }))
      yield* fs.chmod(file, 0o000)

      // Permissions do not bind root: as root, the store runs as `nobody`.
      const report = yield* runWorker(["once", file, example.username, "fresh-token"], asUnprivileged)

      expect(report).toEqual({ before: null, after: "fresh-token", errors: [] })
      expect(yield* modeOf(fs, file)).toBe(0o600)
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Two processes

class WorkerFailed extends Data.TaggedError("WorkerFailed")<{ readonly code: number | null; readonly stderr: string }> {
  override get message(): string {
    return `the file store worker exited with ${this.code}: ${this.stderr.slice(-2_000)}`
  }
}

interface SpawnOptions {
  readonly uid?: number
  readonly gid?: number
}

const asUnprivileged: SpawnOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}

interface Worker {
  /** Resolves once the worker has said `ready`. */
  readonly ready: Effect.Effect<void, WorkerFailed>
  readonly go: Effect.Effect<void>
  /** The worker's JSON report, once it has exited. */
  readonly report: Effect.Effect<unknown, WorkerFailed>
}

const startWorker = (
  args: ReadonlyArray<string>,
  options: SpawnOptions = {}
): Effect.Effect<Worker, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", worker, ...args], {
          cwd: root,
          env: { ...process.env, HOME: Path.dirname(args[1]!) },
          stdio: ["pipe", "pipe", "pipe"],
          ...options
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
    )
    const lines: Array<string> = []
    let stderr = ""
    let readyListener: (() => void) | undefined
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    Readline.createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      if (line === "ready") {
        readyListener?.()
      }
    })
    const exited = Effect.async<number | null>((resume) => {
      if (child.exitCode !== null) {
        return resume(Effect.succeed(child.exitCode))
      }
      child.once("close", (code) => resume(Effect.succeed(code)))
    })
    const failed = (code: number | null) => new WorkerFailed({ code, stderr })

    return {
      ready: Effect.raceFirst(
        Effect.async<void>((resume) => {
          if (lines.includes("ready")) {
            return resume(Effect.void)
          }
          readyListener = () => resume(Effect.void)
        }),
        Effect.flatMap(exited, (code) => Effect.fail(failed(code)))
      ),
      go: Effect.sync(() => {
        child.stdin.end("go\n")
      }),
      report: Effect.flatMap(exited, (code) => {
        const last = lines.at(-1)
        return code === 0 && last !== undefined
          ? Effect.succeed(JSON.parse(last) as unknown)
          : Effect.fail(failed(code))
      })
    }
  })

const runWorker = (args: ReadonlyArray<string>, options: SpawnOptions = {}) =>
  Effect.scoped(Effect.flatMap(startWorker(args, options), (started) => started.report))

interface LoopReport {
  readonly found: ReadonlyArray<string | null>
  readonly errors: ReadonlyArray<string>
}

const saves = 150

describe("file token store: two processes", () => {
  it.live(
    "saving different accounts into one file at the same moment: no crash, no mixed-up accounts, no lost grant",
    () =>
      Effect.gen(function* () {
        const { fs, file } = yield* sharedDirectory
        const subjects = ["arnie@illbeback.com", "sarah@cyberdyne.example"] as const
        const workers = yield* Effect.forEach(subjects, (subject) =>
          startWorker(["loop", file, subject, String(saves)])
        )
        yield* Effect.forEach(workers, (started) => started.ready)

        yield* Effect.forEach(workers, (started) => started.go)
        const reports = (yield* Effect.forEach(workers, (started) => started.report, {
          concurrency: "unbounded"
        })) as ReadonlyArray<LoopReport>

        const store = yield* FileTokenStore.make({ path: file })
        const final = yield* Effect.forEach(subjects, (subject) =>
          Effect.map(store.load({ baseUrl: "https://api.opensolar.com", subject, orgId: 1 }), (loaded) =>
            Option.getOrNull(Option.map(loaded, (grant) => BearerToken.value(grant.token)))
          )
        )
        const lostOwnSaves = reports.map(
          (report, index) =>
            report.found.filter((token, attempt) => token !== `${subjects[index]}-${attempt + 1}`).length
        )
        const mixedUp = reports.map(
          (report, index) =>
            report.found.filter((token) => token !== null && !token.startsWith(`${subjects[index]}-`)).length
        )

        expect(reports.map((report) => report.errors)).toEqual([[], []])
        expect(mixedUp).toEqual([0, 0])
        expect((yield* storedKeys(fs, file)).version).toBe(1)
        expect(yield* modeOf(fs, file)).toBe(0o600)
        expect({ final, lostOwnSaves }).toEqual({
          final: subjects.map((subject) => `${subject}-${saves}`),
          lostOwnSaves: [0, 0]
        })
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
    60_000
  )
})
