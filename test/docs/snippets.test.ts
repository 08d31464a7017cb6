/**
 * Every code snippet of the documentation site type-checks, and runs — as a user would run it, configured through
 * the `OPENSOLAR_*` environment variables — against a simulator on 127.0.0.1, printing what its page says it prints.
 *
 * Conventions, for whoever adds a snippet:
 * - a snippet is a file in `docs/snippets/`: `.ts` runs with Node (bundled once per test run, the package name
 *   resolving to the source), `.sh` with bash, `.test.ts` with vitest;
 * - the output a page shows is the file of the same name ending in `.out`, compared line by line with what the
 *   snippet writes on standard output; `…` in it stands for any text within one line (a port, a fingerprint, a
 *   time). Lines starting with `$ ` show a command: the snippet runs once per such line, and the lines after it
 *   are that run's output. For a server, `$ curl <url>` is the request sent once it listens, then the answer;
 * - every snippet has an entry in `cases` below: whose credentials it runs with and what else it needs;
 * - a snippet that installs packages (`install: true`) is never run: it may hold only `npm install` lines naming
 *   this package and what package.json depends on.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { accounts, orgs, Simulator, type SimulatorService } from "../../src/testing/index.js"
import { bundle, snippetBundle } from "../support/bundles.js"

const root = path.resolve(import.meta.dirname, "../..")
const snippets = path.join(root, "docs", "snippets")
const tsconfig = path.join(root, "docs", "tsconfig.json")

// Cases

type Account = keyof typeof accounts | "none"

interface Case {
  /** Whose credentials are in the environment. @default "example" */
  readonly account?: Account
  /** Further environment variables, given the running simulator. */
  readonly env?: (simulator: SimulatorService) => Record<string, string>
  /** The exit code the page promises. @default 0 */
  readonly exitCode?: number
  /** A server: runs until the request of its `.out` file is answered, then gets SIGTERM. */
  readonly server?: boolean
  /** Another test runs the snippet, because it needs more than a simulator. */
  readonly runBy?: string
  /** An `npm install` for the page to show: checked, not run. */
  readonly install?: true
  /** @default 2 minutes */
  readonly timeout?: number
}

const cases: Record<string, Case> = {
  "install.sh": { install: true },
  "fleet-install.sh": { install: true },
  "quickstart.ts": {},
  "getting-started.ts": {},
  "getting-started-options.ts": {},
  "strategies.ts": {},
  "strategies-combinators.ts": {},
  "token-ref.ts": {},
  "token-ref-options.ts": {},
  "client.ts": {},
  "mfa-totp.ts": { account: "mfa" },
  "mfa-sources.ts": { account: "none" },
  "machine-user-enable.ts": {},
  "machine-user.ts": { account: "machine" },
  "machine-user-cli.sh": { timeout: 180_000 },
  "nearmap.ts": { account: "none" },
  "orgs.ts": { account: "multiOrg", env: () => ({ OPENSOLAR_ORG_ID: String(orgs.second.id) }) },
  "orgs-errors.ts": { account: "noApiAccess", env: () => ({ OPENSOLAR_ORG_ID: String(orgs.noApiAccess.id) }) },
  "errors.ts": { env: () => ({ OPENSOLAR_PASSWORD: "not-the-password" }), exitCode: 3 },
  "errors-retry.ts": { account: "none" },
  "testing.test.ts": { account: "none" },
  "cli.sh": { timeout: 180_000 },
  "cli-verbose.sh": {},
  "token-storage.ts": {},
  "security-origin.ts": {},
  "security-redaction.ts": {},
  "recipe-cron.ts": {},
  "recipe-server.ts": { server: true },
  "recipe-curl.sh": {},
  "fleet.ts": { runBy: "test/fleet/snippet.test.ts" }
}

// Processes

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a child process to its end, killing it if the test is interrupted; `onStdout` sees output as it comes. */
const run = (
  command: ReadonlyArray<string>,
  env: Record<string, string>,
  onStdout: (stdout: string, child: ChildProcess) => void = () => {}
): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: root, env })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      onStdout(stdout, child)
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })

