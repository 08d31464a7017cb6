import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted } from "effect"
import { inspect } from "node:util"
import * as BearerToken from "../src/BearerToken.js"

describe("BearerToken", () => {
  it("accepts any non-empty text without white space, whatever its shape", () => {
    for (const text of ["d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002", "s_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "x"]) {
      const token = BearerToken.fromString(text)
      expect(Either.isRight(token)).toBe(true)
    }
  })

  it("refuses empty text and text with white space, naming the rule", () => {
    for (const text of ["", " ", "abc def", "abc\n", "\tabc"]) {
      const token = BearerToken.fromString(text)
      expect(Either.isLeft(token)).toBe(true)
      if (Either.isLeft(token)) {
        expect(token.left.message).toContain("non-empty string without white space")
      }
    }
  })

  it.prop("never prints its text through String, JSON or inspect", [BearerToken.BearerTokenText], ([generated]) => {
    const text = `canary${generated}`
    const token = BearerToken.unsafeMake(text)
    const printed = [String(token), JSON.stringify({ token }), inspect(token), inspect({ nested: { token } })]
    for (const output of printed) {
      expect(output).not.toContain(text)
    }
  })

  it("names a token by a stable fingerprint that differs between tokens", () => {
    const one = BearerToken.unsafeMake("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")
    const two = BearerToken.unsafeMake("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94003")
    expect(BearerToken.fingerprint(one)).toMatch(/^tok_[0-9a-f]{8}$/)
    expect(BearerToken.fingerprint(one)).toBe(BearerToken.fingerprint(one))
    expect(BearerToken.fingerprint(one)).not.toBe(BearerToken.fingerprint(two))
  })

  it("cannot be confused with a plain string or a Nearmap imagery token", () => {
    const useOpenSolarToken = (token: BearerToken.BearerToken) => BearerToken.value(token)
    const nearmap: BearerToken.NearmapImageryToken = Redacted.make("nearmap") as BearerToken.NearmapImageryToken

    // @ts-expect-error a Nearmap imagery token is not an OpenSolar bearer token
    expect(() => useOpenSolarToken(nearmap)).not.toThrow()
    // @ts-expect-error a plain string is not a bearer token
    expect(() => useOpenSolarToken("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")).toThrow()
    // @ts-expect-error an unbranded redacted string is not a bearer token
    expect(() => useOpenSolarToken(Redacted.make("abc"))).not.toThrow()
  })
})
