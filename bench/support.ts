/**
 * What the in-process benchmarks share: a clock that can be moved past a token's deadline without waiting,
 * a strategy that answers after a fixed latency and counts its calls, and a `TokenRef` built over both.
 */
import { Clock, DateTime, Duration, Effect, Option, type Scope } from "effect"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BearerToken from "../src/BearerToken.js"
import * as TokenGrant from "../src/TokenGrant.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"

/** A real clock whose reading can be moved forward; sleeps stay real. */
export interface ShiftedClock {
  readonly clock: Clock.Clock
  readonly advance: (duration: Duration.DurationInput) => void
}

export const makeShiftedClock = (): ShiftedClock => {
  const real = Clock.make()
  let offsetMillis = 0

  const millis = () => real.unsafeCurrentTimeMillis() + offsetMillis
  const nanos = () => real.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n

  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: nanos,
    currentTimeNanos: Effect.sync(nanos),
    sleep: (duration) => real.sleep(duration)
  }
  return {
    clock,
    advance: (duration) => {
      offsetMillis += Duration.toMillis(duration)
    }
  }
}

/** A strategy standing in for the API's login: every call sleeps `latency`, then issues a new 7-day token. */
export interface CountingStrategy {
  readonly strategy: AuthStrategy.Strategy
  readonly calls: () => number
}

export const makeCountingStrategy = (latency: Duration.DurationInput): CountingStrategy => {
  // A zero sleep still waits for a timer tick, which would dwarf what a zero-latency upstream measures.
  const wait = Duration.isZero(Duration.decode(latency)) ? Effect.void : Effect.sleep(latency)
  let calls = 0
  const strategy = AuthStrategy.make("bench", () =>
    Effect.gen(function* () {
      calls += 1
      const call = calls

      yield* wait

      const issuedAt = yield* DateTime.now
      return new TokenGrant.TokenGrant({
        token: BearerToken.unsafeMake(`bench-token-${call}`),
        issuedAt,
        expiresAt: Option.some(DateTime.addDuration(issuedAt, TokenGrant.standardLifetime)),
        user: new TokenGrant.GrantUser({ id: 1, email: "bench@example.com" }),
        org: Option.none(),
        orgs: [],
        strategy: "bench"
      })
    })
  )
  return { strategy, calls: () => calls }
}

/** Far enough to pass the deadline of any grant `makeCountingStrategy` issued before. */
export const pastEveryDeadline = Duration.days(8)

/** A `TokenRef` with default options over `strategy`, its grants in memory. */
export const makeTokenRef = (strategy: AuthStrategy.Strategy): Effect.Effect<TokenRef.Service, never, Scope.Scope> =>
  TokenRef.make().pipe(
    Effect.provideService(AuthStrategy.AuthStrategy, strategy),
    Effect.provide(TokenStore.layerMemory),
    Effect.orDie
  )
