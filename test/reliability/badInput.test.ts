/**
 * Generated garbage — random and awkward text, numbers at and beyond their edges, values of any type, and what the
 * library's schemas describe, accepted or refused — for every public constructor, option and environment variable:
 * each answers with a value that works or a typed error (`ConfigurationError`, `ParseError`, `MfaCodeUnavailable`,
 * `TokenStoreError`, an API error), never a defect, an exception or an unhandled rejection, and never with a secret
 * in the error.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, beforeAll, describe, expect, it, layer } from "@effect/vitest"
import {
  Arbitrary,
  Cause,
  ConfigProvider,
  DateTime,
  Duration,
  Effect,
  Either,
  FastCheck as fc,
  Layer,
  Logger,
  LogLevel,
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
import * as RedisTokenStore from "../../src/RedisTokenStore.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as TokenGrant from "../../src/TokenGrant.js"
import * as TokenRef from "../../src/TokenRef.js"
import * as TokenStore from "../../src/TokenStore.js"
import { accounts, Simulator } from "../../src/testing/index.js"
import { makeFakeStrategy } from "../support/fakeStrategy.js"
import { freePort } from "../support/redisServer.js"
import { type ProcessWatch, startProcessWatch } from "./support/capture.js"
import { anything, described, durationLike, encoded, number, optional, text } from "./support/garbage.js"
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
// What the schemas describe

// Fast-check cannot invert a filter, and random text is seldom 4 to 10 digits: the codes are made as such.
const MfaCode = Credentials.MfaCode.annotations({
  arbitrary: () => (fc) => fc.stringMatching(/^[0-9]{4,10}$/).map(Redacted.make)
})

const username = fc.oneof(described(Credentials.Username), fc.constant(example.username))

const password = fc.oneof(described(Credentials.Password), fc.constant(example.password))

const machineUserToken = fc.oneof(described(BearerToken.BearerToken), fc.constant(accounts.machine.token))

const orgId = described(Credentials.OrgId)

// The decoded side of `BaseUrl` is unchecked text, which its encoder refuses: its garbage is text of every kind.
const baseUrl = fc.oneof(
  anything,
  Arbitrary.make(Schema.encodedSchema(BaseUrl.BaseUrl)),
  text.map((garbage) => `https://${garbage}`),
  fc.constant(BaseUrl.production)
)

const grant = Arbitrary.make(TokenGrant.TokenGrant)

/** A store key as `TokenRef` files grants under: text of every kind, and an organisation id or none. */
const storeKey: fc.Arbitrary<TokenStore.StoreKey> = fc.record(
  {
    baseUrl: fc.oneof(text, fc.constant(BaseUrl.production)),
    subject: fc.oneof(text, encoded(Credentials.Username)),
    orgId: Arbitrary.make(Credentials.OrgId)
  },
  { requiredKeys: ["baseUrl", "subject"] }
)

const units = ["", " seconds", "s", " days", "d", "h", " hours", "m", "ms", " millis", " micros", " nanos", "w", "y"]

/** Lifetimes as text: numbers with and without a unit, and text of every kind. */
const lifetimeText = fc.oneof(
  text,
  fc.tuple(number, fc.constantFrom(...units)).map(([amount, unit]) => `${amount}${unit}`),
  fc.tuple(fc.nat(), fc.constantFrom(...units)).map(([amount, unit]) => `${amount}${unit}`)
)

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

/** A variable's text: what its schema describes, written as a variable holds it, or text of every kind. */
const variableText: Readonly<Record<string, fc.Arbitrary<string>>> = {
  [OpenSolarConfig.variables.baseUrl]: Arbitrary.make(Schema.encodedSchema(BaseUrl.BaseUrl)),
  [OpenSolarConfig.variables.username]: encoded(Credentials.Username),
  [OpenSolarConfig.variables.password]: encoded(Credentials.Password),
  [OpenSolarConfig.variables.mfaCode]: encoded(MfaCode),
  [OpenSolarConfig.variables.token]: encoded(BearerToken.BearerToken),
  [OpenSolarConfig.variables.orgId]: encoded(Credentials.OrgIdFromString),
  [OpenSolarConfig.variables.lifetime]: lifetimeText
}

