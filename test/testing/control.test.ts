import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { accounts, Simulator } from "../../src/testing/index.js"
import { awaitTestClockSleep, call, fetchToken, login, testLayer } from "./helpers.js"

describe("Simulator HTTP control prefix", () => {
  it.effect("adds users and orgs", () =>
    Effect.gen(function* () {
      const org = yield* call("POST", "/__simulator/orgs", { json: { name: "Kaiser Solar", api_access: false } })
      expect(org.status).toBe(201)
      expect(org.body).toEqual({ id: 4, name: "Kaiser Solar", api_access: false })

      const user = yield* call("POST", "/__simulator/users", {
        json: { email: "grace@future.example", password: "augmented", org_ids: [1, 4] }
      })
      expect(user.status).toBe(201)
      expect(user.body).toEqual({
        id: 6,
        username: "grace@future.example",
        org_ids: [1, 4],
        is_machine_user: false,
        mfa_enabled: false
      })
      const token = (yield* login("grace@future.example", "augmented")).body.token
      expect((yield* call("GET", "/api/orgs/4/", { token })).status).toBe(402)

      const duplicate = yield* call("POST", "/__simulator/users", {
        json: { username: "grace@future.example", password: "x" }
      })
      expect(duplicate.status).toBe(400)
      expect(duplicate.body.detail).toMatch(/already named/)
      const invalid = yield* call("POST", "/__simulator/users", { json: { username: "x@y.example" } })
      expect(invalid.status).toBe(400)
      expect(invalid.body.detail).toMatch(/password/)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("adds an MFA user and serves its current code", () =>
    Effect.gen(function* () {
      yield* call("POST", "/__simulator/users", {
        json: { username: "rev9@legion.example", password: "liquid", totp_secret: "MZXW6YTBOI======" }
      })
      expect((yield* login("rev9@legion.example", "liquid")).status).toBe(400)
      const code = yield* call("GET", "/__simulator/totp?username=rev9@legion.example")
      expect(code.body.code).toMatch(/^\d{6}$/)
      expect((yield* login("rev9@legion.example", "liquid", { token: code.body.code })).status).toBe(200)
      const sarah = yield* call("GET", `/__simulator/totp?username=${accounts.mfa.username}`)
      const sim = yield* Simulator
      expect(sarah.body.code).toBe(yield* sim.totpCode(accounts.mfa.username))
      expect((yield* call("GET", `/__simulator/totp?username=${accounts.example.username}`)).status).toBe(400)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("issues and revokes tokens", () =>
    Effect.gen(function* () {
      const issued = yield* call("POST", "/__simulator/tokens", { json: { username: accounts.example.username } })
      expect(issued.status).toBe(201)
      const token: string = issued.body.token
      expect(token).toMatch(/^[0-9a-f]{40}$/)
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)

      expect((yield* call("POST", "/__simulator/revoke", { json: { token } })).status).toBe(200)
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(401)

      const revoked = yield* call("POST", "/__simulator/revoke", { json: { username: accounts.machine.username } })
      expect(revoked.body).toEqual({ revoked: 1 })
      expect((yield* call("GET", "/api/orgs/1/", { token: accounts.machine.token })).status).toBe(401)
      const unknown = yield* call("POST", "/__simulator/tokens", { json: { username: "nobody@nowhere.example" } })
      expect(unknown.status).toBe(400)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("injects and clears faults", () =>
    Effect.gen(function* () {
      const injected = yield* call("POST", "/__simulator/faults", {
        json: { endpoint: "login", times: 1, fault: { _tag: "Status", status: 503, retryAfter: 7 } }
      })
      expect(injected.status).toBe(201)
      const faulty = yield* login(accounts.example.username, accounts.example.password)
      expect(faulty.status).toBe(503)
      expect(faulty.headers["retry-after"]).toBe("7")

      yield* call("POST", "/__simulator/faults", {
        json: { endpoint: "any", fault: { _tag: "Delay", millis: 2000 } }
      })
      const pending = yield* Effect.fork(login(accounts.example.username, accounts.example.password))
      yield* awaitTestClockSleep
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(pending)).status).toBe(200)

      yield* call("POST", "/__simulator/faults", { json: { endpoint: "org", times: 3, fault: { _tag: "HtmlBody" } } })
      expect((yield* call("DELETE", "/__simulator/faults")).status).toBe(200)
      expect((yield* call("GET", "/api/orgs/1/", { token: accounts.machine.token })).status).toBe(200)

      const bad = yield* call("POST", "/__simulator/faults", { json: { endpoint: "everything", fault: {} } })
      expect(bad.status).toBe(400)
      expect(bad.body.detail).toEqual(expect.any(String))
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("advances the clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-02-01T00:00:00Z"))
      const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
      expect((yield* call("GET", "/__simulator/clock")).body).toEqual({ now: "2026-02-01T00:00:00.000Z" })

      const advanced = yield* call("POST", "/__simulator/clock/advance", { json: { duration: "6 days" } })
      expect(advanced.body).toEqual({ now: "2026-02-07T00:00:00.000Z" })
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)
      yield* call("POST", "/__simulator/clock/advance", { json: { seconds: 86_400 } })
      expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(401)
      const more = yield* call("POST", "/__simulator/clock/advance", { json: { millis: 1500 } })
      expect(more.body).toEqual({ now: "2026-02-08T00:00:01.500Z" })

      const bad = yield* call("POST", "/__simulator/clock/advance", { json: { duration: "a while" } })
      expect(bad.status).toBe(400)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("switches the fetch_token mode and the response shape", () =>
    Effect.gen(function* () {
      const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
      expect((yield* call("POST", "/__simulator/fetch-token-mode", { json: { mode: "same" } })).status).toBe(200)
      expect((yield* fetchToken(token)).body.token).toBe(token)
      expect((yield* call("POST", "/__simulator/fetch-token-mode", { json: { mode: "never" } })).status).toBe(400)

      yield* call("POST", "/__simulator/response-shape", { json: { user_shape: "url", org_info: "omitted" } })
      const reply = yield* fetchToken(token)
      expect(typeof reply.body.user).toBe("string")
      expect(reply.body).not.toHaveProperty("orgs")
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("serves and clears the request log without logging itself", () =>
    Effect.gen(function* () {
      const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
      yield* fetchToken(token)
      yield* fetchToken(token)
      const log = yield* call("GET", "/__simulator/log")
      expect(log.status).toBe(200)
      expect(log.body).toEqual([
        expect.objectContaining({ method: "POST", path: "/api-token-auth/", endpoint: "login", status: 200 }),
        expect.objectContaining({ endpoint: "fetchToken", status: 200, token_state: "valid" }),
        expect.objectContaining({ endpoint: "fetchToken", status: 401, token_state: "revoked" })
      ])
      expect(log.body[0].token_fingerprint).toBeNull()
      expect(log.body[1].token_fingerprint).toMatch(/^[0-9a-f]{8}$/)
      expect(log.text).not.toContain(token)

      expect((yield* call("DELETE", "/__simulator/log")).status).toBe(200)
      expect((yield* call("GET", "/__simulator/log")).body).toEqual([])
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("resets everything", () =>
    Effect.gen(function* () {
      yield* call("POST", "/__simulator/users", { json: { username: "kyle@resistance.example", password: "reese" } })
      yield* call("POST", "/__simulator/faults", { json: { endpoint: "org", fault: { _tag: "Status", status: 500 } } })
      yield* call("POST", "/__simulator/clock/advance", { json: { duration: "3 days" } })
      yield* login(accounts.example.username, accounts.example.password)
      expect((yield* call("POST", "/__simulator/reset")).status).toBe(200)
      expect((yield* call("GET", "/__simulator/log")).body).toEqual([])
      expect((yield* login("kyle@resistance.example", "reese")).status).toBe(400)
      expect((yield* call("GET", "/api/orgs/1/", { token: accounts.machine.token })).status).toBe(200)
      const sim = yield* Simulator
      expect((yield* sim.now).epochMillis).toBe(0)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("answers 404 to unknown control paths without logging them", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      expect((yield* call("GET", "/__simulator/nothing")).status).toBe(404)
      expect((yield* call("GET", "/__simulator/reset")).status).toBe(404)
      expect(yield* sim.requestLog).toEqual([])
    }).pipe(Effect.provide(testLayer()))
  )
})
