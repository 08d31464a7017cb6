/**
 * Runs a program that mixes real I/O (requests to the simulator) with sleeps on the `TestClock`: whenever the
 * program sleeps until a moment within `horizon`, the clock jumps there; otherwise the event loop gets a turn
 * so that I/O can progress. Sleeps beyond the horizon (such as a request timeout) are never reached by a jump.
 */
import { Chunk, Clock, Duration, Effect, Fiber, Option, TestClock } from "effect"

const turnEventLoop = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  horizon: Duration.DurationInput = "1 hour"
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    const horizonMillis = Duration.toMillis(horizon)

    while (true) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) {
        return yield* exit.value
      }
      const now = yield* Clock.currentTimeMillis
      const due = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((wake) => wake <= now + horizonMillis)
      if (due.length > 0) {
        yield* TestClock.setTime(Math.min(...due))
      }
      yield* turnEventLoop
    }
  })

/** A wire client timeout far beyond any jump `drive` makes. */
export const requestTimeout = Duration.days(1)
