import * as Terminal from "@effect/platform/Terminal"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Fiber, Layer, Logger, LogLevel, Option, Redacted, Ref, TestClock } from "effect"
import { inspect } from "node:util"
import { Secret, TOTP } from "otpauth"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as MfaCodeSource from "../src/MfaCodeSource.js"
import * as OpenSolarConfig from "../src/OpenSolarConfig.js"
import { accounts } from "../src/testing/index.js"
import { drive } from "./support/drive.js"
import { simulatorApi } from "./support/simulatorApi.js"

// RFC 6238 Appendix B: the seeds are the ASCII digits repeated to the hash's size.
const rfcSeeds = {
  SHA1: "12345678901234567890",
  SHA256: "12345678901234567890123456789012",
  SHA512: "1234567890123456789012345678901234567890123456789012345678901234"
} as const

const rfcVectors: ReadonlyArray<readonly [number, Record<keyof typeof rfcSeeds, string>]> = [
  [59, { SHA1: "94287082", SHA256: "46119246", SHA512: "90693936" }],
  [1111111109, { SHA1: "07081804", SHA256: "68084774", SHA512: "25091201" }],
  [1111111111, { SHA1: "14050471", SHA256: "67062674", SHA512: "99943326" }],
  [1234567890, { SHA1: "89005924", SHA256: "91819424", SHA512: "93441116" }],
  [2000000000, { SHA1: "69279037", SHA256: "90698825", SHA512: "38618901" }],
  [20000000000, { SHA1: "65353130", SHA256: "77737706", SHA512: "47863826" }]
]

const rfcUri = (algorithm: keyof typeof rfcSeeds) =>
  `otpauth://totp/RFC6238:test?secret=${Secret.fromLatin1(rfcSeeds[algorithm]).base32}` +
  `&digits=8&period=30&algorithm=${algorithm}`

const secret = "JBSWY3DPEHPK3PXP"

const expectedCode = (timestamp: number, base32 = secret) =>
  new TOTP({ secret: Secret.fromBase32(base32), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp })

const failureReason = <A>(exit: Exit.Exit<A, { readonly reason: string }>): string => {
  if (Exit.isSuccess(exit)) {
    throw new Error("expected a failure")
  }
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) {
    throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  }
  return failure.reason
}

