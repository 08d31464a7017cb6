import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Exit, Option, Redacted } from "effect"
import { inspect } from "node:util"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolarConfig from "../src/OpenSolarConfig.js"

const names = OpenSolarConfig.variables

const loadFrom = (variables: Record<string, string>) =>
  Effect.either(
    OpenSolarConfig.load.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))))
  )

const valid = {
  token: "s_canarytokenf3usddiarsvrmpcezvi4",
  username: "arnie@illbeback.com",
  password: "canary password",
  mfaCode: "246810",
  totpSecret: "JBSW Y3DP EHPK 3PXP",
  baseUrl: "http://127.0.0.1:8080/",
  orgId: " 42 ",
  lifetime: "2 days"
} as const

const secrets = [valid.token, valid.password, valid.mfaCode, valid.totpSecret, "JBSWY3DPEHPK3PXP"]

const blanks = ["", "   ", "\t\n"]

type Presence = "absent" | "blank" | "set"

const presences: ReadonlyArray<Presence> = ["absent", "blank", "set"]

const credentialKeys = ["token", "username", "password", "mfaCode", "totpSecret"] as const

const extraKeys = ["baseUrl", "orgId", "lifetime"] as const

type Key = (typeof credentialKeys)[number] | (typeof extraKeys)[number]

type Combination = Record<Key, Presence>

const credentialCombinations = credentialKeys.reduce<ReadonlyArray<Partial<Combination>>>(
  (partial, key) =>
    partial.flatMap((combination) => presences.map((presence) => ({ ...combination, [key]: presence }))),
  [{}]
)

// Each of the other settings absent, blank and set, alone and together.
const extras: ReadonlyArray<Pick<Combination, (typeof extraKeys)[number]>> = [
  { baseUrl: "absent", orgId: "absent", lifetime: "absent" },
  { baseUrl: "blank", orgId: "blank", lifetime: "blank" },
  { baseUrl: "set", orgId: "set", lifetime: "set" },
  { baseUrl: "set", orgId: "absent", lifetime: "blank" },
  { baseUrl: "blank", orgId: "set", lifetime: "absent" },
  { baseUrl: "absent", orgId: "blank", lifetime: "set" }
]

const outcomeOf = (credentials: Partial<Combination>): string => {
  const set = (key: (typeof credentialKeys)[number]) => credentials[key] === "set"
  if (set("token")) {
    return set("username") || set("password") || set("mfaCode") || set("totpSecret") ? "token+login" : "token"
  }
  return set("username") && set("password") && !(set("mfaCode") && set("totpSecret")) ? "password" : "incomplete"
}

// Every credential combination once (each load costs milliseconds), with the other settings taken in turn among
// the combinations of the same outcome: a machine user's token and a valid login each meet every case of `extras`.
const combinations: ReadonlyArray<Combination> = (() => {
  const turns = new Map<string, number>()
  return credentialCombinations.map((credentials) => {
    const outcome = outcomeOf(credentials)
    const turn = turns.get(outcome) ?? 0
    turns.set(outcome, turn + 1)
    return { ...credentials, ...extras[turn % extras.length]! } as Combination
  })
})()

const variablesOf = (combination: Combination, index: number): Record<string, string> =>
  Object.fromEntries(
    [...credentialKeys, ...extraKeys].flatMap((key) =>
      combination[key] === "absent"
        ? []
        : [[names[key], combination[key] === "set" ? valid[key] : blanks[index % blanks.length]!] as const]
    )
  )

