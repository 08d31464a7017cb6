import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

const orgName = (orgId: number) =>
  OpenSolarClient.forOrg(orgId).pipe(
    Effect.flatMap((client) => client.filterStatusOk.get("")),
    Effect.as("ok"),
    Effect.catchTags({
      // 402: the organisation has no API Access product.
      ApiAccessNotEnabled: (error) => Effect.succeed(`${error._tag}: ${error.message}`),
      // 403: the user is not a member of this organisation.
      Forbidden: (error) => Effect.succeed(`${error._tag}: ${error.message}`)
    })
  )

const program = Effect.gen(function* () {
  console.log(yield* orgName(3))
  console.log(yield* orgName(1))
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
