import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

Effect.gen(function* () {
  const client = yield* OpenSolarClient.forOrg(1)
  const response = yield* client.filterStatusOk.get("projects/")
  console.log(yield* response.json)
}).pipe(Effect.provide(OpenSolar.layerConfig), Effect.provide(NodeHttpClient.layerUndici), NodeRuntime.runMain)
