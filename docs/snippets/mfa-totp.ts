import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import { MfaCodeSource, OpenSolar, TokenRef } from "effect-opensolar-auth"

// The TOTP secret is the text under the QR code an authenticator app scans (or the otpauth:// URI itself).
const OpenSolarLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const baseUrl = yield* Config.string("OPENSOLAR_BASE_URL")
    const username = yield* Config.string("OPENSOLAR_USERNAME")
    const password = yield* Config.redacted("OPENSOLAR_PASSWORD")
    const secret = yield* Config.redacted("OPENSOLAR_TOTP_SECRET")
    return OpenSolar.layer({ baseUrl, username, password, mfa: MfaCodeSource.totp(secret) })
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get
  const grant = Option.getOrThrow(yield* tokens.current)
  console.log(`logged in as ${grant.user.email} by ${grant.strategy}`)

  // A second login within the same 30-second step would wait for the next step: the API refuses a code twice.
  const again = yield* tokens.refresh
  console.log(`refreshed by ${again.strategy}, without a code`)
})

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
