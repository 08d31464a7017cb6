/**
 * The snippet of the "Running a fleet" page type-checks, and runs twice (bundled once per test run, the package name
 * resolving to the source) as two processes of one fleet would, against the simulator and a Redis server: the
 * first logs in, the second uses the grant the first stored.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { accounts, orgs, Simulator } from "../../src/testing/index.js"
import { bundle, snippetBundle } from "../support/bundles.js"
import * as RedisServer from "../support/redisServer.js"

const root = path.resolve(import.meta.dirname, "../..")
const snippet = path.join(root, "docs", "snippets", "fleet.ts")
const expected = fs.readFileSync(path.join(root, "docs", "snippets", "fleet.out"), "utf8")
const tsconfig = path.join(root, "docs", "tsconfig.json")

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (command: string, args: ReadonlyArray<string>, env: Record<string, string>): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const child: ChildProcess = spawn(command, args, { cwd: root, env })
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })

/** Whether `actual` is what `shown` shows, `…` standing for any text within a line. */
const matches = (actual: string, shown: string): boolean => {
  const lines = (text: string) => text.trimEnd().split("\n")
  const expectedLines = lines(shown)
  const actualLines = lines(actual)
  return (
    actualLines.length === expectedLines.length &&
    expectedLines.every((line, index) =>
      new RegExp(
        `^${line
          .split("…")
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join(".+?")}$`
      ).test(actualLines[index]!)
    )
  )
}

const fingerprint = (output: string) => output.match(/tok_[0-9a-f]{8}/g) ?? []

describe("the fleet page's snippet", () => {
  it.live(
    "type-checks",
    () =>
      Effect.gen(function* () {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-snippet-"))
        const config = path.join(directory, "tsconfig.json")
        // Only this snippet; type roots named, as they are otherwise looked up from the temporary directory.
        fs.writeFileSync(
          config,
          JSON.stringify({
            extends: tsconfig,
            compilerOptions: { typeRoots: [path.join(root, "node_modules", "@types")] },
            files: [snippet],
            include: []
          })
        )

        const result = yield* run(
          process.execPath,
          [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", config, "--noEmit"],
          { PATH: process.env.PATH ?? "" }
        ).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))))

        expect(result.stdout + result.stderr).toBe("")
        expect(result.code).toBe(0)
      }),
    60_000
  )

  it.scopedLive(
    "logs in once for two processes sharing Redis",
    () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const redis = yield* RedisServer.make
        const env = {
          PATH: process.env.PATH ?? "",
          TZ: "UTC",
          NO_COLOR: "1",
          OPENSOLAR_BASE_URL: sim.url,
          OPENSOLAR_USERNAME: accounts.example.username,
          OPENSOLAR_PASSWORD: accounts.example.password,
          OPENSOLAR_ORG_ID: String(orgs.main.id),
          REDIS_URL: redis.url
        }
        const process_ = () => run(process.execPath, [bundle(snippetBundle("fleet.ts"))], env)

        const first = yield* process_()
        const second = yield* process_()
        const logins = (yield* sim.requestLog).filter((entry) => entry.endpoint === "login")

        expect(first, first.stderr).toMatchObject({ code: 0, stderr: "" })
        expect(matches(first.stdout, expected), first.stdout).toBe(true)
        expect(second, second.stderr).toMatchObject({ code: 0, stderr: "" })
        expect(second.stdout).toContain("Another process already logged in")
        expect(new Set([...fingerprint(first.stdout), ...fingerprint(second.stdout)]).size).toBe(1)
        expect(logins).toHaveLength(1)
      }).pipe(Effect.provide(Simulator.layer())),
    60_000
  )
})
