import { inspect } from "node:util"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { BearerToken, OpenSolar, TokenRef } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  const token = yield* tokens.get
  const grant = Option.getOrThrow(yield* tokens.current)

  // However a token is printed, its text does not appear.
  console.log(`${token}`, JSON.stringify({ token }), inspect(token))
  console.log(JSON.stringify(grant).includes(BearerToken.value(token)))

  // A fingerprint tells tokens apart in logs without revealing them.
  console.log(`fingerprint: ${BearerToken.fingerprint(token)}`)
  console.log(`same as the grant's: ${grant.fingerprint === BearerToken.fingerprint(token)}`)
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
