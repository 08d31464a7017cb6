/**
 * The commands of `opensolar-auth`: `login`, `token`, `whoami`, `refresh`, `logout`, `machine-user on|off`,
 * `simulate` and `demo`, each composed from the library's layers.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import {
  Clock,
  DateTime,
  Duration,
  Effect,
  Either,
  FiberRef,
  Layer,
  Logger,
  LogLevel,
  Option,
  type Redacted,
  Schema
} from "effect"
import * as AuthError from "../AuthError.js"
import * as AuthStrategy from "../AuthStrategy.js"
import * as BearerToken from "../BearerToken.js"
import * as Credentials from "../Credentials.js"
import * as FileTokenStore from "../FileTokenStore.js"
import * as MfaCodeSource from "../MfaCodeSource.js"
import * as OpenSolarApi from "../OpenSolarApi.js"
import { variables } from "../OpenSolarConfig.js"
import * as TokenGrant from "../TokenGrant.js"
import * as TokenRef from "../TokenRef.js"
import * as TokenStore from "../TokenStore.js"
import { type Cancelled, UsageError } from "./CliError.js"
import * as Output from "./Output.js"
import * as Prompter from "./Prompter.js"
import * as Settings from "./Settings.js"
import * as Verbose from "./Verbose.js"

/**
 * The fraction of a token's lifetime after which commands renew it before answering.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshRatio = 0.8

/**
 * The top-level command and its global flags. It does nothing by itself but say which commands there are.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("opensolar-auth", Settings.globalOptions, () =>
  Effect.fail(
    new UsageError({
      reason:
        "A command is needed: login, token, whoami, refresh, logout, machine-user, simulate or demo " +
        "(try `opensolar-auth demo`)"
    })
  )
).pipe(Command.withDescription("OpenSolar API bearer tokens: log in, print a fresh token, inspect and refresh it."))

/** Writes a line of diagnostics on standard error, dimmed on a terminal, so that standard output holds results only. */
const diagnostic = (colour: boolean) => (line: string) =>
  void process.stderr.write(`${colour ? Output.style(true).dim(line) : line}\n`)

