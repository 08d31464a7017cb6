import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const client = yield* OpenSolarClient.OpenSolarClient

  // Another host: refused before anything is sent, so the token cannot leak there.
  const refused = yield* client.get("https://tiles.example.com/v1/tile.png").pipe(Effect.flip)
  console.log(refused._tag)
  console.log(refused.message)
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
