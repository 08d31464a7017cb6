import { describe, expect, it } from "@effect/vitest"
import { Duration, Either, FastCheck as fc, Option, Redacted } from "effect"
import * as BearerToken from "../../src/BearerToken.js"
import * as wire from "../../src/internal/wire.js"

const now = Date.UTC(2025, 5, 1, 12, 0, 0)

const token = "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"

const decodedOrThrow = (json: unknown) =>
  Either.getOrThrowWith(wire.decodeTokenResponse(json), (reason) => new Error(reason))

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(wire.parseRetryAfter("120", now)).toEqual(Option.some(Duration.seconds(120)))
    expect(wire.parseRetryAfter(" 0 ", now)).toEqual(Option.some(Duration.seconds(0)))
  })

  it("reads the three HTTP date forms relative to now", () => {
    const inOneMinute = Option.some(Duration.millis(60_000))
    expect(wire.parseRetryAfter("Sun, 01 Jun 2025 12:01:00 GMT", now)).toEqual(inOneMinute)
    expect(wire.parseRetryAfter("Sunday, 01-Jun-25 12:01:00 GMT", now)).toEqual(inOneMinute)
    expect(wire.parseRetryAfter("Sun Jun  1 12:01:00 2025", now)).toEqual(inOneMinute)
  })

  it("gives nothing for absent, invalid, negative or past values", () => {
    for (const header of [
      undefined,
      "",
      "soon",
      "-5",
      "1.5",
      "12abc",
      "Sun, 31 Feb 2025 12:00:00 GMT",
      "Sun, 01 Jun 2025 25:00:00 GMT",
      "Sun, 01 Jun 2025 11:59:00 GMT",
      "2025-06-01T12:05:00Z"
    ]) {
      expect(wire.parseRetryAfter(header, now)).toEqual(Option.none())
    }
  })

  it.prop(
    "round-trips delta-seconds",
    [fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 4_000_000_000_000 })],
    ([seconds, nowMillis]) => {
      expect(wire.parseRetryAfter(String(seconds), nowMillis)).toEqual(Option.some(Duration.seconds(seconds)))
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "round-trips HTTP dates and is never negative",
    [fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 4_000_000_000_000 })],
    ([dateSeconds, nowMillis]) => {
      const dateMillis = dateSeconds * 1000
      const header = new Date(dateMillis).toUTCString()
      const parsed = wire.parseRetryAfter(header, nowMillis)
      if (dateMillis >= nowMillis) {
        expect(parsed).toEqual(Option.some(Duration.millis(dateMillis - nowMillis)))
      } else {
        expect(parsed).toEqual(Option.none())
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "never yields a negative duration for any header",
    [fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 4_000_000_000_000 })],
    ([header, nowMillis]) => {
      const parsed = wire.parseRetryAfter(header, nowMillis)
      if (Option.isSome(parsed)) {
        expect(Duration.toMillis(parsed.value)).toBeGreaterThanOrEqual(0)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("excerpt", () => {
  it("collapses white space and cuts long bodies short", () => {
    const body = `<html>\n  <head>\n\t<title>502 Bad Gateway</title>${" filler".repeat(40)}`
    const sample = wire.excerpt(body)!
    expect(sample.startsWith("<html> <head> <title>502 Bad Gateway</title>")).toBe(true)
    expect(sample.length).toBeLessThanOrEqual(80)
    expect(sample.endsWith("…")).toBe(true)
  })

  it("replaces every run of 16 or more token characters", () => {
    expect(wire.excerpt(`token=${token}; next`)).toBe("token=…; next")
    expect(wire.excerpt("short_run-of-15")).toBe("short_run-of-15")
    expect(wire.excerpt("a_run-of-sixteen")).toBe("…")
    expect(wire.excerpt("<b>eyJhbGciOi.eyJzdWIi.c2ln~+/=</b>")).toBe("<b>…</b>")
  })

  it("removes every occurrence of a value the body labels as a token, whatever its characters", () => {
    const opaque = "Ab:12!x@y"
    expect(wire.excerpt(`<p>Bearer ${opaque}</p><p>retry with ${opaque} later</p>`)).toBe(
      "<p>Bearer …</p><p>retry with … later</p>"
    )
    expect(wire.excerpt(`<a href="/login?access_token=${opaque}&next=1">`)).toBe(
      '<a href="/login?access_token=…&next=1">'
    )
    expect(wire.excerpt(`{"token": "${opaque}"`)).toBe('{"token": "…"')
  })

  it("removes the request's secrets even when they are short or contain spaces", () => {
    expect(wire.excerpt("wrong password: hunter 2!", [Redacted.make("hunter 2!")])).toBe("wrong password: …")
  })

  it("gives nothing for a blank body", () => {
    expect(wire.excerpt(" \n\t")).toBeUndefined()
  })

  it.prop(
    "never contains a secret or a long token-like run",
    [fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 })],
    ([secret, before, after]) => {
      const canary = `canary${secret}`
      const sample = wire.excerpt(`${before}${canary}${after}`, [Redacted.make(canary)]) ?? ""
      expect(sample).not.toContain(canary)
      expect(sample).not.toMatch(/[A-Za-z0-9_.~+/=-]{16,}/)
      expect(sample.length).toBeLessThanOrEqual(80)
    },
    { fastCheck: { numRuns: 200 } }
  )

  // Tokens are drawn from characters the surrounding text never uses, so any run of them in a sample is a fragment.
  const tokenCharacters = "[A-Z0-9._~+/=:!*$@%-]"
  const forms: ReadonlyArray<(token: string) => string> = [
    (token) => `<p>Authorization: Bearer ${token}</p>`,
    (token) => `<form action="/x?access_token=${token}&y=1">`,
    (token) => `<pre>{"token": "${token}", "user": 1}</pre>`,
    (token) => `<i>${token}</i>`
  ]

  it.prop(
    "never contains a fragment of the request's token or of a token the body labels as one",
    [
      fc.stringMatching(new RegExp(`^${tokenCharacters}{8,60}$`)),
      fc.integer({ min: 0, max: forms.length - 1 }),
      fc.boolean(),
      fc.stringMatching(/^[ <>"a-z\n]{0,60}$/),
      fc.stringMatching(/^[ <>"a-z\n]{0,60}$/)
    ],
    ([token, form, sentWithRequest, before, after]) => {
      const secrets = sentWithRequest ? [Redacted.make(token)] : []
      const body = `${before}${forms[form]!(token)} ${after} ${token} ${after}`
      const sample = wire.excerpt(body, secrets) ?? ""
      const known = sentWithRequest || form < forms.length - 1
      if (known) {
        expect(sample).not.toMatch(new RegExp(`${tokenCharacters}{3,}`))
      } else {
        expect(sample).not.toMatch(/[A-Za-z0-9_.~+/=-]{16,}/)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("decodeTokenResponse", () => {
  it("reads the documented answer, keeping unknown fields and removing the token", () => {
    const response = decodedOrThrow({ token, user: { id: 7, email: "arnie@illbeback.com" }, extra: [1, 2] })
    expect(BearerToken.value(response.token)).toBe(token)
    expect(response.user.id).toBe(7)
    expect(response.user.email).toBe("arnie@illbeback.com")
    expect(response.fields).toEqual({ user: { id: 7, email: "arnie@illbeback.com" }, extra: [1, 2] })
    expect(response.org).toEqual(Option.none())
    expect(response.orgs).toEqual([])
  })

  it("reads a user object, ignoring unknown keys and fields of the wrong type", () => {
    const response = decodedOrThrow({
      token,
      user: { id: "12", email: 5, is_machine_user: true, url: "https://x/auth/users/12/", first_name: "Arnie" }
    })
    expect({ ...response.user }).toEqual({ id: 12, isMachineUser: true, url: "https://x/auth/users/12/" })
  })

  it("reads a user given as a URL string, with or without an id in it", () => {
    const withId = decodedOrThrow({ token, user: "https://api.opensolar.com/auth/users/42/" })
    expect({ ...withId.user }).toEqual({ id: 42, url: "https://api.opensolar.com/auth/users/42/" })
    const withoutId = decodedOrThrow({ token, user: "https://api.opensolar.com/me" })
    expect({ ...withoutId.user }).toEqual({ url: "https://api.opensolar.com/me" })
  })

  it("reads the organisation from org_id, org or orgs", () => {
    const orgs = [{ id: 1, name: "One" }, 2, "https://api.opensolar.com/api/orgs/3/", { name: "no id" }]
    const byId = decodedOrThrow({ token, org_id: 2, orgs })
    expect(byId.orgs.map((org) => org.id)).toEqual([1, 2, 3])
    expect(Option.map(byId.org, (org) => org.id)).toEqual(Option.some(2))

    const named = decodedOrThrow({ token, org_id: 1, orgs })
    expect(Option.map(named.org, (org) => org.name)).toEqual(Option.some("One"))

    const asObject = decodedOrThrow({ token, org: { id: 9, name: "Nine" } })
    expect(Option.map(asObject.org, ({ id, name }) => ({ id, name }))).toEqual(Option.some({ id: 9, name: "Nine" }))

    const asUrl = decodedOrThrow({ token, org: "https://api.opensolar.com/api/orgs/5/" })
    expect(Option.map(asUrl.org, (org) => org.id)).toEqual(Option.some(5))

    const single = decodedOrThrow({ token, orgs: [{ id: 4, name: "Four" }] })
    expect(Option.map(single.org, (org) => org.id)).toEqual(Option.some(4))

    const ambiguous = decodedOrThrow({ token, orgs: [1, 2] })
    expect(ambiguous.org).toEqual(Option.none())
  })

  it("refuses anything without a usable token, saying why", () => {
    expect(wire.decodeTokenResponse([token])).toEqual(Either.left("JSON that is not an object"))
    expect(wire.decodeTokenResponse(null)).toEqual(Either.left("JSON that is not an object"))
    for (const json of [{}, { token: "" }, { token: "abc def" }, { token: 42 }, { token: null }]) {
      expect(wire.decodeTokenResponse(json)).toEqual(Either.left("a JSON object without a usable token"))
    }
  })

  it.prop(
    "decodes any JSON object holding a non-empty token without white space",
    [fc.dictionary(fc.string(), fc.jsonValue()), BearerToken.BearerTokenText],
    ([others, text]) => {
      const json = JSON.parse(JSON.stringify({ ...others, token: text }))
      const response = wire.decodeTokenResponse(json)
      expect(Either.isRight(response)).toBe(true)
      if (Either.isRight(response)) {
        expect(BearerToken.value(response.right.token)).toBe(text)
        expect("token" in response.right.fields).toBe(false)
        expect(Object.keys(response.right.fields).sort()).toEqual(
          Object.keys(json)
            .filter((key) => key !== "token")
            .sort()
        )
      }
    },
    { fastCheck: { numRuns: 300 } }
  )
})

describe("decodeMachineUserResponse", () => {
  it("reads the documented answer", () => {
    const response = wire.decodeMachineUserResponse({
      url: "https://api.opensolar.com/auth/users/7/",
      email: "bot@example.com",
      is_machine_user: true
    })
    expect(Either.map(response, ({ isMachineUser, email, url }) => ({ isMachineUser, email, url }))).toEqual(
      Either.right({
        isMachineUser: true,
        email: Option.some("bot@example.com"),
        url: Option.some("https://api.opensolar.com/auth/users/7/")
      })
    )
  })

  it("refuses an answer that does not say whether the user is a machine user", () => {
    expect(wire.decodeMachineUserResponse({ url: "x" })).toEqual(
      Either.left("a JSON object without a boolean is_machine_user")
    )
  })
})
