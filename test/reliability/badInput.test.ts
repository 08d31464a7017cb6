/**
 * Generated garbage — random and awkward text, numbers at and beyond their edges, values of any type — for every
 * public constructor, option and environment variable: each answers with a value that works or a typed error
 * (`ConfigurationError`, `ParseError`, `MfaCodeUnavailable`, an API error), never a defect, an exception or an
 * unhandled rejection, and never with a secret in the error.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, beforeAll, describe, expect, it, layer } from "@effect/vitest"
import {
  Cause,
  ConfigProvider,
  DateTime,
  Effect,
  Either,
  FastCheck as fc,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Schema
} from "effect"
import * as AuthError from "../../src/AuthError.js"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BaseUrl from "../../src/BaseUrl.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as Credentials from "../../src/Credentials.js"
import * as FileTokenStore from "../../src/FileTokenStore.js"
import * as MfaCodeSource from "../../src/MfaCodeSource.js"
import * as OpenSolar from "../../src/OpenSolar.js"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import * as OpenSolarClient from "../../src/OpenSolarClient.js"
import * as OpenSolarConfig from "../../src/OpenSolarConfig.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as TokenGrant from "../../src/TokenGrant.js"
import * as TokenRef from "../../src/TokenRef.js"
import * as TokenStore from "../../src/TokenStore.js"
import { accounts, Simulator } from "../../src/testing/index.js"
import { makeFakeStrategy } from "../support/fakeStrategy.js"
import { type ProcessWatch, startProcessWatch } from "./support/capture.js"
import { anything, durationLike, number, optional, text } from "./support/garbage.js"
import { describeExit } from "./support/outcome.js"
import { apiLayer } from "./support/stack.js"

const runs = { fastCheck: { numRuns: 100 } }

let processWatch: ProcessWatch | undefined

beforeAll(() => {
  processWatch = startProcessWatch()
})

afterAll(() => {
  processWatch?.stop()
  expect(processWatch?.seen).toEqual([])
})

const example = accounts.example

const machineToken = BearerToken.unsafeMake(accounts.machine.token)

/** How an effect ended, and the error itself when it failed. */
const settleExit = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(Effect.suspend(() => effect)), (exit) => ({
    outcome: describeExit(exit),
    error: exit._tag === "Failure" ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined,
    value: exit._tag === "Success" ? exit.value : undefined
  }))

const apiErrors = [
  "InvalidCredentials",
  "MfaRequired",
  "InvalidMfaCode",
  "TokenRejected",
  "ApiAccessNotEnabled",
  "Forbidden",
  "RateLimited",
  "ServerError",
  "TransportError",
  "RequestTimeout",
  "UnexpectedResponse",
  "MfaCodeUnavailable",
  "ConfigurationError"
]

/** A configuration error says what is wrong in words and names only settings that exist. */
const expectExplained = (error: unknown, settings: ReadonlyArray<string>) => {
  expect(error).toBeInstanceOf(AuthError.ConfigurationError)
  const configuration = error as AuthError.ConfigurationError
  expect(configuration.message.trim().length).toBeGreaterThan(10)
  for (const variable of configuration.variables) {
    expect(settings).toContain(variable)
  }
}

/** A secret long enough not to appear by chance, and not also given as a setting that is not secret. */
const revealable = (secret: string | undefined, others: ReadonlyArray<string | undefined>): secret is string =>
  secret !== undefined && secret.trim().length >= 12 && !others.some((other) => other?.includes(secret.trim()))

// ---------------------------------------------------------------------------------------------------------------
// Environment variables

const validEnvironment: Record<string, string> = {
  OPENSOLAR_BASE_URL: "https://api.opensolar.com",
  OPENSOLAR_USERNAME: example.username,
  OPENSOLAR_PASSWORD: "correct horse battery staple",
  OPENSOLAR_ORG_ID: "1",
  OPENSOLAR_TOKEN_LIFETIME: "7 days"
}

const variableNames = Object.values(OpenSolarConfig.variables)

