import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { OpenSolarApi } from "effect-opensolar-auth"

const program = Effect.gen(function* () {
  const api = yield* OpenSolarApi.OpenSolarApi
  const username = yield* Config.string("OPENSOLAR_USERNAME")
  const password = yield* Config.redacted("OPENSOLAR_PASSWORD")

  // Log in once by password, then mark the user as a machine user: PATCH /auth/users/{id}/.
  const login = yield* api.login({ username, password })
  const userId = login.user.id
  if (userId === undefined) {
    return yield* Effect.dieMessage("the login answer did not say the user's id")
  }
  const answer = yield* api.setMachineUser({ token: login.token, userId, enabled: true })
  console.log(
    `${answer.email._tag === "Some" ? answer.email.value : "user"} is a machine user: ${answer.isMachineUser}`
  )

  // From now on this user's tokens do not expire: a new login says so, and its grant has no expiry.
  const again = yield* api.login({ username, password })
  const grant = yield* OpenSolarApi.toGrant(again, { strategy: "password" })
  console.log(`the new token never expires: ${grant.isPermanent}`)
})

const Api = Layer.unwrapEffect(
  Effect.map(Config.string("OPENSOLAR_BASE_URL"), (baseUrl) => OpenSolarApi.layer({ baseUrl }))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(Effect.provide(Api), NodeRuntime.runMain)