/** Each variable absent, valid, or garbage; the secrets sometimes carry a canary long enough to look for. */
const environment: fc.Arbitrary<Record<string, string | undefined>> = fc
  .record(
    Object.fromEntries(
      variableNames.map((name) => [
        name,
        optional(
          fc.oneof(
            text,
            variableText[name] ?? text,
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

/** Stores to keep grants in: none, memory, a key-value store, and one that cannot be built. */
const stores = fc.constantFrom<
  Layer.Layer<TokenStore.TokenStore, TokenStore.TokenStoreError | AuthError.ConfigurationError> | undefined
>(
  undefined,
  TokenStore.layerMemory,
  TokenStore.layerKeyValueStore().pipe(Layer.provide(KeyValueStore.layerMemory)),
  Layer.fail(new TokenStore.TokenStoreError({ operation: "load", reason: "the store is out of order" }))
)

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
    "OpenSolar.layerConfig, layerConfigWith any store and AuthStrategy.layerConfig build or fail with a typed error",
    [environment, stores],
    ([variables, store]) =>
      Effect.gen(function* () {
        const whole = yield* settleExit(Effect.scoped(Layer.build(OpenSolar.layerConfig)))
        const withStore = yield* settleExit(Effect.scoped(Layer.build(OpenSolar.layerConfigWith({ store }))))
        const strategy = yield* settleExit(
          Effect.scoped(Layer.build(AuthStrategy.layerConfig.pipe(Layer.provide(OpenSolarApi.layer()))))
        )

        expect(["success", "ConfigurationError"]).toContain(whole.outcome)
        expect(["success", "ConfigurationError"]).toContain(strategy.outcome)
        expect(whole.outcome).toBe(strategy.outcome)
        // A store is built only for a login: a broken one then fails the layer with its own error.
        expect([whole.outcome, "TokenStoreError"]).toContain(withStore.outcome)
      }).pipe(Effect.withConfigProvider(providerOf(variables)), Effect.provide(FetchHttpClient.layer)),
    // A lifetime the strategy takes but the token's refresh timing cannot work with is refused by both.
    {
      fastCheck: {
        ...runs.fastCheck,
        examples: [[{ ...validEnvironment, OPENSOLAR_TOKEN_LIFETIME: "1.5" }, undefined]]
      }
    }
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

  it.prop(
    "OpenSolarConfig.parseLifetime reads a lifetime of 1 ms to 100 years, or says why the text is not one",
    [lifetimeText],
    ([lifetime]) => {
      const parsed = OpenSolarConfig.parseLifetime(lifetime)

      if (Either.isRight(parsed)) {
        expect(Duration.toMillis(parsed.right)).toBeGreaterThanOrEqual(1)
        expect(Duration.lessThanOrEqualTo(parsed.right, Duration.days(36_525))).toBe(true)
      } else {
        expect(parsed.left).toContain(lifetime.trim())
        expect(parsed.left).toMatch(/7 days/)
      }
    },
    runs
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Schemas

/** The public schemas whose decoded values fast-check can make, with `MfaCode` given a way to make codes. */
const schemas: ReadonlyArray<readonly [string, Schema.Schema<any, any>]> = [
  ["Credentials.Username", Credentials.Username],
  ["Credentials.Password", Credentials.Password],
  ["Credentials.MfaCode", MfaCode],
  ["Credentials.OrgId", Credentials.OrgId],
  ["Credentials.OrgIdFromString", Credentials.OrgIdFromString],
  ["Credentials.Credentials", Credentials.Credentials],
  ["BearerToken.BearerTokenText", BearerToken.BearerTokenText],
  ["BearerToken.BearerToken", BearerToken.BearerToken],
  ["BearerToken.NearmapImageryToken", BearerToken.NearmapImageryToken],
  ["TokenGrant.GrantUser", TokenGrant.GrantUser],
  ["TokenGrant.GrantOrg", TokenGrant.GrantOrg],
  ["TokenGrant.TokenGrant", TokenGrant.TokenGrant],
  ["FileTokenStore.TokenFile", FileTokenStore.TokenFile]
]

describe("bad input: schemas", () => {
  for (const [name, schema] of schemas) {
    it.prop(
      `${name} decodes what it describes or refuses it with a ParseError, and reads back what it writes`,
      [described(schema), Arbitrary.make(schema)],
      ([input, valid]) => {
        const decoded = Schema.decodeUnknownEither(schema)(input)
        const written = Schema.encodeSync(schema)(valid)
        const readBack = Schema.decodeUnknownEither(schema)(written)

        if (Either.isLeft(decoded)) {
          expect(ParseResult.isParseError(decoded.left)).toBe(true)
          expect(decoded.left.message.length).toBeGreaterThan(0)
        }
        expect(Either.map(readBack, Schema.encodeSync(schema))).toEqual(Either.right(written))
      },
      runs
    )
  }

  it.prop(
    "BaseUrl decodes to https (or http on loopback) without user or query, or refuses with a ParseError",
    [
      fc.oneof(
        baseUrl,
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
    "BearerToken.fromString makes a token of any text without white space, or refuses with a ParseError",
    [fc.oneof(text, encoded(BearerToken.BearerToken))],
    ([input]) => {
      const token = BearerToken.fromString(input)

      if (Either.isLeft(token)) {
        expect(ParseResult.isParseError(token.left)).toBe(true)
      } else {
        expect(BearerToken.value(token.right)).toBe(input)
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
    [optional(baseUrl), optional(durationLike)],
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
    [
      optional(baseUrl),
      optional(anything),
      optional(durationLike),
      fc.oneof(number, Arbitrary.make(Credentials.OrgId))
    ],
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
          baseUrl,
          username,
          password,
          token: machineUserToken,
          orgId,
          mfa: fc.oneof(anything, fc.constant(MfaCodeSource.static("123456"))),
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
        storeKey: optional(
          fc.record({ baseUrl: text, subject: fc.oneof(text, encoded(Credentials.Username)), orgId: optional(orgId) })
        )
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
    [text, fc.oneof(text, encoded(MfaCode))],
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

  it.effect.prop(
    "TokenRef.makeStatic hands out the token it was given, and a rejection of it or of another changes nothing",
    [Arbitrary.make(BearerToken.BearerToken), Arbitrary.make(BearerToken.BearerToken)],
    ([token, other]) =>
      Effect.gen(function* () {
        const tokens = yield* TokenRef.makeStatic(token)

        yield* tokens.invalidate(other)
        yield* tokens.invalidate(token)

        expect(BearerToken.equals(yield* tokens.get, token)).toBe(true)
        expect(Option.map(yield* tokens.current, (current) => current.isPermanent)).toEqual(Option.some(true))
      }),
    runs
  )

  it.effect.prop(
    "MfaCodeSource.prompt takes any message and number of attempts: a code of 4 to 10 digits or MfaCodeUnavailable",
    [
      fc.record({ message: text, attempts: number }, { requiredKeys: [] }),
      fc.constantFrom("none", "not interactive", "interactive"),
      fc.array(fc.oneof(text, encoded(MfaCode)), { maxLength: 4 })
    ],
    ([options, terminal, answers]) =>
      Effect.gen(function* () {
        const source = yield* MfaCodeSource.prompt(options)

        const { outcome, value } = yield* settleExit(
          terminal === "none"
            ? source.next
            : Effect.provide(source.next, answering(answers, terminal === "interactive"))
        )

        expect(["success", "MfaCodeUnavailable"]).toContain(outcome)
        if (value !== undefined) {
          expect(Redacted.value(value)).toMatch(/^[0-9]{4,10}$/)
          expect(answers.map((answer) => answer.trim())).toContain(Redacted.value(value))
        }
      }),
    runs
  )
})

/** A terminal that answers with `answers` in turn, then as if the person pressed Ctrl+C. */
const answering = (answers: ReadonlyArray<string>, interactive: boolean): Layer.Layer<Terminal.Terminal> => {
  const pending = [...answers]
  return Layer.succeed(Terminal.Terminal, {
    columns: Effect.succeed(80),
    rows: Effect.succeed(24),
    isTTY: Effect.succeed(interactive),
    readInput: Effect.die("the prompt reads lines"),
    readLine: Effect.suspend(() => {
      const answer = pending.shift()
      return answer === undefined ? Effect.fail(new Terminal.QuitException()) : Effect.succeed(answer)
    }),
    display: () => Effect.void
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Token stores

/**
 * Saves a grant under a key and loads it back: the same grant, or a `TokenStoreError` from the save and nothing
 * (or a `TokenStoreError`) from the load.
 */
const expectRoundTrip = (store: TokenStore.Service, key: TokenStore.StoreKey, saved: TokenGrant.TokenGrant) =>
  Effect.gen(function* () {
    const save = yield* settleExit(store.save(key, saved))
    const load = yield* settleExit(store.load(key))

    expect(["success", "TokenStoreError"]).toContain(save.outcome)
    expect(["success", "TokenStoreError"]).toContain(load.outcome)
    if (save.outcome === "success") {
      const encode = Schema.encodeSync(TokenGrant.TokenGrant)
      expect(Option.map(load.value ?? Option.none(), encode)).toEqual(Option.some(encode(saved)))
    } else {
      expect(Option.isNone(load.value ?? Option.none())).toBe(true)
    }
  })

/** A file named after `garbage` inside `directory`: slashes are replaced, so that it stays inside. */
const fileIn = (path: Path.Path, directory: string, garbage: string): string =>
  path.join(directory, `store-${garbage.replaceAll("/", "_")}`)

const fileStores = {
  make: (options: FileTokenStore.Options) => FileTokenStore.make(options),
  layer: (options: FileTokenStore.Options) =>
    Effect.flatMap(Layer.build(FileTokenStore.layer(options)), (context) =>
      Effect.provide(TokenStore.TokenStore, context)
    ),
  layerNode: (options: FileTokenStore.Options) =>
    Effect.flatMap(Layer.build(FileTokenStore.layerNode(options)), (context) =>
      Effect.provide(TokenStore.TokenStore, context)
    )
}

/** Waits `count` turns of the event loop's timers: what a callback throws on a later turn has then been thrown. */
const timerTurns = (count: number) =>
  Effect.promise(async () => {
    for (let turn = 0; turn < count; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
  })

/** Stands for a Redis URL on this machine where nothing listens. */
const closedPort = "redis://closed-port"

/** Options that once made the Redis store die rather than fail: tried first in every run. */
const regressionExamples: Array<[unknown]> = [[null], [{ url: closedPort, redis: { connectTimeout: "x" } }]]

/**
 * The options with their URL kept to this machine: a Redis URL naming another host, or none (whose default is the
 * usual port here, where a Redis may run), names a port where nothing listens instead.
 */
const onLoopback = (options: unknown) =>
  Effect.map(freePort, (port) => {
    if (typeof options !== "object" || options === null) {
      return options
    }
    const url = (options as { readonly url?: unknown }).url
    const text = Redacted.isRedacted(url) ? Redacted.value(url) : url
    const parsed = typeof text === "string" && URL.canParse(text) ? new URL(text) : undefined
    const elsewhere =
      url === undefined ||
      (parsed !== undefined && /^rediss?:$/.test(parsed.protocol) && parsed.hostname !== "127.0.0.1")
    return elsewhere ? { ...options, url: `redis://127.0.0.1:${port}` } : options
  })

/** `ioredis` options that do not say where Redis is: any of them may be garbage. */
const redisOptions = {
  connectTimeout: fc.oneof(number, anything),
  commandTimeout: fc.oneof(number, anything),
  db: fc.oneof(number, anything),
  username: fc.oneof(text, anything),
  password: fc.oneof(text, anything),
  connectionName: fc.oneof(text, anything),
  keyPrefix: fc.oneof(text, anything),
  maxRetriesPerRequest: fc.oneof(number, anything),
  enableAutoPipelining: anything,
  keepAlive: fc.oneof(number, anything)
}

describe("bad input: token stores", () => {
  it.effect.prop(
    "FileTokenStore.make, layer and layerNode keep a grant in a file of any name, or fail with a TokenStoreError",
    [fc.constantFrom<keyof typeof fileStores>("make", "layer", "layerNode"), text, storeKey, grant],
    ([made, name, key, saved]) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const directory = yield* fs.makeTempDirectoryScoped()

        const store = yield* fileStores[made]({ path: fileIn(path, directory, name) })

        yield* expectRoundTrip(store, key, saved)
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "FileTokenStore.make takes any XDG_CONFIG_HOME when no file is given, and reads nothing it cannot use",
    [optional(text), storeKey],
    ([configHome, key]) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const directory = yield* fs.makeTempDirectoryScoped()
        const variables = { XDG_CONFIG_HOME: configHome ?? directory, HOME: directory }

        const store = yield* Effect.withConfigProvider(FileTokenStore.make(), providerOf(variables))

        expect(yield* store.load(key)).toEqual(Option.none())
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "TokenStore.makeKeyValueStore and layerKeyValueStore keep a grant under any prefix and key",
    [optional(text), storeKey, grant, fc.boolean()],
    ([prefix, key, saved, asLayer]) =>
      Effect.gen(function* () {
        const store = asLayer
          ? yield* Effect.provide(TokenStore.TokenStore, TokenStore.layerKeyValueStore({ prefix }))
          : yield* TokenStore.makeKeyValueStore({ prefix })

        yield* expectRoundTrip(store, key, saved)
      }).pipe(Effect.provide(KeyValueStore.layerMemory)),
    runs
  )

  // On the live clock, as a program would run it: the client's connection attempt then goes as far as it can.
  it.live.prop(
    "RedisTokenStore.make takes any options: a store or a ConfigurationError naming what to fix",
    [
      fc.oneof(
        anything,
        fc.record(
          {
            url: fc.oneof(anything, fc.constant(closedPort)),
            keyPrefix: fc.oneof(text, anything),
            lockTtl: durationLike,
            waitTimeout: durationLike,
            pollInterval: durationLike,
            commandTimeout: durationLike,
            redis: fc.oneof(anything, fc.record(redisOptions, { requiredKeys: [] }))
          },
          { requiredKeys: [] }
        )
      )
    ],
    ([options]) =>
      Effect.gen(function* () {
        const kept = (yield* onLoopback(options)) as RedisTokenStore.Options
        const watch = startProcessWatch()

        // A store for a closed port warns that Redis cannot be used; the warning is not what is under test here.
        const { outcome, error } = yield* settleExit(
          Effect.scoped(RedisTokenStore.make(kept)).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
        )
        // The client's own callbacks run on later turns; what they throw is part of the outcome.
        yield* timerTurns(3)
        watch.stop()

        expect(["success", "ConfigurationError"]).toContain(outcome)
        expect(watch.seen.map(String)).toEqual([])
        if (error !== undefined) {
          expect((error as Error).message.trim().length).toBeGreaterThan(10)
        }
      }),
    { fastCheck: { numRuns: 100, examples: regressionExamples } }
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Values of the wrong type

/** One of the library's own errors, each of which says what went wrong. */
const isTyped = (error: unknown): boolean =>
  AuthError.isAuthError(error) || error instanceof TokenStore.TokenStoreError || ParseResult.isParseError(error)

/** A value, or one of the library's typed errors: never a defect, never an interruption. */
const expectValueOrTypedError = ({ outcome, error }: { readonly outcome: string; readonly error: unknown }) => {
  expect(outcome).not.toMatch(/^(defect|interrupted)/)
  if (error !== undefined) {
    expect(isTyped(error)).toBe(true)
  }
}

describe("bad input: values of the wrong type", () => {
  it.effect.prop(
    "FileTokenStore.make, layer and layerNode take options of any type: a store or a typed error",
    [
      fc.constantFrom<keyof typeof fileStores>("make", "layer", "layerNode"),
      fc.oneof(anything, fc.record({ path: anything }))
    ],
    ([made, options]) =>
      Effect.gen(function* () {
        const built = yield* settleExit(Effect.scoped(fileStores[made](options as FileTokenStore.Options)))

        expectValueOrTypedError(built)
      }).pipe(Effect.provide(NodeContext.layer)),
    runs
  )

  it.effect.prop(
    "TokenStore.makeKeyValueStore takes options of any type: a store that keeps grants, or a typed error",
    [fc.oneof(anything, fc.record({ prefix: anything })), storeKey, grant],
    ([options, key, saved]) =>
      Effect.gen(function* () {
        const built = yield* settleExit(TokenStore.makeKeyValueStore(options as TokenStore.KeyValueStoreOptions))

        expectValueOrTypedError(built)
        if (built.value !== undefined) {
          yield* expectRoundTrip(built.value, key, saved)
        }
      }).pipe(Effect.provide(KeyValueStore.layerMemory)),
    runs
  )

  it.effect.prop(
    "OpenSolar.layerConfigWith takes options and a store of any type: the stack or a typed error",
    [fc.oneof(anything, fc.record({ store: anything })), environment],
    ([options, variables]) =>
      Effect.gen(function* () {
        const built = yield* settleExit(
          Effect.scoped(Layer.build(OpenSolar.layerConfigWith(options as OpenSolar.StoreOptions)))
        )

        expectValueOrTypedError(built)
      }).pipe(Effect.withConfigProvider(providerOf(variables)), Effect.provide(FetchHttpClient.layer)),
    runs
  )

  it.effect.prop(
    "TokenRef.makeStatic takes a token of any type: a TokenRef handing it out, or a typed error",
    [described(BearerToken.BearerToken)],
    ([token]) =>
      Effect.gen(function* () {
        const made = yield* settleExit(
          Effect.flatMap(TokenRef.makeStatic(token as BearerToken.BearerToken), (tokens) => tokens.get)
        )

        expectValueOrTypedError(made)
      }),
    runs
  )

  it.effect.prop(
    "MfaCodeSource.prompt takes options of any type: a code of 4 to 10 digits or MfaCodeUnavailable",
    [
      fc.oneof(anything, fc.record({ message: anything, attempts: anything })),
      fc.array(encoded(MfaCode), { maxLength: 2 })
    ],
    ([options, answers]) =>
      Effect.gen(function* () {
        const asked = yield* settleExit(
          Effect.flatMap(MfaCodeSource.prompt(options as MfaCodeSource.PromptOptions), (source) => source.next).pipe(
            Effect.provide(answering(answers, true))
          )
        )

        expectValueOrTypedError(asked)
      }),
    runs
  )

  it.effect.prop(
    "MfaCodeSource.static, totp and fromEffect take a code or secret of any type: a code or MfaCodeUnavailable",
    [described(MfaCode)],
    ([code]) =>
      Effect.gen(function* () {
        const sources = [
          () => MfaCodeSource.static(code as string),
          () => MfaCodeSource.totp(code as string),
          () => MfaCodeSource.fromEffect(Effect.succeed(code as string))
        ]

        for (const source of sources) {
          expectValueOrTypedError(yield* settleExit(Effect.suspend(() => source().next)))
        }
      }),
    runs
  )

  it.prop(
    "OpenSolarConfig.parseLifetime takes a value of any type: a lifetime or why it is not one, never a throw",
    [fc.oneof(anything, lifetimeText)],
    ([input]) => {
      const parsed = Either.try(() => OpenSolarConfig.parseLifetime(input as string))

      expect(Either.isRight(parsed)).toBe(true)
    },
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
      fc.oneof(text, encoded(Credentials.Username), fc.constant(example.username)),
      fc.oneof(text, encoded(Credentials.Password), fc.constant(example.password)),
      fc.oneof(text, encoded(MfaCode)),
      optional(fc.oneof(number, Arbitrary.make(Credentials.OrgId)))
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