/** Each variable absent, valid, or garbage; the secrets sometimes carry a canary long enough to look for. */
const environment: fc.Arbitrary<Record<string, string | undefined>> = fc
  .record(
    Object.fromEntries(
      variableNames.map((name) => [
        name,
        optional(
          fc.oneof(
            text,
            fc.constant(validEnvironment[name] ?? "JBSWY3DPEHPK3PXP"),
            text.map((garbage) => `canary-${name}-${garbage}`)
          )
        )
      ])
    ) as Record<string, fc.Arbitrary<string | undefined>>
  )
  .map((variables) => ({ ...variables }))

const providerOf = (variables: Record<string, string | undefined>) =>
  ConfigProvider.fromMap(
    new Map(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined))
  )

const secretVariables = [
  OpenSolarConfig.variables.password,
  OpenSolarConfig.variables.token,
  OpenSolarConfig.variables.totpSecret,
  OpenSolarConfig.variables.mfaCode
]

const plainValues = (variables: Record<string, string | undefined>) =>
  Object.entries(variables)
    .filter(([name]) => !secretVariables.includes(name as (typeof secretVariables)[number]))
    .map(([, value]) => value)

describe("bad input: environment variables", () => {
  it.effect.prop(
    "OpenSolarConfig.load decodes the OPENSOLAR_* variables or fails with one ConfigurationError, quoting no secret",
    [environment],
    ([variables]) =>
      Effect.gen(function* () {
        const { outcome, error } = yield* settleExit(
          Effect.withConfigProvider(OpenSolarConfig.load, providerOf(variables))
        )

        expect(["success", "ConfigurationError"]).toContain(outcome)
        if (error !== undefined) {
          expectExplained(error, variableNames)
          const shown = `${(error as Error).message} ${String(error)} ${JSON.stringify(error)}`
          for (const name of secretVariables) {
            const secret = variables[name]
            if (revealable(secret, plainValues(variables))) {
              expect(shown).not.toContain(secret.trim())
            }
          }
        }
      }),
    runs
  )

  it.effect.prop(
    "OpenSolar.layerConfig and AuthStrategy.layerConfig build or fail with a ConfigurationError",
    [environment],
    ([variables]) =>
      Effect.gen(function* () {
        const whole = yield* settleExit(Effect.scoped(Layer.build(OpenSolar.layerConfig)))
        const strategy = yield* settleExit(
          Effect.scoped(Layer.build(AuthStrategy.layerConfig.pipe(Layer.provide(OpenSolarApi.layer()))))
        )

        expect(["success", "ConfigurationError"]).toContain(whole.outcome)
        expect(["success", "ConfigurationError"]).toContain(strategy.outcome)
        expect(whole.outcome).toBe(strategy.outcome)
      }).pipe(Effect.withConfigProvider(providerOf(variables)), Effect.provide(FetchHttpClient.layer)),
    runs
  )

  it.effect.prop(
    "FileTokenStore.defaultPath makes an absolute path of any XDG_CONFIG_HOME and HOME",
    [optional(text), optional(text)],
    ([configHome, home]) =>
      Effect.gen(function* () {
        const { outcome, value } = yield* settleExit(
          FileTokenStore.defaultPath.pipe(
            Effect.withConfigProvider(providerOf({ XDG_CONFIG_HOME: configHome, HOME: home })),
            Effect.provide(NodeContext.layer)
          )
        )

        expect(outcome).toBe("success")
        expect(value?.endsWith("tokens.json")).toBe(true)
      }),
    runs
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Schemas

describe("bad input: schemas", () => {
  it.prop(
    "BaseUrl decodes to https (or http on loopback) without user or query, or refuses with a ParseError",
    [
      fc.oneof(
        anything,
        text.map((garbage) => `https://${garbage}`),
        text.map((garbage) => `http://127.0.0.1${garbage}`)
      )
    ],
    ([input]) => {
      const decoded = Schema.decodeUnknownEither(BaseUrl.BaseUrl)(input)

      if (Either.isLeft(decoded)) {
        expect(ParseResult.isParseError(decoded.left)).toBe(true)
        expect(decoded.left.message.length).toBeGreaterThan(0)
      } else {
        const url = new URL(decoded.right)
        expect(url.protocol === "https:" || BaseUrl.isLoopbackHost(url.hostname)).toBe(true)
        expect([url.username, url.password, url.search, url.hash]).toEqual(["", "", "", ""])
        expect(BaseUrl.origin(decoded.right)).toBe(url.origin)
      }
    },
    runs
  )

  it.prop(
    "Credentials, their parts and BearerToken.fromString decode or refuse with a ParseError, never throw",
    [anything, anything],
    ([first, second]) => {
      const schemas: ReadonlyArray<Schema.Schema<any, any>> = [
        Credentials.Username,
        Credentials.Password,
        Credentials.MfaCode,
        Credentials.OrgId,
        Credentials.OrgIdFromString,
        Credentials.Credentials,
        BearerToken.BearerToken,
        BearerToken.NearmapImageryToken,
        TokenGrant.TokenGrant
      ]
      for (const schema of schemas) {
        for (const input of [first, { username: first, password: second }]) {
          const decoded = Schema.decodeUnknownEither(schema)(input)
          if (Either.isLeft(decoded)) {
            expect(ParseResult.isParseError(decoded.left)).toBe(true)
          }
        }
      }
      const token = BearerToken.fromString(typeof first === "string" ? first : String(second))
      if (Either.isLeft(token)) {
        expect(ParseResult.isParseError(token.left)).toBe(true)
      } else {
        expect(BearerToken.value(token.right).length).toBeGreaterThan(0)
      }
    },
    runs
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Constructors and options

describe("bad input: constructors and options", () => {
  it.effect.prop(
    "OpenSolarApi.make takes a base URL and timeout or fails with a ConfigurationError naming them",
    [
      optional(
        fc.oneof(
          anything,
          text.map((garbage) => `https://${garbage}`)
        )
      ),
      optional(durationLike)
    ],
    ([baseUrl, timeout]) =>
      Effect.gen(function* () {
        const { outcome, error } = yield* settleExit(
          OpenSolarApi.make({ baseUrl: baseUrl as any, timeout: timeout as any })
        )

        expect(["success", "ConfigurationError"]).toContain(outcome)
        if (error !== undefined) {
          expectExplained(error, ["baseUrl", "timeout"])
        }
      }).pipe(Effect.provide(FetchHttpClient.layer)),
    runs
  )

  it.effect.prop(
    "OpenSolarClient.make takes its options or fails with a ConfigurationError; forOrg refuses bad ids per request",
    [optional(anything), optional(anything), optional(durationLike), number],
    ([baseUrl, maxRedirects, timeout, orgId]) =>
      Effect.gen(function* () {
        const made = yield* settleExit(
          OpenSolarClient.make({ baseUrl: baseUrl as any, maxRedirects: maxRedirects as any, timeout: timeout as any })
        )
        expect(["success", "ConfigurationError"]).toContain(made.outcome)
        if (made.error !== undefined) {
          expectExplained(made.error, ["baseUrl", "maxRedirects", "timeout"])
        }

        const client = yield* OpenSolarClient.make({ baseUrl: "http://127.0.0.1:9" })
        if (!(Number.isInteger(orgId) && orgId > 0)) {
          const request = yield* settleExit(client.forOrg(orgId).get("projects/"))
          expect(request.outcome).toBe("ConfigurationError")
          expectExplained(request.error, ["orgId"])
        }
      }).pipe(Effect.provide(TokenRef.layerStatic(machineToken)), Effect.provide(FetchHttpClient.layer)),
    runs
  )

  it.effect.prop(
    "OpenSolar.layer builds from any options or fails with a ConfigurationError naming the option",
    [
      fc.record(
        {
          baseUrl: anything,
          username: fc.oneof(anything, fc.constant(example.username)),
          password: fc.oneof(anything, fc.constant(example.password)),
          token: fc.oneof(anything, fc.constant(accounts.machine.token)),
          orgId: anything,
          lifetime: durationLike,
          timeout: durationLike,
          client: fc.record({ maxRedirects: anything, timeout: durationLike }, { requiredKeys: [] }),
          tokenRef: fc.record(
            { refreshRatio: anything, jitter: durationLike, safetyMargin: durationLike, wakeInterval: durationLike },
            { requiredKeys: [] }
          )
        },
        { requiredKeys: [] }
      )
    ],
    ([options]) =>
      Effect.gen(function* () {
        const { outcome, error } = yield* settleExit(Effect.scoped(Layer.build(OpenSolar.layer(options as any))))

        expect(["success", "ConfigurationError"]).toContain(outcome)
        if (error !== undefined) {
          expectExplained(error, [
            "baseUrl",
            "username",
            "password",
            "token",
            "orgId",
            "lifetime",
            "timeout",
            "maxRedirects",
            "refreshRatio",
            "jitter",
            "safetyMargin",
            "wakeInterval"
          ])
        }
      }).pipe(Effect.provide(FetchHttpClient.layer)),
    runs
  )

  it.effect.prop(
    "TokenRef.make takes its options or fails with a ConfigurationError; a token it hands out expires at a real date",
    [
      fc.record({
        lifetime: optional(durationLike),
        refreshRatio: optional(anything),
        jitter: optional(durationLike),
        safetyMargin: optional(durationLike),
        wakeInterval: optional(durationLike),
        storeKey: optional(fc.record({ baseUrl: text, subject: text, orgId: optional(number) }))
      })
    ],
    ([options]) =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const { outcome, error, value } = yield* settleExit(
          Effect.gen(function* () {
            const tokens = yield* TokenRef.make(options as any)
            yield* tokens.get
            yield* tokens.get
            return yield* tokens.current
          }).pipe(Effect.scoped, Effect.provide(fake.layer), Effect.provide(TokenStore.layerMemory))
        )

        expect(["success", "ConfigurationError"]).toContain(outcome)
        if (error !== undefined) {
          expectExplained(error, ["lifetime", "refreshRatio", "jitter", "safetyMargin", "wakeInterval"])
        }
        const expiresAt = Option.flatMap(Option.flatten(Option.fromNullable(value)), (grant) => grant.expiresAt)
        if (Option.isSome(expiresAt)) {
          expect(Number.isFinite(DateTime.toDate(expiresAt.value).getTime())).toBe(true)
        }
      }),
    runs
  )

  it.effect.prop(
    "TokenRef.make refuses a lifetime past the last representable date, or grants and stores a real expiry",
    [fc.double({ min: 8.64e15, max: 1e300, noNaN: true })],
    ([lifetimeMillis]) =>
      Effect.gen(function* () {
        const fake = makeFakeStrategy()
        const { outcome, error, value } = yield* settleExit(
          Effect.gen(function* () {
            const tokens = yield* TokenRef.make({
              lifetime: lifetimeMillis,
              storeKey: { baseUrl: BaseUrl.production, subject: example.username }
            })
            yield* tokens.get
            return yield* tokens.current
          }).pipe(
            Effect.scoped,
            Effect.provide(fake.layer),
            Effect.provide(TokenStore.layerKeyValueStore().pipe(Layer.provide(KeyValueStore.layerMemory)))
          )
        )

        expect(["success", "ConfigurationError"]).toContain(outcome)
        if (error !== undefined) {
          expectExplained(error, ["lifetime"])
        }
        const expiresAt = Option.flatMap(Option.flatten(Option.fromNullable(value)), (grant) => grant.expiresAt)
        if (Option.isSome(expiresAt)) {
          expect(Number.isFinite(DateTime.toDate(expiresAt.value).getTime())).toBe(true)
        }
      }),
    runs
  )

  it.effect.prop(
    "MfaCodeSource.totp, static and fromEffect take any text: a code of 4 to 10 digits or MfaCodeUnavailable",
    [text, text],
    ([secret, code]) =>
      Effect.gen(function* () {
        const sources = [
          MfaCodeSource.totp(secret),
          MfaCodeSource.totp(Redacted.make(secret)),
          MfaCodeSource.static(code),
          MfaCodeSource.fromEffect(Effect.succeed(code))
        ]
        for (const source of sources) {
          const { outcome, error, value } = yield* settleExit(source.next)
          expect(["success", "MfaCodeUnavailable"]).toContain(outcome)
          if (value !== undefined) {
            expect(Redacted.value(value)).toMatch(/^[0-9]{4,10}$/)
          }
          if (error !== undefined && secret.trim().length >= 12) {
            expect((error as Error).message).not.toContain(secret.trim())
          }
        }
      }),
    runs
  )

  it.prop(
    "RetryPolicy.make gives a policy or throws the documented IllegalArgumentException",
    [
      fc.record(
        {
          base: durationLike,
          factor: anything,
          maxWait: durationLike,
          maxElapsed: durationLike,
          maxRetryAfter: durationLike,
          jitter: anything
        },
        { requiredKeys: [] }
      )
    ],
    ([options]) => {
      const made = Either.try(() => RetryPolicy.make(options as any))

      if (Either.isLeft(made)) {
        expect(Cause.isIllegalArgumentException(made.left)).toBe(true)
        expect((made.left as Error).message).toMatch(/^RetryPolicy\.make: /)
      }
    },
    runs
  )

  it.effect.prop(
    "AuthStrategy.timeout takes any duration: a grant, RequestTimeout or a ConfigurationError",
    [durationLike],
    ([duration]) =>
      Effect.gen(function* () {
        const strategy = AuthStrategy.timeout(AuthStrategy.machineUser(machineToken), duration as any)

        const { outcome } = yield* settleExit(strategy.authenticate(Option.none()))

        expect(["success", "RequestTimeout", "ConfigurationError"]).toContain(outcome)
      }),
    runs
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Strategies against the simulator

layer(apiLayer())("bad input: strategies against the simulator", (it) => {
  const fresh = Effect.flatMap(Simulator, (sim) => sim.reset)

  it.effect.prop(
    "password, password + code, session refresh and standard take any username, password, code and org id",
    [
      fc.oneof(text, fc.constant(example.username)),
      fc.oneof(text, fc.constant(example.password)),
      text,
      optional(number)
    ],
    ([username, password, code, orgId]) =>
      Effect.gen(function* () {
        yield* fresh
        const session = yield* AuthStrategy.password(example).authenticate(Option.none())
        const strategies = [
          AuthStrategy.password({ username, password }),
          AuthStrategy.passwordWithMfa({ username, password, mfa: MfaCodeSource.static(code) }),
          AuthStrategy.sessionRefresh({ orgId }),
          AuthStrategy.standard({ username, password, orgId })
        ]

        for (const strategy of strategies) {
          const { outcome, error } = yield* settleExit(strategy.authenticate(Option.some(session)))
          expect([...apiErrors, "success"]).toContain(outcome)
          if (error !== undefined && password.trim().length >= 12 && !username.includes(password.trim())) {
            expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain(password.trim())
          }
        }
      }),
    runs
  )

  const withLifetime = (lifetime: unknown) => [
    AuthStrategy.password({ ...example, lifetime: lifetime as any }),
    AuthStrategy.sessionRefresh({ lifetime: lifetime as any }),
    AuthStrategy.standard({ ...example, lifetime: lifetime as any })
  ]

  it.effect.prop(
    "password, session refresh and standard take any lifetime without dying: a grant or a typed error",
    [durationLike],
    ([lifetime]) =>
      Effect.gen(function* () {
        yield* fresh
        const session = yield* AuthStrategy.password(example).authenticate(Option.none())

        for (const strategy of withLifetime(lifetime)) {
          const { outcome } = yield* settleExit(strategy.authenticate(Option.some(session)))
          expect([...apiErrors, "success"]).toContain(outcome)
        }
      }),
    runs
  )

  it.effect.prop(
    "password, session refresh and standard grant only tokens that expire after they are issued, whatever the lifetime",
    [durationLike],
    ([lifetime]) =>
      Effect.gen(function* () {
        yield* fresh
        const session = yield* AuthStrategy.password(example).authenticate(Option.none())

        for (const strategy of withLifetime(lifetime)) {
          const { value } = yield* settleExit(strategy.authenticate(Option.some(session)))
          if (value !== undefined && Option.isSome(value.expiresAt)) {
            const issuedAt = DateTime.toDate(value.issuedAt).getTime()
            const expiresAt = DateTime.toDate(value.expiresAt.value).getTime()
            expect(Number.isFinite(expiresAt) && expiresAt > issuedAt).toBe(true)
          }
        }
      }),
    runs
  )
})
