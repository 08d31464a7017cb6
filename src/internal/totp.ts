/**
 * Reading TOTP secrets as authenticator apps show them (base-32 text or an `otpauth://totp/...` URI) and
 * generating codes for a given time step.
 *
 * @since 0.1.0
 * @internal
 */
import { Either, Redacted } from "effect"
import { Secret, TOTP } from "otpauth"

/**
 * A TOTP generator whose secret stays hidden: it prints and serialises without the secret.
 *
 * @since 0.1.0
 * @internal
 */
export interface Generator {
  /** Seconds per time step. */
  readonly period: number
  readonly digits: number
  readonly algorithm: string
  /** The code of time step `step` (seconds since the epoch divided by `period`). */
  readonly generate: (step: number) => Redacted.Redacted<string>
}

const base32Alphabet = /^[A-Z2-7]+$/

const minimumSecretLength = 16

const algorithms: ReadonlyArray<readonly [RegExp, string]> = [
  [/^SHA-?1$/i, "SHA1"],
  [/^SHA-?224$/i, "SHA224"],
  [/^SHA-?256$/i, "SHA256"],
  [/^SHA-?384$/i, "SHA384"],
  [/^SHA-?512$/i, "SHA512"],
  [/^SHA3-224$/i, "SHA3-224"],
  [/^SHA3-256$/i, "SHA3-256"],
  [/^SHA3-384$/i, "SHA3-384"],
  [/^SHA3-512$/i, "SHA3-512"]
]

interface Parameters {
  readonly secret: string
  readonly period: number
  readonly digits: number
  readonly algorithm: string
}

const defaults = { period: 30, digits: 6, algorithm: "SHA1" }

/**
 * Normalises base-32 text as authenticator apps show it (groups separated by spaces or dashes, any case,
 * optional `=` padding), or explains why it is not a usable secret. The explanation never quotes the text.
 *
 * @since 0.1.0
 * @internal
 */
export const normaliseBase32 = (text: string): Either.Either<string, string> => {
  const compact = text.replace(/[\s-]/g, "").toUpperCase().replace(/=+$/, "")
  if (compact.length === 0) {
    return Either.left("the TOTP secret is empty")
  }
  if (!base32Alphabet.test(compact)) {
    return Either.left(
      "the TOTP secret is not base-32 text: only the letters A-Z and the digits 2-7 are allowed " +
        "(spaces, dashes and lower case are fine)"
    )
  }
  if (compact.length < minimumSecretLength) {
    return Either.left(
      `the TOTP secret is too short: ${compact.length} base-32 characters, at least ${minimumSecretLength} expected; ` +
        "copy the whole secret from the account's two-factor setup page"
    )
  }
  return Either.right(compact)
}

const readInteger = (
  value: string | null,
  name: string,
  fallback: number,
  range: readonly [number, number]
): Either.Either<number, string> => {
  if (value === null) {
    return Either.right(fallback)
  }
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < range[0] || parsed > range[1]) {
    return Either.left(`the otpauth:// URI's ${name} must be a whole number from ${range[0]} to ${range[1]}`)
  }
  return Either.right(parsed)
}

const readAlgorithm = (value: string | null): Either.Either<string, string> => {
  if (value === null) {
    return Either.right(defaults.algorithm)
  }
  const match = algorithms.find(([pattern]) => pattern.test(value))
  return match === undefined
    ? Either.left(
        "the otpauth:// URI's algorithm is not supported: " +
          "use SHA1, SHA224, SHA256, SHA384, SHA512 or SHA3-224/256/384/512"
      )
    : Either.right(match[1])
}

const parseUri = (text: string): Either.Either<Parameters, string> => {
  if (!URL.canParse(text)) {
    return Either.left("the otpauth:// URI is malformed; copy it again from the QR code or setup page")
  }
  const url = new URL(text)
  if (url.host.toLowerCase() === "hotp") {
    return Either.left("the otpauth:// URI is for counter-based codes (hotp); a time-based (totp) URI is needed")
  }
  if (url.host.toLowerCase() !== "totp") {
    return Either.left("the otpauth:// URI must have the form otpauth://totp/<label>?secret=<base-32 secret>")
  }
  const secret = url.searchParams.get("secret")
  if (secret === null) {
    return Either.left("the otpauth:// URI has no secret parameter")
  }
  return Either.all({
    secret: normaliseBase32(secret),
    period: readInteger(url.searchParams.get("period"), "period", defaults.period, [1, 3600]),
    digits: readInteger(url.searchParams.get("digits"), "digits", defaults.digits, [4, 10]),
    algorithm: readAlgorithm(url.searchParams.get("algorithm"))
  })
}

/**
 * Reads a TOTP secret: base-32 text (spaces, dashes and lower case allowed) for the usual 6 digits every
 * 30 seconds with SHA-1, or an `otpauth://totp/...` URI whose `digits`, `period` and `algorithm` are
 * honoured. On failure, says why without quoting the secret.
 *
 * @since 0.1.0
 * @internal
 */
export const parse = (input: string): Either.Either<Generator, string> => {
  const text = input.trim()
  const parameters = /^otpauth:/i.test(text)
    ? parseUri(text)
    : Either.map(normaliseBase32(text), (secret) => ({ ...defaults, secret }))
  return Either.map(parameters, (parameters) => {
    const totp = Redacted.make(
      new TOTP({
        secret: Secret.fromBase32(parameters.secret),
        algorithm: parameters.algorithm,
        digits: parameters.digits,
        period: parameters.period
      })
    )
    const periodMillis = parameters.period * 1000
    return {
      period: parameters.period,
      digits: parameters.digits,
      algorithm: parameters.algorithm,
      generate: (step: number) => Redacted.make(Redacted.value(totp).generate({ timestamp: step * periodMillis }))
    }
  })
}
