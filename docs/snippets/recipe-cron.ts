import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { DateTime, Effect, Layer, Option } from "effect"
import {
  AuthStrategy,
  OpenSolarApi,
  OpenSolarClient,
  OpenSolarConfig,
  type TokenGrant,
  TokenRef
} from "effect-opensolar-auth"
import { FileTokenStore } from "effect-opensolar-auth/node"

// A job that cron starts every few minutes. The grant is kept in ~/.config/opensolar-auth/tokens.json, so a
// run logs in only when the previous runs left no valid token.
const OpenSolarLive = Layer.unwrapEffect(
  Effect.map(OpenSolarConfig.load, (settings) => {
    const subject = settings.credentials._tag === "Password" ? settings.credentials.username : "machine-user"
    // Filed under the API and the user, as the opensolar-auth command files its logins: they share them.
    const storeKey = { baseUrl: settings.baseUrl, subject }
    return OpenSolarClient.layer({ baseUrl: settings.baseUrl }).pipe(
      Layer.provideMerge(TokenRef.layer({ storeKey, lifetime: settings.lifetime })),
      Layer.provide(FileTokenStore.layerNode()),
      Layer.provide(AuthStrategy.layerConfig),
      Layer.provide(OpenSolarApi.layer({ baseUrl: settings.baseUrl }))
    )
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

// Whether a grant is past 80% of its life, where a long-running program would renew it in the background.
const isDue = (grant: TokenGrant.TokenGrant, now: DateTime.Utc) =>
  Option.match(grant.expiresAt, {
    onNone: () => false,
    onSome: (expiresAt) => {
      const issuedAt = DateTime.toEpochMillis(grant.issuedAt)
      return DateTime.toEpochMillis(now) >= issuedAt + (DateTime.toEpochMillis(expiresAt) - issuedAt) * 0.8
    }
  })

const job = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  const stored = yield* tokens.current
  console.log(
    Option.isSome(stored) ? `reusing the stored token ${stored.value.fingerprint}` : "no stored token: logging in"
  )

  // A short job ends before a background renewal would: renew a token that is due before using it.
  if (Option.isSome(stored) && isDue(stored.value, yield* DateTime.now)) {
    const renewed = yield* tokens.refresh
    console.log(`renewed: ${renewed.fingerprint}`)
  }

  const client = yield* OpenSolarClient.forOrg(1)
  const response = yield* client.filterStatusOk.get("projects/")
  const projects = yield* response.json
  console.log(`synced ${Array.isArray(projects) ? projects.length : 0} projects`)
})

job.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
