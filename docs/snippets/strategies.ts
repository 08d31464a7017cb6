import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import { AuthStrategy, OpenSolarApi, TokenRef } from "effect-opensolar-auth"

// The standard strategy: log in by password once, then refresh the session, and log in again if it is rejected.
const Strategy = Layer.unwrapEffect(
  Effect.gen(function* () {
    const username = yield* Config.string("OPENSOLAR_USERNAME")
    const password = yield* Config.redacted("OPENSOLAR_PASSWORD")
    return AuthStrategy.layer(AuthStrategy.standard({ username, password }))
  })
)

const Api = Layer.unwrapEffect(
  Effect.map(Config.string("OPENSOLAR_BASE_URL"), (baseUrl) => OpenSolarApi.layer({ baseUrl }))
)

const Tokens = TokenRef.layerMemory().pipe(
  Layer.provide(Strategy),
  Layer.provide(Api),
  Layer.provide(NodeHttpClient.layerUndici)
)

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef

  yield* tokens.get
  const first = Option.getOrThrow(yield* tokens.current)
  console.log(`first grant:  ${first.strategy}, for ${first.user.email}`)

  const second = yield* tokens.refresh
  console.log(`second grant: ${second.strategy}, for ${second.user.email}`)
  console.log(`new token: ${second.fingerprint !== first.fingerprint}`)
})

program.pipe(Effect.provide(Tokens), NodeRuntime.runMain)
