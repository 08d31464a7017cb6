/**
 * What the token stores share: the stored grant's versioned JSON form, and one lock per key for the
 * refreshes and writes inside a process.
 *
 * @internal
 */
import { Effect, Schema } from "effect"
import * as TokenGrant from "../TokenGrant.js"

/** @internal */
export const StoredGrant = Schema.parseJson(
  Schema.Struct({
    version: Schema.Literal(1),
    grant: TokenGrant.TokenGrant
  })
)

/**
 * A lock per key: effects run under the same key one at a time, effects under different keys freely.
 *
 * @internal
 */
export interface KeyedLock {
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** @internal */
export const makeKeyedLock = (): KeyedLock => {
  const semaphores = new Map<string, Effect.Semaphore>()
  const semaphoreFor = (key: string): Effect.Semaphore => {
    const existing = semaphores.get(key)
    if (existing !== undefined) {
      return existing
    }
    const semaphore = Effect.unsafeMakeSemaphore(1)
    semaphores.set(key, semaphore)
    return semaphore
  }
  return {
    withLock: (key, effect) => Effect.suspend(() => semaphoreFor(key).withPermits(1)(effect))
  }
}
