import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, DateTime, Effect, Layer, Option } from "effect"
import { OpenSolar, TokenRef } from "effect-opensolar-auth"

const stack = (tokenRef: OpenSolar.Options["tokenRef"]) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const baseUrl = yield* Config.string("OPENSOLAR_BASE_URL")
      const username = yield* Config.string("OPENSOLAR_USERNAME")
      const password = yield* Config.redacted("OPENSOLAR_PASSWORD")
      // Tokens of this account live one day; renew them halfway, give up on one 5 minutes before expiry.
      return OpenSolar.layer({ baseUrl, username, password, lifetime: "1 day", tokenRef })
    })
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

const expiry = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get
  const grant = Option.getOrThrow(yield* tokens.current)
  const lifetime = DateTime.distance(grant.issuedAt, Option.getOrThrow(grant.expiresAt))
  console.log(`expires ${lifetime / 3_600_000} hours after issue`)
})

const program = Effect.gen(function* () {
  yield* expiry.pipe(Effect.provide(stack({ refreshRatio: 0.5, safetyMargin: "5 minutes", jitter: "10 minutes" })))

  // Options that cannot work are refused when the layer is built, before any request.
  const refused = yield* expiry.pipe(Effect.provide(stack({ refreshRatio: 0.999 })), Effect.flip)
  console.log(`${refused._tag}: ${refused.message}`)
})

program.pipe(NodeRuntime.runMain)
