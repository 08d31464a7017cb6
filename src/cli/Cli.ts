/**
 * The `opensolar-auth` program: parses the command line, runs the command, and turns the outcome into an exit
 * code, reporting every failure as one line on standard error (a JSON object with `--json`).
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, type Console, Effect, Exit, Option } from "effect"
import { variables } from "../OpenSolarConfig.js"
import { UsageError } from "./CliError.js"
import * as Commands from "./Commands.js"
import * as ExitCode from "./ExitCode.js"
import * as Output from "./Output.js"

/**
 * The program's version, as `--version` prints it.
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

const subcommands = ["login", "token", "whoami", "refresh", "logout", "machine-user", "simulate", "demo"]

const footer = HelpDoc.blocks([
  HelpDoc.h1("ENVIRONMENT"),
  HelpDoc.descriptionList([
    [Span.text(variables.baseUrl), HelpDoc.p("The API's base URL, when --base-url is not given.")],
    [
      Span.text(`${variables.username}, ${variables.password}`),
      HelpDoc.p("Email and password, to log in without asking.")
    ],
    [
      Span.text(`${variables.totpSecret}, ${variables.mfaCode}`),
      HelpDoc.p("A TOTP secret (a fresh code for every login) or one two-factor code, for accounts with 2FA.")
    ],
    [Span.text(variables.token), HelpDoc.p("A machine user's token, used as it is instead of logging in.")],
    [
      Span.text(variables.orgId),
      HelpDoc.p("The organisation session refreshes are scoped to, when --org is not given.")
    ],
    [Span.text(variables.lifetime), HelpDoc.p('How long a standard token lives, e.g. "7 days" (the default).')]
  ]),
  HelpDoc.h1("EXIT CODES"),
  HelpDoc.descriptionList(
    ExitCode.exitCodes.map((entry) => [Span.text(`${entry.code} ${entry.name}`), HelpDoc.p(entry.meaning)]) as [
      [Span.Span, HelpDoc.HelpDoc],
      ...Array<[Span.Span, HelpDoc.HelpDoc]>
    ]
  )
])

const cli = Command.run(Commands.command, {
  name: "opensolar-auth",
  version,
  summary: Span.text("OpenSolar API bearer tokens from the command line"),
  footer
})

/** The arguments before `--`, where flags can be. */
const flagArguments = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const end = argv.indexOf("--")
  return end === -1 ? argv : argv.slice(0, end)
}

/** Whether the command line asks for JSON, known before it is parsed so that parse errors are JSON too. */
const wantsJson = (argv: ReadonlyArray<string>): boolean =>
  flagArguments(argv).some((arg) => arg === "--json" || arg === "--json=true")

const globalFlagsWithValue = new Set(["--base-url", "--org", "--username", "--store"])

const globalSwitches = new Set(["--json", "--verbose"])

/**
 * The command line with the global flags moved before the command's name, and `--log-level` after the command's
 * own flags. `@effect/cli` reads a parent's flags after a subcommand only when they follow the subcommand's own
 * flags, and reads `--log-level` only after the subcommand; moving them lets flags come in any order.
 *
 * @since 0.1.0
 * @category parsing
 */
export const normalise = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const globals: Array<string> = []
  const others: Array<string> = []
  const trailing: Array<string> = []
  const rest = argv.slice(2)
  let end = rest.length
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!
    if (arg === "--") {
      end = index
      break
    }
    const name = arg.split("=", 1)[0]!
    if (globalSwitches.has(name) || (globalFlagsWithValue.has(name) && arg.includes("="))) {
      globals.push(arg)
    } else if (globalFlagsWithValue.has(name) && index + 1 < rest.length) {
      globals.push(arg, rest[++index]!)
    } else if (name === "--log-level") {
      trailing.push(...(arg.includes("=") || index + 1 === rest.length ? [arg] : [arg, rest[++index]!]))
    } else {
      others.push(arg)
    }
  }
  return [...argv.slice(0, 2), ...globals, ...others, ...trailing, ...rest.slice(end)]
}

const commandOf = (argv: ReadonlyArray<string>): string | undefined =>
  argv.slice(2).find((arg) => subcommands.includes(arg))

// `@effect/cli` offers `--wizard` on every command and cannot be told not to. Its wizard prints the command line
// it built from the answers, `login --password` and `--totp-secret` included, so the command refuses it.
const wizard = (argv: ReadonlyArray<string>): Option.Option<UsageError> => {
  if (!flagArguments(argv).some((arg) => arg === "--wizard" || arg.startsWith("--wizard="))) {
    return Option.none()
  }
  const command = commandOf(argv)
  return Option.some(
    new UsageError({
      reason:
        "--wizard is not offered: the command line it builds would show the password typed. Give the flags " +
        "instead; `opensolar-auth login` asks for whatever is missing, without echoing the password",
      ...(command === undefined ? {} : { command })
    })
  )
}

