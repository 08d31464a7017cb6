/**
 * The command's settings: the global flags, the `OPENSOLAR_*` environment variables behind them, and the
 * prompts of `login`, checked together so that every problem is reported at once and names the flag or
 * variable to fix.
 *
 * A flag wins over its variable. Secrets are read as `Redacted` and stay so.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Config, type Duration, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import { ConfigurationError } from "../AuthError.js"
import * as BaseUrl from "../BaseUrl.js"
import * as BearerToken from "../BearerToken.js"
import * as Credentials from "../Credentials.js"
import * as FileTokenStore from "../FileTokenStore.js"
import * as Totp from "../internal/totp.js"
import { parseLifetimeSetting, variables } from "../OpenSolarConfig.js"
import * as TokenGrant from "../TokenGrant.js"
import type * as TokenStore from "../TokenStore.js"

/**
 * The flags every command accepts, before or after the command's name.
 *
 * @since 0.1.0
 * @category options
 */
export const globalOptions = {
  baseUrl: Options.text("base-url").pipe(
    Options.withDescription(
      `The OpenSolar API's base URL. Default: ${variables.baseUrl}, else ${BaseUrl.production}. ` +
        "Plain http is accepted on loopback only."
    ),
    Options.optional
  ),
  org: Options.text("org").pipe(
    Options.withDescription(`The organisation id session refreshes are scoped to. Default: ${variables.orgId}.`),
    Options.optional
  ),
  username: Options.text("username").pipe(
    Options.withDescription(
      `The account's email address. Default: ${variables.username}, else the one account stored for the base URL.`
    ),
    Options.optional
  ),
  store: Options.text("store").pipe(
    Options.withDescription(
      "Where grants are kept: a file, or `memory` to keep nothing between runs. " +
        "Default: $XDG_CONFIG_HOME/opensolar-auth/tokens.json (~/.config/opensolar-auth/tokens.json)."
    ),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print results and errors as JSON, one object a line.")),
  verbose: Options.boolean("verbose").pipe(
    Options.withDescription(
      "On standard error, a line for every login, refresh and API request (outcome, duration, token fingerprint), " +
        "and the library's debug log (fallbacks between strategies, ignored token files)."
    )
  )
} as const

/**
 * The global flags as parsed.
 *
 * @since 0.1.0
 * @category models
 */
export interface GlobalFlags {
  readonly baseUrl: Option.Option<string>
  readonly org: Option.Option<string>
  readonly username: Option.Option<string>
  readonly store: Option.Option<string>
  readonly json: boolean
  readonly verbose: boolean
}

/**
 * Where grants are kept: a file, or memory (nothing survives the run).
 *
 * @since 0.1.0
 * @category models
 */
export type StoreChoice = { readonly _tag: "File"; readonly path: string } | { readonly _tag: "Memory" }

/**
 * Where two-factor codes come from, when configured.
 *
 * @since 0.1.0
 * @category models
 */
export type MfaChoice =
  | { readonly _tag: "Totp"; readonly secret: Redacted.Redacted<string> }
  | { readonly _tag: "StaticCode"; readonly code: Credentials.MfaCode }

/**
 * Everything a command needs to know, checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly baseUrl: BaseUrl.BaseUrl
  readonly orgId: Option.Option<Credentials.OrgId>
  /** How long a standard token lives; 7 days unless `OPENSOLAR_TOKEN_LIFETIME` says otherwise. */
  readonly lifetime: Duration.Duration
  readonly store: StoreChoice
  readonly username: Option.Option<Credentials.Username>
  readonly password: Option.Option<Credentials.Password>
  readonly mfa: Option.Option<MfaChoice>
  /** A machine user's token from `OPENSOLAR_TOKEN`. */
  readonly machineToken: Option.Option<BearerToken.BearerToken>
}

/**
 * Values given to one command rather than globally: `login`'s `--password` and `--totp-secret`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CommandValues {
  readonly password?: Option.Option<Redacted.Redacted<string>> | undefined
  readonly totpSecret?: Option.Option<Redacted.Redacted<string>> | undefined
}

interface Problem {
  readonly message: string
  readonly names: ReadonlyArray<string>
}

/** A value and the flag or variable it came from, for messages. */
interface Sourced<A> {
  readonly value: A
  readonly from: string
}

const readVariable = (name: string): Effect.Effect<Option.Option<Sourced<string>>> =>
  Config.option(Config.string(name)).pipe(
    Effect.map((value) => Option.map(Option.filter(value, nonBlank), (text) => ({ value: text, from: name }))),
    Effect.orElseSucceed(() => Option.none())
  )

const readSecret = (name: string): Effect.Effect<Option.Option<Sourced<Redacted.Redacted<string>>>> =>
  Config.option(Config.redacted(name)).pipe(
    Effect.map((value) =>
      Option.map(
        Option.filter(value, (secret) => nonBlank(Redacted.value(secret))),
        (secret) => ({ value: secret, from: name })
      )
    ),
    Effect.orElseSucceed(() => Option.none())
  )

