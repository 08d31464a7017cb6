import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import * as Cli from "../../src/cli/Cli.js"
import { accounts } from "../../src/testing/index.js"

/**
 * The command line parsed and run in this process, with the environment given as a `ConfigProvider` and help
 * and errors captured: fast enough to try every kind of bad input. `bin.test.ts` runs the real executable.
 */
interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Effect.Effect<Result> =>
  Effect.gen(function* () {
    let stdout = ""
    let stderr = ""
    const streams = {
      stdout: { isTTY: false, write: (text: string) => (stdout += text) },
      stderr: { isTTY: false, write: (text: string) => (stderr += text) }
    }
    const code = yield* Cli.run(["node", "opensolar-auth", ...args], streams).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.provide(NodeContext.layer)
    )
    return { code, stdout, stderr }
  })

const errorLine = (result: Result): string => {
  expect(result.stderr.split("\n").filter((line) => line !== "")).toHaveLength(1)
  expect(result.stderr).toMatch(/^error: /)
  return result.stderr
}

describe("Cli", () => {
  it.live("--help lists the commands, the environment and every exit code, without colour off a terminal", () =>
    Effect.gen(function* () {
      const result = yield* run(["--help"])

      expect(result.code).toBe(0)
      for (const name of ["login", "token", "whoami", "refresh", "logout", "machine-user", "simulate", "demo"]) {
        expect(result.stdout).toContain(name)
      }
      for (const flag of ["--base-url", "--org", "--username", "--store", "--json", "--verbose"]) {
        expect(result.stdout).toContain(flag)
      }
      expect(result.stdout).toContain("OPENSOLAR_TOTP_SECRET")
      expect(result.stdout).toContain("EXIT CODES")
      for (const entry of ["0 ok", "1 other", "2 usage", "3 credentials", "4 mfa", "5 rate-limited", "6 unavailable"]) {
        expect(result.stdout).toContain(entry)
      }
      expect(result.stdout).not.toContain("\u001b[")
      expect(result.stderr).toBe("")
    })
  )

  it.live("--version prints the version", () =>
    Effect.gen(function* () {
      const result = yield* run(["--version"])

      expect(result.code).toBe(0)
      expect(result.stdout.trim()).toBe(Cli.version)
    })
  )

  it.live("bad flags and arguments exit 2 with one line naming the problem and where to read the usage", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
        [[], /A command is needed: login, token.*Run `opensolar-auth --help` for the usage\.\n$/],
        [["tokn"], /Invalid subcommand.*'token'.*opensolar-auth --help/],
        [["token", "--bogus"], /'--bogus'.*Run `opensolar-auth token --help` for the usage/],
        [["token", "extra"], /'extra'.*opensolar-auth token --help/],
        [["login", "--totp-secret"], /--totp-secret needs a value/],
        [["token", "--org"], /--org needs a value/],
        [
          ["token", "--password", "x"],
          /^error: --password is a flag of `opensolar-auth login`, not of `opensolar-auth token`\./
        ],
        [["login", "--port"], /^error: --port is a flag of `opensolar-auth simulate`, not of `opensolar-auth login`\./],
        [["login", "--wizard"], /--wizard is not offered: .*would show the password.*opensolar-auth login --help/],
        [["--wizard"], /--wizard is not offered/],
        [["--org", "x", "token"], /--org cannot be used: "x" is not a positive integer/],
        [["token", "--org", "-3"], /--org cannot be used: "-3" is not a positive integer/],
        [["token", "--base-url", "ftp://example.com"], /--base-url cannot be used: the base URL must use https/],
        [["token", "--base-url", "http://api.example.com"], /plain http is allowed only for loopback/],
        [["token", "--username", `${"x".repeat(300)}@example.com`], /--username cannot be used: an email address/],
        [["token", "--store", ""], /--store cannot be used: give a file path, or `memory`/],
        [["simulate", "--port", "70000"], /--port cannot be used: 70000 is not a port number/],
        [["simulate", "--port", "eighty"], /eighty/],
        [["machine-user"], /Say `on` or `off`.*opensolar-auth machine-user --help/],
        [["machine-user", "maybe"], /Invalid subcommand/]
      ]

      for (const [args, message] of cases) {
        const result = yield* run(args)
        expect(result.code, args.join(" ")).toBe(2)
        expect(result.stdout).toBe("")
        expect(errorLine(result)).toMatch(message)
      }
    })
  )

  it.live("with --json, errors are one JSON object with the tag, the message and whether to retry", () =>
    Effect.gen(function* () {
      const usage = yield* run(["--json", "tokn"])
      const configuration = yield* run(["token", "--org", "0", "--json"])

      expect(usage.code).toBe(2)
      expect(JSON.parse(usage.stderr)).toEqual({
        error: { _tag: "UsageError", message: expect.stringContaining("Invalid subcommand"), transient: false }
      })
      expect(configuration.code).toBe(2)
      expect(JSON.parse(configuration.stderr)).toEqual({
        error: {
          _tag: "ConfigurationError",
          message: expect.stringContaining("--org cannot be used"),
          transient: false
        }
      })
      expect(usage.stdout + configuration.stdout).toBe("")
    })
  )

  it.live("a bad environment exits 2 naming every variable to fix and what to do, without quoting secrets", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Record<string, string>, RegExp]> = [
        [{ OPENSOLAR_ORG_ID: "abc" }, /OPENSOLAR_ORG_ID cannot be used: "abc" is not a positive integer/],
        [{ OPENSOLAR_TOKEN_LIFETIME: "soon" }, /OPENSOLAR_TOKEN_LIFETIME cannot be used: .*"7 days"/],
        [
          { OPENSOLAR_TOKEN_LIFETIME: "90 seconds" },
          /OPENSOLAR_TOKEN_LIFETIME cannot be used: "90 seconds" is too short: .*longer than 5m 33s 334ms/
        ],
        [{ OPENSOLAR_BASE_URL: "http://api.example.com" }, /OPENSOLAR_BASE_URL cannot be used: plain http/],
        [
          { OPENSOLAR_TOKEN: accounts.machine.token, OPENSOLAR_USERNAME: accounts.example.username },
          /OPENSOLAR_TOKEN \(a machine user's token\) cannot be combined with OPENSOLAR_USERNAME/
        ],
        [{ OPENSOLAR_TOKEN: "two words" }, /OPENSOLAR_TOKEN cannot be used: a token must not contain white space/],
        [
          { OPENSOLAR_TOKEN: accounts.machine.token, OPENSOLAR_TOKEN_LIFETIME: "3 days" },
          /OPENSOLAR_TOKEN_LIFETIME cannot be combined with OPENSOLAR_TOKEN .*never expires/
        ],
        [
          {
            OPENSOLAR_USERNAME: accounts.mfa.username,
            OPENSOLAR_PASSWORD: accounts.mfa.password,
            OPENSOLAR_TOTP_SECRET: "not base-32 at all!"
          },
          /OPENSOLAR_TOTP_SECRET cannot be used/
        ],
        [
          { OPENSOLAR_MFA_CODE: "12", OPENSOLAR_TOTP_SECRET: accounts.mfa.totpSecret },
          new RegExp(
            "There are 2 problems: 1\\) OPENSOLAR_MFA_CODE cannot be used: .*4 to 10 digits; " +
              "2\\) OPENSOLAR_TOTP_SECRET and OPENSOLAR_MFA_CODE are both set"
          )
        ]
      ]

      for (const [env, message] of cases) {
        const result = yield* run(["token", "--store", "memory"], env)
        expect(result.code, JSON.stringify(env)).toBe(2)
        expect(result.stdout).toBe("")
        expect(errorLine(result)).toMatch(message)
        for (const secret of [accounts.mfa.password, accounts.mfa.totpSecret, accounts.machine.token, "two words"]) {
          expect(result.stderr).not.toContain(secret)
        }
      }
    })
  )

  it.live("a flag wins over its variable", () =>
    Effect.gen(function* () {
      const result = yield* run(["token", "--store", "memory", "--org", "7"], { OPENSOLAR_ORG_ID: "abc" })

      expect(errorLine(result)).not.toContain("OPENSOLAR_ORG_ID")
    })
  )

  it("moves --log-level after the command's flags, where it is read", () => {
    expect(Cli.normalise(["node", "bin", "--log-level", "debug", "token", "--org", "1", "--", "x"])).toEqual([
      "node",
      "bin",
      "--org",
      "1",
      "token",
      "--log-level",
      "debug",
      "--",
      "x"
    ])
    expect(Cli.normalise(["node", "bin", "--log-level=debug", "whoami"])).toEqual([
      "node",
      "bin",
      "whoami",
      "--log-level=debug"
    ])
  })

  it("moves the global flags before the command, so that flags come in any order", () => {
    expect(
      Cli.normalise([
        "node",
        "bin",
        "login",
        "--username",
        "a@example.com",
        "--totp-secret",
        "S",
        "--json",
        "--base-url=http://127.0.0.1:1",
        "--",
        "--org"
      ])
    ).toEqual([
      "node",
      "bin",
      "--username",
      "a@example.com",
      "--json",
      "--base-url=http://127.0.0.1:1",
      "login",
      "--totp-secret",
      "S",
      "--",
      "--org"
    ])
  })
})
