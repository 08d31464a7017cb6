/**
 * The refresh timing a `TokenRef` keeps unless told otherwise, and what that timing asks of a token's lifetime.
 *
 * @internal
 */
import { Duration, Either } from "effect"

/** @internal */
export const defaultRefreshRatio = 0.8

/** The default jitter, as a share of the lifetime. @internal */
export const defaultJitterRatio = 0.02

/** @internal */
export const defaultSafetyMargin: Duration.Duration = Duration.seconds(60)

/** A duration to the millisecond, rounded up, as a message shows it. @internal */
export const formatMillis = (millis: number): string => Duration.format(Duration.millis(Math.ceil(millis)))

/**
 * The lifetime a token must exceed for its refresh point to come before its deadline, or `undefined` when the
 * default jitter, a share of the lifetime, leaves no lifetime long enough.
 *
 * @internal
 */
export const shortestLifetimeMillis = (
  refreshRatio: number,
  jitterMillis: number | undefined,
  safetyMarginMillis: number
): number | undefined => {
  // The refresh point is lifetime × ratio + jitter and the deadline lifetime − margin: solve for the lifetime.
  if (jitterMillis !== undefined) {
    return (safetyMarginMillis + jitterMillis) / (1 - refreshRatio)
  }
  const share = 1 - refreshRatio - defaultJitterRatio
  return share > 0 ? safetyMarginMillis / share : undefined
}

const shortestDefault = shortestLifetimeMillis(
  defaultRefreshRatio,
  undefined,
  Duration.toMillis(defaultSafetyMargin)
) as number

/**
 * A lifetime that the default timing can work with, or why not. A lifetime from the environment is checked here,
 * where its variable can be named, rather than by the `TokenRef` option the program never set.
 *
 * @internal
 */
export const checkDefaultTiming = (lifetime: Duration.Duration): Either.Either<Duration.Duration, string> =>
  Duration.toMillis(lifetime) > shortestDefault
    ? Either.right(lifetime)
    : Either.left(
        `is too short: a token is renewed after ${defaultRefreshRatio * 100}% of its lifetime, give or take ` +
          `${defaultJitterRatio * 100}%, and no longer handed out in its last ` +
          `${Duration.format(defaultSafetyMargin)}, so it must live longer than ${formatMillis(shortestDefault)}; ` +
          `write for example "7 days"`
      )
