import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Either, FastCheck as fc } from "effect"
import * as AuthError from "../../src/AuthError.js"
import * as duration from "../../src/internal/duration.js"
import { durationLike } from "../reliability/support/garbage.js"

const lastRepresentableMillis = 8.64e15

const problemOf = (input: unknown, bounds?: duration.Bounds): string | undefined =>
  Either.match(duration.check(input, bounds), { onLeft: (problem) => problem, onRight: () => undefined })

const millisOf = (input: unknown, bounds?: duration.Bounds): number =>
  Duration.toMillis(Either.getOrThrowWith(duration.check(input, bounds), (problem) => new Error(problem)))

const refusal = (input: unknown, rules: duration.Rules): AuthError.ConfigurationError =>
  Either.getOrThrowWith(Either.flip(duration.decode(input, rules)), () => new Error("the input was accepted"))

describe("check", () => {
  it("accepts every form of DurationInput from 1 millisecond to 100 years", () => {
    expect(millisOf("10 seconds")).toBe(10_000)
    expect(millisOf(5_000)).toBe(5_000)
    expect(millisOf(Duration.minutes(1))).toBe(60_000)
    expect(millisOf([2, 500_000_000])).toBe(2_500)
    expect(millisOf(BigInt(1_000_000))).toBe(1)
    expect(millisOf(1)).toBe(1)
    expect(millisOf("36525 days")).toBe(Duration.toMillis(duration.maximum))
  })

  it("says what is wrong with anything else", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      ["abc", "is not a duration"],
      [" seconds", "is not a duration"],
      ["NaN millis", "is not a duration"],
      ["5e-324 days", "is not a duration"],
      [undefined, "is not a duration"],
      [null, "is not a duration"],
      [{}, "is not a duration"],
      [Number.NaN, "is not a number"],
      [[Number.NaN, 0], "is not a number"],
      [-1, "is negative"],
      ["-5 seconds", "is negative"],
      [BigInt(-1), "is negative"],
      [Number.NEGATIVE_INFINITY, "is negative"],
      [0, "is zero"],
      ["0 days", "is zero"],
      [Duration.zero, "is zero"],
      [0.5, "is shorter than a millisecond"],
      [5e-324, "is shorter than a millisecond"],
      [Number.POSITIVE_INFINITY, "is longer than 100 years"],
      [Duration.infinity, "is longer than 100 years"],
      [lastRepresentableMillis, "is longer than 100 years"],
      ["99999999999999999999 weeks", "is longer than 100 years"],
      ["36526 days", "is longer than 100 years"]
    ]
    for (const [input, problem] of cases) {
      expect(problemOf(input), String(input)).toBe(problem)
    }
  })

  it("accepts zero only when told to, and never a negative amount", () => {
    expect(millisOf(0, { acceptsZero: true })).toBe(0)
    expect(millisOf(0.5, { acceptsZero: true })).toBe(0.5)
    expect(problemOf(-1, { acceptsZero: true })).toBe("is negative")
    expect(problemOf(Number.NaN, { acceptsZero: true })).toBe("is not a number")
  })

  it("accepts Duration.infinity only as no limit, and still no finite duration past 100 years", () => {
    expect(Duration.isFinite(Either.getOrThrow(duration.check(Duration.infinity, { acceptsInfinity: true })))).toBe(
      false
    )
    expect(problemOf("36526 days", { acceptsInfinity: true })).toBe("is longer than 100 years")
  })
})

describe("decode", () => {
  it("names the option, its owner, what was given and what is accepted", () => {
    const refused = refusal("abc", { name: "jitter", owner: "TokenRef", acceptsZero: true })

    expect(refused).toBeInstanceOf(AuthError.ConfigurationError)
    expect(refused.variables).toEqual(["jitter"])
    expect(refused.message).toMatch(/^TokenRef: jitter must be a duration from 0 to 100 years/)
    expect(refused.message).toContain('got "abc", which is not a duration')
  })

  it("shows at most 40 characters of a long text", () => {
    const message = refusal("x".repeat(10_000), { name: "timeout" }).message

    expect(message).toContain(`"${"x".repeat(40)}…"`)
    expect(message.length).toBeLessThan(400)
  })

  it.prop(
    "gives any input a duration that keeps a date representable, or a ConfigurationError naming the option",
    [
      durationLike,
      fc.double({ min: -lastRepresentableMillis, max: lastRepresentableMillis - 3.2e12, noNaN: true }).map(Math.trunc)
    ],
    ([input, issuedAt]) => {
      const decoded = duration.decode(input, { name: "lifetime" })

      if (Either.isLeft(decoded)) {
        expect(decoded.left).toBeInstanceOf(AuthError.ConfigurationError)
        expect(decoded.left.variables).toEqual(["lifetime"])
      } else {
        const millis = Duration.toMillis(decoded.right)
        expect(millis >= 1 && millis <= Duration.toMillis(duration.maximum)).toBe(true)
        const expiresAt = DateTime.addDuration(DateTime.unsafeMake(issuedAt), decoded.right)
        expect(Number.isFinite(DateTime.toDate(expiresAt).getTime())).toBe(true)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("decodeLifetime", () => {
  it("is the standard lifetime when none is given", () => {
    expect(duration.decodeLifetime(undefined)).toEqual(Either.right(Duration.days(7)))
  })
})
