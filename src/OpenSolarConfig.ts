/**
 * The library's settings read with Effect's `Config` — from the environment by default, or from any
 * `ConfigProvider` — and checked together, so that a configuration that cannot work is reported once, with
 * every problem and the variables to set or remove.
 *
 * | variable | meaning |
 * | --- | --- |
 * | `OPENSOLAR_BASE_URL` | the API's base URL; default `https://api.opensolar.com`; plain http only on loopback |
 * | `OPENSOLAR_USERNAME`, `OPENSOLAR_PASSWORD` | email and password of a standard user |
 * | `OPENSOLAR_TOTP_SECRET` or `OPENSOLAR_MFA_CODE` | for accounts with two-factor authentication |
 * | `OPENSOLAR_TOKEN` | a machine user's token, instead of username and password |
 * | `OPENSOLAR_ORG_ID` | the organisation session refreshes are scoped to; with `OPENSOLAR_TOKEN`, the grant's `org` |
 * | `OPENSOLAR_TOKEN_LIFETIME` | a standard token's lifetime, at least 334 s: `7 days`, `168h`, `604800` (seconds) |
 *
 * Values that are empty or only white space count as unset. Secrets are read as `Redacted`.
 *
 * @since 0.1.0
 */
import { Config, ConfigError, Duration, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import { ConfigurationError } from "./AuthError.js"
import * as BaseUrl from "./BaseUrl.js"
import * as BearerToken from "./BearerToken.js"
import * as Credentials from "./Credentials.js"
import * as duration from "./internal/duration.js"
import * as timing from "./internal/timing.js"
import * as Totp from "./internal/totp.js"
import * as TokenGrant from "./TokenGrant.js"

/**
 * The names of the variables read.
 *
 * @since 0.1.0
 * @category constants
 */
export const variables = {
  baseUrl: "OPENSOLAR_BASE_URL",
  username: "OPENSOLAR_USERNAME",
  password: "OPENSOLAR_PASSWORD",
  mfaCode: "OPENSOLAR_MFA_CODE",
  totpSecret: "OPENSOLAR_TOTP_SECRET",
  token: "OPENSOLAR_TOKEN",
  orgId: "OPENSOLAR_ORG_ID",
  lifetime: "OPENSOLAR_TOKEN_LIFETIME"
} as const

/**
 * Where two-factor codes come from: a TOTP secret (base-32 or `otpauth://` URI, checked) or a fixed code.
 *
 * @since 0.1.0
 * @category models
 */
export type MfaSettings =
  | { readonly _tag: "Totp"; readonly secret: Redacted.Redacted<string> }
  | { readonly _tag: "StaticCode"; readonly code: Credentials.MfaCode }

/**
 * How to authenticate: a machine user's token, or a username and password with an optional MFA source.
 *
 * @since 0.1.0
 * @category models
 */
export type CredentialSettings =
  | { readonly _tag: "MachineUser"; readonly token: BearerToken.BearerToken }
  | {
      readonly _tag: "Password"
      readonly username: Credentials.Username
      readonly password: Credentials.Password
      readonly mfa: Option.Option<MfaSettings>
    }

/**
 * The decoded settings, for every layer that needs them: the strategy, the token ref, the HTTP client, the CLI.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenSolarSettings {
  readonly baseUrl: BaseUrl.BaseUrl
  /**
   * The organisation session refreshes are scoped to; for a machine user, which is never refreshed, the
   * organisation its grants name as their `org`.
   */
  readonly orgId: Option.Option<Credentials.OrgId>
  /**
   * How long a standard token lives after issue; `TokenGrant.standardLifetime` (7 days) unless set. Setting it
   * together with a machine user's token is an error: that token never expires.
   */
  readonly lifetime: Duration.Duration
  readonly credentials: CredentialSettings
}

