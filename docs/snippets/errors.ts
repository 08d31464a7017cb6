import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AuthError, OpenSolar, TokenRef } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get
  console.log("logged in")
}).pipe(
  Effect.catchIf(AuthError.isCredentialsError, (error) =>
    // Wrong password, missing or refused two-factor code: retrying cannot help, a person must act.
    Effect.sync(() => {
      console.log(`${error._tag} (transient: ${error.transient})`)
      console.log(error.message)
      process.exitCode = 3
    })
  )
)

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
