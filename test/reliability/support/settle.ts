/**
 * Runs a program that mixes real I/O with sleeps on the `TestClock`, like `drive`, but within a bounded number of
 * event-loop turns: a program that neither finishes nor sleeps until a reachable moment fails the test with
 * `Unsettled` instead of spinning until the test times out.
 *
 * Whenever the program sleeps until a moment within `horizon`, the clock jumps to the earliest such moment;
 * otherwise the event loop gets a turn so that I/O can progress. Request timeouts set beyond the horizon are never
 * reached by a jump, so moving the clock never times out a request in flight.
 */
import { Chunk, Clock, Data, Duration, Effect, Fiber, Option, TestClock } from "effect"

export class Unsettled extends Data.TaggedError("Unsettled")<{ readonly turns: number }> {
  override get message(): string {
    return `the program neither finished nor slept within reach after ${this.turns} event-loop turns`
  }
}

const turnEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

export interface SettleOptions {
  /** The furthest the clock jumps ahead in one step. @default 1 hour */
  readonly horizon?: Duration.DurationInput
  /** How many event-loop turns the program may take in all. @default 200 000 */
  readonly maxTurns?: number
  /** Whether the clock may jump now; while it answers false the event loop gets turns instead. @default always */
  readonly canJump?: () => boolean
}

export const settle = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: SettleOptions = {}
): Effect.Effect<A, E | Unsettled, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    const horizonMillis = Duration.toMillis(options.horizon ?? Duration.hours(1))
    const maxTurns = options.maxTurns ?? 200_000

    for (let turns = 0; turns < maxTurns; turns++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) {
        return yield* exit.value
      }
      const now = yield* Clock.currentTimeMillis
      const due = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((wake) => wake <= now + horizonMillis)
      if (due.length > 0 && (options.canJump?.() ?? true)) {
        yield* TestClock.setTime(Math.min(...due))
      }
      yield* turnEventLoop
    }

    yield* Fiber.interrupt(fiber)
    return yield* new Unsettled({ turns: maxTurns })
  })