const stderrLogger = (write: (line: string) => void) =>
  Logger.make(({ annotations, logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    const fields = [...annotations].map(([key, value]) => ` ${key}=${String(value)}`).join("")
    write(`${logLevel.label.toLowerCase()}: ${text}${fields}`)
  })

/**
 * The least severe log level shown: debug with `--verbose`; otherwise the level `--log-level` asked for, and
 * warnings when it asked for nothing (it then reads as info, which the library never logs at).
 */
const minimumLogLevel = (verbose: boolean, requested: LogLevel.LogLevel): LogLevel.LogLevel =>
  verbose ? LogLevel.Debug : requested._tag === "Info" ? LogLevel.Warning : requested

/**
 * Runs a command's body with the global flags and the output they ask for; with `--verbose`, the library's debug
 * log and a line for every span it records go to standard error.
 */
const withGlobals = <A, E, R>(body: (flags: Settings.GlobalFlags) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.zip(root, FiberRef.get(FiberRef.currentMinimumLogLevel)), ([flags, requested]) => {
    const write = diagnostic(Output.colourFor(process.stderr))
    const run = body(flags).pipe(
      Effect.provide(
        Layer.mergeAll(
          Output.layer({ json: flags.json }),
          Prompter.layer,
          NodeHttpClient.layerUndici,
          Logger.replace(Logger.defaultLogger, stderrLogger(write))
        )
      ),
      Logger.withMinimumLogLevel(minimumLogLevel(flags.verbose, requested))
    )
    return flags.verbose ? Effect.withTracer(run, Verbose.tracer(write)) : run
  })

const storeLayer = (settings: Settings.Settings): Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError> =>
  settings.store._tag === "File" ? FileTokenStore.layerNode({ path: settings.store.path }) : TokenStore.layerMemory

const apiLayer = (
  settings: Settings.Settings
): Layer.Layer<OpenSolarApi.OpenSolarApi, AuthError.ConfigurationError, HttpClient.HttpClient> =>
  OpenSolarApi.layer({ baseUrl: settings.baseUrl })

const mfaSource = (choice: Settings.MfaChoice): MfaCodeSource.MfaCodeSource =>
  choice._tag === "Totp" ? MfaCodeSource.totp(choice.secret) : MfaCodeSource.static(choice.code)

/** The strategy of commands that keep a token fresh: log in when they can, otherwise refresh the stored session. */
const keepingStrategy = (settings: Settings.Settings) =>
  Option.match(Option.all({ username: settings.username, password: settings.password }), {
    onSome: ({ password, username }) =>
      AuthStrategy.standard({
        username,
        password,
        mfa: Option.getOrUndefined(Option.map(settings.mfa, mfaSource)),
        orgId: Option.getOrUndefined(settings.orgId),
        lifetime: settings.lifetime
      }),
    onNone: () =>
      AuthStrategy.sessionRefresh({ orgId: Option.getOrUndefined(settings.orgId), lifetime: settings.lifetime })
  })

/** The account acted for and its `TokenRef`: the stored grant kept fresh, or a machine user's fixed token. */
const tokenRefLayer = (
  settings: Settings.Settings
): Effect.Effect<
  {
    readonly account: Option.Option<string>
    readonly layer: Layer.Layer<TokenRef.TokenRef, AuthError.ConfigurationError, HttpClient.HttpClient>
  },
  AuthError.ConfigurationError,
  FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    if (Option.isSome(settings.machineToken)) {
      return { account: Option.none(), layer: TokenRef.layerStatic(settings.machineToken.value) }
    }

    const account = yield* Settings.account(settings)
    const key = Settings.storeKey(settings, account)
    const store = storeLayer(settings)
    if (!Settings.canLogIn(settings)) {
      const stored = yield* TokenStore.TokenStore.pipe(
        Effect.flatMap((tokens) => tokens.load(key)),
        Effect.provide(store),
        Effect.orElseSucceed(() => Option.none())
      )
      if (Option.isNone(stored)) {
        return yield* Settings.misconfigured(
          `${account} is not logged in to ${settings.baseUrl}: run \`opensolar-auth login\`, or set ` +
            `${variables.password} so that this command can log in by itself`,
          [variables.password]
        )
      }
    }

    const layer = TokenRef.layer({ storeKey: key, lifetime: settings.lifetime, refreshRatio }).pipe(
      Layer.provide(AuthStrategy.layer(keepingStrategy(settings))),
      Layer.provide(apiLayer(settings)),
      Layer.provide(store)
    )
    return { account: Option.some(account), layer }
  })

const pastRefreshPoint = (grant: TokenGrant.TokenGrant, now: number): boolean =>
  Option.match(grant.expiresAt, {
    onNone: () => false,
    onSome: (expiresAt) => {
      const issued = DateTime.toEpochMillis(grant.issuedAt)
      return issued + (DateTime.toEpochMillis(expiresAt) - issued) * refreshRatio <= now
    }
  })

/**
 * A grant valid now, obtained or renewed first when needed. A short-lived command cannot wait for the
 * background renewal a long-running program gets, so a grant past its refresh point is renewed before answering;
 * when that fails for a passing reason, the still-valid token is used and a warning says so.
 */
const freshGrant: Effect.Effect<TokenGrant.TokenGrant, AuthError.AuthError, TokenRef.TokenRef | Output.Output> =
  Effect.gen(function* () {
    const tokens = yield* TokenRef.TokenRef
    const now = yield* Clock.currentTimeMillis
    const current = yield* tokens.current
    if (Option.isSome(current) && pastRefreshPoint(current.value, now) && !TokenGrant.isExpiredAt(current.value, now)) {
      const output = yield* Output.Output
      return yield* tokens.refresh.pipe(
        Effect.catchIf(
          (error) => error.transient,
          (error) =>
            Effect.as(
              output.note(
                `${output.err.yellow("warning:")} kept the current token, which is still valid: ${error.message}`
              ),
              current.value
            )
        )
      )
    }
    yield* tokens.get
    return yield* Effect.orDie(Effect.flatten(tokens.current))
  })

