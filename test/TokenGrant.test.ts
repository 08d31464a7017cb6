import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Option, Schema } from "effect"
import { inspect } from "node:util"
import * as BearerToken from "../src/BearerToken.js"
import * as TokenGrant from "../src/TokenGrant.js"

const firstText = "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"
const secondText = "s_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
const issuedMillis = Date.UTC(2025, 0, 1)
const day = Duration.toMillis(Duration.days(1))

const grant = (
  text: string,
  issued: number,
  overrides: Partial<ConstructorParameters<typeof TokenGrant.TokenGrant>[0]> = {}
): TokenGrant.TokenGrant => {
  const issuedAt = DateTime.unsafeMake(issued)
  return new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(text),
    issuedAt,
    expiresAt: Option.some(DateTime.addDuration(issuedAt, TokenGrant.standardLifetime)),
    user: new TokenGrant.GrantUser({ id: 7, email: "arnie@illbeback.com" }),
    org: Option.some(new TokenGrant.GrantOrg({ id: 1, name: "One" })),
    orgs: [new TokenGrant.GrantOrg({ id: 1, name: "One" })],
    strategy: "password",
    ...overrides
  })
}

const millis = (date: Option.Option<DateTime.Utc>) => Option.map(date, DateTime.toEpochMillis)

describe("TokenGrant", () => {
  it("lives 7 days by default", () => {
    expect(Duration.toMillis(TokenGrant.standardLifetime)).toBe(7 * day)
    expect(millis(grant(firstText, issuedMillis).expiresAt)).toEqual(Option.some(issuedMillis + 7 * day))
  })

  it("is expired from its expiry on, counting the margin as expired", () => {
    const standard = grant(firstText, issuedMillis)
    const expiry = issuedMillis + 7 * day

    expect(TokenGrant.isExpiredAt(standard, expiry - 1)).toBe(false)
    expect(TokenGrant.isExpiredAt(standard, expiry)).toBe(true)
    expect(TokenGrant.isExpiredAt(standard, expiry - 59_000, Duration.seconds(60))).toBe(true)
    expect(TokenGrant.isExpiredAt(standard, expiry - 61_000, Duration.seconds(60))).toBe(false)
  })

  it("never expires without an expiry", () => {
    const permanent = grant(firstText, issuedMillis, { expiresAt: Option.none() })

    expect(permanent.isPermanent).toBe(true)
    expect(TokenGrant.isExpiredAt(permanent, issuedMillis + 10_000 * day, Duration.days(365))).toBe(false)
    expect(TokenGrant.withLifetime(permanent, Duration.hours(1))).toBe(permanent)
  })

  it("sets a lifetime from the issue time", () => {
    const shortened = TokenGrant.withLifetime(grant(firstText, issuedMillis), Duration.hours(1))
    expect(millis(shortened.expiresAt)).toEqual(Option.some(issuedMillis + 3_600_000))
  })

  describe("continueFrom", () => {
    it("takes the new grant when there is no previous one", () => {
      const next = grant(firstText, issuedMillis)
      expect(TokenGrant.continueFrom(Option.none(), next)).toBe(next)
    })

    it("keeps the issue and expiry times when the same token comes back", () => {
      const previous = grant(firstText, issuedMillis)
      const next = grant(firstText, issuedMillis + 3 * day, {
        user: new TokenGrant.GrantUser({ url: "https://api.opensolar.com/auth/users/7/" }),
        org: Option.none(),
        orgs: [],
        strategy: "session"
      })

      const continued = TokenGrant.continueFrom(Option.some(previous), next)

      expect(DateTime.toEpochMillis(continued.issuedAt)).toBe(issuedMillis)
      expect(millis(continued.expiresAt)).toEqual(Option.some(issuedMillis + 7 * day))
      expect({ ...continued.user }).toEqual({
        id: 7,
        email: "arnie@illbeback.com",
        url: "https://api.opensolar.com/auth/users/7/"
      })
      expect(Option.map(continued.org, (org) => org.id)).toEqual(Option.some(1))
      expect(continued.orgs).toHaveLength(1)
      expect(continued.strategy).toBe("session")
    })

    it("starts a new lifetime when the token is new", () => {
      const previous = grant(firstText, issuedMillis)
      const next = grant(secondText, issuedMillis + 3 * day, { org: Option.none(), orgs: [] })

      const continued = TokenGrant.continueFrom(Option.some(previous), next)

      expect(continued).toBe(next)
      expect(millis(continued.expiresAt)).toEqual(Option.some(issuedMillis + 10 * day))
      expect(continued.org).toEqual(Option.none())
    })

    it("becomes permanent when the same token comes back for a machine user", () => {
      const previous = grant(firstText, issuedMillis)
      const next = grant(firstText, issuedMillis + day, {
        expiresAt: Option.none(),
        user: new TokenGrant.GrantUser({ isMachineUser: true })
      })

      const continued = TokenGrant.continueFrom(Option.some(previous), next)

      expect(continued.isPermanent).toBe(true)
      expect(DateTime.toEpochMillis(continued.issuedAt)).toBe(issuedMillis)
      expect(continued.user.isMachineUser).toBe(true)
      expect(continued.user.id).toBe(7)
    })
  })

  it("survives encoding for storage, and never prints its token", () => {
    const original = grant(firstText, issuedMillis)
    const encoded = Schema.encodeSync(TokenGrant.TokenGrant)(original)
    const decoded = Schema.decodeUnknownSync(TokenGrant.TokenGrant)(JSON.parse(JSON.stringify(encoded)))

    expect(BearerToken.equals(decoded.token, original.token)).toBe(true)
    expect(DateTime.toEpochMillis(decoded.issuedAt)).toBe(issuedMillis)
    expect(millis(decoded.expiresAt)).toEqual(millis(original.expiresAt))
    expect(decoded.fingerprint).toBe(original.fingerprint)
    for (const printed of [String(original), JSON.stringify(original), inspect(original, { depth: 5 })]) {
      expect(printed).not.toContain(firstText)
    }
  })
})