// Every amount goes through a number of milliseconds: a bigint of nanoseconds cannot hold an infinite amount.
const units: ReadonlyArray<readonly [RegExp, (amount: number) => Duration.Duration]> = [
  [/^(nanos?|nanoseconds?|ns)$/, (amount) => Duration.millis(amount / 1_000_000)],
  [/^(micros?|microseconds?|us)$/, (amount) => Duration.millis(amount / 1_000)],
  [/^(millis?|milliseconds?|ms)$/, Duration.millis],
  [/^(|s|secs?|seconds?)$/, Duration.seconds],
  [/^(m|mins?|minutes?)$/, Duration.minutes],
  [/^(h|hrs?|hours?)$/, Duration.hours],
  [/^(d|days?)$/, Duration.days],
  [/^(w|weeks?)$/, Duration.weeks]
]

const lifetimeFormats =
  'a number of seconds ("604800") or a number and a unit ("7 days", "168 hours", "168h", "90 minutes"); ' +
  "units: weeks (w), days (d), hours (h), minutes (m), seconds (s), millis (ms), micros, nanos"

/**
 * Reads a token lifetime: a number of seconds, or a number and a unit as Effect's `Duration` writes them
 * (`"7 days"`, `"168 hours"`) or abbreviated (`"168h"`, `"90m"`). It must be from 1 millisecond to 100 years.
 * What is not one, including a value that is not text, is answered with the reason, never thrown.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseLifetime = (text: string): Either.Either<Duration.Duration, string> => {
  if (typeof text !== "string") {
    return Either.left(`a lifetime is text, not a value of type ${typeof text}: write ${lifetimeFormats}`)
  }
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = match === null ? undefined : units.find(([pattern]) => pattern.test(match[2]!.toLowerCase()))
  if (match === null || unit === undefined) {
    return Either.left(`"${text.trim()}" is not a duration: write ${lifetimeFormats}`)
  }
  return Either.mapLeft(
    duration.check(unit[1](Number(match[1]))),
    (problem) => `"${text.trim()}" ${problem}: a lifetime must be ${duration.requirement()}; write ${lifetimeFormats}`
  )
}

/**
 * Reads `OPENSOLAR_TOKEN_LIFETIME`: a lifetime as {@link parseLifetime} reads it, long enough for the refresh
 * timing a `TokenRef` keeps by default, which the environment cannot change.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseLifetimeSetting = (text: string): Either.Either<Duration.Duration, string> =>
  Either.flatMap(parseLifetime(text), (lifetime) =>
    Either.mapLeft(timing.checkDefaultTiming(lifetime), (problem) => `"${text.trim()}" ${problem}`)
  )

type Setting<A> = { readonly _tag: "Unset" } | { readonly _tag: "Blank" } | { readonly _tag: "Set"; readonly value: A }

const classify = <A>(value: Option.Option<A>, text: (value: A) => string): Setting<A> => {
  if (Option.isNone(value)) {
    return { _tag: "Unset" }
  }
  return text(value.value).trim() === "" ? { _tag: "Blank" } : { _tag: "Set", value: value.value }
}

const plain = (name: string) =>
  Config.map(Config.option(Config.string(name)), (value) => classify(value, (text) => text))

const secret = (name: string): Config.Config<Setting<Redacted.Redacted<string>>> =>
  Config.map(Config.option(Config.redacted(name)), (value) => classify(value, (redacted) => Redacted.value(redacted)))

const raw = Config.all({
  baseUrl: plain(variables.baseUrl),
  username: plain(variables.username),
  password: secret(variables.password),
  mfaCode: secret(variables.mfaCode),
  totpSecret: secret(variables.totpSecret),
  token: secret(variables.token),
  orgId: plain(variables.orgId),
  lifetime: plain(variables.lifetime)
})

type Raw = Config.Config.Success<typeof raw>

interface Problem {
  readonly message: string
  readonly variables: ReadonlyArray<string>
}

type Report = (message: string, ...names: ReadonlyArray<string>) => void

const isSet = <A>(setting: Setting<A>): setting is { readonly _tag: "Set"; readonly value: A } => setting._tag === "Set"

const listed = (names: ReadonlyArray<string>): string =>
  names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`

const blankNote = (entries: ReadonlyArray<readonly [string, Setting<unknown>]>): string => {
  const blank = entries.filter(([, setting]) => setting._tag === "Blank").map(([name]) => name)
  return blank.length === 0
    ? ""
    : ` (${listed(blank)} ${blank.length === 1 ? "is" : "are"} empty or white space, which counts as unset)`
}

const decodeWith =
  <A>(schema: Schema.Schema<A, string>, reason?: string) =>
  (text: string): Either.Either<A, string> =>
    Either.mapLeft(
      Schema.decodeUnknownEither(schema)(text.trim()),
      (error) => reason ?? ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "it is not valid"
    )

const decode = (settings: Raw): Either.Either<OpenSolarSettings, ConfigurationError> => {
  const problems: Array<Problem> = []
  const report: Report = (message, ...names) => problems.push({ message, variables: names })
  const check = <A, B>(setting: Setting<A>, name: string, read: (value: A) => Either.Either<B, string>) => {
    if (!isSet(setting)) {
      return Option.none<B>()
    }
    const result = read(setting.value)
    if (Either.isLeft(result)) {
      report(`${name} cannot be used: ${result.left}`, name)
    }
    return Either.getRight(result)
  }

  const baseUrl = check(settings.baseUrl, variables.baseUrl, decodeWith(BaseUrl.BaseUrl))
  const orgId = check(settings.orgId, variables.orgId, (text) =>
    decodeWith(Credentials.OrgIdFromString, `"${text.trim()}" is not a positive integer`)(text)
  )
  // A lifetime beside a machine user's token is reported as one to remove (below), whatever its value.
  const lifetime = isSet(settings.token)
    ? Option.none<Duration.Duration>()
    : check(settings.lifetime, variables.lifetime, parseLifetimeSetting)
  const token = check(settings.token, variables.token, (value) =>
    Either.mapLeft(BearerToken.fromString(Redacted.value(value).trim()), () => "a token must not contain white space")
  )
  const username = check(
    settings.username,
    variables.username,
    decodeWith(Credentials.Username, "an email address of at most 254 characters is expected")
  )
  const totpSecret = check(settings.totpSecret, variables.totpSecret, (value) =>
    Either.map(Totp.parse(Redacted.value(value)), () => value)
  )
  const mfaCode = check(settings.mfaCode, variables.mfaCode, (value) =>
    decodeWith(Credentials.MfaCode, "a two-factor code is 4 to 10 digits")(Redacted.value(value))
  )
  const password = isSet(settings.password) ? Option.some(settings.password.value) : Option.none()
  checkCombination(settings, report)

  if (problems.length > 0) {
    const reason =
      problems.length === 1
        ? problems[0]!.message
        : `The OpenSolar configuration has ${problems.length} problems: ` +
          problems.map((entry, index) => `${index + 1}) ${entry.message}`).join("; ")
    const named = new Set(problems.flatMap((entry) => entry.variables))
    return Either.left(
      new ConfigurationError({ reason, variables: Object.values(variables).filter((name) => named.has(name)) })
    )
  }

  // Past the checks, either a token or a valid username and password is present.
  const credentials: CredentialSettings = Option.match(token, {
    onSome: (token) => ({ _tag: "MachineUser", token }),
    onNone: () => ({
      _tag: "Password",
      username: Option.getOrThrow(username),
      password: Option.getOrThrow(password),
      mfa: Option.orElse(
        Option.map(totpSecret, (secret) => ({ _tag: "Totp", secret }) as const),
        () => Option.map(mfaCode, (code) => ({ _tag: "StaticCode", code }) as const)
      )
    })
  })
  return Either.right({
    baseUrl: Option.getOrElse(baseUrl, () => BaseUrl.unsafeMake(BaseUrl.production)),
    orgId,
    lifetime: Option.getOrElse(lifetime, () => TokenGrant.standardLifetime),
    credentials
  })
}

const checkCombination = (settings: Raw, report: Report): void => {
  const { lifetime, mfaCode, password, token, totpSecret, username } = settings
  const present = (entries: ReadonlyArray<readonly [string, Setting<unknown>]>) =>
    entries.filter(([, setting]) => isSet(setting)).map(([name]) => name)
  const mfaNames = present([
    [variables.mfaCode, mfaCode],
    [variables.totpSecret, totpSecret]
  ])

  if (isSet(token)) {
    const loginNames = present([
      [variables.username, username],
      [variables.password, password]
    ])
    if (loginNames.length > 0) {
      report(
        `${variables.token} (a machine user's token) cannot be combined with ${listed(loginNames)}: ` +
          `remove ${variables.token} to log in with a password, or remove ${listed(loginNames)} to use the token`,
        variables.token,
        ...loginNames
      )
    }
    if (mfaNames.length > 0) {
      report(
        `${listed(mfaNames)} ${mfaNames.length === 1 ? "is" : "are"} only used to log in with a password, not ` +
          `with the ${variables.token} of a machine user: remove ${mfaNames.length === 1 ? "it" : "them"}`,
        ...mfaNames
      )
    }
    if (isSet(lifetime)) {
      report(
        `${variables.lifetime} cannot be combined with ${variables.token} (a machine user's token): remove ` +
          `${variables.lifetime}, because a machine user's token never expires`,
        variables.lifetime
      )
    }
    return
  }

  if (!isSet(username) && !isSet(password)) {
    report(
      `No credentials are configured: set ${variables.username} and ${variables.password} (with ` +
        `${variables.totpSecret} or ${variables.mfaCode} for an account with two-factor authentication), ` +
        `or ${variables.token} for a machine user` +
        blankNote([
          [variables.token, token],
          [variables.username, username],
          [variables.password, password]
        ]),
      variables.username,
      variables.password,
      variables.token
    )
  } else if (!isSet(password)) {
    report(
      `${variables.username} is set but ${variables.password} is not${blankNote([[variables.password, password]])}: ` +
        `set ${variables.password}, or remove ${variables.username} and set ${variables.token} for a machine user`,
      variables.password
    )
  } else if (!isSet(username)) {
    report(
      `${variables.password} is set but ${variables.username} is not${blankNote([[variables.username, username]])}: ` +
        `set ${variables.username} to the account's email address`,
      variables.username
    )
  }

  if (mfaNames.length === 2) {
    report(
      `${variables.mfaCode} and ${variables.totpSecret} are both set: remove one (a TOTP secret gives a fresh ` +
        "code for every login; a fixed code serves a single login)",
      variables.mfaCode,
      variables.totpSecret
    )
  }
}

/**
 * The settings as a `Config`, for composing with other configuration. A configuration that cannot work
 * fails with one `ConfigError.InvalidData` carrying the whole explanation; prefer {@link load} for a typed
 * `ConfigurationError` that also lists the variables.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<OpenSolarSettings> = Config.mapOrFail(raw, (settings) =>
  Either.mapLeft(decode(settings), (error) => ConfigError.InvalidData([], error.message))
)

/**
 * Reads the settings from the current `ConfigProvider`, failing with one `ConfigurationError` whose message
 * says everything that is wrong and whose `variables` name what to set or remove.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load: Effect.Effect<OpenSolarSettings, ConfigurationError> = Effect.flatMap(
  Effect.mapError(
    raw,
    (error) =>
      new ConfigurationError({
        reason: `The OpenSolar configuration could not be read: ${String(error)}`,
        variables: []
      })
  ),
  decode
)