const formatTime = (time: DateTime.DateTime): string =>
  DateTime.formatIso(DateTime.toUtc(time))
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC")

const relative = (time: DateTime.DateTime, now: number): string => {
  const difference = DateTime.toEpochMillis(time) - now
  return difference >= 0 ? `in ${Output.formatSpan(difference)}` : `${Output.formatSpan(difference)} ago`
}

const tokenKind = (grant: TokenGrant.TokenGrant): "machine" | "standard" =>
  grant.isPermanent || grant.user.isMachineUser === true ? "machine" : "standard"

const grantJson = (grant: TokenGrant.TokenGrant) => ({
  fingerprint: grant.fingerprint,
  kind: tokenKind(grant),
  strategy: grant.strategy,
  issuedAt: DateTime.formatIso(grant.issuedAt),
  expiresAt: Option.getOrNull(Option.map(grant.expiresAt, DateTime.formatIso))
})

const expiryText = (grant: TokenGrant.TokenGrant, now: number): string =>
  Option.match(grant.expiresAt, {
    onNone: () => "never (machine user)",
    onSome: (expiresAt) => `${formatTime(expiresAt)} (${relative(expiresAt, now)})`
  })

const storeText = (settings: Settings.Settings): string =>
  settings.store._tag === "File" ? settings.store.path : "memory (forgotten when the command ends)"

const storeJson = (settings: Settings.Settings): string | null =>
  settings.store._tag === "File" ? settings.store.path : null

const loginOptions = {
  password: Options.redacted("password").pipe(
    Options.withDescription(
      `The password. Discouraged: it stays in the shell history and the process list; prefer ${variables.password} ` +
        "or the prompt, which does not echo."
    ),
    Options.optional
  ),
  totpSecret: Options.redacted("totp-secret").pipe(
    Options.withDescription(
      `The account's TOTP secret (base-32 or an otpauth:// URI), for accounts with two-factor authentication. ` +
        `Default: ${variables.totpSecret}; without it the code is asked for when the account needs one.`
    ),
    Options.optional
  )
}

const decodeUsername = Schema.decodeUnknownEither(Credentials.Username)
const decodeMfaCode = Schema.decodeUnknownEither(Credentials.MfaCode)

const askUsername = (prompter: Prompter.Service) =>
  Effect.flatMap(prompter.text("OpenSolar email"), (answer) =>
    Option.match(answer, {
      onNone: () =>
        Effect.fail(
          Settings.misconfigured(
            `No username: pass --username or set ${variables.username} (standard input ended before one was typed)`,
            ["--username", variables.username]
          )
        ),
      onSome: (text) =>
        Either.match(decodeUsername(text.trim()), {
          onLeft: () =>
            Effect.fail(
              Settings.misconfigured(
                "The username typed is not usable: type an email address of at most 254 characters, or pass " +
                  "--username",
                ["--username"]
              )
            ),
          onRight: Effect.succeed
        })
    })
  )

const askPassword = (prompter: Prompter.Service, username: string) =>
  Effect.flatMap(prompter.secret(`Password for ${username}`), (answer) =>
    Option.match(answer, {
      onNone: () =>
        Effect.fail(
          Settings.misconfigured(
            `No password: set ${variables.password} or type it when asked (standard input ended first)`,
            [variables.password]
          )
        ),
      onSome: Effect.succeed
    })
  )

const codeAttempts = 3

/** Asks for two-factor codes until the API takes one, a few times at most on a terminal, once from a pipe. */
const loginWithTypedCode = (
  prompter: Prompter.Service,
  output: Output.Service,
  options: {
    readonly username: string
    readonly password: Redacted.Redacted<string>
    readonly lifetime: Duration.Duration
  }
): Effect.Effect<
  TokenGrant.TokenGrant,
  AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError | Cancelled,
  OpenSolarApi.OpenSolarApi
