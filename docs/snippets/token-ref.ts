import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Chunk, DateTime, Duration, Effect, Fiber, Layer, Option, Stream } from "effect"
import { BearerToken, OpenSolar, TokenRef } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef

  // Every new grant, as it is installed: here the first two.
  const watcher = yield* tokens.changes.pipe(Stream.take(2), Stream.runCollect, Effect.fork)

  // The first `get` logs in; the next ones answer from memory until the refresh point.
  const first = yield* tokens.get
  const again = yield* tokens.get
  console.log(`same token: ${BearerToken.equals(first, again)}`)

  const grant = Option.getOrThrow(yield* tokens.current)
  const lifetime = DateTime.distanceDuration(grant.issuedAt, Option.getOrThrow(grant.expiresAt))
  console.log(`lifetime: ${Duration.format(lifetime)}`)

  // The API answered 401 to `first`: invalidate exactly that token. The next `get` obtains a new one.
  yield* tokens.invalidate(first)
  const replaced = yield* tokens.get
  console.log(`replaced: ${!BearerToken.equals(first, replaced)}`)

  // Invalidating a token that was already replaced does nothing.
  yield* tokens.invalidate(first)
  console.log(`still current: ${BearerToken.equals(replaced, yield* tokens.get)}`)

  const grants = yield* Fiber.join(watcher)
  console.log(
    `grants seen: ${Chunk.toArray(grants)
      .map((grant) => grant.strategy)
      .join(", ")}`
  )
})

const OpenSolarLive = OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