describe("MfaCodeSource", () => {
  describe("totp", () => {
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
      it.effect(`matches the RFC 6238 test vectors for ${algorithm} (8 digits)`, () =>
        Effect.gen(function* () {
          for (const [seconds, codes] of rfcVectors) {
            const source = MfaCodeSource.totp(rfcUri(algorithm))
            yield* TestClock.setTime(seconds * 1000)

            const code = yield* source.next

            expect(Redacted.value(code)).toBe(codes[algorithm])
          }
        })
      )
    }

    it.effect("accepts the secret as authenticator apps show it: grouped, lower case, padded", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_000_000)
        const expected = expectedCode(1_700_000_000_000)

        for (const text of [
          secret,
          "jbsw y3dp ehpk 3pxp",
          " JBSW-Y3DP-EHPK-3PXP ",
          "jbswy3dpehpk3pxp====",
          `otpauth://totp/OpenSolar:arnie?secret=${secret}&issuer=OpenSolar`
        ]) {
          const code = yield* MfaCodeSource.totp(text).next
          expect(Redacted.value(code)).toBe(expected)
        }

        const redacted = yield* MfaCodeSource.totp(Redacted.make(secret)).next
        expect(Redacted.value(redacted)).toBe(expected)
      })
    )

    it.effect("honours an otpauth URI's digits and period", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_000_000)
        const source = MfaCodeSource.totp(`otpauth://totp/x?secret=${secret}&digits=7&period=60&algorithm=SHA256`)
        const expected = new TOTP({ secret: Secret.fromBase32(secret), digits: 7, period: 60, algorithm: "SHA256" })

        const code = yield* source.next

        expect(Redacted.value(code)).toBe(expected.generate({ timestamp: 1_700_000_000_000 }))
        expect(Redacted.value(code)).toHaveLength(7)
      })
    )

    it.effect("refuses unusable secrets with a reason that never quotes the secret", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["", "empty"],
          ["   ", "empty"],
          ["JBSWY3DPEHPK3PX1", "not base-32"],
          ["JBSWY3DP!HPK3PXP", "not base-32"],
          ["JBSWY3DP", "too short"],
          [`otpauth://hotp/x?secret=${secret}&counter=1`, "counter-based"],
          ["otpauth://totp/x?issuer=OpenSolar", "no secret"],
          [`otpauth://totp/x?secret=${secret}&digits=12`, "digits"],
          [`otpauth://totp/x?secret=${secret}&period=0`, "period"],
          [`otpauth://totp/x?secret=${secret}&algorithm=MD5`, "algorithm"],
          [`otpauth://totp/x?secret=JBSW`, "too short"],
          ["otpauth://", "must have the form"],
          ["otpauth://to tp/x", "malformed"]
        ]
        for (const [text, expected] of cases) {
          const source = MfaCodeSource.totp(text)
          expect(source.kind).toBe("totp")

          const reason = failureReason(yield* Effect.exit(source.next))

          expect(reason).toContain(expected)
          expect(reason).not.toContain(secret)
          if (text.trim().length > 0 && !text.startsWith("otpauth:")) {
            expect(reason).not.toContain(text.trim())
          }
        }
      })
    )

    it.effect("never hands out the same time step twice: a second code waits for the next step", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_020_000)
        const source = MfaCodeSource.totp(secret)

        const first = yield* source.next
        const second = yield* Effect.fork(source.next)
        yield* TestClock.adjust("19999 millis")
        const early = yield* Fiber.poll(second)
        yield* TestClock.adjust("1 millis")
        const later = yield* Fiber.join(second)

        expect(Redacted.value(first)).toBe(expectedCode(1_700_000_020_000))
        expect(Option.isNone(early)).toBe(true)
        expect(Redacted.value(later)).toBe(expectedCode(1_700_000_040_000))
      })
    )

    it.effect("gives concurrent logins distinct steps", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_020_000)
        const source = MfaCodeSource.totp(secret)

        const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(source.next))
        yield* TestClock.adjust("60 seconds")
        const codes = yield* Effect.forEach(fibers, Fiber.join)

        expect(new Set(codes.map(Redacted.value)).size).toBe(3)
        expect(codes.map(Redacted.value).sort()).toEqual(
          [1_700_000_020_000, 1_700_000_040_000, 1_700_000_070_000].map((time) => expectedCode(time)).sort()
        )
      })
    )

    it.effect("after a refusal, gives the next step's code at once, and the step after that is the next free one", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_020_000)
        const source = MfaCodeSource.totp(secret)
        const afterRejection = Option.getOrThrow(source.afterRejection)

        yield* source.next
        const retried = yield* afterRejection
        const third = yield* Effect.fork(source.next)
        yield* TestClock.adjust("49999 millis")
        const early = yield* Fiber.poll(third)
        yield* TestClock.adjust("1 millis")

        expect(Redacted.value(retried)).toBe(expectedCode(1_700_000_040_000))
        expect(Option.isNone(early)).toBe(true)
        expect(Redacted.value(yield* Fiber.join(third))).toBe(expectedCode(1_700_000_070_000))
      })
    )

    it.effect("does not wait when the previous code belongs to an earlier step", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_700_000_020_000)
        const source = MfaCodeSource.totp(secret)

        yield* source.next
        yield* TestClock.adjust("30 seconds")
        const second = yield* Effect.fork(source.next)
        yield* Effect.yieldNow()
        const result = yield* Fiber.poll(second)

        expect(Option.isSome(result)).toBe(true)
        expect(Redacted.value(yield* Fiber.join(second))).toBe(expectedCode(1_700_000_040_000))
      })
    )
  })

  describe("static", () => {
    it.effect("hands out its code, checked, and is never retried", () =>
      Effect.gen(function* () {
        const source = MfaCodeSource.static(" 123456 ")

        expect(source.kind).toBe("static")
        expect(Redacted.value(yield* source.next)).toBe("123456")
        expect(Redacted.value(yield* MfaCodeSource.static(Redacted.make("1234")).next)).toBe("1234")
        expect(Option.isNone(source.afterRejection)).toBe(true)
      })
    )

    it.effect("refuses a code that is not 4 to 10 digits, without quoting it", () =>
      Effect.gen(function* () {
        for (const text of ["", "123", "12345678901", "12a456", "12 34"]) {
          const reason = failureReason(yield* Effect.exit(MfaCodeSource.static(text).next))
          expect(reason).toContain("4 to 10 digits")
          if (text.length > 0) {
            expect(reason).not.toContain(text)
          }
        }
      })
    )

    it.effect("refuses a code or secret that is not text when asked for a code, never when made", () =>
      Effect.gen(function* () {
        const notText = 123456 as unknown as string

        expect(failureReason(yield* Effect.exit(MfaCodeSource.static(notText).next))).toContain("4 to 10 digits")
        expect(failureReason(yield* Effect.exit(MfaCodeSource.totp(notText).next))).toContain("not text")
        expect(failureReason(yield* Effect.exit(MfaCodeSource.fromEffect(Effect.succeed(notText)).next))).toContain(
          "not 4 to 10 digits"
        )
      })
    )
  })

  describe("fromEffect", () => {
    it.effect("checks each code and retries after a refusal only when asked to", () =>
      Effect.gen(function* () {
        const calls = yield* Ref.make(0)
        const effect = Ref.updateAndGet(calls, (count) => count + 1).pipe(Effect.map((count) => `00000${count}`))

        const once = MfaCodeSource.fromEffect(effect)
        const twice = MfaCodeSource.fromEffect(effect, { retryAfterRejection: true })

        expect(once.kind).toBe("custom")
        expect(Redacted.value(yield* once.next)).toBe("000001")
        expect(Option.isNone(once.afterRejection)).toBe(true)
        expect(Redacted.value(yield* Option.getOrThrow(twice.afterRejection))).toBe("000002")
        expect(failureReason(yield* Effect.exit(MfaCodeSource.fromEffect(Effect.succeed("abc")).next))).toContain(
          "not 4 to 10 digits"
        )
      })
    )
  })

  describe("prompt", () => {
    const fakeTerminal = (answers: ReadonlyArray<string | "quit">, options: { readonly tty?: boolean } = {}) =>
      Effect.gen(function* () {
        const queue = yield* Ref.make(answers)
        const shown = yield* Ref.make<ReadonlyArray<string>>([])
        const terminal: Terminal.Terminal = {
          columns: Effect.succeed(80),
          rows: Effect.succeed(24),
          isTTY: Effect.succeed(options.tty ?? true),
          readInput: Effect.die("not used"),
          readLine: Ref.modify(queue, ([head, ...rest]) => [head, rest] as const).pipe(
            Effect.flatMap((answer) =>
              answer === undefined || answer === "quit"
                ? Effect.fail(new Terminal.QuitException())
                : Effect.succeed(answer)
            )
          ),
          display: (text) => Ref.update(shown, (all) => [...all, text])
        }
        return { layer: Layer.succeed(Terminal.Terminal, terminal), shown }
      })

    it.effect("takes options of the wrong type without throwing: every code request names the option", () =>
      Effect.gen(function* () {
        const { layer } = yield* fakeTerminal(["654321"])
        const source = yield* Effect.provide(
          MfaCodeSource.prompt({ attempts: 3n } as unknown as MfaCodeSource.PromptOptions),
          layer
        )

        expect(failureReason(yield* Effect.exit(source.next))).toContain("the prompt's attempts must be a number")
      })
    )

    it.effect("reads a code typed at the terminal", () =>
      Effect.gen(function* () {
        const { layer, shown } = yield* fakeTerminal([" 654321 "])
        const source = yield* Effect.provide(MfaCodeSource.prompt(), layer)

        const code = yield* source.next

        expect(source.kind).toBe("prompt")
        expect(Redacted.value(code)).toBe("654321")
        expect(yield* Ref.get(shown)).toEqual(["OpenSolar two-factor code: "])
      })
    )

    it.effect("asks again after answers that are not codes, and gives up after the allowed attempts", () =>
      Effect.gen(function* () {
        const second = yield* fakeTerminal(["abc", "123456"])
        const recovered = yield* Effect.provide(MfaCodeSource.prompt({ message: "Code: " }), second.layer)
        expect(Redacted.value(yield* recovered.next)).toBe("123456")
        expect(yield* Ref.get(second.shown)).toEqual(["Code: ", "A two-factor code is 4 to 10 digits.\n", "Code: "])

        const never = yield* fakeTerminal(["a", "b", "c", "123456"])
        const exhausted = yield* Effect.provide(MfaCodeSource.prompt({ attempts: 3 }), never.layer)
        expect(failureReason(yield* Effect.exit(exhausted.next))).toContain("after 3 attempts")
      })
    )

    it.effect("asks once more after a refusal", () =>
      Effect.gen(function* () {
        const { layer, shown } = yield* fakeTerminal(["111111", "222222"])
        const source = yield* Effect.provide(MfaCodeSource.prompt(), layer)

        yield* source.next
        const again = yield* Option.getOrThrow(source.afterRejection)

        expect(Redacted.value(again)).toBe("222222")
        expect((yield* Ref.get(shown))[1]).toContain("refused")
      })
    )

    it.effect("fails with MfaCodeUnavailable when cancelled, not interactive, or without a terminal", () =>
      Effect.gen(function* () {
        const cancelled = yield* fakeTerminal(["quit"])
        const notTty = yield* fakeTerminal(["123456"], { tty: false })

        const reasons = [
          failureReason(
            yield* Effect.exit(
              Effect.flatMap(MfaCodeSource.prompt(), (source) => source.next).pipe(Effect.provide(cancelled.layer))
            )
          ),
          failureReason(
            yield* Effect.exit(
              Effect.flatMap(MfaCodeSource.prompt(), (source) => source.next).pipe(Effect.provide(notTty.layer))
            )
          ),
          failureReason(yield* Effect.exit(Effect.flatMap(MfaCodeSource.prompt(), (source) => source.next)))
        ]

        expect(reasons[0]).toContain("cancelled")
        expect(reasons[1]).toContain("not interactive")
        expect(reasons[2]).toContain("no terminal")
      })
    )
  })

  it.effect("a fixed code read from OPENSOLAR_MFA_CODE never prints, nor appears in errors or logs", () => {
    const code = "90817263"
    const lines: Array<string> = []
    return Effect.gen(function* () {
      const variables = {
        OPENSOLAR_USERNAME: accounts.mfa.username,
        OPENSOLAR_PASSWORD: accounts.mfa.password,
        OPENSOLAR_MFA_CODE: ` ${code} `
      }
      const withVariables = (entries: Record<string, string>) =>
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

      const settings = yield* withVariables(variables)(OpenSolarConfig.load)
      const mfa = settings.credentials._tag === "Password" ? Option.getOrThrow(settings.credentials.mfa) : undefined
      const source = MfaCodeSource.static(mfa?._tag === "StaticCode" ? mfa.code : "")
      const handedOut = yield* source.next
      const refused = yield* drive(
        Effect.flatMap(AuthStrategy.AuthStrategy, (strategy) => strategy.authenticate(Option.none())).pipe(
          Effect.provide(AuthStrategy.layerConfig),
          withVariables(variables),
          Effect.flip
        )
      )
      const contradiction = yield* withVariables({ ...variables, OPENSOLAR_TOTP_SECRET: accounts.mfa.totpSecret })(
        Effect.flip(OpenSolarConfig.load)
      )

      expect(Redacted.value(handedOut)).toBe(code)
      expect(refused._tag).toBe("InvalidMfaCode")
      expect(contradiction.variables).toEqual(["OPENSOLAR_MFA_CODE", "OPENSOLAR_TOTP_SECRET"])
      for (const value of [settings, mfa, source, handedOut, refused, contradiction]) {
        for (const printed of [String(value), JSON.stringify(value), inspect(value, { depth: 10 })]) {
          expect(printed).not.toContain(code)
        }
      }
      for (const error of [refused, contradiction]) {
        expect(`${error.message} ${error.stack}`).not.toContain(code)
      }
      expect(lines.length).toBeGreaterThan(0)
      expect(lines.join("\n")).not.toContain(code)
    }).pipe(
      Effect.provide(Logger.add(Logger.map(Logger.logfmtLogger, (line) => lines.push(line)))),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.provide(simulatorApi())
    )
  })

  it.effect("codes print as <redacted>", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_700_000_000_000)
      const code = yield* MfaCodeSource.totp(secret).next
      const text = Redacted.value(code)

      for (const printed of [
        String(code),
        JSON.stringify({ code }),
        inspect(code),
        inspect(MfaCodeSource.totp(secret))
      ]) {
        expect(printed).not.toContain(text)
        expect(printed).not.toContain(secret)
      }
    })
  )
})
