import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Layer, Option } from "effect"
import { AuthStrategy, OpenSolarApi, OpenSolarClient, OpenSolarConfig, TokenRef } from "effect-opensolar-auth"
import { RedisTokenStore } from "effect-opensolar-auth/redis"

// Every process of the fleet runs this program with the same OPENSOLAR_* variables and REDIS_URL.
const TokenStoreLive = Layer.unwrapEffect(
  Effect.map(Config.redacted("REDIS_URL"), (url) => RedisTokenStore.layer({ url, lockTtl: "30 seconds" }))
)

const OpenSolarLive = Layer.unwrapEffect(
  Effect.map(OpenSolarConfig.load, (settings) => {
    // The key the fleet shares its grant under: same API, same user, same organisation.
    const storeKey = {
      baseUrl: settings.baseUrl,
      subject: settings.credentials._tag === "Password" ? settings.credentials.username : "machine-user",
      orgId: Option.getOrUndefined(settings.orgId)
    }
    return OpenSolarClient.layer({ baseUrl: settings.baseUrl }).pipe(
      Layer.provideMerge(TokenRef.layer({ storeKey, lifetime: settings.lifetime })),
      Layer.provide(AuthStrategy.layer(AuthStrategy.fromSettings(settings))),
      Layer.provide(TokenStoreLive),
      Layer.provide(OpenSolarApi.layer({ baseUrl: settings.baseUrl }))
    )
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  const stored = yield* tokens.current
  yield* Console.log(
    Option.match(stored, {
      onNone: () => "No grant in Redis yet: this process logs in for the whole fleet.",
      onSome: (grant) => `Another process already logged in: using grant ${grant.fingerprint} from Redis.`
    })
  )

  const orgId = yield* Config.integer("OPENSOLAR_ORG_ID")
  const client = yield* OpenSolarClient.OpenSolarClient
  const response = yield* client.forOrg(orgId).filterStatusOk.get("projects/")
  const projects = (yield* response.json) as ReadonlyArray<{ readonly title: string }>
  const grant = yield* tokens.current
  yield* Console.log(
    `Listed ${projects.length} projects with token ${Option.match(grant, {
      onNone: () => "none",
      onSome: (current) => current.fingerprint
    })}.`
  )
})

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
