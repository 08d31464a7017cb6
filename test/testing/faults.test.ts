import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { accounts, Fault, Simulator } from "../../src/testing/index.js"
import { attempt, awaitTestClockSleep, call, fetchToken, login, testLayer } from "./helpers.js"

const loginExample = login(accounts.example.username, accounts.example.password)

describe("Simulator faults", () => {
  it.effect("answers a status with a DRF body and Retry-After in seconds, the given number of times", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "login", times: 2, fault: Fault.Status({ status: 503, retryAfter: 5 }) })

      const first = yield* loginExample
      expect(first.status).toBe(503)
      expect(first.headers["retry-after"]).toBe("5")
      expect(first.body).toEqual({ detail: expect.any(String) })
      expect((yield* loginExample).status).toBe(503)
      expect((yield* loginExample).status).toBe(200)

      const log = yield* sim.requestLog
      expect(log.map((entry) => entry.status)).toEqual([503, 503, 200])
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("answers a status with a custom body and an HTTP-date Retry-After", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      const date = "Wed, 21 Oct 2026 07:28:00 GMT"
      yield* sim.injectFault({
        endpoint: "fetchToken",
        fault: Fault.Status({ status: 429, body: { detail: "Slow down." }, retryAfter: date })
      })
      const reply = yield* fetchToken(accounts.machine.token)
      expect(reply.status).toBe(429)
      expect(reply.headers["retry-after"]).toBe(date)
      expect(reply.body).toEqual({ detail: "Slow down." })
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("applies a fault only to its endpoint, and an any fault to the next API request", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      const token = accounts.machine.token
      yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 500 }) })
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)
      expect((yield* call("GET", "/api/orgs/1/projects/", { token })).status).toBe(500)
      expect((yield* call("GET", "/api/orgs/1/projects/", { token })).status).toBe(200)

      yield* sim.injectFault({ endpoint: "any", fault: Fault.Status({ status: 401 }) })
      expect((yield* call("GET", "/nowhere/")).status).toBe(404)
      expect((yield* call("GET", "/__simulator/clock")).status).toBe(200)
      const unauthorized = yield* call("PATCH", "/auth/users/3/", { token, json: { is_machine_user: true } })
      expect(unauthorized.status).toBe(401)
      expect(unauthorized.headers["www-authenticate"]).toBe('Bearer realm="api"')
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)

      yield* sim.injectFault({ endpoint: "org", times: 5, fault: Fault.Status({ status: 502 }) })
      yield* sim.clearFaults
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("delays the normal answer on the simulator's Clock", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "login", fault: Fault.Delay({ duration: "10 seconds" }) })

      const pending = yield* Effect.fork(loginExample)
      yield* awaitTestClockSleep
      expect(Option.isNone(yield* Fiber.poll(pending))).toBe(true)
      yield* TestClock.adjust("10 seconds")
      const reply = yield* Fiber.join(pending)

      expect(reply.status).toBe(200)
      expect(reply.body.token).toMatch(/^[0-9a-f]{40}$/)
      const log = yield* sim.requestLog
      expect(log.map((entry) => [entry.endpoint, entry.status])).toEqual([["login", 200]])
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("resets the connection without an answer", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "login", fault: Fault.ConnectionReset() })
      const reset = yield* Effect.exit(attempt("POST", "/api-token-auth/", { json: {} }))
      expect(Exit.isFailure(reset)).toBe(true)
      expect(String(reset)).toMatch(/RequestError|Transport/)
      expect((yield* loginExample).status).toBe(200)
      const log = yield* sim.requestLog
      expect(log.map((entry) => entry.status)).toEqual([0, 200])
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("answers 200 with truncated JSON", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "login", fault: Fault.MalformedJson() })
      const reply = yield* loginExample
      expect(reply.status).toBe(200)
      expect(reply.headers["content-type"]).toMatch(/^application\/json/)
      expect(() => JSON.parse(reply.text)).toThrow()
      expect(reply.text.length).toBeGreaterThan(0)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("answers an HTML page with 502 by default, or 200", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.HtmlBody({}) })
      yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.HtmlBody({ status: 200 }) })

      const gateway = yield* fetchToken(accounts.machine.token)
      expect(gateway.status).toBe(502)
      expect(gateway.headers["content-type"]).toMatch(/^text\/html/)
      expect(gateway.text).toMatch(/<html/)
      const maintenance = yield* fetchToken(accounts.machine.token)
      expect(maintenance.status).toBe(200)
      expect(maintenance.headers["content-type"]).toMatch(/^text\/html/)
      expect(maintenance.body).toBeUndefined()
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("takes faults before the request is processed", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      const token = yield* sim.issueToken(accounts.example.username)
      yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.Status({ status: 500 }) })
      expect((yield* fetchToken(token)).status).toBe(500)
      expect(yield* sim.tokenState(token)).toBe("valid")
    }).pipe(Effect.provide(testLayer()))
  )
})