> => {
  const attempt = (
    remaining: number
  ): Effect.Effect<
    TokenGrant.TokenGrant,
    AuthError.ApiError | AuthError.MfaCodeUnavailable | AuthError.ConfigurationError | Cancelled,
    OpenSolarApi.OpenSolarApi
  > =>
    Effect.gen(function* () {
      const answer = yield* prompter.text(`Two-factor code for ${options.username}`)
      if (Option.isNone(answer)) {
        return yield* new AuthError.MfaCodeUnavailable({
          reason:
            "standard input ended before a code was typed; pass --totp-secret or set " +
            `${variables.totpSecret} (or ${variables.mfaCode})`
        })
      }
      const code = decodeMfaCode(answer.value.trim())
      if (Either.isLeft(code)) {
        if (prompter.interactive && remaining > 1) {
          yield* output.note("A two-factor code is 4 to 10 digits, as your authenticator app shows it.")
          return yield* attempt(remaining - 1)
        }
        return yield* new AuthError.MfaCodeUnavailable({ reason: "the code typed is not 4 to 10 digits" })
      }
      const strategy = AuthStrategy.passwordWithMfa({
        username: options.username,
        password: options.password,
        mfa: MfaCodeSource.static(code.right),
        lifetime: options.lifetime
      })
      return yield* strategy
        .authenticate(Option.none())
        .pipe(
          Effect.catchTag("InvalidMfaCode", (refused) =>
            prompter.interactive && remaining > 1
              ? Effect.zipRight(
                  output.note("That code was refused; wait for the next one and try again."),
                  attempt(remaining - 1)
                )
              : Effect.fail(refused)
          )
        )
    })
  return attempt(codeAttempts)
}

/**
 * `opensolar-auth login`: logs in with email and password (and a two-factor code when the account needs one)
 * and stores the grant.
 *
 * @since 0.1.0
 * @category commands
 */
export const login = Command.make("login", loginOptions, (values) =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const prompter = yield* Prompter.Prompter
      if (Option.isSome(values.password)) {
        yield* output.note(
          `${output.err.yellow("warning:")} --password leaves the password in the shell history and the process ` +
            `list; prefer ${variables.password} or the prompt`
        )
      }

      const settings = yield* Settings.resolve(flags, { password: values.password, totpSecret: values.totpSecret })
      if (Option.isSome(settings.machineToken)) {
        return yield* Settings.misconfigured(
          `${variables.token} is set: a machine user's token needs no login. Unset it to log in with a password, ` +
            "or use `opensolar-auth token` to print it",
          [variables.token]
        )
      }
      const username = yield* Option.match(settings.username, {
        onSome: Effect.succeed,
        onNone: () => askUsername(prompter)
      })
      const password = yield* Option.match(settings.password, {
        onSome: Effect.succeed,
        onNone: () => askPassword(prompter, username)
      })

      const started = yield* Clock.currentTimeMillis
      const grant = yield* Option.match(settings.mfa, {
        onSome: (mfa) =>
          AuthStrategy.passwordWithMfa({
            username,
            password,
            mfa: mfaSource(mfa),
            lifetime: settings.lifetime
          }).authenticate(Option.none()),
        onNone: () =>
          AuthStrategy.password({ username, password, lifetime: settings.lifetime })
            .authenticate(Option.none())
            .pipe(
              Effect.catchTag("MfaRequired", () =>
                loginWithTypedCode(prompter, output, { username, password, lifetime: settings.lifetime })
              )
            )
      }).pipe(Effect.provide(apiLayer(settings)))
      const took = (yield* Clock.currentTimeMillis) - started

      const store = yield* TokenStore.TokenStore.pipe(Effect.provide(storeLayer(settings)))
      yield* store.save(Settings.storeKey(settings, username), grant)

      const now = yield* Clock.currentTimeMillis
      const user = grant.user.id === undefined ? username : `${username} (user ${grant.user.id})`
      yield* output.result(
        [
          `${output.out.green("Logged in")} as ${user} at ${settings.baseUrl} in ${took} ms.`,
          `Token ${output.out.bold(grant.fingerprint)} (${tokenKind(grant)}), expires ${expiryText(grant, now)}.`,
          `Saved to ${storeText(settings)}. Print it with \`opensolar-auth token\`.`
        ],
        {
          username,
          userId: grant.user.id ?? null,
          baseUrl: settings.baseUrl,
          token: grantJson(grant),
          store: storeJson(settings)
        }
      )
    })
  )
).pipe(Command.withDescription("Log in with email and password (asked for when not given) and store the grant."))

