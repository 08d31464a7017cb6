/**
 * Canary credentials — a password, a wrong password, a TOTP secret, an MFA code, and every token the simulator
 * issues (read from its request log and the grants) — run through the strategies, the `TokenRef`, the client, the
 * file store, the configuration, the `opensolar-auth` command and the demo, on success and on every kind of
 * failure. Every log line at every level (a logger capturing all of them), every span (a tracer capturing all of
 * them), every error rendering, every line the command and the demo print, and every file written except the
 * token store itself is searched for the canaries and for anything shaped like a token: there must be none.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Util from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { Cause, ConfigProvider, Context, Duration, Effect, Exit, Layer, Option, Redacted, TestClock } from "effect"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as FileTokenStore from "../../src/FileTokenStore.js"
import * as MfaCodeSource from "../../src/MfaCodeSource.js"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import * as OpenSolarClient from "../../src/OpenSolarClient.js"
import * as OpenSolarConfig from "../../src/OpenSolarConfig.js"
import * as TokenGrant from "../../src/TokenGrant.js"
import * as TokenRef from "../../src/TokenRef.js"
import { accounts, type Fault as FaultType, Fault, Simulator } from "../../src/testing/index.js"
import { bundle } from "../support/bundles.js"
import { requestTimeout } from "../support/drive.js"
import { type Exposure, filesUnder, isLoaderCache, scan } from "./support/canaries.js"
import { captureLogs, captureSpans } from "./support/capture.js"
import { settle } from "./support/settle.js"
import { trackedStack } from "./support/tracked.js"

const canary = {
  password: "Canary-Password-5f1e9b7c",
  wrongPassword: "Canary-WrongPassword-77c2e0aa",
  totpSecret: "CANARYSECRETQ4ZK7MNTOTPXYZ234567",
  mfaCode: "73914682",
  unusableToken: "canary token 3b8f1d2e",
  unusableTotpSecret: "canary-totp-secret-not-base32!"
} as const

const plainUser = { username: "canary.plain@example.test", password: canary.password }

const mfaUser = { username: "canary.mfa@example.test", password: canary.password, totpSecret: canary.totpSecret }

/** The token inside the simulator's malformed JSON fault: an answer the library could not read must not repeat it. */
const malformedBodyToken = "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"

const secretCanaries = (): Map<string, string> =>
  new Map<string, string>([
    ["password", canary.password],
    ["wrong password", canary.wrongPassword],
    ["TOTP secret", canary.totpSecret],
    ["MFA code", canary.mfaCode],
    ["unusable token", canary.unusableToken],
    ["unusable TOTP secret", canary.unusableTotpSecret],
    ["token in a malformed answer", malformedBodyToken]
  ])

/** Every way to render an error or a cause: its message, its string, JSON, `util.inspect` and `Cause.pretty`. */
const renderings = (source: string, cause: Cause.Cause<unknown>): ReadonlyArray<Exposure> => {
  const error = Cause.squash(cause)
  const texts = [
    Cause.pretty(cause, { renderErrorCause: true }),
    String(error),
    error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : "",
    Util.inspect(error, { depth: 12 }),
    Util.inspect(cause, { depth: 12 }),
    safeJson(error),
    safeJson(cause)
  ]
  return texts.map((text) => ({ source, text }))
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? ""
  } catch (error) {
    return String(error)
  }
}

const tokensOfGrants = (grants: ReadonlyArray<TokenGrant.TokenGrant>) =>
  grants.map((grant) => BearerToken.value(grant.token))

// ---------------------------------------------------------------------------------------------------------------
// The library

const faultsToTry: ReadonlyArray<readonly [string, FaultType]> = [
  ["400", Fault.Status({ status: 400, body: { non_field_errors: ["Invalid two-factor authentication code."] } })],
  ["401", Fault.Status({ status: 401 })],
  ["402", Fault.Status({ status: 402 })],
  ["403", Fault.Status({ status: 403 })],
  ["429", Fault.Status({ status: 429, retryAfter: 5 })],
  ["500", Fault.Status({ status: 500 })],
  ["reset", Fault.ConnectionReset()],
  ["malformed JSON", Fault.MalformedJson()],
  ["HTML 502", Fault.HtmlBody({ status: 502 })],
  ["HTML 200", Fault.HtmlBody({ status: 200 })]
]

