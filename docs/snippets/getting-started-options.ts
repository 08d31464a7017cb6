import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { OpenSolar, TokenRef } from "effect-opensolar-auth"

// The same stack from explicit options, here read with Effect's Config from variables of your own naming.
const OpenSolarLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const baseUrl = yield* Config.string("OPENSOLAR_BASE_URL")
    const username = yield* Config.string("OPENSOLAR_USERNAME")
    const password = yield* Config.redacted("OPENSOLAR_PASSWORD")
    return OpenSolar.layer({ baseUrl, username, password })
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  const token = yield* tokens.get
  console.log("token:", token)
})

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
