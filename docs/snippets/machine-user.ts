import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { OpenSolar, OpenSolarClient, TokenRef } from "effect-opensolar-auth"

// OPENSOLAR_TOKEN holds the machine user's token; OPENSOLAR_USERNAME and OPENSOLAR_PASSWORD must be unset.
const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get
  const grant = Option.getOrThrow(yield* tokens.current)
  console.log(`strategy: ${grant.strategy}, never expires: ${grant.isPermanent}`)

  const client = yield* OpenSolarClient.forOrg(1)
  const response = yield* client.filterStatusOk.get("projects/")
  console.log(`projects answered ${response.status}`)
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
