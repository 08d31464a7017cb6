/**
 * What an effect ended with, in one word the expectations can be written in: `"success"`, the failure's `_tag`,
 * `"defect: <message>"` or `"interrupted"`.
 */
import { Cause, Effect, Exit, Option, Predicate } from "effect"

export const describeExit = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) {
    return "success"
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    return Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : String(error)
  }
  const defect = Cause.dieOption(exit.cause)
  if (Option.isSome(defect)) {
    return `defect: ${defect.value instanceof Error ? defect.value.message : String(defect.value)}`
  }
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : Cause.pretty(exit.cause)
}

/** Runs `effect` and answers how it ended. */
export const outcome = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<string, never, R> =>
  Effect.map(Effect.exit(effect), describeExit)