const withTokenRef = <A, E, R>(
  settings: Settings.Settings,
  body: (account: Option.Option<string>) => Effect.Effect<A, E, R>
) => Effect.flatMap(tokenRefLayer(settings), ({ account, layer }) => Effect.provide(body(account), layer))

/**
 * `opensolar-auth token`: prints a token valid now, and nothing else, on standard output.
 *
 * @since 0.1.0
 * @category commands
 */
export const token = Command.make("token", {}, () =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const settings = yield* Settings.resolve(flags)
      const grant = yield* withTokenRef(settings, () => freshGrant)
      yield* output
        .note(output.err.dim(`token ${grant.fingerprint} (${tokenKind(grant)})`))
        .pipe(Effect.when(() => flags.verbose))
      // The one place a token is written out: it is what this command is for.
      const text = grantTokenText(grant)
      yield* output.json ? output.line(JSON.stringify({ token: text, ...grantJson(grant) })) : output.line(text)
    })
  )
).pipe(
  Command.withDescription(
    "Print a valid token, and nothing else, on standard output, logging in or refreshing first when needed. " +
      "Give it to curl on standard input, where other users cannot see it with ps: " +
      "opensolar-auth token | sed 's/^/Authorization: Bearer /' | curl -H @- URL"
  )
)

const grantTokenText = (grant: TokenGrant.TokenGrant): string => BearerToken.value(grant.token)

/**
 * `opensolar-auth whoami`: the user, organisations and token of the current grant, never the token itself.
 *
 * @since 0.1.0
 * @category commands
 */
export const whoami = Command.make("whoami", {}, () =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const settings = yield* Settings.resolve(flags)
      const grant = yield* withTokenRef(settings, () => freshGrant)
      const now = yield* Clock.currentTimeMillis
      const out = output.out

      const user = grant.user.email ?? Option.getOrElse(settings.username, () => "(unknown)")
      const orgs =
        grant.orgs.length === 0
          ? "(not told)"
          : grant.orgs
              .map((org) => {
                const current = Option.isSome(grant.org) && grant.org.value.id === org.id ? " (current)" : ""
                return `${org.id} ${org.name ?? ""}`.trim() + current
              })
              .join(", ")
      const label = (text: string) => out.bold(text.padEnd(14))
      const machineUser = grant.user.isMachineUser === undefined ? "unknown" : grant.user.isMachineUser ? "yes" : "no"
      const storedIn = Option.isSome(settings.machineToken) ? `${variables.token} (not stored)` : storeText(settings)
      yield* output.result(
        [
          `${label("User")}${user}${grant.user.id === undefined ? "" : ` (id ${grant.user.id})`}`,
          `${label("Machine user")}${machineUser}`,
          `${label("Organisations")}${orgs}`,
          `${label("Token")}${grant.fingerprint} (${tokenKind(grant)}, obtained by ${grant.strategy})`,
          `${label("Issued")}${formatTime(grant.issuedAt)} (${relative(grant.issuedAt, now)})`,
          `${label("Expires")}${expiryText(grant, now)}`,
          `${label("API")}${settings.baseUrl}`,
          `${label("Stored in")}${storedIn}`
        ],
        {
          user: {
            email: grant.user.email ?? null,
            id: grant.user.id ?? null,
            url: grant.user.url ?? null,
            isMachineUser: grant.user.isMachineUser ?? null
          },
          org: Option.getOrNull(Option.map(grant.org, (org) => ({ id: org.id, name: org.name ?? null }))),
          orgs: grant.orgs.map((org) => ({ id: org.id, name: org.name ?? null })),
          token: grantJson(grant),
          baseUrl: settings.baseUrl,
          store: Option.isSome(settings.machineToken) ? null : storeJson(settings)
        }
      )
    })
  )
).pipe(Command.withDescription("Show the user, organisations, token kind, issue and expiry times and fingerprint."))

