import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { afterAll } from "vitest"
import * as BearerToken from "../../src/BearerToken.js"
import { stripAnsi } from "../../src/cli/Output.js"
import { accounts, Fault, Simulator, type SimulatorService } from "../../src/testing/index.js"
import { bundle } from "../support/bundles.js"

/**
 * The command runs as a child process (`node` on its bundle, so that signals reach it directly), against one
 * simulator in this process shared by every test; each test logs in as its own new user, with its own token file.
 */
interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface RunOptions {
  readonly env?: Readonly<Record<string, string>>
  readonly input?: string
}

const temporary = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "opensolar-auth-cli-test-"))

afterAll(() => Fs.rmSync(temporary, { recursive: true, force: true }))

/** Every secret a test gave the command; no output may contain one. */
const secrets = new Set<string>([
  accounts.example.password,
  accounts.mfa.password,
  accounts.mfa.totpSecret,
  accounts.machine.password,
  accounts.multiOrg.password,
  accounts.noApiAccess.password
])

const baseEnvironment = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("OPENSOLAR_") && name !== "FORCE_COLOR" && name !== "NO_COLOR") {
      env[name] = value
    }
  }
  return { ...env, HOME: NodePath.join(temporary, "home"), XDG_CONFIG_HOME: NodePath.join(temporary, "config") }
}

const command = (args: ReadonlyArray<string>): [string, Array<string>] => [process.execPath, [bundle("cli"), ...args]]

const expectNoSecret = (text: string) => {
  for (const secret of secrets) {
    expect(text).not.toContain(secret)
  }
}

const cli = (args: ReadonlyArray<string>, options: RunOptions = {}): Effect.Effect<Result> =>
  Effect.promise(
    () =>
      new Promise<Result>((resolve, reject) => {
        const [executable, argv] = command(args)
        const child = spawn(executable, argv, { env: { ...baseEnvironment(), ...options.env } })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString("utf8")
        })
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8")
        })
        child.once("error", reject)
        child.once("close", (code) => resolve({ code, stdout, stderr }))
        child.stdin.end(options.input ?? "")
      })
  ).pipe(Effect.tap((result) => expectNoSecret(result.stdout + result.stderr)))

/** A few child processes at a time keep a loaded machine responsive. */
const parallel = 3

const slow = 120_000

const lines = (text: string): ReadonlyArray<string> => text.split("\n").filter((line) => line !== "")

/** The one error line of a failed command. */
const errorLine = (result: Result): string => {
  expect(lines(result.stderr)).toHaveLength(1)
  expect(result.stderr).toMatch(/^error: /)
  return result.stderr
}

const jsonError = (result: Result) => {
  expect(lines(result.stderr)).toHaveLength(1)
  return JSON.parse(result.stderr) as { error: { _tag: string; message: string; transient: boolean } }
}

let users = 0

const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

interface User {
  readonly username: string
  readonly password: string
  readonly totpSecret?: string
}

/** A new user of the simulator, whose password (and TOTP secret) join the secrets no output may show. */
const newUser = (simulator: SimulatorService, options: { readonly mfa?: boolean } = {}): Effect.Effect<User> =>
  Effect.gen(function* () {
    users += 1
    const username = `cli-user-${users}@example.test`
    const password = `pw-${crypto.randomUUID()}`
    const totpSecret =
      options.mfa === true
        ? Array.from({ length: 32 }, () => base32[Math.floor(Math.random() * 32)]).join("")
        : undefined
    secrets.add(password)
    if (totpSecret !== undefined) {
      secrets.add(totpSecret)
    }
    yield* simulator.addUser({ username, password, ...(totpSecret === undefined ? {} : { totpSecret }) })
    return { username, password, ...(totpSecret === undefined ? {} : { totpSecret }) }
  })

const storeFile = (name: string) => NodePath.join(temporary, `${name}.json`)

interface StoredGrant {
  token: string
  issuedAt: string
  expiresAt: string | null
}

const storedGrants = (file: string): Record<string, StoredGrant> =>
  Fs.existsSync(file)
    ? (JSON.parse(Fs.readFileSync(file, "utf8")) as { grants: Record<string, StoredGrant> }).grants
    : {}

