import { describe, expect, it } from "@effect/vitest"
import { Duration, Option, Schema } from "effect"
import * as AuthError from "../src/AuthError.js"

const request = { method: "GET", url: "https://api.opensolar.com/api/fetch_token/?org_id=3" }

const apiErrors: ReadonlyArray<readonly [AuthError.ApiError, boolean]> = [
  [new AuthError.InvalidCredentials(request), false],
  [new AuthError.MfaRequired(request), false],
  [new AuthError.InvalidMfaCode(request), false],
  [new AuthError.TokenRejected({ ...request, fingerprint: "tok_0123abcd" }), false],
  [new AuthError.ApiAccessNotEnabled(request), false],
  [new AuthError.Forbidden(request), false],
  [new AuthError.RateLimited({ ...request, retryAfterMillis: 30_000 }), true],
  [new AuthError.ServerError({ ...request, status: 503 }), true],
  [new AuthError.TransportError({ ...request, description: "connection refused" }), true],
  [new AuthError.RequestTimeout({ ...request, timeoutMillis: 10_000 }), true],
  [
    new AuthError.UnexpectedResponse({ ...request, status: 200, reason: "a body that is not JSON", excerpt: "<html>" }),
    false
  ]
]

const otherErrors: ReadonlyArray<readonly [AuthError.AuthError, boolean]> = [
  [new AuthError.MfaCodeUnavailable({ reason: "the prompt was cancelled" }), false],
  [new AuthError.ConfigurationError({ reason: "no credentials configured", variables: ["OPENSOLAR_USERNAME"] }), false]
]

describe("AuthError", () => {
  it("says of every error whether it is worth retrying", () => {
    for (const [error, transient] of [...apiErrors, ...otherErrors]) {
      expect([error._tag, error.transient]).toEqual([error._tag, transient])
      expect(AuthError.isTransient(error)).toBe(transient)
    }
  })

  it("names the request's method and URL in every API error's message", () => {
    for (const [error] of apiErrors) {
      expect(error.message).toContain("GET https://api.opensolar.com/api/fetch_token/?org_id=3")
    }
  })

  it("says what happened and what to do", () => {
    const [invalid, mfa, code, rejected, paid, forbidden, limited, server, transport, timeout, unexpected] =
      apiErrors.map(([error]) => error.message)
    expect(invalid).toContain("Forgot Password")
    expect(mfa).toContain("MFA code source")
    expect(code).toContain("clock")
    expect(rejected).toContain("token tok_0123abcd")
    expect(paid).toContain("API Access")
    expect(forbidden).toContain("organisation id")
    expect(limited).toContain("30s")
    expect(server).toContain("503")
    expect(transport).toContain("connection refused")
    expect(timeout).toContain("10s")
    expect(unexpected).toContain('Body began: "<html>"')
    expect(new AuthError.TokenRejected(request).message).toContain("no usable token")
    expect(new AuthError.RateLimited(request).message).not.toContain("wait")
    expect(otherErrors[1]![0].message).toBe("no credentials configured (OPENSOLAR_USERNAME)")
  })

  it("carries the Nearmap hint on invalid credentials", () => {
    const error = new AuthError.InvalidCredentials(request)
    expect(error.hint).toContain("Nearmap")
    expect(error.message).toContain(error.hint)
  })

  it("exposes Retry-After as a duration", () => {
    expect(new AuthError.RateLimited({ ...request, retryAfterMillis: 1500 }).retryAfter).toEqual(
      Option.some(Duration.millis(1500))
    )
    expect(new AuthError.RateLimited(request).retryAfter).toEqual(Option.none())
  })

  it("tells credentials errors, which are never retried, from the rest", () => {
    const credentials = apiErrors.filter(([error]) => AuthError.isCredentialsError(error)).map(([error]) => error._tag)
    expect(credentials).toEqual(["InvalidCredentials", "MfaRequired", "InvalidMfaCode"])
  })

  it("recognises its own errors and nothing else", () => {
    for (const [error] of [...apiErrors, ...otherErrors]) {
      expect(AuthError.isAuthError(error)).toBe(true)
    }
    for (const value of [new Error("x"), { _tag: "Forbidden" }, null, "Forbidden"]) {
      expect(AuthError.isAuthError(value)).toBe(false)
    }
  })

  it("round-trips through its schema, for crossing process boundaries", () => {
    for (const [error] of [...apiErrors, ...otherErrors]) {
      const encoded = JSON.parse(JSON.stringify(Schema.encodeSync(AuthError.AuthError)(error)))
      const decoded = Schema.decodeUnknownSync(AuthError.AuthError)(encoded)
      expect(decoded._tag).toBe(error._tag)
      expect(decoded.message).toBe(error.message)
    }
  })
})