const commandFor = (file: string): ReadonlyArray<string> => {
  const snippet = path.join(snippets, file)
  if (file.endsWith(".sh")) return ["bash", "-euo", "pipefail", snippet]
  if (file.endsWith(".test.ts")) {
    const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs")
    return [process.execPath, vitest, "run", "--config", path.join(snippets, "vitest.config.ts"), file]
  }
  return [process.execPath, bundle(snippetBundle(file))]
}

/** A directory holding an `opensolar-auth` command that runs the CLI built from source, as the installed one would. */
const makeBinDirectory = (directory: string): string => {
  const bin = path.join(directory, "bin")
  fs.mkdirSync(bin)
  const script = `#!/bin/sh\nexec "${process.execPath}" "${bundle("cli")}" "$@"\n`
  fs.writeFileSync(path.join(bin, "opensolar-auth"), script, { mode: 0o755 })
  return bin
}

const environment = (simulator: SimulatorService, entry: Case, home: string): Record<string, string> => {
  const account = entry.account ?? "example"
  const credentials: Record<string, string> =
    account === "none"
      ? {}
      : account === "machine"
        ? { OPENSOLAR_TOKEN: accounts.machine.token }
        : { OPENSOLAR_USERNAME: accounts[account].username, OPENSOLAR_PASSWORD: accounts[account].password }
  const mfa: Record<string, string> = account === "mfa" ? { OPENSOLAR_TOTP_SECRET: accounts.mfa.totpSecret } : {}
  return {
    PATH: [makeBinDirectory(home), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    HOME: home,
    TMPDIR: os.tmpdir(),
    LANG: "C.UTF-8",
    TZ: "UTC",
    NO_COLOR: "1",
    OPENSOLAR_BASE_URL: simulator.url,
    OPENSOLAR_ORG_ID: String(orgs.main.id),
    ...credentials,
    ...mfa,
    ...entry.env?.(simulator)
  }
}

// Expected output

const lines = (text: string): Array<string> =>
  text
    .replace(/\s+$/, "")
    .split("\n")
    .map((line) => line.replace(/\s+$/, ""))

const linePattern = (line: string): RegExp =>
  new RegExp(
    `^${line
      .split("…")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".+?")}$`
  )

/** Whether `actual` is the text `expected` shows, `…` standing for any text within a line. */
const matches = (actual: string, expected: string): boolean => {
  const actualLines = lines(actual)
  const expectedLines = lines(expected)
  return (
    actualLines.length === expectedLines.length &&
    expectedLines.every((line, index) => linePattern(line).test(actualLines[index]!))
  )
}

/** Whether every line of `expected` appears in `actual`, in order (for test runners, whose reports vary). */
const contains = (actual: string, expected: string): boolean => {
  const remaining = lines(actual)
  return lines(expected).every((line) => {
    const index = remaining.findIndex((candidate) => linePattern(line).test(candidate))
    remaining.splice(0, index + 1)
    return index !== -1
  })
}

interface Run {
  /** The command a `$ ` line shows, if any. */
  readonly command: string | undefined
  readonly output: string
}

/** The runs an `.out` file shows: one per `$ ` line, or a single run without one. */
const expectedRuns = (file: string): ReadonlyArray<Run> => {
  const out = path.join(snippets, file.replace(/\.(test\.ts|ts|sh)$/, ".out"))
  const text = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : ""
  if (!text.startsWith("$ ")) return [{ command: undefined, output: text }]
  return text.split(/^(?=\$ )/m).map((section) => {
    const [first, ...rest] = section.split("\n")
    return { command: first!.slice(2), output: rest.join("\n") }
  })
}

const runnable = (file: string) => /\.(ts|sh)$/.test(file) && file !== "vitest.config.ts"

const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  readonly name: string
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
}

const installable = new Set([
  manifest.name,
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {})
])