describe("secrets: the library", () => {
  it.scoped(
    "no log line, span, error or written file holds a password, TOTP secret, code or token",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.parse("2026-03-04T05:06:00Z"))
        const logs = captureLogs()
        const spans = captureSpans()
        const observed = Layer.merge(logs.layer, spans.layer)
        const errors: Array<Exposure> = []
        const grants: Array<TokenGrant.TokenGrant> = []
        const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "reliability-secrets-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true })))
        const storePath = Path.join(directory, "config", "tokens.json")

        /** Runs one step, keeping every rendering of its failure and the grant it obtained, if any. */
        const step = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
          Effect.flatMap(Effect.exit(effect), (exit) =>
            Effect.sync(() => {
              if (Exit.isFailure(exit)) {
                errors.push(...renderings(label, exit.cause))
              } else if (exit.value instanceof TokenGrant.TokenGrant) {
                grants.push(exit.value)
              }
              return exit
            })
          )

        const { exchanges, layer } = trackedStack({
          timeout: requestTimeout,
          stall: false,
          simulator: { loginRateLimit: 1_000 }
        })

        const program = Effect.gen(function* () {
          const sim = yield* Simulator
          const api = yield* OpenSolarApi.OpenSolarApi
          const { id: plainId } = yield* sim.addUser({ ...plainUser, orgIds: [1] })
          yield* sim.addUser({ ...mfaUser, orgIds: [1, 2] })
          const totp = () => MfaCodeSource.totp(canary.totpSecret)

          // Strategies, succeeding and failing.
          const plain = yield* AuthStrategy.password(plainUser).authenticate(Option.none())
          grants.push(plain)
          yield* step(
            "wrong password",
            AuthStrategy.password({ ...plainUser, password: canary.wrongPassword }).authenticate(Option.none())
          )
          yield* step("no code", AuthStrategy.password(mfaUser).authenticate(Option.none()))
          yield* step(
            "password + TOTP",
            AuthStrategy.passwordWithMfa({ ...mfaUser, mfa: totp() }).authenticate(Option.none())
          )
          yield* step(
            "password + wrong code",
            AuthStrategy.passwordWithMfa({ ...mfaUser, mfa: MfaCodeSource.static(canary.mfaCode) }).authenticate(
              Option.none()
            )
          )
          yield* step(
            "unusable TOTP secret",
            AuthStrategy.passwordWithMfa({
              ...mfaUser,
              mfa: MfaCodeSource.totp(`otpauth://totp/x?secret=${canary.totpSecret}&period=0`)
            }).authenticate(Option.none())
          )
          yield* step(
            "unusable TOTP text",
            AuthStrategy.passwordWithMfa({
              ...mfaUser,
              mfa: MfaCodeSource.totp(canary.unusableTotpSecret)
            }).authenticate(Option.none())
          )
          yield* step("session refresh", AuthStrategy.sessionRefresh().authenticate(Option.some(plain)))
          yield* step(
            "refresh into another org",
            AuthStrategy.sessionRefresh({ orgId: 2 }).authenticate(Option.some(plain))
          )
          const machine = yield* sim.issueToken(plainUser.username)
          const machineToken = BearerToken.unsafeMake(Redacted.value(machine))
          yield* step("machine user on", api.setMachineUser({ token: machineToken, userId: plainId, enabled: true }))
          yield* step(
            "machine user of another",
            api.setMachineUser({ token: machineToken, userId: accounts.example.id, enabled: true })
          )
          yield* step("machine user off", api.setMachineUser({ token: machineToken, userId: plainId, enabled: false }))
          yield* sim.revokeToken(machine)
          yield* step("revoked token", api.setMachineUser({ token: machineToken, userId: plainId, enabled: true }))
          yield* step("standard after revocation", AuthStrategy.standard(plainUser).authenticate(Option.some(plain)))

          // Every fault, at every endpoint.
          for (const [name, fault] of faultsToTry) {
            yield* sim.injectFault({ endpoint: "login", fault })
            yield* step(`login, ${name}`, AuthStrategy.password(plainUser).authenticate(Option.none()))
            yield* sim.injectFault({ endpoint: "login", fault })
            yield* step(
              `login with a code, ${name}`,
              AuthStrategy.passwordWithMfa({ ...mfaUser, mfa: totp() }).authenticate(Option.none())
            )
            const current = yield* AuthStrategy.password(plainUser).authenticate(Option.none())
            grants.push(current)
            yield* sim.injectFault({ endpoint: "fetchToken", fault })
            yield* step(`refresh, ${name}`, AuthStrategy.standard(plainUser).authenticate(Option.some(current)))
            yield* sim.injectFault({ endpoint: "machineUser", fault })
            yield* step(
              `machine user, ${name}`,
              api.setMachineUser({ token: current.token, userId: plainId, enabled: false })
            )
          }

          // The always-fresh token and the client over it, with a file store.
          yield* Effect.scoped(
            Effect.gen(function* () {
              const context = yield* Layer.build(
                OpenSolarClient.layer({ baseUrl: sim.url, timeout: requestTimeout }).pipe(
                  Layer.provideMerge(
                    TokenRef.layer({ storeKey: { baseUrl: sim.url, subject: mfaUser.username } }).pipe(
                      Layer.provide(
                        AuthStrategy.layer(
                          AuthStrategy.standard({ ...mfaUser, mfa: MfaCodeSource.totp(canary.totpSecret) })
                        )
                      ),
                      Layer.provide(FileTokenStore.layerNode({ path: storePath }))
                    )
                  ),
                  Layer.provide(observed)
                )
              )
              const tokens = Context.get(context, TokenRef.TokenRef)
              const client = Context.get(context, OpenSolarClient.OpenSolarClient)
              const projects = client.forOrg(1).filterStatusOk.get("projects/")
              const read = Effect.flatMap(projects, (response) => response.json)

              yield* step("first get", tokens.get)
              yield* step("projects", read)
              yield* sim.injectFault({ endpoint: "fetchToken", times: 2, fault: Fault.Status({ status: 503 }) })
              yield* Effect.sleep(Duration.days(6))
              yield* step("projects after six days", read)
              yield* sim.revokeUserTokens(mfaUser.username)
              yield* step("projects after revocation", read)
              for (const [name, fault] of faultsToTry) {
                yield* sim.injectFault({ endpoint: "projects", fault })
                yield* step(`projects, ${name}`, read)
                yield* sim.injectFault({ endpoint: "projects", fault })
                yield* step(`lenient projects, ${name}`, client.forOrg(1).get("projects/"))
              }
              yield* step("projects of another org", client.forOrg(3).filterStatusOk.get("projects/"))
              yield* step("elsewhere", client.get("https://api.example.com/api/orgs/1/"))
              const current = yield* tokens.get
              yield* tokens.invalidate(current)
              yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.MalformedJson() })
              yield* step("refresh after invalidation", tokens.refresh)
              yield* step("refresh", tokens.refresh)
              const last = yield* tokens.current
              grants.push(...Option.toArray(last))
            })
          )

          // Configuration that cannot work.
          const environments: ReadonlyArray<Record<string, string>> = [
            { OPENSOLAR_TOKEN: canary.unusableToken },
            { OPENSOLAR_TOKEN: Redacted.value(machine), OPENSOLAR_PASSWORD: canary.password },
            {
              OPENSOLAR_USERNAME: mfaUser.username,
              OPENSOLAR_PASSWORD: canary.password,
              OPENSOLAR_TOTP_SECRET: canary.unusableTotpSecret
            },
            {
              OPENSOLAR_USERNAME: mfaUser.username,
              OPENSOLAR_PASSWORD: canary.password,
              OPENSOLAR_MFA_CODE: canary.mfaCode,
              OPENSOLAR_TOTP_SECRET: canary.totpSecret
            },
            {
              OPENSOLAR_PASSWORD: canary.password,
              OPENSOLAR_BASE_URL: `https://user:${canary.password}@api.opensolar.com`
            }
          ]
          for (const [index, variables] of environments.entries()) {
            yield* step(
              `configuration ${index + 1}`,
              Effect.withConfigProvider(
                OpenSolarConfig.load,
                ConfigProvider.fromMap(new Map(Object.entries(variables)))
              )
            )
          }

          return yield* sim.requestLog
        })

        const log = yield* settle(program.pipe(Effect.provide(observed), Effect.provide(layer)), {
          horizon: "2 days",
          maxTurns: 2_000_000,
          canJump: exchanges.canJump
        })

        const stored = JSON.parse(Fs.readFileSync(storePath, "utf8")) as { grants: Record<string, { token: string }> }
        const tokens = new Set([
          ...log.flatMap((entry) => Option.toArray(Option.map(entry.token, Redacted.value))),
          ...tokensOfGrants(grants),
          ...Object.values(stored.grants).map((grant) => grant.token)
        ])
        const canaries = secretCanaries()
        for (const [index, token] of [...tokens].entries()) {
          canaries.set(`token ${index + 1}`, token)
        }
        const exposures: ReadonlyArray<Exposure> = [
          ...logs.entries.map((entry, index) => ({ source: `log ${index + 1} (${entry.level})`, text: entry.text })),
          ...spans.spans.map((span, index) => ({ source: `span ${index + 1} ${span.name}`, text: span.text() })),
          ...errors,
          ...filesUnder(directory, (path) => path === storePath)
        ]

        expect(tokens.size).toBeGreaterThan(10)
        expect(logs.entries.length).toBeGreaterThan(0)
        expect(spans.spans.length).toBeGreaterThan(100)
        expect(errors.length).toBeGreaterThan(100)
        expect(scan(exposures, canaries)).toEqual([])
      }),
    120_000
  )
})

