import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import { inspect } from "node:util"
import * as Credentials from "../src/Credentials.js"

const refusal = <A, I>(schema: Schema.Schema<A, I>, input: unknown): string =>
  Either.match(Schema.decodeUnknownEither(schema)(input), {
    onLeft: (error) => error.message,
    onRight: () => {
      throw new Error(`expected ${JSON.stringify(input)} to be refused`)
    }
  })

describe("Credentials", () => {
  it("decodes a username and a password, keeping the password redacted", () => {
    const credentials = Schema.decodeUnknownSync(Credentials.Credentials)({
      username: "arnie@illbeback.com",
      password: "gettothechopper"
    })

    expect(credentials.username).toBe("arnie@illbeback.com")
    expect(Redacted.value(credentials.password)).toBe("gettothechopper")
    for (const printed of [String(credentials), JSON.stringify(credentials), inspect(credentials)]) {
      expect(printed).not.toContain("gettothechopper")
    }
  })

  it("says which field is wrong and why", () => {
    const emptyPassword = refusal(Credentials.Credentials, { username: "arnie@illbeback.com", password: "" })
    expect(emptyPassword).toContain('["password"]')
    expect(emptyPassword).toContain("a password must not be empty")

    const missing = refusal(Credentials.Credentials, { username: "arnie@illbeback.com" })
    expect(missing).toContain('["password"]')
    expect(missing).toContain("is missing")

    const blankUser = refusal(Credentials.Credentials, { username: " arnie@illbeback.com", password: "x" })
    expect(blankUser).toContain('["username"]')
    expect(blankUser).toContain("a username must be a non-empty email address without surrounding white space")
  })

  it("refuses usernames that are empty, padded or too long", () => {
    for (const username of ["", " arnie@illbeback.com", "arnie@illbeback.com\n", `${"a".repeat(250)}@x.com`]) {
      expect(refusal(Credentials.Username, username)).toContain("a username must be a non-empty email address")
    }
  })

  it("accepts two-factor codes of 4 to 10 digits and explains any other", () => {
    for (const code of ["1234", "012345", "1234567890"]) {
      expect(Either.isRight(Schema.decodeUnknownEither(Credentials.MfaCode)(code))).toBe(true)
    }
    for (const code of ["123", "12345678901", "12a456", " 123456", "", 123456]) {
      const message = refusal(Credentials.MfaCode, code)
      expect(message).toContain("a two-factor code must be 4 to 10 digits")
    }
  })

  it("never prints a two-factor code it refused or accepted", () => {
    const code = Schema.decodeUnknownSync(Credentials.MfaCode)("987654")
    expect(inspect(code)).not.toContain("987654")
    expect(refusal(Credentials.MfaCode, "98765x")).not.toContain("98765x")
  })

  it("accepts positive integer organisation ids and explains any other", () => {
    expect(Schema.decodeUnknownSync(Credentials.OrgId)(3)).toBe(3)
    expect(Schema.decodeUnknownSync(Credentials.OrgIdFromString)("12")).toBe(12)
    for (const id of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "3"]) {
      expect(refusal(Credentials.OrgId, id)).toContain("an organisation id must be a positive integer")
    }
    for (const text of ["", "abc", "0", "-4", "1.5", "Infinity"]) {
      expect(refusal(Credentials.OrgIdFromString, text)).toContain("an organisation id must be a positive integer")
    }
  })
})
