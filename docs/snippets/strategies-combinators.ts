import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Duration, Effect, Layer, Option, pipe } from "effect"
import { AuthStrategy, OpenSolarApi, RetryPolicy } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const username = yield* Config.string("OPENSOLAR_USERNAME")
  const password = yield* Config.redacted("OPENSOLAR_PASSWORD")

  // A password login that gives up on one attempt after 30 seconds, and retries transient failures
  // (network errors, timeouts, 5xx, 429) for up to two minutes. A wrong password is never retried.
  const login = pipe(
    AuthStrategy.password({ username, password }),
    AuthStrategy.timeout(Duration.seconds(30)),
    AuthStrategy.retry(RetryPolicy.make({ maxElapsed: "2 minutes" }))
  )

  // Refresh the current session; fall back to the login only when the session is rejected.
  const strategy = AuthStrategy.orElse(AuthStrategy.sessionRefresh(), login, { on: ["TokenRejected"] })
  console.log(`strategy: ${strategy.name}`)

  // Without a current grant, the session refresh fails at once (no request) and the login runs.
  const grant = yield* strategy.authenticate(Option.none())
  console.log(`obtained by: ${grant.strategy}`)
})

const Api = Layer.unwrapEffect(
  Effect.map(Config.string("OPENSOLAR_BASE_URL"), (baseUrl) => OpenSolarApi.layer({ baseUrl }))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(Effect.provide(Api), NodeRuntime.runMain)