/**
 * `opensolar-auth refresh`: refreshes the stored session now (`GET /api/fetch_token/`), scoped to `--org` when
 * given, logging in first when nothing is stored and credentials are configured.
 *
 * @since 0.1.0
 * @category commands
 */
export const refresh = Command.make("refresh", {}, () =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const settings = yield* Settings.resolve(flags)
      if (Option.isSome(settings.machineToken)) {
        return yield* Settings.misconfigured(
          `${variables.token} is set: a machine user's token never expires and is not refreshed`,
          [variables.token]
        )
      }
      const account = yield* Settings.account(settings)
      const key = Settings.storeKey(settings, account)
      const store = yield* TokenStore.TokenStore.pipe(Effect.provide(storeLayer(settings)))
      const stored = yield* store.load(key).pipe(Effect.orElseSucceed(() => Option.none()))

      const result = yield* Effect.gen(function* () {
        const current = Option.isSome(stored)
          ? stored.value
          : Settings.canLogIn(settings)
            ? yield* Effect.zipRight(
                output.note(`Nothing is stored for ${account}; logging in first.`),
                keepingStrategy(settings).authenticate(Option.none())
              )
            : yield* Settings.misconfigured(
                `${account} is not logged in to ${settings.baseUrl}: run \`opensolar-auth login\` first, or set ` +
                  `${variables.password} so that this command can log in by itself`,
                [variables.password]
              )
        const strategy = AuthStrategy.sessionRefresh({
          orgId: Option.getOrUndefined(settings.orgId),
          lifetime: settings.lifetime
        })
        const started = yield* Clock.currentTimeMillis
        const refreshed = yield* strategy.authenticate(Option.some(current))
        return { previous: current, refreshed, took: (yield* Clock.currentTimeMillis) - started }
      }).pipe(Effect.provide(apiLayer(settings)))
      yield* store.save(key, result.refreshed)

      const now = yield* Clock.currentTimeMillis
      const { previous, refreshed, took } = result
      const same = BearerToken.equals(previous.token, refreshed.token)
      const scope = Option.match(refreshed.org, {
        onNone: () => "",
        onSome: (org) => `, organisation ${org.id}${org.name === undefined ? "" : ` (${org.name})`}`
      })
      yield* output.result(
        [
          `${output.out.green("Refreshed")} the session of ${account} in ${took} ms${scope}.`,
          same
            ? `The API kept token ${output.out.bold(refreshed.fingerprint)}; it expires ${expiryText(refreshed, now)}.`
            : `Token ${previous.fingerprint} was replaced by ${output.out.bold(refreshed.fingerprint)}, ` +
              `which expires ${expiryText(refreshed, now)}.`
        ],
        {
          username: account,
          sameToken: same,
          previous: grantJson(previous),
          token: grantJson(refreshed),
          org: Option.getOrNull(Option.map(refreshed.org, (org) => ({ id: org.id, name: org.name ?? null }))),
          store: storeJson(settings)
        }
      )
    })
  )
).pipe(Command.withDescription("Refresh the stored session now (GET /api/fetch_token/), scoped to --org when given."))

/**
 * `opensolar-auth logout`: forgets the stored grant of the account.
 *
 * @since 0.1.0
 * @category commands
 */
