import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { AuthStrategy, OpenSolarApi, RetryPolicy } from "effect-opensolar-auth"
import { accounts, Fault, Simulator } from "effect-opensolar-auth/testing"

// Runs against the simulator, which fails on request: see "Testing with the simulator".
const program = Effect.gen(function* () {
  const simulator = yield* Simulator
  const policy = RetryPolicy.make({ base: "20 millis", maxElapsed: "10 seconds" })
  const login = (password: string) =>
    AuthStrategy.retry(AuthStrategy.password({ username: accounts.example.username, password }), policy)

  const attempts = (label: string, outcome: string) =>
    Effect.gen(function* () {
      const log = yield* simulator.requestLog
      console.log(`${label}: ${outcome} after ${log.length} attempt(s): ${log.map((entry) => entry.status).join(", ")}`)
      yield* simulator.clearLog
    })

  // Two server errors, then success: transient errors are retried with backoff.
  yield* simulator.injectFault({ endpoint: "login", times: 2, fault: Fault.Status({ status: 503 }) })
  const grant = yield* login(accounts.example.password).authenticate(Option.none())
  yield* attempts("503 twice", `obtained by ${grant.strategy}`)

  // Throttled with Retry-After: 1 second: the next attempt waits at least that long.
  yield* simulator.injectFault({ endpoint: "login", fault: Fault.Status({ status: 429, retryAfter: 1 }) })
  yield* login(accounts.example.password).authenticate(Option.none())
  yield* attempts("429", "obtained")

  // A wrong password is never retried: retrying could lock the account.
  const refused = yield* login("wrong password").authenticate(Option.none()).pipe(Effect.flip)
  yield* attempts("wrong password", refused._tag)
})

const Api = Layer.unwrapEffect(Effect.map(Simulator, (simulator) => OpenSolarApi.layer({ baseUrl: simulator.url })))

program.pipe(
  Effect.provide(Api.pipe(Layer.provideMerge(Simulator.layer()), Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
