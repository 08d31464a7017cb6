import { Effect, Redacted } from "effect"
import { MfaCodeSource } from "effect-opensolar-auth"

// A code typed by hand from an authenticator app: good for one login only.
const once = MfaCodeSource.static("492039")

// Codes computed from the TOTP secret, as the authenticator app computes them.
const totp = MfaCodeSource.totp(
  "otpauth://totp/OpenSolar:sarah%40cyberdyne.example?secret=JBSWY3DPEHPK3PXP&issuer=OpenSolar"
)

// Codes from any effect: a secrets manager, a message from a phone, a hardware token. Here, a constant.
const fromVault = MfaCodeSource.fromEffect(Effect.succeed(Redacted.make("731904")))

// Codes asked of a person at the terminal (needs a Terminal service, as the CLI provides).
const typed = MfaCodeSource.prompt({ message: "OpenSolar code: " })

const program = Effect.gen(function* () {
  for (const source of [once, totp, fromVault, yield* typed]) {
    const code = yield* Effect.either(source.next)
    const shown = code._tag === "Right" ? `code ${code.right}` : `unavailable: ${code.left.reason}`
    console.log(`${source.kind.padEnd(7)} ${shown}; retried after a refusal: ${source.afterRejection._tag === "Some"}`)
  }
})

Effect.runPromise(program)