export const logout = Command.make("logout", {}, () =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const settings = yield* Settings.resolve(flags)
      if (Option.isSome(settings.machineToken)) {
        return yield* output.result(
          [`Nothing is stored for the machine user's ${variables.token}; unset the variable to stop using it.`],
          { username: null, forgotten: false, store: null }
        )
      }
      const stored = yield* Settings.storedAccounts(settings)
      if (Option.isNone(settings.username) && stored.length === 0) {
        return yield* output.result([`Nobody is logged in to ${settings.baseUrl}; there is nothing to forget.`], {
          username: null,
          forgotten: false,
          store: storeJson(settings)
        })
      }

      const account = yield* Settings.account(settings)
      const key = Settings.storeKey(settings, account)
      const store = yield* TokenStore.TokenStore.pipe(Effect.provide(storeLayer(settings)))
      const grant = yield* store.load(key).pipe(Effect.orElseSucceed(() => Option.none()))
      yield* store.remove(key)

      yield* output.result(
        Option.match(grant, {
          onNone: () => [`Nothing was stored for ${account} at ${settings.baseUrl}; there is nothing to forget.`],
          onSome: (forgotten) => [
            `${output.out.green("Forgot")} the grant of ${account} at ${settings.baseUrl} ` +
              `(token ${forgotten.fingerprint}).`,
            "The token itself stays valid on the server until it expires: OpenSolar documents no way to revoke it."
          ]
        }),
        {
          username: account,
          forgotten: Option.isSome(grant),
          token: Option.getOrNull(Option.map(grant, grantJson)),
          store: storeJson(settings)
        }
      )
    })
  )
).pipe(Command.withDescription("Forget the stored grant of the account (the token stays valid on the server)."))

const userIdOf = (grant: TokenGrant.TokenGrant): Option.Option<number> =>
  Option.orElse(Option.fromNullable(grant.user.id), () =>
    Option.flatMap(Option.fromNullable(grant.user.url), (url) => {
      const match = /\/auth\/users\/(\d+)\/?$/.exec(url)
      return match === null ? Option.none() : Option.some(Number(match[1]))
    })
  )

const setMachineUser = (enabled: boolean) =>
  withGlobals((flags) =>
    Effect.gen(function* () {
      const output = yield* Output.Output
      const settings = yield* Settings.resolve(flags)
      if (Option.isSome(settings.machineToken)) {
        return yield* Settings.misconfigured(
          `${variables.token} is set, and says nothing about its user: unset it and log in as the user ` +
            "(`opensolar-auth login`) to change machine-user mode",
          [variables.token]
        )
      }

      const { account, grant, response } = yield* withTokenRef(settings, (account) =>
        Effect.gen(function* () {
          const grant = yield* freshGrant
          const userId = userIdOf(grant)
          if (Option.isNone(userId)) {
            return yield* Settings.misconfigured(
              "The stored grant does not say which user it belongs to: log in again with `opensolar-auth login`",
              []
            )
          }
          const api = yield* OpenSolarApi.OpenSolarApi
          const response = yield* api.setMachineUser({ token: grant.token, userId: userId.value, enabled })
          return { account: Option.getOrElse(account, () => grant.user.email ?? ""), grant, response }
        }).pipe(Effect.provide(apiLayer(settings)))
      )

      // The API applies the mode to the user's existing tokens as well, so the stored grant follows it.
      const updated = new TokenGrant.TokenGrant({
        ...grant,
        user: new TokenGrant.GrantUser({ ...grant.user, isMachineUser: response.isMachineUser }),
        expiresAt: response.isMachineUser
          ? Option.none()
          : Option.some(DateTime.addDuration(grant.issuedAt, settings.lifetime))
      })
      const store = yield* TokenStore.TokenStore.pipe(Effect.provide(storeLayer(settings)))
      yield* store.save(Settings.storeKey(settings, account), updated)

      const now = yield* Clock.currentTimeMillis
      yield* output.result(
        [
          `${output.out.green(`Machine-user mode is ${response.isMachineUser ? "on" : "off"}`)} for ${account}.`,
          response.isMachineUser
            ? `Its tokens no longer expire; token ${updated.fingerprint} included.`
            : `Its tokens expire ${Output.formatSpan(Duration.toMillis(settings.lifetime))} after issue again; token ` +
              `${updated.fingerprint} expires ${expiryText(updated, now)}.`
        ],
        {
          username: account,
          isMachineUser: response.isMachineUser,
          token: grantJson(updated),
          store: storeJson(settings)
        }
      )
    })
  )

const machineUserOn = Command.make("on", {}, () => setMachineUser(true)).pipe(
  Command.withDescription("Make the user a machine user, whose tokens never expire (PATCH /auth/users/{id}/).")
)

const machineUserOff = Command.make("off", {}, () => setMachineUser(false)).pipe(
  Command.withDescription("Make the user a standard user again, whose tokens expire 7 days after issue.")
)

