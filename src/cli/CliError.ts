/**
 * Errors of the command line itself, beside the library's `AuthError`s: a command line that cannot be
 * understood, and a prompt the user cancelled.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The command line could not be understood: an unknown command or flag, a missing or malformed value.
 * `reason` says what was wrong; the message adds where to read the usage.
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Schema.TaggedError<UsageError>("effect-opensolar-auth/cli/UsageError")("UsageError", {
  reason: Schema.String,
  command: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    const help = this.command === undefined ? "opensolar-auth --help" : `opensolar-auth ${this.command} --help`
    const reason = this.reason.replace(/[\s.]+$/, "")
    return `${reason}. Run \`${help}\` for the usage.`
  }
}

/**
 * The user cancelled a prompt (Ctrl+C or Ctrl+D), so the command stopped without doing anything.
 *
 * @since 0.1.0
 * @category errors
 */
export class Cancelled extends Schema.TaggedError<Cancelled>("effect-opensolar-auth/cli/Cancelled")("Cancelled", {
  prompt: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return `The prompt for ${this.prompt} was cancelled; nothing was changed.`
  }
}
