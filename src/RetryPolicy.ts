/**
 * When a failed authentication is tried again: exponential backoff with jitter, only for transient errors
 * (transport failures, timeouts, server errors, throttling), honouring the server's `Retry-After`.
 *
 * Errors about the credentials or the account are never retried: retrying a wrong password can lock an
 * account, and a refused token or a missing API product does not mend itself.
 *
 * @since 0.1.0
 */
import { Cause, Duration, Effect, Random, Schedule, ScheduleDecision, ScheduleInterval } from "effect"
import { dual } from "effect/Function"
import type * as AuthError from "./AuthError.js"

/**
 * A retry policy: a schedule fed with each failure, answering how long it waited before the next attempt.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Schedule.Schedule<Duration.Duration, AuthError.AuthError>

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The wait before the first retry. @default 250 millis */
  readonly base?: Duration.DurationInput | undefined
  /** How much each wait grows over the previous one; at least 1. @default 2 */
  readonly factor?: number | undefined
  /** The longest single wait computed by the backoff. @default 10 seconds */
  readonly maxWait?: Duration.DurationInput | undefined
  /** How long after the first failure retrying may go on; no retry would end later. @default 60 seconds */
  readonly maxElapsed?: Duration.DurationInput | undefined
  /**
   * The longest `Retry-After` worth waiting for; a longer one fails at once with the `RateLimited` error.
   * @default 60 seconds
   */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /**
   * How much of each wait is random, from 0 (none) to 1; at most `1 - 1 / factor` is used, so that waits
   * never shrink from one retry to the next. @default 0.2
   */
  readonly jitter?: number | undefined
}

interface State {
  readonly attempt: number
  readonly startedAt: number
}

const initial: State = { attempt: 0, startedAt: Number.NaN }

/**
 * Makes a retry policy. Each wait is `base × factor^n`, less up to `jitter` of it at random, capped at
 * `maxWait`; a `RateLimited` error's `Retry-After` raises the wait to at least that long. Retrying stops at
 * the first error that is not transient, at a `Retry-After` above `maxRetryAfter`, and when the next attempt
 * would start more than `maxElapsed` after the first failure; the last error is then the result.
 *
 * Throws `IllegalArgumentException` for options that make no sense (a negative wait, a factor below 1).
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-opensolar-auth"
 *
 * const patient = RetryPolicy.make({ maxWait: "30 seconds", maxElapsed: "5 minutes" })
 * ```
 */
export const make = (options: Options = {}): RetryPolicy => {
  const base = millis(options.base ?? Duration.millis(250), "base")
  const factor = options.factor ?? 2
  const maxWait = millis(options.maxWait ?? Duration.seconds(10), "maxWait")
  const maxElapsed = millis(options.maxElapsed ?? Duration.seconds(60), "maxElapsed")
  const maxRetryAfter = millis(options.maxRetryAfter ?? Duration.seconds(60), "maxRetryAfter")
  const jitter = options.jitter ?? 0.2
  if (!Number.isFinite(factor) || factor < 1) {
    throw new Cause.IllegalArgumentException(`RetryPolicy.make: factor must be a number of at least 1, got ${factor}`)
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new Cause.IllegalArgumentException(`RetryPolicy.make: jitter must be between 0 and 1, got ${jitter}`)
  }
  const spread = Math.min(jitter, 1 - 1 / factor)

  return Schedule.makeWithState(initial, (now, error: AuthError.AuthError, state: State) =>
    Effect.gen(function* () {
      const startedAt = state.attempt === 0 ? now : state.startedAt
      const retryAfter = error._tag === "RateLimited" ? (error.retryAfterMillis ?? 0) : 0
      if (!error.transient || retryAfter > maxRetryAfter) {
        return [state, Duration.zero, ScheduleDecision.done] as const
      }

      const random = spread === 0 ? 0 : yield* Random.next
      const backoff = Math.min(maxWait, base * factor ** state.attempt * (1 - spread * random))
      const wait = Math.ceil(Math.max(backoff, retryAfter))
      const next = { attempt: state.attempt + 1, startedAt }
      if (now + wait - startedAt > maxElapsed) {
        return [next, Duration.zero, ScheduleDecision.done] as const
      }

      return [next, Duration.millis(wait), ScheduleDecision.continueWith(ScheduleInterval.after(now + wait))] as const
    })
  )
}

const millis = (input: Duration.DurationInput, name: string): number => {
  const duration = Duration.decodeUnknown(input)
  if (duration._tag === "None" || !Duration.isFinite(duration.value)) {
    throw new Cause.IllegalArgumentException(`RetryPolicy.make: ${name} must be a finite duration such as "10 seconds"`)
  }
  return Duration.toMillis(duration.value)
}

const defaultPolicy: RetryPolicy = make()

export {
  /**
   * The policy used when none is given: `make()` with its defaults — 250 ms doubling to at most 10 s per
   * wait, 20% jitter, at most 60 s in all, `Retry-After` honoured up to 60 s.
   *
   * @since 0.1.0
   * @category constructors
   */
  defaultPolicy as default
}

/**
 * Runs an effect again, according to a policy ({@link default} unless given), while it fails with a
 * transient error. Non-transient errors end it after one attempt.
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  (policy?: RetryPolicy): <A, E extends AuthError.AuthError, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E extends AuthError.AuthError, R>(self: Effect.Effect<A, E, R>, policy?: RetryPolicy): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E extends AuthError.AuthError, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy = defaultPolicy) =>
    Effect.retry(self, policy)
)
