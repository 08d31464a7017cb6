import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, TestClock } from "effect"
import { BearerToken, OpenSolar, OpenSolarClient, TokenRef } from "effect-opensolar-auth"
import { accounts, Fault, Simulator } from "effect-opensolar-auth/testing"

// The code under test: it only needs an OpenSolarClient.
const projectCount = (orgId: number) =>
  Effect.gen(function* () {
    const client = yield* OpenSolarClient.forOrg(orgId)
    const response = yield* client.filterStatusOk.get("projects/")
    const projects = yield* response.json
    return Array.isArray(projects) ? projects.length : 0
  })

// The real stack, pointed at a simulator that lives as long as the test.
const TestOpenSolar = Layer.unwrapEffect(
  Effect.map(Simulator, (simulator) =>
    OpenSolar.layer({
      baseUrl: simulator.url,
      username: accounts.example.username,
      password: accounts.example.password,
      // TestClock.adjust jumps while requests are on the wire: a timeout longer than any jump never cuts one short.
      timeout: "30 days"
    })
  )
).pipe(Layer.provideMerge(Simulator.layer()), Layer.provide(NodeHttpClient.layerUndici))

describe("projectCount", () => {
  it.scoped("counts the projects of an organisation", () =>
    Effect.gen(function* () {
      expect(yield* projectCount(1)).toBe(3)
    }).pipe(Effect.provide(TestOpenSolar))
  )

  it.scoped("fails with ApiAccessNotEnabled when the organisation lacks the API product", () =>
    Effect.gen(function* () {
      const simulator = yield* Simulator
      yield* simulator.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 402 }) })

      const error = yield* Effect.flip(projectCount(1))

      expect(error._tag).toBe("ApiAccessNotEnabled")
    }).pipe(Effect.provide(TestOpenSolar))
  )

  it.scoped("keeps working across a token's lifetime, with one login and one refresh", () =>
    Effect.gen(function* () {
      const simulator = yield* Simulator
      const tokens = yield* TokenRef.TokenRef
      const first = yield* tokens.get

      // The simulator and the TokenRef share the TestClock: move to 30 seconds before the token expires.
      yield* TestClock.adjust(Duration.subtract(Duration.days(7), Duration.seconds(30)))
      expect(yield* projectCount(1)).toBe(3)

      const second = yield* tokens.get
      expect(BearerToken.equals(first, second)).toBe(false)
      expect(Option.map(yield* tokens.current, (grant) => grant.strategy)).toEqual(Option.some("session-refresh"))
      const endpoints = (yield* simulator.requestLog).map((entry) => entry.endpoint)
      expect(endpoints).toEqual(["login", "fetchToken", "projects"])
    }).pipe(Effect.provide(TestOpenSolar))
  )
})