const nonBlank = (text: string): boolean => text.trim() !== ""

const fromFlag = <A>(flag: string, value: Option.Option<A>): Option.Option<Sourced<A>> =>
  Option.map(value, (given) => ({ value: given, from: flag }))

const firstMessage = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "it is not valid"

const decodeText =
  <A>(schema: Schema.Schema<A, string>) =>
  (text: string): Either.Either<A, string> =>
    Either.mapLeft(Schema.decodeUnknownEither(schema)(text.trim()), firstMessage)

const listed = (names: ReadonlyArray<string>): string =>
  names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`

/**
 * Reads and checks the settings: the global flags, the values of one command, and the environment (through
 * the current `ConfigProvider`). Fails with one `ConfigurationError` listing every problem, each naming the
 * flag or variable it came from.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  flags: GlobalFlags,
  values: CommandValues = {}
): Effect.Effect<Settings, ConfigurationError, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const problems: Array<Problem> = []
    const check = <A, B>(
      source: Option.Option<Sourced<A>>,
      read: (value: A) => Either.Either<B, string>
    ): Option.Option<B> =>
      Option.flatMap(source, ({ from, value }) =>
        Either.match(read(value), {
          onLeft: (reason) => {
            problems.push({ message: `${from} cannot be used: ${reason}`, names: [from] })
            return Option.none()
          },
          onRight: Option.some
        })
      )
    const either = <A>(flag: Option.Option<Sourced<A>>, variable: Effect.Effect<Option.Option<Sourced<A>>>) =>
      Option.isSome(flag) ? Effect.succeed(flag) : variable

    const baseUrlSource = yield* either(fromFlag("--base-url", flags.baseUrl), readVariable(variables.baseUrl))
    const orgSource = yield* either(fromFlag("--org", flags.org), readVariable(variables.orgId))
    const usernameSource = yield* either(fromFlag("--username", flags.username), readVariable(variables.username))
    const passwordSource = yield* either(
      fromFlag("--password", values.password ?? Option.none()),
      readSecret(variables.password)
    )
    const totpSource = yield* either(
      fromFlag("--totp-secret", values.totpSecret ?? Option.none()),
      readSecret(variables.totpSecret)
    )
    const codeSource = yield* readSecret(variables.mfaCode)
    const tokenSource = yield* readSecret(variables.token)
    const lifetimeSource = yield* readVariable(variables.lifetime)

    const baseUrl = check(baseUrlSource, decodeText(BaseUrl.BaseUrl))
    const orgId = check(orgSource, (text) =>
      Either.mapLeft(decodeText(Credentials.OrgIdFromString)(text), () => `"${text.trim()}" is not a positive integer`)
    )
    const username = check(usernameSource, (text) =>
      Either.mapLeft(
        decodeText(Credentials.Username)(text),
        () => "an email address of at most 254 characters is expected"
      )
    )
    const password = check(passwordSource, (secret) =>
      Redacted.value(secret).length > 0 ? Either.right(secret) : Either.left("a password must not be empty")
    )
    const totp = check(totpSource, (secret) => Either.map(Totp.parse(Redacted.value(secret)), () => secret))
    const code = check(codeSource, (secret) =>
      Either.mapLeft(
        Schema.decodeUnknownEither(Credentials.MfaCode)(Redacted.value(secret).trim()),
        () => "a two-factor code is 4 to 10 digits"
      )
    )
    const machineToken = check(tokenSource, (secret) =>
      Either.mapLeft(
        BearerToken.fromString(Redacted.value(secret).trim()),
        () => "a token must not contain white space"
      )
    )
    const lifetime = check(lifetimeSource, parseLifetimeSetting)
    const store = Option.isNone(flags.store)
      ? Option.some<StoreChoice>({ _tag: "File", path: yield* FileTokenStore.defaultPath })
      : storeChoice(flags.store.value, path, problems)

    if (Option.isSome(tokenSource)) {
      const login = [
        Option.map(usernameSource, ({ from }) => from),
        Option.map(passwordSource, ({ from }) => from),
        Option.map(totpSource, ({ from }) => from),
        Option.map(codeSource, ({ from }) => from)
      ].flatMap(Option.toArray)
      if (login.length > 0) {
        problems.push({
          message:
            `${variables.token} (a machine user's token) cannot be combined with ${listed(login)}: unset ` +
            `${variables.token} to log in with a password, or remove ${listed(login)} to use the token`,
          names: [variables.token, ...login]
        })
      }
      if (Option.isSome(lifetimeSource)) {
        problems.push({
          message:
            `${variables.lifetime} cannot be combined with ${variables.token} (a machine user's token): remove ` +
            `${variables.lifetime}, because a machine user's token never expires`,
          names: [variables.lifetime]
        })
      }
    }
    if (Option.isSome(totpSource) && Option.isSome(codeSource)) {
      problems.push({
        message:
          `${totpSource.value.from} and ${variables.mfaCode} are both set: keep one (a TOTP secret gives a fresh ` +
          "code for every login; a fixed code serves a single login)",
        names: [totpSource.value.from, variables.mfaCode]
      })
    }

    if (problems.length > 0) {
      return yield* configurationError(problems)
    }

    const mfa: Option.Option<MfaChoice> = Option.orElse(
      Option.map(totp, (secret): MfaChoice => ({ _tag: "Totp", secret })),
      () => Option.map(code, (value): MfaChoice => ({ _tag: "StaticCode", code: value }))
    )
    return {
      baseUrl: Option.getOrElse(baseUrl, () => BaseUrl.unsafeMake(BaseUrl.production)),
      orgId,
      lifetime: Option.getOrElse(lifetime, () => TokenGrant.standardLifetime),
      store: Option.getOrThrow(store),
      username,
      password,
      mfa,
      machineToken
    } satisfies Settings
  })