const helpText = (doc: HelpDoc.HelpDoc): string =>
  Output.stripAnsi(HelpDoc.toAnsiText(doc))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ")

/**
 * A console for `@effect/cli`'s own printing: help on standard output, coloured on a terminal only. Its error
 * printing is left out, because every error is reported by {@link run} in the command's own format.
 */
const cliConsole = (streams: Output.Streams) =>
  Effect.map(Effect.console, (console): Console.Console => {
    const colour = Output.colourFor(streams.stdout)
    return {
      ...console,
      log: (...args: ReadonlyArray<unknown>) =>
        Effect.sync(() => {
          const text = args.map(String).join(" ")
          streams.stdout.write(`${colour ? text : Output.stripAnsi(text)}\n`)
        }),
      error: () => Effect.void
    }
  })

/** The flags of each command that take a value, besides the global ones, which every command takes. */
const commandFlagsWithValue: Readonly<Record<string, ReadonlyArray<string>>> = {
  login: ["--password", "--totp-secret"],
  simulate: ["--port"]
}

/**
 * `@effect/cli` calls a flag given without its value an unknown argument, and a flag of another command too; this
 * says which it is.
 */
const usageReason = (text: string, command: string | undefined): string => {
  const unknown = /^Received unknown argument: '(--[a-z-]+)'$/.exec(text)
  if (unknown === null) {
    return text
  }
  const flag = unknown[1]!
  if (globalFlagsWithValue.has(flag) || (commandFlagsWithValue[command ?? ""] ?? []).includes(flag)) {
    return `${flag} needs a value`
  }
  const owner = Object.keys(commandFlagsWithValue).find((name) => commandFlagsWithValue[name]!.includes(flag))
  if (owner === undefined) {
    return text
  }
  const where = command === undefined ? "" : `, not of \`opensolar-auth ${command}\``
  return `${flag} is a flag of \`opensolar-auth ${owner}\`${where}`
}

const report = (output: Output.Service, argv: ReadonlyArray<string>, error: unknown): Effect.Effect<number> => {
  if (ValidationError.isValidationError(error)) {
    if (ValidationError.isHelpRequested(error)) {
      return Effect.succeed(0)
    }
    const command = commandOf(argv)
    const usage = new UsageError({
      reason: usageReason(helpText(error.error), command),
      ...(command === undefined ? {} : { command })
    })
    return Effect.as(output.failure(usage), ExitCode.forTag(usage._tag))
  }
  if (typeof error === "object" && error !== null && "_tag" in error && "message" in error) {
    const reportable = error as Output.Reportable
    return Effect.as(output.failure(reportable), ExitCode.forTag(reportable._tag))
  }
  return Effect.as(
    output.failure({ _tag: "UnknownError", message: `The command failed unexpectedly: ${String(error)}` }),
    1
  )
}

/**
 * Runs the command line `argv` (as `process.argv`: runtime, script, then arguments) and succeeds with the exit
 * code. Nothing fails: every error has been reported by then. Help and errors go to `streams` (the process's
 * standard output and error unless given); a command's own results always go to the process's.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  streams: Output.Streams = { stdout: process.stdout, stderr: process.stderr }
): Effect.Effect<number, never, CliApp.CliApp.Environment> => {
  const output = Output.make({ json: wantsJson(argv), streams })
  const refused = wizard(argv)
  if (Option.isSome(refused)) {
    return Effect.as(output.failure(refused.value), ExitCode.forTag(refused.value._tag))
  }
  return Effect.flatMap(cliConsole(streams), (console) =>
    cli(normalise(argv)).pipe(
      Effect.withConsole(console),
      Effect.as(0),
      Effect.catchAll((error) => report(output, argv, error)),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.succeed(ExitCode.interrupted)
          : Effect.as(
              output.failure({
                _tag: "Defect",
                message: `The command failed unexpectedly: ${Option.match(Cause.dieOption(cause), {
                  onNone: () => Cause.pretty(cause),
                  onSome: (defect) => (defect instanceof Error ? defect.message : String(defect))
                })}`
              }),
              1
            )
      )
    )
  )
}

// Standard output and error are flushed before the process exits with the command's code, so that an output
// piped into another program is never cut short.
const exitWith = (code: number) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code)))

/**
 * Runs the command line `argv` in this Node process and exits with the command's exit code; Ctrl+C interrupts
 * the command (its resources are released) and exits with 130.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): void =>
  run(argv).pipe(
    Effect.provide(NodeContext.layer),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      disablePrettyLogger: true,
      teardown: (outcome) => {
        if (Exit.isSuccess(outcome)) {
          exitWith(typeof outcome.value === "number" ? outcome.value : 1)
        } else {
          exitWith(Exit.isInterrupted(outcome) ? ExitCode.interrupted : 1)
        }
      }
    })
  )