const storedToken = (file: string, url: string, username: string): string | undefined =>
  storedGrants(file)[`${url}|${username}|-`]?.token

const fingerprintOf = (token: string) => BearerToken.fingerprint(BearerToken.unsafeMake(token))

layer(Simulator.layer(), { excludeTestServices: true })("opensolar-auth", (it) => {
  describe("usage", () => {
    it.effect(
      "usage and configuration errors exit 2 with one line on standard error, JSON with --json",
      () =>
        Effect.gen(function* () {
          const [unknown, json, environment] = yield* Effect.all(
            [
              cli(["tokn"]),
              cli(["token", "--json", "--org", "0"]),
              cli(["token", "--store", "memory"], { env: { OPENSOLAR_ORG_ID: "abc" } })
            ],
            { concurrency: parallel }
          )

          expect(unknown.code).toBe(2)
          expect(unknown.stdout).toBe("")
          expect(errorLine(unknown)).toMatch(/Invalid subcommand.*Run `opensolar-auth --help` for the usage/)
          expect(json.code).toBe(2)
          expect(jsonError(json).error).toMatchObject({ _tag: "ConfigurationError", transient: false })
          expect(environment.code).toBe(2)
          expect(errorLine(environment)).toMatch(/OPENSOLAR_ORG_ID cannot be used/)
        }),
      slow
    )
  })

  describe("login, token, whoami, refresh, logout", () => {
    it.effect(
      "log in with the password on standard input, then print, inspect, refresh and forget the grant",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const store = storeFile("lifecycle")
          const at = ["--base-url", simulator.url, "--store", store]

          const login = yield* cli([...at, "login", "--username", user.username], { input: `${user.password}\n` })
          expect(login.code).toBe(0)
          expect(login.stdout).toMatch(new RegExp(`^Logged in as ${user.username} \\(user \\d+\\)`))
          expect(login.stderr).toBe(`Password for ${user.username}: \n`)
          expect(Fs.statSync(store).mode & 0o777).toBe(0o600)
          const stored = storedToken(store, simulator.url, user.username)!
          expect(login.stdout).toContain(fingerprintOf(stored))
          expect(login.stdout).not.toContain(stored)

          const token = yield* cli([...at, "token"])
          expect(token.code).toBe(0)
          expect(token.stdout).toBe(`${stored}\n`)
          expect(token.stderr).toBe("")
          expect(yield* simulator.tokenState(stored)).toBe("valid")

          const [whoami, whoamiJson] = yield* Effect.all([cli([...at, "whoami"]), cli([...at, "whoami", "--json"])], {
            concurrency: parallel
          })
          expect(whoami.code).toBe(0)
          expect(whoami.stdout).toContain(user.username)
          expect(whoami.stdout).toMatch(/Machine user\s+no/)
          expect(whoami.stdout).toMatch(/Organisations\s+1 Cyberdyne Solar \(current\)/)
          expect(whoami.stdout).toContain(`${fingerprintOf(stored)} (standard, obtained by password)`)
          expect(whoami.stdout).toMatch(/Expires\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 6 days 23 hours\)/)
          expect(whoami.stdout + whoamiJson.stdout).not.toContain(stored)
          const identity = JSON.parse(whoamiJson.stdout)
          expect(identity).toMatchObject({
            user: { email: user.username, isMachineUser: false },
            orgs: [{ id: 1, name: "Cyberdyne Solar" }],
            token: { fingerprint: fingerprintOf(stored), kind: "standard", strategy: "password" },
            baseUrl: simulator.url,
            store
          })
          expect(Date.parse(identity.token.expiresAt) - Date.parse(identity.token.issuedAt)).toBe(7 * 86_400_000)

          const refresh = yield* cli([...at, "refresh", "--org", "1"])
          expect(refresh.code).toBe(0)
          const refreshed = storedToken(store, simulator.url, user.username)!
          expect(refreshed).not.toBe(stored)
          expect(refresh.stdout).toContain(`Token ${fingerprintOf(stored)} was replaced by ${fingerprintOf(refreshed)}`)
          expect(refresh.stdout).toContain("organisation 1 (Cyberdyne Solar)")
          expect(refresh.stdout).not.toContain(refreshed)
          const fetches = (yield* simulator.requestLog).filter((entry) => entry.endpoint === "fetchToken")
          expect(fetches.at(-1)?.search).toBe("?org_id=1")

          const again = yield* cli([...at, "token"])
          expect(again.stdout).toBe(`${refreshed}\n`)

          const logout = yield* cli([...at, "logout"])
          expect(logout.code).toBe(0)
          expect(logout.stdout).toContain(`Forgot the grant of ${user.username}`)
          expect(storedGrants(store)).toEqual({})

          const [afterLogout, logoutAgain] = yield* Effect.all([cli([...at, "token"]), cli([...at, "logout"])], {
            concurrency: parallel
          })
          expect(afterLogout.code).toBe(2)
          expect(afterLogout.stdout).toBe("")
          expect(errorLine(afterLogout)).toMatch(/Nobody is logged in to .*: run `opensolar-auth login`, or set /)
          expect(afterLogout.stderr).toMatch(/OPENSOLAR_PASSWORD, or OPENSOLAR_TOKEN for a machine user\n$/)
          expect(logoutAgain.code).toBe(0)
          expect(logoutAgain.stdout).toContain("nothing to forget")
        }),
      slow
    )

    it.effect(
      "--verbose adds a line for every login, refresh and request on standard error, tokens by fingerprint only",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const store = storeFile("verbose")
          const at = ["--base-url", simulator.url, "--store", store]
          const env = { OPENSOLAR_PASSWORD: user.password }
          const unreadable = () => Fs.writeFileSync(store, "not a token file")
          const ignored = /^debug: FileTokenStore: ignoring .*: it is not a version 1 token file/

          unreadable()
          const debugOnly = yield* cli(["--log-level", "debug", ...at, "login", "--username", user.username], { env })
          unreadable()
          const login = yield* cli([...at, "login", "--username", user.username, "--verbose"], { env })
          const issued = storedToken(store, simulator.url, user.username)!
          const refresh = yield* cli([...at, "--verbose", "refresh"])
          const refreshed = storedToken(store, simulator.url, user.username)!
          const quiet = yield* cli([...at, "refresh"])

          expect([debugOnly.code, login.code, refresh.code, quiet.code]).toEqual([0, 0, 0, 0])
          expect(lines(debugOnly.stderr)).toEqual([expect.stringMatching(ignored)])
          const spans = (result: Result) => lines(result.stderr).filter((line) => line.startsWith("span: "))
          expect(spans(login)).toEqual([
            expect.stringMatching(
              new RegExp(
                `^span: OpenSolarApi\\.login ok in [\\d.]+ ms method=POST url=${simulator.url}/api-token-auth/ ` +
                  `status=200 issued=${fingerprintOf(issued)}$`
              )
            ),
            expect.stringMatching(
              new RegExp(
                `^span: AuthStrategy\\.authenticate ok in [\\d.]+ ms strategy=password token=${fingerprintOf(issued)}$`
              )
            )
          ])
          expect(lines(login.stderr).filter((line) => !line.startsWith("span: "))).toEqual([
            expect.stringMatching(ignored)
          ])
          expect(spans(refresh)).toEqual([
            expect.stringMatching(
              new RegExp(
                `^span: OpenSolarApi\\.fetchToken ok in [\\d.]+ ms method=GET url=${simulator.url}/api/fetch_token/ ` +
                  `status=200 token=${fingerprintOf(issued)} issued=${fingerprintOf(refreshed)}$`
              )
            ),
            expect.stringMatching(/^span: AuthStrategy\.authenticate ok in [\d.]+ ms strategy=session-refresh token=/)
          ])
          expect(lines(refresh.stderr)).toHaveLength(2)
          for (const result of [login, refresh]) {
            expect(result.stderr).not.toContain(issued)
            expect(result.stderr).not.toContain(refreshed)
          }
          const shape = (text: string) => text.replace(/tok_[0-9a-f]{8}/g, "tok_").replace(/\d+/g, "0")
          expect(shape(login.stdout)).toBe(shape(debugOnly.stdout))
          expect(shape(refresh.stdout)).toBe(shape(quiet.stdout))
          expect(quiet.stderr).toBe("")
        }),
      slow
    )

    it.effect(
      "without --store, the grant is kept in $XDG_CONFIG_HOME/opensolar-auth/tokens.json, in a private directory",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const configHome = Fs.mkdtempSync(NodePath.join(temporary, "config-home-"))
          const file = NodePath.join(configHome, "opensolar-auth", "tokens.json")
          const env = { XDG_CONFIG_HOME: configHome }
          // A directory another program left readable by others is narrowed to its owner.
          Fs.mkdirSync(NodePath.dirname(file), { mode: 0o755 })
          Fs.chmodSync(NodePath.dirname(file), 0o755)

          const login = yield* cli(["--base-url", simulator.url, "login", "--username", user.username], {
            env: { ...env, OPENSOLAR_PASSWORD: user.password }
          })
          const whoami = yield* cli(["--base-url", simulator.url, "whoami", "--json"], { env })

          expect(login.code).toBe(0)
          expect(login.stdout).toContain(`Saved to ${file}.`)
          expect(Fs.statSync(file).mode & 0o777).toBe(0o600)
          expect(Fs.statSync(NodePath.dirname(file)).mode & 0o777).toBe(0o700)
          expect(storedToken(file, simulator.url, user.username)).toBeDefined()
          expect(JSON.parse(whoami.stdout)).toMatchObject({ user: { email: user.username }, store: file })
        }),
      slow
    )

    it.effect(
      "login asks for username, password and two-factor code on standard input when none is configured",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator, { mfa: true })
          const store = storeFile("mfa-prompt")
          const code = yield* simulator.totpCode(user.username)

          const result = yield* cli(["--base-url", simulator.url, "--store", store, "login"], {
            input: `${user.username}\n${user.password}\n${code}\n`
          })

          expect(result.code).toBe(0)
          expect(result.stderr).toBe(
            `OpenSolar email: \nPassword for ${user.username}: \nTwo-factor code for ${user.username}: \n`
          )
          expect(result.stdout).toContain(`Logged in as ${user.username}`)
          expect(storedToken(store, simulator.url, user.username)).toBeDefined()
        }),
      slow
    )

    it.effect(
      "login computes the code from a TOTP secret, and fails with exit code 4 without a usable code",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator, { mfa: true })
          const at = [
            "--base-url",
            simulator.url,
            "--store",
            storeFile("mfa-totp"),
            "login",
            "--username",
            user.username
          ]
          const password = { OPENSOLAR_PASSWORD: user.password }
          const current = yield* simulator.totpCode(user.username)
          const wrong = current === "000000" ? "111111" : "000000"

          const [totp, noCode, wrongCode] = yield* Effect.all(
            [
              cli(at, { env: { ...password, OPENSOLAR_TOTP_SECRET: user.totpSecret! } }),
              cli(at, { env: password }),
              cli([...at, "--json"], { env: password, input: `${wrong}\n` })
            ],
            { concurrency: parallel }
          )

          expect(totp.code).toBe(0)
          expect(totp.stderr).toBe("")
          expect(totp.stdout).toContain(`Logged in as ${user.username}`)
          expect(noCode.code).toBe(4)
          expect(noCode.stderr).toContain(`Two-factor code for ${user.username}: \n`)
          expect(noCode.stderr).toMatch(/error: No two-factor code is available: .*OPENSOLAR_TOTP_SECRET/)
          expect(wrongCode.code).toBe(4)
          expect(JSON.parse(lines(wrongCode.stderr).at(-1)!).error).toMatchObject({
            _tag: "InvalidMfaCode",
            transient: false
          })
        }),
      slow
    )

    it.effect(
      "credentials errors exit 3: a wrong password, and a session the server revoked",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const store = storeFile("credentials")
          const at = ["--base-url", simulator.url, "--store", store]

          secrets.add("not-the-password").add("still-not-the-password").add("nor-this-one")
          const [wrong, wrongJson, wrongFlag] = yield* Effect.all(
            [
              cli([...at, "login", "--username", user.username], { env: { OPENSOLAR_PASSWORD: "not-the-password" } }),
              cli([...at, "--json", "login", "--username", user.username], { input: "still-not-the-password\n" }),
              cli([...at, "login", "--username", user.username, "--password", "nor-this-one"])
            ],
            { concurrency: parallel }
          )
          expect(wrong.code).toBe(3)
          expect(wrongFlag.code).toBe(3)
          expect(lines(wrongFlag.stderr)).toEqual([
            expect.stringMatching(/^warning: --password leaves the password in the shell history/),
            expect.stringMatching(/^error: .* refused the username or password/)
          ])
          expect(errorLine(wrong)).toMatch(/refused the username or password: check both/)
          expect(wrongJson.code).toBe(3)
          expect(JSON.parse(lines(wrongJson.stderr).at(-1)!).error).toMatchObject({
            _tag: "InvalidCredentials",
            transient: false
          })

          const login = yield* cli([...at, "login", "--username", user.username], {
            env: { OPENSOLAR_PASSWORD: user.password }
          })
          expect(login.code).toBe(0)
          yield* simulator.revokeToken(storedToken(store, simulator.url, user.username)!)
          const refresh = yield* cli([...at, "refresh"])
          expect(refresh.code).toBe(3)
          expect(errorLine(refresh)).toMatch(/rejected token tok_[0-9a-f]{8}: log in again/)
        }),
      slow
    )

    it.effect(
      "throttling exits 5; an API that fails or cannot be reached exits 6",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const at = ["--store", "memory", "--json", "login", "--username", user.username]
          const env = { OPENSOLAR_PASSWORD: user.password }

          yield* simulator.injectFault({ endpoint: "login", fault: Fault.Status({ status: 429, retryAfter: 30 }) })
          const throttled = yield* cli(["--base-url", simulator.url, ...at], { env })
          yield* simulator.injectFault({ endpoint: "login", fault: Fault.Status({ status: 503 }) })
          const failing = yield* cli(["--base-url", simulator.url, ...at], { env })
          yield* simulator.clearFaults
          const unreachable = yield* cli(["--base-url", "http://127.0.0.1:9", ...at], { env })

          expect(throttled.code).toBe(5)
          expect(jsonError(throttled).error).toMatchObject({ _tag: "RateLimited", transient: true })
          expect(jsonError(throttled).error.message).toContain("asked to wait 30s")
          expect(failing.code).toBe(6)
          expect(jsonError(failing).error).toMatchObject({ _tag: "ServerError", transient: true })
          expect(unreachable.code).toBe(6)
          expect(jsonError(unreachable).error).toMatchObject({ _tag: "TransportError", transient: true })
        }),
      slow
    )
  })

  describe("token", () => {
    it.effect(
      "logs in by itself from the environment, and prints a machine user's token as it is",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)

          const [fromEnvironment, machine, machineJson] = yield* Effect.all(
            [
              cli(["--base-url", simulator.url, "--store", "memory", "token"], {
                env: { OPENSOLAR_USERNAME: user.username, OPENSOLAR_PASSWORD: user.password }
              }),
              cli(["--base-url", simulator.url, "token"], { env: { OPENSOLAR_TOKEN: accounts.machine.token } }),
              cli(["--base-url", simulator.url, "token", "--json"], {
                env: { OPENSOLAR_TOKEN: accounts.machine.token }
              })
            ],
            { concurrency: parallel }
          )

          expect(fromEnvironment.code).toBe(0)
          expect(lines(fromEnvironment.stdout)).toHaveLength(1)
          expect(yield* simulator.tokenState(fromEnvironment.stdout.trim())).toBe("valid")
          expect(machine.stdout).toBe(`${accounts.machine.token}\n`)
          expect(JSON.parse(machineJson.stdout)).toMatchObject({
            token: accounts.machine.token,
            fingerprint: fingerprintOf(accounts.machine.token),
            kind: "machine",
            expiresAt: null
          })
        }),
      slow
    )

    it.effect(
      "renews a grant past 80% of its life before printing it; an expired one needs a login",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const store = storeFile("renewal")
          const at = ["--base-url", simulator.url, "--store", store]
          const key = `${simulator.url}|${user.username}|-`
          const age = (issuedDaysAgo: number, expiresInDays: number) => {
            const file = JSON.parse(Fs.readFileSync(store, "utf8"))
            file.grants[key].issuedAt = new Date(Date.now() - issuedDaysAgo * 86_400_000).toISOString()
            file.grants[key].expiresAt = new Date(Date.now() + expiresInDays * 86_400_000).toISOString()
            Fs.writeFileSync(store, JSON.stringify(file))
          }

          expect(
            (yield* cli([...at, "login", "--username", user.username], { input: `${user.password}\n` })).code
          ).toBe(0)
          const original = storedToken(store, simulator.url, user.username)!

          age(6, 1)
          const renewed = yield* cli([...at, "token"])
          expect(renewed.code).toBe(0)
          const second = renewed.stdout.trim()
          expect(second).not.toBe(original)
          expect(storedToken(store, simulator.url, user.username)).toBe(second)

          age(8, -1)
          const [expired, loggedIn] = yield* Effect.all(
            [
              cli([...at, "token"]),
              cli([...at, "token"], { env: { OPENSOLAR_USERNAME: user.username, OPENSOLAR_PASSWORD: user.password } })
            ],
            { concurrency: 1 }
          )
          expect(expired.code).toBe(3)
          expect(expired.stdout).toBe("")
          expect(errorLine(expired)).toMatch(/log in again/)
          expect(loggedIn.code).toBe(0)
          expect(loggedIn.stdout.trim()).not.toBe(second)
          expect(yield* simulator.tokenState(loggedIn.stdout.trim())).toBe("valid")
          expect(storedToken(store, simulator.url, user.username)).toBe(loggedIn.stdout.trim())
        }),
      slow
    )
  })

  describe("machine-user", () => {
    it.effect(
      "turns machine-user mode on and off, and the stored grant follows",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const at = ["--base-url", simulator.url, "--store", storeFile("machine-user")]

          expect(
            (yield* cli([...at, "login", "--username", user.username], { input: `${user.password}\n` })).code
          ).toBe(0)
          const on = yield* cli([...at, "machine-user", "on"])
          const whoamiOn = JSON.parse((yield* cli([...at, "--json", "whoami"])).stdout)
          const off = yield* cli([...at, "machine-user", "off", "--json"])
          const whoamiOff = JSON.parse((yield* cli([...at, "whoami", "--json"])).stdout)

          expect(on.code).toBe(0)
          expect(on.stdout).toContain(`Machine-user mode is on for ${user.username}`)
          expect(whoamiOn).toMatchObject({ user: { isMachineUser: true }, token: { kind: "machine", expiresAt: null } })
          expect(off.code).toBe(0)
          expect(JSON.parse(off.stdout)).toMatchObject({ username: user.username, isMachineUser: false })
          expect(whoamiOff).toMatchObject({ user: { isMachineUser: false }, token: { kind: "standard" } })
          const patches = (yield* simulator.requestLog).filter((entry) => entry.endpoint === "machineUser")
          expect(patches.slice(-2).map((entry) => entry.status)).toEqual([200, 200])
        }),
      slow
    )
  })

  describe("simulate and demo", () => {
    it.effect(
      "simulate prints its URL, serves the API, and stops on Ctrl+C",
      () =>
        Effect.gen(function* () {
          const [executable, argv] = command(["simulate", "--port", "0"])
          const child = spawn(executable, argv, { env: baseEnvironment(), stdio: ["ignore", "pipe", "pipe"] })
          let stdout = ""
          let stderr = ""
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8")
          })
          const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
          const url = yield* Effect.promise(
            () =>
              new Promise<string>((resolve) =>
                child.stdout.on("data", (chunk: Buffer) => {
                  stdout += chunk.toString("utf8")
                  const match = /^OpenSolar simulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)
                  if (match !== null) {
                    resolve(match[1]!)
                  }
                })
              )
          )

          const response = yield* Effect.promise(() =>
            fetch(`${url}/api-token-auth/`, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ username: accounts.example.username, password: accounts.example.password })
            })
          )
          expect(response.status).toBe(200)
          child.kill("SIGINT")

          expect(yield* Effect.promise(() => exited)).toBe(130)
          expect(stdout).toBe(`OpenSolar simulator listening on ${url}\n`)
          expect(stderr).toContain(accounts.example.username)
          expectNoSecret(stdout + stderr)
        }),
      slow
    )

    it.effect(
      "the demo walks through every step on its own simulator and exits 0",
      () =>
        Effect.gen(function* () {
          const result = yield* cli(["demo"])

          expect(result.code).toBe(0)
          expect(result.stderr).toBe("")
          const titles = [
            "Password login",
            "Login with two-factor authentication (TOTP)",
            "An authenticated API call",
            "Six days later: the refresh before expiry",
            "Server-side revocation and the 401 recovery",
            "1,000 concurrent callers, one login",
            "A restart reuses the stored grant"
          ]
          for (const [index, title] of titles.entries()) {
            expect(result.stdout).toContain(`Step ${index + 1} of 7: ${title}`)
          }
          expect(result.stdout).toContain("logs programs in to the OpenSolar API and keeps their\ntoken valid")
          expect(result.stdout).toContain("It is valid for 7 days, and saved in tokens.json.")
          const step2 = result.stdout.slice(result.stdout.indexOf("Step 2 of 7"), result.stdout.indexOf("Step 3 of 7"))
          expect(step2.match(/POST \/api-token-auth\/ +-> \d{3}/g)).toHaveLength(2)
          expect(result.stdout).toContain("but still valid for 1 day.")
          expect(result.stdout).toMatch(/GET \/api\/fetch_token\/ +-> 401 {2}a revoked session cannot be renewed\n/)
          expect(result.stdout).toMatch(/POST \/api-token-auth\/ +-> 200 {2}so the library logs in with the password\n/)
          expect(result.stdout).toContain("1,000 callers got the same token with 1 login request in total")
          expect(result.stdout).toMatch(/holds tok_[0-9a-f]{8} from tokens\.json, with 0 requests/)
          expect(result.stdout).toMatch(/All 7 steps done in \d+\.\d s\./)
          expect(result.stdout).not.toContain("\u001b[")
          const wide = lines(result.stdout).filter((line) => line.length > 80 && !line.includes("opensolar-auth-demo-"))
          expect(wide).toEqual([])
        }),
      slow
    )
  })

  describe("on a terminal", () => {
    it.effect(
      "the password prompt does not echo what is typed (through a pseudo-terminal)",
      () =>
        Effect.gen(function* () {
          const simulator = yield* Simulator
          const user = yield* newUser(simulator)
          const [executable, argv] = command([
            "--base-url",
            simulator.url,
            "--store",
            storeFile("terminal"),
            "login",
            "--username",
            user.username
          ])
          const line = [executable, ...argv].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(" ")

          const transcript = yield* Effect.promise(
            () =>
              new Promise<{ readonly code: number | null; readonly output: string }>((resolve) => {
                const child = spawn("script", ["--quiet", "--return", "--command", line, "/dev/null"], {
                  env: baseEnvironment()
                })
                let output = ""
                let typed = false
                child.stdout.on("data", (chunk: Buffer) => {
                  output += chunk.toString("utf8")
                  // Typing before the prompt has switched the terminal to raw mode would let the terminal echo it.
                  if (!typed && output.includes(`Password for ${user.username}`)) {
                    typed = true
                    setTimeout(() => child.stdin.write(`${user.password}\r`), 50)
                  }
                })
                child.once("close", (code) => resolve({ code, output }))
              })
          )

          expect(transcript.code).toBe(0)
          expect(stripAnsi(transcript.output)).toContain(`Logged in as ${user.username}`)
          expectNoSecret(transcript.output)
          expect(transcript.output).not.toMatch(/\*{4,}/)
        }),
      slow
    )
  })
})
