import { describe, expect, it } from "@effect/vitest"
import * as AuthError from "../../src/AuthError.js"
import * as ExitCode from "../../src/cli/ExitCode.js"

describe("ExitCode", () => {
  it("gives every AuthError a code of its class, and the CLI's own errors theirs", () => {
    const expected: Record<string, number> = {
      InvalidCredentials: 3,
      TokenRejected: 3,
      MfaRequired: 4,
      InvalidMfaCode: 4,
      MfaCodeUnavailable: 4,
      RateLimited: 5,
      TransportError: 6,
      RequestTimeout: 6,
      ServerError: 6,
      ConfigurationError: 2,
      ApiAccessNotEnabled: 1,
      Forbidden: 1,
      UnexpectedResponse: 1
    }
    const tags = AuthError.AuthError.members.map((member) => member._tag)

    expect(Object.fromEntries(tags.map((tag) => [tag, ExitCode.forTag(tag)]))).toEqual(expected)
    expect(ExitCode.forTag("UsageError")).toBe(2)
    expect(ExitCode.forTag("TokenStoreError")).toBe(1)
    expect(ExitCode.forTag("Cancelled")).toBe(ExitCode.interrupted)
    expect(ExitCode.forTag("SomethingElse")).toBe(1)
  })

  it("lists each tag under one code only, in numeric order, and documents every code in the table", () => {
    const tags = ExitCode.exitCodes.flatMap((entry) => entry.errors)
    const codes = ExitCode.exitCodes.map((entry) => entry.code)

    expect(new Set(tags).size).toBe(tags.length)
    expect(codes).toEqual([...codes].sort((a, b) => a - b))
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 130])
    for (const entry of ExitCode.exitCodes) {
      expect(ExitCode.table()).toContain(`${String(entry.code).padStart(3)}  ${entry.name}`)
    }
  })
})