/** What is wrong with a line of an install snippet, if anything. */
const installProblem = (line: string): string | undefined => {
  const install = /^npm install((?: [@\w./-]+)+)$/.exec(line)
  if (install === null) return `"${line}" is not an npm install of packages`
  const unknown = install[1]!
    .trim()
    .split(" ")
    .filter((name) => !installable.has(name))
  return unknown.length === 0 ? undefined : `npm install names ${unknown.join(", ")}, which package.json lacks`
}

// Tests

describe("documentation snippets", () => {
  it("type-check", async () => {
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
    const result = await Effect.runPromise(
      run([process.execPath, tsc, "-p", tsconfig, "--noEmit"], { PATH: process.env.PATH ?? "" })
    )
    expect(result.stdout + result.stderr).toBe("")
    expect(result.code).toBe(0)
  })

  it("each have a case saying how they run", () => {
    const files = fs.readdirSync(snippets).filter(runnable).sort()
    expect(Object.keys(cases).sort()).toEqual(files)
  })

  it("that need more than a simulator are run by another test", () => {
    for (const [file, entry] of Object.entries(cases)) {
      if (entry.runBy === undefined) continue
      const test = fs.readFileSync(path.join(root, entry.runBy), "utf8")
      expect(test, `${entry.runBy} runs ${file}`).toContain(`"${file}"`)
    }
  })

  it("that install packages only install this package and what it depends on", () => {
    const installs = Object.entries(cases).filter(([, entry]) => entry.install === true)
    const problems = installs.flatMap(([file]) =>
      lines(fs.readFileSync(path.join(snippets, file), "utf8")).flatMap((line) => {
        const problem = installProblem(line)
        return problem === undefined ? [] : [`${file}: ${problem}`]
      })
    )
    expect(installs.length).toBeGreaterThan(0)
    expect(problems).toEqual([])
  })

  describe.concurrent("run against the simulator", () => {
    for (const [file, entry] of Object.entries(cases)) {
      if (entry.runBy !== undefined || entry.install === true) continue
      it.scopedLive(
        `${file} prints what its page shows`,
        () =>
          Effect.gen(function* () {
            const simulator = yield* Simulator
            const home = fs.mkdtempSync(path.join(os.tmpdir(), "docs-snippet-"))
            yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(home, { recursive: true, force: true })))
            const env = environment(simulator, entry, home)

            for (const expected of expectedRuns(file)) {
              const result =
                entry.server === true ? yield* serve(file, env, expected) : yield* run(commandFor(file), env)

              const shown = `exit code ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`
              expect(result.code, shown).toBe(entry.exitCode ?? 0)
              expect(result.stderr, shown).toBe("")
              if (entry.server === true) continue
              const judge = file.endsWith(".test.ts") ? contains : matches
              expect(judge(result.stdout, expected.output), `${shown}--- expected\n${expected.output}`).toBe(true)
            }
          }).pipe(Effect.provide(Layer.fresh(Simulator.layer()))),
        entry.timeout ?? 120_000
      )
    }
  })
})

/**
 * Starts a server snippet, sends the request its page shows once it says where it listens, compares the answer,
 * and stops it with SIGTERM as a process manager would.
 */
const serve = (file: string, env: Record<string, string>, expected: Run) =>
  Effect.gen(function* () {
    const request = /^curl (\S+)$/.exec(expected.command ?? "")
    if (request === null) return yield* Effect.dieMessage(`${file}: its .out must start with "$ curl <url>"`)
    const listening = yield* Deferred.make<{ readonly origin: string; readonly child: ChildProcess }>()

    const server = yield* Effect.fork(
      run(commandFor(file), { ...env, PORT: "0" }, (stdout, child) => {
        const address = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
        if (address !== null) Deferred.unsafeDone(listening, Effect.succeed({ origin: address[1]!, child }))
      })
    )
    const { child, origin } = yield* Deferred.await(listening)
    const url = new URL(request[1]!)
    const answer = yield* Effect.promise(() =>
      fetch(`${origin}${url.pathname}${url.search}`).then((response) => response.text())
    )
    child.kill("SIGTERM")
    const result = yield* Fiber.join(server)

    expect(matches(answer, expected.output), `answer: ${answer}\nexpected: ${expected.output}`).toBe(true)
    return result
  })