const storeChoice = (text: string, path: Path.Path, problems: Array<Problem>): Option.Option<StoreChoice> => {
  if (text.trim() === "") {
    problems.push({
      message: "--store cannot be used: give a file path, or `memory` to keep nothing",
      names: ["--store"]
    })
    return Option.none()
  }
  return Option.some(text === "memory" ? { _tag: "Memory" } : { _tag: "File", path: path.resolve(text) })
}

const configurationError = (problems: ReadonlyArray<Problem>): Effect.Effect<never, ConfigurationError> => {
  const reason =
    problems.length === 1
      ? problems[0]!.message
      : `There are ${problems.length} problems: ` +
        problems.map((problem, index) => `${index + 1}) ${problem.message}`).join("; ")
  return Effect.fail(misconfigured(reason, [...new Set(problems.flatMap((problem) => problem.names))]))
}

/**
 * A `ConfigurationError` whose `variables` are the flags and variables to fix that `reason` does not already
 * mention, so that the message never names one twice.
 *
 * @since 0.1.0
 * @category constructors
 */
export const misconfigured = (reason: string, names: ReadonlyArray<string> = []): ConfigurationError =>
  new ConfigurationError({ reason, variables: names.filter((name) => !reason.includes(name)) })

/**
 * Whether a username and password are both known, so that the command can log in by itself.
 *
 * @since 0.1.0
 * @category predicates
 */
export const canLogIn = (settings: Settings): boolean =>
  Option.isSome(settings.username) && Option.isSome(settings.password)

/**
 * The store key of an account: grants are filed by base URL and user, whatever organisation refreshes are
 * scoped to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const storeKey = (settings: Settings, username: string): TokenStore.StoreKey => ({
  baseUrl: settings.baseUrl,
  subject: username
})

/**
 * The accounts with a grant in the store for the settings' base URL (none for a memory store).
 *
 * @since 0.1.0
 * @category getters
 */
export const storedAccounts = (
  settings: Settings
): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    if (settings.store._tag === "Memory") {
      return []
    }
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(settings.store.path)
    const file = yield* Schema.decodeUnknown(Schema.parseJson(FileTokenStore.TokenFile))(text)
    const prefix = `${settings.baseUrl}|`
    return Object.keys(file.grants).flatMap((key) => {
      if (!key.startsWith(prefix)) {
        return []
      }
      const subject = key.slice(prefix.length, key.lastIndexOf("|"))
      return subject === "" ? [] : [subject]
    })
  }).pipe(Effect.orElseSucceed(() => []))

/**
 * The account a command acts for: the username given (flag or variable), otherwise the one account stored for
 * the base URL. Fails with a `ConfigurationError` saying how to choose when there is none or several.
 *
 * @since 0.1.0
 * @category getters
 */
export const account = (settings: Settings): Effect.Effect<string, ConfigurationError, FileSystem.FileSystem> =>
  Option.match(settings.username, {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.flatMap(storedAccounts(settings), (accounts) => {
        if (accounts.length === 1) {
          return Effect.succeed(accounts[0]!)
        }
        const where = settings.store._tag === "File" ? ` in ${settings.store.path}` : ""
        return Effect.fail(
          misconfigured(
            accounts.length === 0
              ? `Nobody is logged in to ${settings.baseUrl}${where}: run \`opensolar-auth login\`, or set ` +
                  `${variables.username} and ${variables.password}, or ${variables.token} for a machine user`
              : `Several accounts are logged in to ${settings.baseUrl}${where} (${accounts.join(", ")}): ` +
                  `choose one with --username or ${variables.username}`,
            accounts.length === 0
              ? [variables.username, variables.password, variables.token]
              : ["--username", variables.username]
          )
        )
      })
  })
