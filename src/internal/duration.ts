/**
 * The one reading of every duration option — lifetimes, timeouts, margins, intervals — from whatever a caller
 * passed: a `Duration`, milliseconds, a `[seconds, nanos]` pair, a text such as `"10 seconds"`, or garbage.
 * A duration that passes is finite (unless "no limit" is allowed) and at most {@link maximum}, so that any
 * time in the representable range plus a lifetime stays a representable date.
 *
 * @internal
 */
import { Duration, Either, Option } from "effect"
import * as AuthError from "../AuthError.js"
import * as TokenGrant from "../TokenGrant.js"

/**
 * The longest duration any option accepts: 100 years.
 *
 * @internal
 */
export const maximum: Duration.Duration = Duration.days(36_525)

/**
 * What a duration option accepts besides durations from one millisecond up to {@link maximum}.
 *
 * @internal
 */
export interface Bounds {
  /** Zero is accepted (and anything shorter than a millisecond with it), e.g. for "no jitter". @default false */
  readonly acceptsZero?: boolean | undefined
  /** `Duration.infinity` is accepted and means "no limit". @default false */
  readonly acceptsInfinity?: boolean | undefined
}

/**
 * A named option, for the error that explains it.
 *
 * @internal
 */
export interface Rules extends Bounds {
  /** The option's name, as the caller wrote it: `"lifetime"`, `"timeout"`. */
  readonly name: string
  /** What the message starts with, such as `"TokenRef"`. @default none */
  readonly owner?: string | undefined
  /** A text the option would accept, shown in the message. @default "10 seconds" */
  readonly example?: string | undefined
}

/**
 * The input as a duration within `bounds`, or what is wrong with it, worded to follow the input:
 * `"is negative"`, `"is longer than 100 years"`.
 *
 * @internal
 */
export const check = (input: unknown, bounds: Bounds = {}): Either.Either<Duration.Duration, string> => {
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    return Either.left("is not a duration")
  }
  const duration = decoded.value
  // Effect reads NaN and negative amounts as zero; they are mistakes, not "no time at all".
  const sign = signOf(input, duration)
  if (Number.isNaN(sign)) {
    return Either.left("is not a number")
  }
  if (sign < 0) {
    return Either.left("is negative")
  }
  if (!Duration.isFinite(duration)) {
    return bounds.acceptsInfinity === true ? Either.right(duration) : Either.left(`is longer than ${maximumText}`)
  }
  const millis = Duration.toMillis(duration)
  if (bounds.acceptsZero !== true) {
    if (sign === 0) {
      return Either.left("is zero")
    }
    // Dates, timers and error reports all count whole milliseconds: less would be read as zero.
    if (millis < 1) {
      return Either.left("is shorter than a millisecond")
    }
  }
  if (millis > Duration.toMillis(maximum)) {
    return Either.left(`is longer than ${maximumText}`)
  }
  return Either.right(duration)
}

/**
 * What an option accepts, in words: `"a duration from 1 millisecond to 100 years"`.
 *
 * @internal
 */
export const requirement = (bounds: Bounds = {}): string =>
  `a duration from ${bounds.acceptsZero === true ? "0" : "1 millisecond"} to ${maximumText}` +
  (bounds.acceptsInfinity === true ? " (or Duration.infinity for no limit)" : "")

/**
 * Reads a duration option, or explains in a `ConfigurationError` naming the option what was given and what is
 * accepted.
 *
 * @internal
 */
export const decode = (input: unknown, rules: Rules): Either.Either<Duration.Duration, AuthError.ConfigurationError> =>
  Either.mapLeft(
    check(input, rules),
    (problem) =>
      new AuthError.ConfigurationError({
        reason:
          `${rules.owner === undefined ? "" : `${rules.owner}: `}${rules.name} must be ${requirement(rules)}, ` +
          `given as a Duration, a number of milliseconds or a text such as "${rules.example ?? "10 seconds"}"; ` +
          `got ${show(input)}, which ${problem}`,
        variables: [rules.name]
      })
  )

/**
 * Reads a token lifetime option, `TokenGrant.standardLifetime` when absent.
 *
 * @internal
 */
export const decodeLifetime = (
  input: unknown,
  owner?: string
): Either.Either<Duration.Duration, AuthError.ConfigurationError> =>
  input === undefined
    ? Either.right(TokenGrant.standardLifetime)
    : decode(input, { name: "lifetime", owner, example: "7 days" })

const maximumText = "100 years"

const signOf = (input: unknown, duration: Duration.Duration): number => {
  if (typeof input === "number") {
    return input
  }
  if (typeof input === "bigint") {
    return input < 0n ? -1 : input > 0n ? 1 : 0
  }
  if (Array.isArray(input)) {
    return input[0] * 1e9 + input[1]
  }
  if (typeof input === "string") {
    return Number.parseFloat(input)
  }
  return Duration.isZero(duration) ? 0 : 1
}

const longest = 40

const shorten = (text: string): string => (text.length > longest ? `${text.slice(0, longest)}…` : text)

const show = (input: unknown): string => {
  if (typeof input === "string") {
    return JSON.stringify(shorten(input))
  }
  if (typeof input === "number" || typeof input === "boolean" || input === null || input === undefined) {
    return String(input)
  }
  if (typeof input === "bigint") {
    return `${shorten(String(input))}n`
  }
  if (Duration.isDuration(input)) {
    return Duration.format(input)
  }
  if (Array.isArray(input)) {
    return input.length === 2 && input.every((part) => typeof part === "number") ? `[${input.join(", ")}]` : "an array"
  }
  return `a value of type ${typeof input}`
}
