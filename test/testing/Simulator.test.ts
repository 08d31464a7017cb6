import { assert, describe, expect, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { accounts, orgs, Simulator } from "../../src/testing/index.js"
import { attempt, call, fetchToken, login, testLayer, totpAt } from "./helpers.js"

const hex40 = /^[0-9a-f]{40}$/

describe("Simulator", () => {
  describe("layer", () => {
    it.effect("listens on loopback with an ephemeral port and a URL without trailing slash", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(sim.url).not.toMatch(/:0$/)
      }).pipe(Effect.provide(testLayer()))
    )

    it.live("refuses to listen on an address other than loopback, before opening any port", () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.scoped(Layer.build(Simulator.layer({ host: "0.0.0.0" }))))

        assert(Exit.isFailure(exit))
        expect(Cause.pretty(exit.cause)).toContain('host "0.0.0.0" is not a loopback address')
      })
    )

    it.live("closes the server when its scope closes, even with keep-alive connections open", () =>
      Effect.gen(function* () {
        const url = yield* Effect.scoped(
          Effect.gen(function* () {
            const sim = yield* Simulator
            const reply = yield* login(accounts.example.username, accounts.example.password)
            expect(reply.status).toBe(200)
            return sim.url
          }).pipe(Effect.provide(Simulator.layer()))
        )
        const after = yield* HttpClient.get(`${url}/api/fetch_token/`).pipe(Effect.exit)
        expect(Exit.isFailure(after)).toBe(true)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect("exposes the seeded accounts and orgs as constants", () =>
      Effect.sync(() => {
        expect(Simulator.accounts).toBe(accounts)
        expect(Simulator.orgs).toBe(orgs)
        expect(accounts.example).toMatchObject({ username: "arnie@illbeback.com", password: "gettothechopper", id: 1 })
        expect(accounts.mfa.totpSecret).toBe("JBSWY3DPEHPK3PXP")
        expect(accounts.machine.token).toMatch(/^s_[a-z2-7]{32}$/)
        expect(accounts.multiOrg.orgIds).toEqual([1, 2])
        expect(orgs.noApiAccess.apiAccess).toBe(false)
      })
    )

    it.effect("starts empty with seed: false", () =>
      Effect.gen(function* () {
        const reply = yield* login(accounts.example.username, accounts.example.password)
        expect(reply.status).toBe(400)
        const sim = yield* Simulator
        yield* sim.addUser({ username: "kyle@resistance.example", password: "comewithme" })
        expect((yield* login("kyle@resistance.example", "comewithme")).status).toBe(200)
      }).pipe(Effect.provide(testLayer({ seed: false })))
    )
  })

  describe("POST /api-token-auth/", () => {
    it.effect("logs in the docs' example account, with and without a token field", () =>
      Effect.gen(function* () {
        const plain = yield* login(accounts.example.username, accounts.example.password)
        expect(plain.status).toBe(200)
        expect(plain.body.token).toMatch(hex40)
        expect(plain.body.user).toMatchObject({ id: 1, email: accounts.example.username, is_machine_user: false })
        expect(plain.body.org_id).toBe(1)
        expect(plain.body.orgs).toEqual([expect.objectContaining({ id: 1, name: orgs.main.name })])
        expect(plain.body).toHaveProperty("is_new_user")

        const withCode = yield* login(accounts.example.username, accounts.example.password, { token: "1234" })
        expect(withCode.status).toBe(200)
        expect(withCode.body.token).toMatch(hex40)
        expect(withCode.body.token).not.toBe(plain.body.token)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("logs in every seeded account that has no second factor", () =>
      Effect.gen(function* () {
        for (const account of [accounts.example, accounts.machine, accounts.multiOrg, accounts.noApiAccess]) {
          const reply = yield* login(account.username, account.password)
          expect(reply.status).toBe(200)
          expect(reply.body.user.id).toBe(account.id)
          expect(reply.body.orgs.map((org: { id: number }) => org.id)).toEqual(account.orgIds)
        }
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("matches usernames without regard to case or surrounding spaces", () =>
      Effect.gen(function* () {
        const reply = yield* login(" Arnie@IllBeBack.com ", accounts.example.password)
        expect(reply.status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("rejects a wrong password or an unknown username with non_field_errors", () =>
      Effect.gen(function* () {
        const wrong = yield* login(accounts.example.username, "iwontbeback")
        expect(wrong.status).toBe(400)
        expect(wrong.body).toEqual({ non_field_errors: ["Unable to log in with provided credentials."] })
        const unknown = yield* login("nobody@nowhere.example", "x")
        expect(unknown.body).toEqual(wrong.body)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("accepts a URL-encoded form, as DRF's default parsers do", () =>
      Effect.gen(function* () {
        const reply = yield* call("POST", "/api-token-auth/", {
          text: new URLSearchParams({
            username: accounts.example.username,
            password: accounts.example.password
          }).toString(),
          contentType: "application/x-www-form-urlencoded"
        })
        expect(reply.status).toBe(200)
        expect(reply.body.token).toMatch(hex40)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("two-factor authentication", () => {
    const mfa = accounts.mfa

    it.effect("asks for the token field when the code is missing or blank", () =>
      Effect.gen(function* () {
        const missing = yield* login(mfa.username, mfa.password)
        expect(missing.status).toBe(400)
        expect(Object.keys(missing.body)).toEqual(["token"])
        expect(missing.body.token[0]).toMatch(/two-factor/)
        const blank = yield* login(mfa.username, mfa.password, { token: "" })
        expect(blank.body).toEqual(missing.body)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("checks the password before the code", () =>
      Effect.gen(function* () {
        const reply = yield* login(mfa.username, "latefate", { token: yield* totpAt(mfa.totpSecret) })
        expect(reply.body).toEqual({ non_field_errors: ["Unable to log in with provided credentials."] })
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("rejects a wrong code", () =>
      Effect.gen(function* () {
        const code = yield* totpAt(mfa.totpSecret)
        const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0")
        const reply = yield* login(mfa.username, mfa.password, { token: wrong })
        expect(reply.status).toBe(400)
        expect(reply.body).toEqual({ non_field_errors: ["Invalid two-factor authentication code."] })
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("accepts the current code once and rejects its replay in the same step", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.parse("2026-03-04T05:06:07Z"))
        const code = yield* totpAt(mfa.totpSecret)
        const first = yield* login(mfa.username, mfa.password, { token: code })
        expect(first.status).toBe(200)
        expect(first.body.user).toMatchObject({ id: mfa.id, two_factor_enabled: true })

        const replay = yield* login(mfa.username, mfa.password, { token: code })
        expect(replay.status).toBe(400)
        expect(replay.body).toEqual({ non_field_errors: ["Invalid two-factor authentication code."] })

        yield* TestClock.adjust("30 seconds")
        const next = yield* login(mfa.username, mfa.password, { token: yield* totpAt(mfa.totpSecret) })
        expect(next.status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("tolerates one step of clock drift either side, not two", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* TestClock.setTime(Date.parse("2026-03-04T05:06:00Z"))
        const attemptWith = (steps: number) =>
          Effect.flatMap(totpAt(mfa.totpSecret, steps), (token) => login(mfa.username, mfa.password, { token }))
        expect((yield* attemptWith(-2)).status).toBe(400)
        expect((yield* attemptWith(2)).status).toBe(400)
        expect((yield* attemptWith(-1)).status).toBe(200)
        expect((yield* attemptWith(1)).status).toBe(200)
        expect((yield* attemptWith(0)).status).toBe(200)
        expect(yield* sim.totpCode(mfa.username)).toBe(yield* totpAt(mfa.totpSecret))
        expect(yield* sim.totpCode(mfa.username, 1)).toBe(yield* totpAt(mfa.totpSecret, 1))
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("requires a code from users added with a TOTP secret", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const user = yield* sim.addUser({
          username: "kate@resistance.example",
          password: "brewster",
          totpSecret: "KRSXG5CTMVRXEZLU"
        })
        expect(user.mfaEnabled).toBe(true)
        expect((yield* login("kate@resistance.example", "brewster")).status).toBe(400)
        const code = yield* totpAt("KRSXG5CTMVRXEZLU")
        expect((yield* login("kate@resistance.example", "brewster", { token: code })).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("login throttling", () => {
    it.effect("answers 429 with Retry-After after too many attempts a minute for one username", () =>
      Effect.gen(function* () {
        for (let i = 0; i < 10; i++) {
          expect((yield* login(accounts.example.username, "wrong")).status).toBe(400)
        }
        const throttled = yield* login(accounts.example.username, accounts.example.password)
        expect(throttled.status).toBe(429)
        expect(throttled.headers["retry-after"]).toBe("60")
        expect(throttled.body).toEqual({ detail: "Request was throttled. Expected available in 60 seconds." })

        const other = yield* login(accounts.multiOrg.username, accounts.multiOrg.password)
        expect(other.status).toBe(200)

        yield* TestClock.adjust("45 seconds")
        const later = yield* login(accounts.example.username, accounts.example.password)
        expect(later.status).toBe(429)
        expect(later.headers["retry-after"]).toBe("15")

        yield* TestClock.adjust("15 seconds")
        expect((yield* login(accounts.example.username, accounts.example.password)).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("follows the loginRateLimit option", () =>
      Effect.gen(function* () {
        expect((yield* login(accounts.example.username, "wrong")).status).toBe(400)
        expect((yield* login(accounts.example.username, "wrong")).status).toBe(400)
        const third = yield* login(accounts.example.username, accounts.example.password)
        expect(third.status).toBe(429)
        expect(third.body.detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/)
      }).pipe(Effect.provide(testLayer({ loginRateLimit: 2 })))
    )
  })

  describe("GET /api/fetch_token/", () => {
    it.effect("rotates by default: a new token, and the old one stops working", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const first = (yield* login(accounts.example.username, accounts.example.password)).body.token
        const refreshed = yield* fetchToken(first)
        expect(refreshed.status).toBe(200)
        expect(refreshed.body.token).toMatch(hex40)
        expect(refreshed.body.token).not.toBe(first)
        expect(refreshed.body.user).toMatchObject({ id: 1 })
        expect(refreshed.body.org_id).toBe(1)

        const old = yield* fetchToken(first)
        expect(old.status).toBe(401)
        expect(old.body).toEqual({ detail: "Invalid token." })
        expect(old.headers["www-authenticate"]).toBe('Bearer realm="api"')
        expect(yield* sim.tokenState(first)).toBe("revoked")
        expect((yield* fetchToken(refreshed.body.token)).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("gives a rotated token a full lifetime from the refresh", () =>
      Effect.gen(function* () {
        const first = (yield* login(accounts.example.username, accounts.example.password)).body.token
        yield* TestClock.adjust("6 days")
        const second = (yield* fetchToken(first)).body.token
        yield* TestClock.adjust("6 days")
        expect((yield* call("GET", "/api/orgs/1/", { token: second })).status).toBe(200)
        yield* TestClock.adjust("1 day")
        expect((yield* call("GET", "/api/orgs/1/", { token: second })).status).toBe(401)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("returns the same token with an unchanged expiry in mode same", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
        yield* TestClock.adjust("6 days")
        const refreshed = yield* fetchToken(token)
        expect(refreshed.body.token).toBe(token)
        yield* TestClock.adjust("1 day")
        expect(yield* sim.tokenState(token)).toBe("expired")
        const expired = yield* fetchToken(token)
        expect(expired.status).toBe(401)
        expect(expired.body).toEqual({ detail: "Invalid token." })
      }).pipe(Effect.provide(testLayer({ fetchTokenMode: "same" })))
    )

    it.effect("restarts the lifetime of the same token in mode same-extend", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
        yield* TestClock.adjust("6 days")
        expect((yield* fetchToken(token)).body.token).toBe(token)
        yield* TestClock.adjust("6 days")
        expect(yield* sim.tokenState(token)).toBe("valid")
        yield* TestClock.adjust("1 day")
        expect(yield* sim.tokenState(token)).toBe("expired")
      }).pipe(Effect.provide(testLayer({ fetchTokenMode: "same-extend" })))
    )

    it.effect("changes mode at runtime", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
        yield* sim.setFetchTokenMode("same")
        expect((yield* fetchToken(token)).body.token).toBe(token)
        yield* sim.setFetchTokenMode("rotate")
        expect((yield* fetchToken(token)).body.token).not.toBe(token)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("scopes the answer to org_id, and forbids orgs the user is not in", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* sim.setFetchTokenMode("same")
        const token = yield* sim.issueToken(accounts.multiOrg.username)
        const scoped = yield* fetchToken(token, 2)
        expect(scoped.status).toBe(200)
        expect(scoped.body.org_id).toBe(2)
        expect(scoped.body.orgs).toEqual([expect.objectContaining({ id: 2, name: orgs.second.name })])
        const unscoped = yield* fetchToken(token)
        expect(unscoped.body.org_id).toBe(1)
        expect(unscoped.body.orgs.map((org: { id: number }) => org.id)).toEqual([1, 2])

        const forbidden = yield* fetchToken(token, 3)
        expect(forbidden.status).toBe(403)
        expect(forbidden.body).toEqual({ detail: "You do not have permission to perform this action." })
        expect((yield* fetchToken(token, 999)).status).toBe(403)
        const invalid = yield* call("GET", "/api/fetch_token/?org_id=abc", { token })
        expect(invalid.status).toBe(400)
        expect(invalid.body).toEqual({ org_id: ["A valid integer is required."] })
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("expires a standard token 7 days after issue on the layer's Clock", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        yield* TestClock.adjust(Duration.toMillis("7 days") - 1)
        expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(200)
        yield* TestClock.adjust(1)
        expect(yield* sim.tokenState(token)).toBe("expired")
        const reply = yield* fetchToken(token)
        expect(reply.status).toBe(401)
        expect(reply.headers["www-authenticate"]).toBe('Bearer realm="api"')
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("follows the tokenLifetime option", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        yield* TestClock.adjust("59 minutes")
        expect(yield* sim.tokenState(token)).toBe("valid")
        yield* TestClock.adjust("1 minute")
        expect(yield* sim.tokenState(token)).toBe("expired")
      }).pipe(Effect.provide(testLayer({ tokenLifetime: "1 hour" })))
    )

    it.effect("never expires the machine user's tokens", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const loggedIn = (yield* login(accounts.machine.username, accounts.machine.password)).body
        expect(loggedIn.user.is_machine_user).toBe(true)
        yield* TestClock.adjust("400 days")
        expect((yield* call("GET", "/api/orgs/1/", { token: accounts.machine.token })).status).toBe(200)
        expect((yield* call("GET", "/api/orgs/1/", { token: loggedIn.token })).status).toBe(200)
        yield* sim.setFetchTokenMode("same")
        const refreshed = yield* fetchToken(accounts.machine.token)
        expect(refreshed.status).toBe(200)
        expect(refreshed.body.token).toBe(accounts.machine.token)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("distinguishes missing, malformed and invalid credentials", () =>
      Effect.gen(function* () {
        const none = yield* call("GET", "/api/fetch_token/")
        expect(none.status).toBe(401)
        expect(none.body).toEqual({ detail: "Authentication credentials were not provided." })
        expect(none.headers["www-authenticate"]).toBe('Bearer realm="api"')
        const basic = yield* call("GET", "/api/fetch_token/", { authorization: "Basic YXJuaWU6Y2hvcHBlcg==" })
        expect(basic.body).toEqual({ detail: "Authentication credentials were not provided." })
        const empty = yield* call("GET", "/api/fetch_token/", { authorization: "Bearer" })
        expect(empty.status).toBe(401)
        expect(empty.body.detail).toMatch(/No credentials provided/)
        const spaced = yield* call("GET", "/api/fetch_token/", { authorization: "Bearer a b" })
        expect(spaced.body.detail).toMatch(/should not contain spaces/)
        const unknown = yield* fetchToken("0123456789abcdef0123456789abcdef01234567")
        expect(unknown.status).toBe(401)
        expect(unknown.body).toEqual({ detail: "Invalid token." })
        const lowercase = yield* call("GET", "/api/fetch_token/", { authorization: `bearer ${accounts.machine.token}` })
        expect(lowercase.status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("revocation", () => {
    it.effect("revokes one token", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        const other = yield* sim.issueToken(accounts.example.username)
        yield* sim.revokeToken(token)
        expect((yield* fetchToken(token)).status).toBe(401)
        expect(yield* sim.tokenState(token)).toBe("revoked")
        expect(yield* sim.tokenState(other)).toBe("valid")
        yield* sim.revokeToken("not-a-token")
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("revokes every token of a user, including the machine user's seeded token", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const a = (yield* login(accounts.machine.username, accounts.machine.password)).body.token
        const b = yield* sim.issueToken(accounts.machine.username)
        yield* sim.revokeToken(b)
        expect(yield* sim.revokeUserTokens(accounts.machine.username)).toBe(2)
        for (const token of [a, b, accounts.machine.token]) {
          expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(401)
        }
        expect((yield* login(accounts.machine.username, accounts.machine.password)).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("PATCH /auth/users/{id}/", () => {
    it.effect("makes the token's own user a machine user, whose existing tokens stop expiring", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
        const reply = yield* call("PATCH", "/auth/users/1/", { token, json: { is_machine_user: true } })
        expect(reply.status).toBe(200)
        expect(reply.body).toMatchObject({
          url: `${sim.url}/auth/users/1/`,
          email: accounts.example.username,
          is_machine_user: true
        })
        yield* TestClock.adjust("30 days")
        expect(yield* sim.tokenState(token)).toBe("valid")
        expect((yield* login(accounts.example.username, accounts.example.password)).body.user.is_machine_user).toBe(
          true
        )

        const back = yield* call("PATCH", "/auth/users/1/", { token, json: { is_machine_user: false } })
        expect(back.body.is_machine_user).toBe(false)
        expect(yield* sim.tokenState(token)).toBe("expired")
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("refuses other users, missing credentials, bad bodies and bad ids", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        const other = yield* call("PATCH", "/auth/users/2/", { token, json: { is_machine_user: true } })
        expect(other.status).toBe(403)
        expect(other.body).toEqual({ detail: "You do not have permission to perform this action." })
        const anonymous = yield* call("PATCH", "/auth/users/1/", { json: { is_machine_user: true } })
        expect(anonymous.status).toBe(401)
        const notBoolean = yield* call("PATCH", "/auth/users/1/", { token, json: { is_machine_user: "maybe" } })
        expect(notBoolean.status).toBe(400)
        expect(notBoolean.body).toEqual({ is_machine_user: ["Must be a valid boolean."] })
        const plain = yield* call("PATCH", "/auth/users/1/", {
          token,
          text: "is_machine_user",
          contentType: "text/plain"
        })
        expect(plain.status).toBe(400)
        expect((yield* call("PATCH", "/auth/users/me/", { token, json: {} })).status).toBe(404)
        const get = yield* call("GET", "/auth/users/1/", { token })
        expect(get.status).toBe(405)
        expect(get.headers.allow).toBe("PATCH")
        const unchanged = yield* call("PATCH", "/auth/users/1/", { token, json: {} })
        expect(unchanged.body.is_machine_user).toBe(false)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("org resources", () => {
    it.effect("answer 200 to members of an org with API access", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        const org = yield* call("GET", "/api/orgs/1/", { token })
        expect(org.status).toBe(200)
        expect(org.body).toMatchObject({ id: 1, name: orgs.main.name, url: `${sim.url}/api/orgs/1/` })
        const projects = yield* call("GET", "/api/orgs/1/projects/", { token })
        expect(projects.status).toBe(200)
        expect(Array.isArray(projects.body)).toBe(true)
        expect(projects.body.length).toBeGreaterThan(1)
        expect(projects.body[0]).toMatchObject({ id: expect.any(Number), title: expect.any(String), org_id: 1 })

        const multi = yield* sim.issueToken(accounts.multiOrg.username)
        expect((yield* call("GET", "/api/orgs/2/projects/", { token: multi })).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("answer 401 without a valid token, 403 to non-members, 402 without API Access", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const anonymous = yield* call("GET", "/api/orgs/1/")
        expect(anonymous.status).toBe(401)
        expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="api"')
        const bogus = yield* call("GET", "/api/orgs/1/projects/", { token: "bogus" })
        expect(bogus.status).toBe(401)

        const arnie = yield* sim.issueToken(accounts.example.username)
        const forbidden = yield* call("GET", "/api/orgs/2/", { token: arnie })
        expect(forbidden.status).toBe(403)
        expect((yield* call("GET", "/api/orgs/3/projects/", { token: arnie })).status).toBe(403)

        const miles = yield* sim.issueToken(accounts.noApiAccess.username)
        const unpaid = yield* call("GET", "/api/orgs/3/projects/", { token: miles })
        expect(unpaid.status).toBe(402)
        expect(unpaid.body).toEqual({ detail: "API Access is not enabled for this organisation." })
        expect((yield* call("GET", "/api/orgs/3/", { token: miles })).status).toBe(402)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("bad requests", () => {
    it.effect("answers malformed JSON with a DRF parse error", () =>
      Effect.gen(function* () {
        const reply = yield* call("POST", "/api-token-auth/", {
          text: '{"username": ',
          contentType: "application/json"
        })
        expect(reply.status).toBe(400)
        expect(reply.body.detail).toMatch(/^JSON parse error - /)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("never quotes a malformed body, so a password in it stays out of the answer", () =>
      Effect.gen(function* () {
        const password = "Zq7!chopper#Xv2"
        const truncated = `{"username": "arnie@illbeback.com", "password": "${password}`
        const unquoted = `{"username": "arnie@illbeback.com", "password": ${password}}`
        const trailing = `{"password": "${password}"} ${password}`

        for (const text of [truncated, unquoted, trailing]) {
          const reply = yield* call("POST", "/api-token-auth/", { text, contentType: "application/json" })
          expect(reply.status).toBe(400)
          expect(reply.body.detail).toMatch(/^JSON parse error - Expecting valid JSON( \(char \d+\))?\.$/)
          for (let start = 0; start + 4 <= password.length; start++) {
            expect(JSON.stringify(reply.body)).not.toContain(password.slice(start, start + 4))
          }
        }
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("names each missing, blank or mistyped field", () =>
      Effect.gen(function* () {
        const missing = yield* call("POST", "/api-token-auth/", { json: {} })
        expect(missing.status).toBe(400)
        expect(missing.body).toEqual({ username: ["This field is required."], password: ["This field is required."] })
        const blank = yield* call("POST", "/api-token-auth/", { json: { username: "", password: "x" } })
        expect(blank.body).toEqual({ username: ["This field may not be blank."] })
        const typed = yield* call("POST", "/api-token-auth/", { json: { username: { a: 1 }, password: "x" } })
        expect(typed.body).toEqual({ username: ["Not a valid string."] })
        const list = yield* call("POST", "/api-token-auth/", { json: [1] })
        expect(list.body).toEqual({ non_field_errors: ["Invalid data. Expected a dictionary, but got list."] })
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("answers an unsupported or missing content type with a 400 naming the accepted ones", () =>
      Effect.gen(function* () {
        const plain = yield* call("POST", "/api-token-auth/", { text: "arnie", contentType: "text/plain" })
        expect(plain.status).toBe(400)
        expect(plain.body).toEqual({
          detail:
            'Unsupported media type "text/plain" in request. ' +
            'Send the body as "application/json" or "application/x-www-form-urlencoded".'
        })

        const untyped = yield* call("POST", "/api-token-auth/", { text: "arnie", contentType: "" })
        expect(untyped.status).toBe(400)
        expect(untyped.body.detail).toMatch(/^No media type in request\. Send the body as "application\/json"/)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("answers unknown paths, missing trailing slashes and wrong methods like DRF", () =>
      Effect.gen(function* () {
        const unknown = yield* call("GET", "/api/nothing/")
        expect(unknown.status).toBe(404)
        expect(unknown.body).toEqual({ detail: "Not found." })
        expect((yield* call("POST", "/api-token-auth", { json: {} })).status).toBe(404)
        const get = yield* call("GET", "/api-token-auth/")
        expect(get.status).toBe(405)
        expect(get.body).toEqual({ detail: 'Method "GET" not allowed.' })
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("response shapes", () => {
    it.effect("carries the user as a URL string when asked", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const reply = yield* login(accounts.example.username, accounts.example.password)
        expect(reply.body.user).toBe(`${sim.url}/auth/users/1/`)
        expect(reply.body.org_id).toBe(1)
      }).pipe(Effect.provide(testLayer({ userShape: "url" })))
    )

    it.effect("leaves org information out when asked, and switches at runtime", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const omitted = yield* login(accounts.example.username, accounts.example.password)
        expect(omitted.body).not.toHaveProperty("org_id")
        expect(omitted.body).not.toHaveProperty("orgs")
        expect(omitted.body.user).toMatchObject({ id: 1 })

        yield* sim.setResponseShape({ orgInfo: "top-level", userShape: "url" })
        const full = yield* fetchToken(omitted.body.token)
        expect(full.body.org_id).toBe(1)
        expect(typeof full.body.user).toBe("string")
      }).pipe(Effect.provide(testLayer({ orgInfo: "omitted" })))
    )
  })

  describe("request log", () => {
    it.effect("records every API request in order with the token's state when it arrived", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* TestClock.setTime(Date.parse("2026-05-01T00:00:00Z"))
        const token = (yield* login(accounts.example.username, accounts.example.password)).body.token
        yield* call("GET", "/api/orgs/1/", { token })
        const refreshed = (yield* fetchToken(token)).body.token
        yield* fetchToken(token)
        yield* TestClock.adjust("8 days")
        yield* call("GET", "/api/orgs/1/projects/?page=2", { token: refreshed })
        yield* call("GET", "/api/orgs/1/", { token: "nonsense" })
        yield* call("GET", "/elsewhere/")
        yield* call("GET", "/__simulator/log")

        const log = yield* sim.requestLog
        expect(log.map((entry) => [entry.method, entry.endpoint, entry.status, entry.tokenState])).toEqual([
          ["POST", "login", 200, "none"],
          ["GET", "org", 200, "valid"],
          ["GET", "fetchToken", 200, "valid"],
          ["GET", "fetchToken", 401, "revoked"],
          ["GET", "projects", 401, "expired"],
          ["GET", "org", 401, "unknown"],
          ["GET", "unknown", 404, "none"]
        ])
        expect(log[4]!.path).toBe("/api/orgs/1/projects/")
        expect(log[4]!.search).toBe("?page=2")
        expect(DateTime.formatIso(log[0]!.time)).toBe("2026-05-01T00:00:00.000Z")
        expect(DateTime.formatIso(log[4]!.time)).toBe("2026-05-09T00:00:00.000Z")
        expect(Option.map(log[1]!.token, Redacted.value)).toEqual(Option.some(token))
        expect(Option.isNone(log[0]!.token)).toBe(true)
        expect(String(Option.getOrThrow(log[1]!.token))).not.toContain(token)

        yield* sim.clearLog
        expect(yield* sim.requestLog).toEqual([])
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("clock", () => {
    it.effect("reads the Clock of the fiber that built the layer, plus advanceClock offsets", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
        expect(DateTime.formatIso(yield* sim.now)).toBe("2026-01-01T00:00:00.000Z")
        const token = yield* sim.issueToken(accounts.example.username)
        yield* sim.advanceClock("6 days")
        yield* TestClock.adjust("1 day")
        expect(DateTime.formatIso(yield* sim.now)).toBe("2026-01-08T00:00:00.000Z")
        expect(yield* sim.tokenState(token)).toBe("expired")
        expect((yield* call("GET", "/api/orgs/1/", { token })).status).toBe(401)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  describe("control operations", () => {
    it.effect("adds users and orgs", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const org = yield* sim.addOrg({ name: "Skynet Storage", apiAccess: false })
        expect(org).toEqual({ id: 4, name: "Skynet Storage", apiAccess: false })
        const user = yield* sim.addUser({
          username: "Dani@Resistance.example",
          password: "darkfate",
          orgIds: [org.id, 7],
          isMachineUser: true
        })
        expect(user).toEqual({
          id: 6,
          username: "dani@resistance.example",
          orgIds: [4, 7],
          isMachineUser: true,
          mfaEnabled: false
        })
        const reply = yield* login("dani@resistance.example", "darkfate")
        expect(reply.body.orgs.map((o: { id: number }) => o.id)).toEqual([4, 7])
        expect((yield* call("GET", "/api/orgs/4/", { token: reply.body.token })).status).toBe(402)
        expect((yield* call("GET", "/api/orgs/7/", { token: reply.body.token })).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("dies on mistakes in a test", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const defect = <A>(effect: Effect.Effect<A>) =>
          Effect.map(Effect.exit(effect), (exit) => {
            assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
            return Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
          })
        expect(yield* defect(sim.addUser({ username: accounts.example.username, password: "x" }))).toMatch(
          /already named/
        )
        expect(yield* defect(sim.issueToken("nobody@nowhere.example"))).toMatch(/No simulator user/)
        expect(yield* defect(sim.totpCode(accounts.example.username))).toMatch(/no two-factor/)
        expect(yield* defect(sim.addOrg({ id: 1, name: "again" }))).toMatch(/already has the id 1/)
      }).pipe(Effect.provide(testLayer()))
    )

    it.effect("reset restores the seeded state", () =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const token = yield* sim.issueToken(accounts.example.username)
        yield* sim.addUser({ username: "kyle@resistance.example", password: "comewithme" })
        yield* sim.advanceClock("1 day")
        yield* sim.setFetchTokenMode("same")
        yield* call("GET", "/api/orgs/1/", { token })
        yield* sim.reset
        expect(yield* sim.requestLog).toEqual([])
        expect(yield* sim.tokenState(token)).toBe("unknown")
        expect((yield* login("kyle@resistance.example", "comewithme")).status).toBe(400)
        const fresh = (yield* login(accounts.example.username, accounts.example.password)).body.token
        expect((yield* fetchToken(fresh)).body.token).not.toBe(fresh)
        expect((yield* call("GET", "/api/orgs/1/", { token: accounts.machine.token })).status).toBe(200)
      }).pipe(Effect.provide(testLayer()))
    )
  })

  it.effect("answers over a plain fetch as well", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      const response = yield* Effect.promise(() =>
        fetch(`${sim.url}/api-token-auth/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: accounts.example.username, password: accounts.example.password })
        })
      )
      expect(response.status).toBe(200)
      const failed = yield* attempt("GET", "/api/orgs/1/")
      expect(failed.status).toBe(401)
    }).pipe(Effect.provide(Layer.merge(Simulator.layer(), NodeHttpClient.layerUndici)))
  )
})
