/**
 * The exit codes of the `opensolar-auth` command, one per class of error, so that scripts can tell a wrong
 * password from a network outage without reading messages.
 *
 * @since 0.1.0
 */

/**
 * One exit code: its number, a short name, what it means and what to do, and the error tags that end with it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExitCode {
  readonly code: number
  readonly name: string
  readonly meaning: string
  readonly errors: ReadonlyArray<string>
}

/**
 * Every exit code of the command, in numeric order. The documentation and `--help` are generated from it.
 *
 * @since 0.1.0
 * @category constants
 */
export const exitCodes: ReadonlyArray<ExitCode> = [
  {
    code: 0,
    name: "ok",
    meaning: "The command did what was asked.",
    errors: []
  },
  {
    code: 1,
    name: "other",
    meaning:
      "Any other failure: the organisation lacks API Access, the user is not permitted, the API answered " +
      "something unreadable, or the token store could not be written.",
    errors: ["ApiAccessNotEnabled", "Forbidden", "UnexpectedResponse", "TokenStoreError"]
  },
  {
    code: 2,
    name: "usage",
    meaning: "A flag, argument or environment variable is wrong or missing; the message names it.",
    errors: ["UsageError", "ConfigurationError"]
  },
  {
    code: 3,
    name: "credentials",
    meaning: "The username and password, or the stored token, were refused: check them, or log in again.",
    errors: ["InvalidCredentials", "TokenRejected"]
  },
  {
    code: 4,
    name: "mfa",
    meaning: "A two-factor code was needed, refused or could not be obtained.",
    errors: ["MfaRequired", "InvalidMfaCode", "MfaCodeUnavailable"]
  },
  {
    code: 5,
    name: "rate-limited",
    meaning: "The API throttled the requests: wait and try again.",
    errors: ["RateLimited"]
  },
  {
    code: 6,
    name: "unavailable",
    meaning: "The API could not be reached, did not answer in time, or failed on its side (5xx): try again later.",
    errors: ["TransportError", "RequestTimeout", "ServerError"]
  },
  {
    code: 130,
    name: "interrupted",
    meaning: "Ctrl+C stopped the command, or a prompt was cancelled.",
    errors: ["Cancelled"]
  }
]

/**
 * The exit code of a command interrupted by Ctrl+C: 128 + SIGINT, as shells report it.
 *
 * @since 0.1.0
 * @category constants
 */
export const interrupted = 130

const byTag: ReadonlyMap<string, number> = new Map(
  exitCodes.flatMap((entry) => entry.errors.map((tag) => [tag, entry.code] as const))
)

/**
 * The exit code for an error tag: the code whose class lists it, otherwise 1.
 *
 * @since 0.1.0
 * @category getters
 */
export const forTag = (tag: string): number => byTag.get(tag) ?? 1

/**
 * The exit codes as a plain-text table, for `--help`.
 *
 * @since 0.1.0
 * @category getters
 */
export const table = (): string =>
  exitCodes.map((entry) => `${String(entry.code).padStart(3)}  ${entry.name.padEnd(12)} ${entry.meaning}`).join("\n")
