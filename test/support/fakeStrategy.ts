/**
 * A scripted stand-in for an authentication strategy: it counts calls, takes the time each call is given on
 * Effect's clock, fails when told to, and remembers when each token it issued expires.
 */
import { Clock, DateTime, Duration, Effect, Exit, Layer, Option } from "effect"
import * as AuthError from "../../src/AuthError.js"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as TokenGrant from "../../src/TokenGrant.js"

export interface Call {
  readonly index: number
  readonly startedAt: number
  readonly current: Option.Option<TokenGrant.TokenGrant>
  endedAt?: number
  outcome?: "success" | "failure" | "interrupted"
  token?: string
}

export interface Script {
  /** How long tokens live, as the upstream sees it. */
  readonly lifetime?: Duration.DurationInput
  /** How long call `index` takes. */
  readonly latency?: (index: number) => Duration.DurationInput
  /** The error call `index`, started at `startedAt` (epoch milliseconds), fails with, if any. */
  readonly failure?: (index: number, startedAt: number) => AuthError.AuthError | undefined
  /** Answer with the current token instead of a new one. */
  readonly sameToken?: boolean
  /** Issue tokens that never expire. */
  readonly permanent?: boolean
}

export interface FakeStrategy {
  readonly strategy: AuthStrategy.Strategy
  readonly layer: Layer.Layer<AuthStrategy.AuthStrategy>
  readonly calls: Array<Call>
  /** Epoch milliseconds at which each issued token expires upstream; `Infinity` for permanent tokens. */
  readonly expiries: Map<string, number>
  readonly maxConcurrent: () => number
}

export const serverError = new AuthError.ServerError({
  method: "POST",
  url: "http://127.0.0.1/api-token-auth/",
  status: 503
})

export const invalidCredentials = new AuthError.InvalidCredentials({
  method: "POST",
  url: "http://127.0.0.1/api-token-auth/"
})

export const makeFakeStrategy = (script: Script = {}): FakeStrategy => {
  const lifetime = Duration.decode(script.lifetime ?? TokenGrant.standardLifetime)
  const calls: Array<Call> = []
  const expiries = new Map<string, number>()
  let running = 0
  let maxRunning = 0

  const authenticate = (current: Option.Option<TokenGrant.TokenGrant>) =>
    Effect.gen(function* () {
      const call: Call = { index: calls.length, startedAt: yield* Clock.currentTimeMillis, current }
      calls.push(call)
      running += 1
      maxRunning = Math.max(maxRunning, running)

      return yield* Effect.gen(function* () {
        yield* Effect.sleep(script.latency?.(call.index) ?? Duration.zero)
        const failure = script.failure?.(call.index, call.startedAt)
        if (failure !== undefined) {
          return yield* Effect.fail(failure)
        }

        const issuedAt = yield* DateTime.now
        const text =
          script.sameToken === true && Option.isSome(current)
            ? BearerToken.value(current.value.token)
            : `token-${call.index}-${DateTime.toEpochMillis(issuedAt)}`
        const expiresAt =
          script.permanent === true ? Option.none() : Option.some(DateTime.addDuration(issuedAt, lifetime))
        if (!expiries.has(text)) {
          expiries.set(
            text,
            Option.match(expiresAt, { onNone: () => Number.POSITIVE_INFINITY, onSome: DateTime.toEpochMillis })
          )
        }
        call.token = text
        return new TokenGrant.TokenGrant({
          token: BearerToken.unsafeMake(text),
          issuedAt,
          expiresAt,
          user: new TokenGrant.GrantUser({ id: 7, email: "arnie@illbeback.com" }),
          org: Option.none(),
          orgs: [],
          strategy: "fake"
        })
      }).pipe(
        Effect.onExit((exit) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.sync(() => {
              running -= 1
              call.endedAt = now
              call.outcome = Exit.isSuccess(exit) ? "success" : Exit.isInterrupted(exit) ? "interrupted" : "failure"
            })
          )
        )
      )
    })

  const strategy: AuthStrategy.Strategy = { name: "fake", authenticate }
  return {
    strategy,
    layer: Layer.succeed(AuthStrategy.AuthStrategy, strategy),
    calls,
    expiries,
    maxConcurrent: () => maxRunning
  }
}