/**
 * `opensolar-auth machine-user on|off`: turns machine-user mode on or off for the logged-in user.
 *
 * @since 0.1.0
 * @category commands
 */
export const machineUser = Command.make("machine-user", {}, () =>
  Effect.fail(new UsageError({ reason: "Say `on` or `off`: opensolar-auth machine-user on", command: "machine-user" }))
).pipe(
  Command.withDescription("Turn machine-user mode on or off: a machine user's tokens never expire."),
  Command.withSubcommands([machineUserOn, machineUserOff])
)

// The simulator's server and the demo load only for the commands that use them: every other command starts faster.
const loadTesting = Effect.promise(() => import("../testing/index.js"))

const loadDemo = Effect.promise(() => import("./Demo.js"))

/**
 * `opensolar-auth simulate`: runs the OpenSolar simulator on 127.0.0.1 until Ctrl+C, printing its URL.
 *
 * @since 0.1.0
 * @category commands
 */
export const simulate = Command.make(
  "simulate",
  {
    port: Options.integer("port").pipe(
      Options.withDescription("The port to listen on, 0 for any free port."),
      Options.withDefault(8787)
    )
  },
  ({ port }) =>
    withGlobals(() =>
      Effect.gen(function* () {
        const output = yield* Output.Output
        if (port < 0 || port > 65535) {
          return yield* Settings.misconfigured(`--port cannot be used: ${port} is not a port number from 0 to 65535`, [
            "--port"
          ])
        }

        const { accounts, Simulator } = yield* loadTesting
        const accountNotes: ReadonlyArray<readonly [string, string]> = [
          [accounts.example.username, "password login, as in OpenSolar's documentation"],
          [accounts.mfa.username, "two-factor authentication (TOTP)"],
          [accounts.machine.username, "machine user: its token never expires"],
          [accounts.multiOrg.username, "member of two organisations"],
          [accounts.noApiAccess.username, "organisation without API Access (402)"]
        ]

        yield* Effect.gen(function* () {
          const simulator = yield* Simulator
          yield* output.result([`OpenSolar simulator listening on ${simulator.url}`], { url: simulator.url })
          const err = output.err
          yield* output.note(
            [
              "",
              err.bold("Seeded accounts") +
                err.dim(" (their passwords are in `accounts` of effect-opensolar-auth/testing)"),
              ...accountNotes.map(([username, note]) => `  ${username.padEnd(26)}${note}`),
              "",
              `Try:  ${err.cyan(
                `opensolar-auth --base-url ${simulator.url} login --username ${accounts.example.username}`
              )}`,
              `Control requests under ${simulator.url}/__simulator/ (clock, faults, revocation, log). Stop with Ctrl+C.`
            ].join("\n")
          )
          return yield* Effect.never
        }).pipe(
          Effect.provide(Simulator.layer({ port, host: "127.0.0.1" })),
          Effect.catchAllDefect((defect) =>
            Effect.fail(
              Settings.misconfigured(
                `The simulator could not listen on 127.0.0.1:${port} (${describe(defect)}): choose another --port`,
                ["--port"]
              )
            )
          )
        )
      })
    )
).pipe(Command.withDescription("Run the OpenSolar simulator on 127.0.0.1, printing its URL, until Ctrl+C."))

const describe = (defect: unknown): string => {
  const cause = typeof defect === "object" && defect !== null && "cause" in defect ? defect.cause : defect
  return cause instanceof Error ? cause.message : String(cause)
}

/**
 * `opensolar-auth demo`: a guided tour of the library on the embedded simulator.
 *
 * @since 0.1.0
 * @category commands
 */
export const demo = Command.make("demo", {}, () =>
  withGlobals(() => Effect.flatMap(loadDemo, (Demo) => Demo.run))
).pipe(
  Command.withDescription("A guided tour on the embedded simulator: logins, MFA, refresh, revocation, concurrency.")
)

/**
 * The whole command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = root.pipe(
  Command.withSubcommands([login, token, whoami, refresh, logout, machineUser, simulate, demo])
)