describe("OpenSolarConfig", () => {
  describe("credentials", () => {
    it.effect("decides every combination of the credentials, with base URL, organisation and lifetime", () =>
      Effect.gen(function* () {
        for (const [index, combination] of combinations.entries()) {
          const set = (key: Key) => combination[key] === "set"
          const blank = (key: Key) => combination[key] === "blank"
          const result = yield* loadFrom(variablesOf(combination, index))
          const label = JSON.stringify(combination)

          const problems: Array<[ReadonlyArray<string>, ReadonlyArray<string>]> = []
          if (set("token")) {
            const logins = (["username", "password"] as const).filter(set).map((key) => names[key])
            const codes = (["mfaCode", "totpSecret"] as const).filter(set).map((key) => names[key])
            if (logins.length > 0) {
              problems.push([[`${names.token} (a machine user's token) cannot be combined`, ...logins], logins])
            }
            if (codes.length > 0) {
              problems.push([["only used to log in with a password", ...codes], codes])
            }
            if (set("lifetime")) {
              problems.push([[`remove ${names.lifetime}, because a machine user's token never expires`], []])
            }
          } else if (!set("username") && !set("password")) {
            const blankOnes = (["token", "username", "password"] as const).filter(blank)
            problems.push([
              ["No credentials", ...(blankOnes.length > 0 ? ["empty or white space, which counts as unset"] : [])],
              [names.username, names.password, names.token]
            ])
          } else if (!set("password")) {
            problems.push([
              [`${names.password} is not`, ...(blank("password") ? ["empty or white space"] : [])],
              [names.password]
            ])
          } else if (!set("username")) {
            problems.push([
              [`${names.username} is not`, ...(blank("username") ? ["empty or white space"] : [])],
              [names.username]
            ])
          }
          if (!set("token") && set("mfaCode") && set("totpSecret")) {
            problems.push([["are both set"], [names.mfaCode, names.totpSecret]])
          }

          if (problems.length > 0) {
            expect(Either.isLeft(result), label).toBe(true)
            if (Either.isLeft(result)) {
              const expectedVariables = new Set(problems.flatMap(([, variables]) => variables))
              if (set("token") && problems.some(([fragments]) => fragments[0]!.includes("cannot be combined"))) {
                expectedVariables.add(names.token)
              }
              if (set("token") && set("lifetime")) {
                expectedVariables.add(names.lifetime)
              }
              expect(result.left._tag).toBe("ConfigurationError")
              expect(result.left.message, label).toContain(problems.length > 1 ? `${problems.length} problems` : "")
              for (const fragment of problems.flatMap(([fragments]) => fragments)) {
                expect(result.left.message, label).toContain(fragment)
              }
              expect([...result.left.variables].sort(), label).toEqual([...expectedVariables].sort())
              for (const secret of secrets) {
                expect(result.left.message, label).not.toContain(secret)
              }
            }
            continue
          }

          expect(Either.isRight(result), label).toBe(true)
          if (Either.isRight(result)) {
            const settings = result.right
            expect(settings.baseUrl, label).toBe(set("baseUrl") ? "http://127.0.0.1:8080" : "https://api.opensolar.com")
            expect(settings.orgId, label).toEqual(set("orgId") ? Option.some(42) : Option.none())
            expect(Duration.toMillis(settings.lifetime), label).toBe(
              Duration.toMillis(set("lifetime") ? "2 days" : "7 days")
            )
            const credentials = settings.credentials
            if (set("token")) {
              expect(credentials._tag).toBe("MachineUser")
              expect(credentials._tag === "MachineUser" && BearerToken.value(credentials.token)).toBe(valid.token)
            } else {
              expect(credentials._tag).toBe("Password")
              if (credentials._tag === "Password") {
                expect(credentials.username).toBe(valid.username)
                expect(Redacted.value(credentials.password)).toBe(valid.password)
                expect(
                  Option.map(credentials.mfa, (mfa) => mfa._tag),
                  label
                ).toEqual(
                  set("totpSecret") ? Option.some("Totp") : set("mfaCode") ? Option.some("StaticCode") : Option.none()
                )
              }
            }
          }
        }
      })
    )

    it.effect("treats empty and white-space-only values as unset, and says so", () =>
      Effect.gen(function* () {
        const result = yield* loadFrom({ [names.username]: valid.username, [names.password]: " \t " })

        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(result.left.message).toBe(
            "OPENSOLAR_USERNAME is set but OPENSOLAR_PASSWORD is not (OPENSOLAR_PASSWORD is empty or white space, " +
              "which counts as unset): set OPENSOLAR_PASSWORD, or remove OPENSOLAR_USERNAME and set OPENSOLAR_TOKEN " +
              "for a machine user (OPENSOLAR_PASSWORD)"
          )
          expect(result.left.variables).toEqual([names.password])
        }
      })
    )

    it.effect("keeps a password as typed but trims the other values", () =>
      Effect.gen(function* () {
        const result = yield* loadFrom({
          [names.username]: `  ${valid.username}\n`,
          [names.password]: "  spaced  ",
          [names.mfaCode]: " 123456 "
        })

        const settings = Either.getOrThrow(result)
        expect(settings.credentials).toMatchObject({ _tag: "Password", username: valid.username })
        if (settings.credentials._tag === "Password") {
          expect(Redacted.value(settings.credentials.password)).toBe("  spaced  ")
          const mfa = Option.getOrThrow(settings.credentials.mfa)
          expect(mfa._tag === "StaticCode" && Redacted.value(mfa.code)).toBe("123456")
        }
      })
    )

    it.effect("refuses unusable values without quoting the secrets", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
          [{ [names.token]: "canary token" }, names.token, "white space"],
          [
            { [names.username]: valid.username, [names.password]: valid.password, [names.mfaCode]: "12ab56" },
            names.mfaCode,
            "4 to 10 digits"
          ],
          [
            { [names.username]: valid.username, [names.password]: valid.password, [names.mfaCode]: "123" },
            names.mfaCode,
            "4 to 10 digits"
          ],
          [
            {
              [names.username]: valid.username,
              [names.password]: valid.password,
              [names.totpSecret]: "canary!secret!text"
            },
            names.totpSecret,
            "not base-32"
          ],
          [
            { [names.username]: valid.username, [names.password]: valid.password, [names.totpSecret]: "JBSWY3DP" },
            names.totpSecret,
            "too short"
          ],
          [
            {
              [names.username]: valid.username,
              [names.password]: valid.password,
              [names.totpSecret]: "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP"
            },
            names.totpSecret,
            "counter-based"
          ],
          [
            { [names.username]: `${"a".repeat(250)}@example.com`, [names.password]: valid.password },
            names.username,
            "254 characters"
          ]
        ]
        for (const [variables, variable, fragment] of cases) {
          const result = yield* loadFrom(variables)

          expect(Either.isLeft(result)).toBe(true)
          if (Either.isLeft(result)) {
            expect(result.left.message).toContain(`${variable} cannot be used`)
            expect(result.left.message).toContain(fragment)
            expect(result.left.variables).toEqual([variable])
            for (const [name, value] of Object.entries(variables)) {
              if (name !== names.username) {
                expect(result.left.message).not.toContain(value)
              }
            }
          }
        }
      })
    )

    it.effect("reports a lifetime beside a machine user's token as one to remove, whatever its value", () =>
      Effect.gen(function* () {
        for (const lifetime of ["7 days", "forever"]) {
          const result = yield* loadFrom({ [names.token]: valid.token, [names.lifetime]: lifetime })

          expect(Either.isLeft(result)).toBe(true)
          if (Either.isLeft(result)) {
            expect(result.left.message).toBe(
              "OPENSOLAR_TOKEN_LIFETIME cannot be combined with OPENSOLAR_TOKEN (a machine user's token): remove " +
                "OPENSOLAR_TOKEN_LIFETIME, because a machine user's token never expires (OPENSOLAR_TOKEN_LIFETIME)"
            )
            expect(result.left.variables).toEqual([names.lifetime])
          }
        }
      })
    )

    it.effect("reports every problem at once, in one error", () =>
      Effect.gen(function* () {
        const result = yield* loadFrom({
          [names.baseUrl]: "http://api.opensolar.com",
          [names.orgId]: "abc",
          [names.lifetime]: "forever",
          [names.username]: valid.username,
          [names.mfaCode]: valid.mfaCode,
          [names.totpSecret]: valid.totpSecret
        })

        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(result.left.message).toMatch(/^The OpenSolar configuration has 5 problems: 1\) /)
          expect(result.left.variables).toEqual([
            names.baseUrl,
            names.password,
            names.mfaCode,
            names.totpSecret,
            names.orgId,
            names.lifetime
          ])
        }
      })
    )
  })

  describe("base URL, organisation and lifetime", () => {
    const login = { [names.username]: valid.username, [names.password]: valid.password }

    it.effect("defaults to the production API, no organisation and 7 days", () =>
      Effect.gen(function* () {
        for (const extra of [{}, { [names.baseUrl]: " ", [names.orgId]: "", [names.lifetime]: "\t" }]) {
          const settings = Either.getOrThrow(yield* loadFrom({ ...login, ...extra }))

          expect(settings.baseUrl).toBe("https://api.opensolar.com")
          expect(settings.orgId).toEqual(Option.none())
          expect(Duration.toMillis(settings.lifetime)).toBe(Duration.toMillis("7 days"))
        }
      })
    )

    it.effect("accepts https anywhere and plain http on loopback only", () =>
      Effect.gen(function* () {
        const accepted = [
          ["https://api.opensolar.com/", "https://api.opensolar.com"],
          [" https://proxy.example.com/opensolar ", "https://proxy.example.com/opensolar"],
          ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
          ["http://localhost:3000/", "http://localhost:3000"]
        ] as const
        for (const [text, expected] of accepted) {
          expect(Either.getOrThrow(yield* loadFrom({ ...login, [names.baseUrl]: text })).baseUrl).toBe(expected)
        }

        const refused = [
          ["http://api.opensolar.com", "plain http is allowed only for loopback"],
          ["ftp://api.opensolar.com", "must use https"],
          ["api.opensolar.com", "not an absolute URL"]
        ] as const
        for (const [text, fragment] of refused) {
          const result = yield* loadFrom({ ...login, [names.baseUrl]: text })
          expect(Either.isLeft(result) && result.left.message).toContain(fragment)
          expect(Either.isLeft(result) && result.left.variables).toEqual([names.baseUrl])
        }
      })
    )

    it.effect("reads the organisation id as a positive integer", () =>
      Effect.gen(function* () {
        expect(Either.getOrThrow(yield* loadFrom({ ...login, [names.orgId]: " 42 " })).orgId).toEqual(Option.some(42))

        for (const text of ["abc", "0", "-1", "1.5", "12abc"]) {
          const result = yield* loadFrom({ ...login, [names.orgId]: text })
          expect(Either.isLeft(result) && result.left.message).toContain(
            `${names.orgId} cannot be used: "${text}" is not a positive integer`
          )
        }
      })
    )

    it.effect("reads lifetimes as Effect durations, abbreviated units or seconds", () =>
      Effect.gen(function* () {
        const accepted: ReadonlyArray<readonly [string, Duration.DurationInput]> = [
          ["7 days", "7 days"],
          ["168h", "168 hours"],
          ["168 hours", "168 hours"],
          ["604800", "7 days"],
          ["1 week", "7 days"],
          ["1w", "7 days"],
          ["90 minutes", "90 minutes"],
          ["90m", "90 minutes"],
          ["2.5 hours", "150 minutes"],
          ["3600s", "1 hour"],
          ["334", "334 seconds"],
          ["1d", "1 day"],
          ["36525 days", "36525 days"]
        ]
        for (const [text, expected] of accepted) {
          const settings = Either.getOrThrow(yield* loadFrom({ ...login, [names.lifetime]: text }))
          expect(Duration.toMillis(settings.lifetime), text).toBe(Duration.toMillis(expected))
        }

        for (const text of [
          "forever",
          "0",
          "0 days",
          "-5 days",
          "7 fortnights",
          "7 days ago",
          "1e3",
          "0.0001",
          "36526 days",
          "99999999999999999999 weeks",
          `1${"0".repeat(400)} nanos`
        ]) {
          const result = yield* loadFrom({ ...login, [names.lifetime]: text })
          expect(Either.isLeft(result), text).toBe(true)
          if (Either.isLeft(result)) {
            expect(result.left.message).toContain(names.lifetime)
            expect(result.left.message).toContain('"168h"')
            expect(result.left.message).toContain("a number of seconds")
          }
        }
      })
    )
  })

  describe("lifetime and the refresh timing", () => {
    const login = { [names.username]: valid.username, [names.password]: valid.password }

    it.effect("refuses a lifetime too short for the refresh timing of the token, saying how long it must be", () =>
      Effect.gen(function* () {
        // The timing is TokenRef's default, which the environment cannot change: renewed after 80% ± 2% of the
        // lifetime, no longer handed out in the last 60 seconds; 60 s / (1 − 0.82) is 5m 33s 334ms.
        for (const text of ["500 millis", "1.5", "90 seconds", "5 minutes", "333"]) {
          const result = yield* loadFrom({ ...login, [names.lifetime]: text })

          expect(Either.isLeft(result), text).toBe(true)
          if (Either.isLeft(result)) {
            expect(result.left.variables).toEqual([names.lifetime])
            expect(result.left.message).toContain(`"${text}" is too short`)
            expect(result.left.message).toContain("must live longer than 5m 33s 334ms")
          }
          // The lifetime itself is one: only the setting is refused.
          expect(Either.isRight(OpenSolarConfig.parseLifetime(text)), text).toBe(true)
        }
      })
    )
  })

  describe("config", () => {
    it.effect("is a Config for composing, failing with the same explanation", () =>
      Effect.gen(function* () {
        const provider = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

        const settings = yield* Effect.withConfigProvider(
          OpenSolarConfig.config,
          provider({ [names.token]: valid.token, [names.orgId]: "7" })
        )
        const failed = yield* Effect.exit(Effect.withConfigProvider(OpenSolarConfig.config, provider({})))

        expect(settings.credentials._tag).toBe("MachineUser")
        expect(settings.orgId).toEqual(Option.some(7))
        expect(Exit.isFailure(failed)).toBe(true)
        expect(String(Exit.isFailure(failed) && failed.cause)).toContain("No credentials are configured")
      })
    )

    it.effect("keeps secrets redacted in the decoded settings", () =>
      Effect.gen(function* () {
        const settings = Either.getOrThrow(
          yield* loadFrom({
            [names.username]: valid.username,
            [names.password]: valid.password,
            [names.totpSecret]: valid.totpSecret
          })
        )
        const machine = Either.getOrThrow(yield* loadFrom({ [names.token]: valid.token }))

        for (const printed of [
          inspect(settings, { depth: 10 }),
          JSON.stringify(settings),
          inspect(machine, { depth: 10 }),
          JSON.stringify(machine)
        ]) {
          for (const secret of secrets) {
            expect(printed).not.toContain(secret)
          }
        }
      })
    )
  })
})