// ---------------------------------------------------------------------------------------------------------------
// The command and the demo

interface Run {
  readonly args: ReadonlyArray<string>
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Whether standard output is the token itself, which is what `token` is for. */
  readonly printsToken: boolean
}

const root = Path.resolve(import.meta.dirname, "../..")

/** The environment of this process without any OPENSOLAR_* variable, colour setting or home directory. */
const cleanEnvironment = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !/^(OPENSOLAR_|FORCE_COLOR$|NO_COLOR$|HOME$|XDG_|TMPDIR$)/.test(entry[0])
    )
  )

/**
 * How a program is started: the command from its bundle, or a script through tsx as `npm start` runs it (whose
 * compiled files, written under TMPDIR, are not program output).
 */
type Program = { readonly bundle: "cli" } | { readonly tsx: string }

const runProcess = (
  program: Program,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  input = ""
): Effect.Effect<Omit<Run, "printsToken">> =>
  Effect.async((resume) => {
    const entry = "bundle" in program ? [bundle(program.bundle)] : ["--import", "tsx", program.tsx]
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: root,
      env: { ...cleanEnvironment(), ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.once("close", (code) => resume(Effect.succeed({ args, code, stdout, stderr })))
    child.stdin.end(input)
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const directoriesUnder = (home: string) => {
  const directories = {
    HOME: Path.join(home, "home"),
    XDG_CONFIG_HOME: Path.join(home, "config"),
    TMPDIR: Path.join(home, "tmp")
  }
  for (const directory of Object.values(directories)) {
    Fs.mkdirSync(directory, { recursive: true })
  }
  return directories
}

const seededSecrets = (): Map<string, string> =>
  new Map<string, string>([
    ["example password", accounts.example.password],
    ["MFA password", accounts.mfa.password],
    ["MFA TOTP secret", accounts.mfa.totpSecret],
    ["machine password", accounts.machine.password],
    ["machine token", accounts.machine.token],
    ["multi-org password", accounts.multiOrg.password],
    ["no-API password", accounts.noApiAccess.password]
  ])

describe("secrets: the command and the demo", () => {
  it.live(
    "opensolar-auth prints no secret on success or failure and writes none outside its token file",
    () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* sim.addUser({ ...plainUser, orgIds: [1] })
        yield* sim.addUser({ ...mfaUser, orgIds: [1, 2] })
        const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "reliability-secrets-cli-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(home, { recursive: true, force: true })))
        const directories = directoriesUnder(home)
        const storePath = Path.join(directories.XDG_CONFIG_HOME, "opensolar-auth", "tokens.json")
        const runs: Array<Run> = []
        const storedTokens = new Set<string>()
        const base = { ...directories, OPENSOLAR_BASE_URL: sim.url }
        const withTotp = {
          ...base,
          OPENSOLAR_USERNAME: mfaUser.username,
          OPENSOLAR_PASSWORD: canary.password,
          OPENSOLAR_TOTP_SECRET: canary.totpSecret
        }
        const withPassword = { ...base, OPENSOLAR_USERNAME: plainUser.username, OPENSOLAR_PASSWORD: canary.password }

        const cli = (args: ReadonlyArray<string>, env: Record<string, string>, input = "") =>
          Effect.gen(function* () {
            const run = yield* runProcess({ bundle: "cli" }, args, env, input)
            runs.push({ ...run, printsToken: args[0] === "token" })
            if (Fs.existsSync(storePath)) {
              const stored = JSON.parse(Fs.readFileSync(storePath, "utf8")) as {
                grants: Record<string, { token: string }>
              }
              for (const grant of Object.values(stored.grants)) {
                storedTokens.add(grant.token)
              }
            }
            return run
          })

        // The life of a login, with every command, verbose and as JSON.
        expect((yield* cli(["login", "--verbose"], withTotp)).code).toBe(0)
        yield* cli(["whoami", "--verbose"], withTotp)
        yield* cli(["whoami", "--json", "--verbose"], withTotp)
        const printed = yield* cli(["token", "--verbose"], withTotp)
        yield* cli(["token", "--json"], withTotp)
        yield* cli(["refresh", "--verbose"], withTotp)
        yield* cli(["refresh", "--json", "--verbose"], withTotp)
        yield* cli(["machine-user", "on", "--verbose"], withTotp)
        yield* cli(["machine-user", "off", "--json", "--verbose"], withTotp)
        yield* cli(["logout", "--verbose"], withTotp)

        // Secrets given as flags and typed at the prompt.
        yield* cli(["login", "--verbose", "--password", canary.password, "--totp-secret", canary.totpSecret], {
          ...base,
          OPENSOLAR_USERNAME: mfaUser.username
        })
        yield* cli(["login", "--verbose"], { ...base, OPENSOLAR_USERNAME: plainUser.username }, `${canary.password}\n`)

        // Failures: refused credentials and codes, unusable settings, and faults of the API.
        yield* cli(["login", "--verbose"], { ...withPassword, OPENSOLAR_PASSWORD: canary.wrongPassword })
        yield* cli(["login", "--json", "--verbose"], {
          ...base,
          OPENSOLAR_USERNAME: mfaUser.username,
          OPENSOLAR_PASSWORD: canary.password,
          OPENSOLAR_MFA_CODE: canary.mfaCode
        })
        yield* cli(["login", "--verbose"], { ...withTotp, OPENSOLAR_TOTP_SECRET: canary.unusableTotpSecret })
        yield* cli(["whoami", "--verbose"], { ...base, OPENSOLAR_TOKEN: canary.unusableToken })
        yield* sim.injectFault({ endpoint: "login", fault: Fault.MalformedJson() })
        yield* cli(["login", "--verbose"], withPassword)
        yield* cli(["login", "--verbose"], withPassword)
        yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.Status({ status: 500 }) })
        yield* cli(["refresh", "--verbose"], withPassword)
        yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.HtmlBody({ status: 200 }) })
        yield* cli(["refresh", "--json", "--verbose"], withPassword)
        yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.ConnectionReset() })
        yield* cli(["refresh", "--verbose"], withPassword)

        // A machine user's token from the environment.
        const machine = Redacted.value(yield* sim.issueToken(plainUser.username))
        const asMachine = { ...base, OPENSOLAR_TOKEN: machine }
        yield* cli(["whoami", "--verbose"], asMachine)
        yield* cli(["refresh", "--verbose"], asMachine)
        yield* cli(["token", "--verbose"], asMachine)

        const log = yield* sim.requestLog
        const canaries = secretCanaries()
        const tokens = new Set([
          ...log.flatMap((entry) => Option.toArray(Option.map(entry.token, Redacted.value))),
          ...storedTokens,
          machine
        ])
        for (const [index, token] of [...tokens].entries()) {
          canaries.set(`token ${index + 1}`, token)
        }
        const exposures: ReadonlyArray<Exposure> = [
          ...runs.flatMap((run) => [
            { source: `stderr of ${run.args.join(" ")}`, text: run.stderr },
            ...(run.printsToken ? [] : [{ source: `stdout of ${run.args.join(" ")}`, text: run.stdout }])
          ]),
          ...filesUnder(home, (path) => path === storePath || isLoaderCache(path))
        ]

        expect(BearerToken.fromString(printed.stdout.trim())._tag).toBe("Right")
        expect(tokens.size).toBeGreaterThan(3)
        expect(runs.filter((run) => run.code !== 0).length).toBeGreaterThan(5)
        expect(scan(exposures, canaries)).toEqual([])
      }).pipe(Effect.scoped, Effect.provide(Simulator.layer())),
    300_000
  )

  it.live(
    "the demo, as `npm start` and as `opensolar-auth demo --verbose`, prints no secret or token",
    () =>
      Effect.gen(function* () {
        const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "reliability-secrets-demo-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(home, { recursive: true, force: true })))
        const directories = directoriesUnder(home)

        const runs = [
          yield* runProcess({ tsx: "scripts/demo.ts" }, [], directories),
          yield* runProcess({ bundle: "cli" }, ["demo", "--verbose"], directories)
        ]

        const exposures: ReadonlyArray<Exposure> = [
          ...runs.flatMap((run, index) => [
            { source: `stdout of demo ${index + 1}`, text: run.stdout },
            { source: `stderr of demo ${index + 1}`, text: run.stderr }
          ]),
          ...filesUnder(home, isLoaderCache)
        ]
        expect(runs.map((run) => run.code)).toEqual([0, 0])
        expect(runs.every((run) => run.stdout.includes("tok_"))).toBe(true)
        expect(scan(exposures, seededSecrets())).toEqual([])
      }).pipe(Effect.scoped),
    300_000
  )
})
