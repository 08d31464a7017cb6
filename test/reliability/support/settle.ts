/**
 * Runs a program that mixes real I/O with sleeps on a simulated clock, like `drive`, but within a bounded number
 * of event-loop turns: a program that neither finishes nor sleeps until a reachable moment fails the test with
 * `Unsettled` instead of spinning until the test times out.
 *
 * The program runs on a clock of its own, which starts at the `TestClock`'s time and hands its time back to the
 * `TestClock` when the program ends. Whenever the program sleeps until a moment within `horizon`, and has stayed
 * asleep for a turn of the event loop's timers, the clock jumps to the earliest such moment; otherwise the event
 * loop gets a turn so that I/O can progress. Request timeouts set beyond the horizon are never reached by a jump, so
 * moving the clock never times out a request in flight.
 *
 * Moving the `TestClock` itself costs milliseconds of timers a jump, which a simulated year of thousands of jumps
 * cannot afford: this clock jumps in microseconds, and the one timer turn keeps a fiber that yielded to the
 * scheduler from being overtaken.
 */
import { Clock, Data, Duration, Effect, Fiber, Option, TestClock } from "effect"

export class Unsettled extends Data.TaggedError("Unsettled")<{ readonly turns: number }> {
  override get message(): string {
    return `the program neither finished nor slept within reach after ${this.turns} event-loop turns`
  }
}

const turnEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** After every timer already due, such as the scheduler's, has run. */
const turnTimers = Effect.async<void>((resume) => {
  const handle = setTimeout(() => resume(Effect.void), 0)
  return Effect.sync(() => clearTimeout(handle))
})

interface Sleeper {
  readonly wakeAt: number
  readonly wake: () => void
}

/** A clock whose time moves only when `jumpTo` is called, waking the sleepers due by then. */
const makeSimulatedClock = (startMillis: number) => {
  let now = startMillis
  let changes = 0
  const sleepers = new Set<Sleeper>()

  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration: Duration.Duration) =>
      Effect.async<void>((resume) => {
        const wakeAt = now + Duration.toMillis(duration)
        if (wakeAt <= now) {
          resume(Effect.void)
          return
        }
        const sleeper: Sleeper = { wakeAt, wake: () => resume(Effect.void) }
        sleepers.add(sleeper)
        changes += 1
        return Effect.sync(() => {
          sleepers.delete(sleeper)
          changes += 1
        })
      })
  }

  return {
    clock,
    now: () => now,
    /** Counts every sleep begun or ended, so that a caller can tell whether anything moved. */
    changes: () => changes,
    earliestWake: (): Option.Option<number> => {
      let earliest = Number.POSITIVE_INFINITY
      for (const sleeper of sleepers) {
        earliest = Math.min(earliest, sleeper.wakeAt)
      }
      return Number.isFinite(earliest) ? Option.some(earliest) : Option.none()
    },
    jumpTo: (instant: number) => {
      now = instant
      for (const sleeper of [...sleepers]) {
        if (sleeper.wakeAt <= now) {
          sleepers.delete(sleeper)
          changes += 1
          sleeper.wake()
        }
      }
    }
  }
}

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
    const simulated = makeSimulatedClock(yield* Clock.currentTimeMillis)
    const fiber = yield* Effect.fork(Effect.withClock(effect, simulated.clock))
    const horizonMillis = Duration.toMillis(options.horizon ?? Duration.hours(1))
    const maxTurns = options.maxTurns ?? 200_000
    const handBack = Effect.suspend(() => TestClock.setTime(simulated.now()))

    for (let turns = 0; turns < maxTurns; turns++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) {
        yield* handBack
        return yield* exit.value
      }

      const due = Option.filter(simulated.earliestWake(), (wakeAt) => wakeAt <= simulated.now() + horizonMillis)
      if (Option.isSome(due) && (options.canJump?.() ?? true)) {
        const changes = simulated.changes()
        yield* turnTimers
        if (simulated.changes() === changes && (options.canJump?.() ?? true)) {
          simulated.jumpTo(due.value)
        }
      }
      yield* turnEventLoop
    }

    yield* Fiber.interrupt(fiber)
    yield* handBack
    return yield* new Unsettled({ turns: maxTurns })
  })
