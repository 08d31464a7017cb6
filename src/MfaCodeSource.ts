/**
 * Where two-factor codes come from: a fixed code, a TOTP secret, an interactive prompt, or any effect.
 *
 * A TOTP source never hands out the code of the same time step twice, because the API refuses a code it
 * has already seen: a second login within one step waits, on Effect's `Clock`, for the next step.
 *
 * @since 0.1.0
 */
import * as Terminal from "@effect/platform/Terminal"
import { Clock, Duration, Effect, Either, Option, Predicate, Redacted, Ref, Schema } from "effect"
import { MfaCodeUnavailable } from "./AuthError.js"
import * as Credentials from "./Credentials.js"
import * as Totp from "./internal/totp.js"

/**
 * How a source produces its codes.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "static" | "totp" | "prompt" | "custom"

/**
 * A source of two-factor codes.
 *
 * @since 0.1.0
 * @category models
 */
export interface MfaCodeSource {
  readonly kind: Kind
  /** A code to send now; never one already handed out for the same TOTP time step. */
  readonly next: Effect.Effect<Credentials.MfaCode, MfaCodeUnavailable>
  /**
   * The one further code to try after the API refused a code from `next`, or `None` when trying again cannot
   * help (a fixed code). A TOTP source answers with the following time step's code at once, which is what an
   * API a step ahead of this machine's clock accepts.
   */
  readonly afterRejection: Option.Option<Effect.Effect<Credentials.MfaCode, MfaCodeUnavailable>>
}

const decodeCode = Schema.decodeUnknownEither(Credentials.MfaCode)

const validCode = (code: string): Option.Option<Credentials.MfaCode> => Either.getRight(decodeCode(code))

const unavailable = (reason: string) => new MfaCodeUnavailable({ reason })

/** The text of a code or secret, or `undefined` when a caller without types gave something else. */
const codeText = (code: string | Redacted.Redacted<string>): string | undefined => {
  const text: unknown = Redacted.isRedacted(code) ? Redacted.value(code) : code
  return typeof text === "string" ? text : undefined
}

const validCodeOf = (code: string | Redacted.Redacted<string>): Option.Option<Credentials.MfaCode> => {
  const text = codeText(code)
  return text === undefined ? Option.none() : validCode(text.trim())
}

const staticCode = (code: string | Redacted.Redacted<string>): MfaCodeSource => {
  const decoded = validCodeOf(code)
  return {
    kind: "static",
    next: Option.match(decoded, {
      onNone: () => Effect.fail(unavailable("the configured code is not 4 to 10 digits; enter the code as shown")),
      onSome: Effect.succeed
    }),
    afterRejection: Option.none()
  }
}

export {
  /**
   * A fixed code, for a single login right after reading it from an authenticator. It is never retried: the
   * same code refused once is refused again.
   *
   * @since 0.1.0
   * @category constructors
   */
  staticCode as static
}

/**
 * Codes computed from a TOTP secret at the time of Effect's `Clock`. The secret is base-32 text as
 * authenticator apps show it (spaces and lower case allowed) or an `otpauth://totp/...` URI, whose `digits`,
 * `period` and `algorithm` are honoured; otherwise 6 digits every 30 seconds with SHA-1.
 *
 * A source never hands out one time step twice: a second code within a step waits for the next step. After
 * a refusal, `afterRejection` gives the next step's code without waiting, once. An unusable secret does not
 * throw: every code request fails with {@link MfaCodeUnavailable} saying why (configuration read through
 * `OpenSolarConfig` reports it earlier, as a `ConfigurationError`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const totp = (secret: string | Redacted.Redacted<string>): MfaCodeSource =>
  Either.match(parseSecret(codeText(secret)), {
    onLeft: (reason) => {
      const failure = Effect.fail(unavailable(reason))
      return { kind: "totp", next: failure, afterRejection: Option.some(failure) }
    },
    onRight: fromGenerator
  })

const parseSecret = (text: string | undefined): Either.Either<Totp.Generator, string> =>
  text === undefined
    ? Either.left("the TOTP secret is not text; give the base-32 secret or otpauth:// URI as a string")
    : Totp.parse(text)

const fromGenerator = (generator: Totp.Generator): MfaCodeSource => {
  const periodMillis = generator.period * 1000
  const lastStep = Ref.unsafeMake(Number.NEGATIVE_INFINITY)

  // Claims the first unused step that is at most `lead` steps ahead of the clock, waiting when all are used.
  const claim = (lead: number) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const current = Math.floor(now / periodMillis)
      const step = yield* Ref.modify(lastStep, (last) => {
        const claimed = Math.max(current, last + 1)
        return [claimed, claimed]
      })

      const startsAt = (step - lead) * periodMillis
      if (startsAt > now) {
        yield* Effect.logDebug("waiting for the next TOTP time step: this step's code was already used").pipe(
          Effect.annotateLogs("waitMillis", startsAt - now)
        )
        yield* Effect.sleep(Duration.millis(startsAt - now))
      }

      return generator.generate(step)
    })

  return { kind: "totp", next: claim(0), afterRejection: Option.some(claim(1)) }
}

/**
 * Options of {@link prompt}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromptOptions {
  /** What the user is asked. @default "OpenSolar two-factor code: " */
  readonly message?: string | undefined
  /** How many answers that are not 4 to 10 digits are accepted before giving up. @default 3 */
  readonly attempts?: number | undefined
}

/**
 * Codes typed by a person at the terminal of `@effect/platform`'s `Terminal` service. Fails with
 * {@link MfaCodeUnavailable} when no `Terminal` is provided or it is not interactive, when the person cancels
 * (Ctrl+C), or after `attempts` answers that are not 4 to 10 digits. After a refusal it asks once more. Options
 * of the wrong type (a message that is not text, attempts that are not a number) do not throw: every code request
 * fails with {@link MfaCodeUnavailable} naming the option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const prompt = (options: PromptOptions = {}): Effect.Effect<MfaCodeSource> =>
  Effect.map(Effect.serviceOption(Terminal.Terminal), (terminal) =>
    Either.match(promptSettings(options), {
      onLeft: (reason): MfaCodeSource => {
        const failure = Effect.fail(unavailable(reason))
        return { kind: "prompt", next: failure, afterRejection: Option.some(failure) }
      },
      onRight: ({ message, attempts }) => promptAt(terminal, message, attempts)
    })
  )

const promptSettings = (
  options: unknown
): Either.Either<{ readonly message: string; readonly attempts: number }, string> => {
  if (options !== undefined && options !== null && !Predicate.isRecord(options)) {
    return Either.left("the prompt's options must be an object, such as { attempts: 3 }")
  }
  const message = options?.message ?? "OpenSolar two-factor code: "
  if (typeof message !== "string") {
    return Either.left(`the prompt's message must be text, such as "Code: "; got a value of type ${typeof message}`)
  }
  const attempts = options?.attempts ?? 3
  if (typeof attempts !== "number" || Number.isNaN(attempts)) {
    return Either.left(
      `the prompt's attempts must be a number of answers, such as 3; got ${
        typeof attempts === "number" ? "NaN" : `a value of type ${typeof attempts}`
      }`
    )
  }
  return Either.right({ message, attempts: Math.max(1, attempts) })
}

const promptAt = (terminal: Option.Option<Terminal.Terminal>, message: string, attempts: number): MfaCodeSource => {
  const ask = (question: string) =>
    Option.match(terminal, {
      onNone: () =>
        Effect.fail(
          unavailable("no terminal is available to ask for a code; provide a Terminal layer or configure a TOTP secret")
        ),
      onSome: (terminal) => askAt(terminal, question, attempts)
    })
  return {
    kind: "prompt",
    next: ask(message),
    afterRejection: Option.some(ask(`That code was refused. ${message}`))
  }
}

const askAt = (
  terminal: Terminal.Terminal,
  question: string,
  attempts: number
): Effect.Effect<Credentials.MfaCode, MfaCodeUnavailable> =>
  Effect.gen(function* () {
    const interactive = yield* terminal.isTTY
    if (!interactive) {
      return yield* unavailable(
        "the terminal is not interactive, so no code can be typed; configure a TOTP secret or a code instead"
      )
    }

    for (let attempt = 1; attempt <= attempts; attempt++) {
      yield* display(terminal, question)
      const answer = yield* terminal.readLine.pipe(
        Effect.mapError(() => unavailable("the prompt for a two-factor code was cancelled"))
      )
      const code = validCode(answer.trim())
      if (Option.isSome(code)) {
        return code.value
      }
      if (attempt < attempts) {
        yield* display(terminal, "A two-factor code is 4 to 10 digits.\n")
      }
    }

    return yield* unavailable(`no valid two-factor code after ${attempts} attempts: a code is 4 to 10 digits`)
  })

const display = (terminal: Terminal.Terminal, text: string) =>
  terminal
    .display(text)
    .pipe(Effect.mapError((error) => unavailable(`the terminal could not show the prompt (${error.message})`)))

/**
 * Options of {@link fromEffect}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromEffectOptions {
  /** Whether to run the effect once more after the API refused its code. @default false */
  readonly retryAfterRejection?: boolean | undefined
}

/**
 * Codes produced by any effect: a secrets manager, a message queue, a hardware token. Each code is checked
 * to be 4 to 10 digits; anything else fails with {@link MfaCodeUnavailable}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEffect = (
  effect: Effect.Effect<string | Redacted.Redacted<string>, MfaCodeUnavailable>,
  options: FromEffectOptions = {}
): MfaCodeSource => {
  const next = Effect.flatMap(effect, (code) =>
    Option.match(validCodeOf(code), {
      onNone: () => Effect.fail(unavailable("the code source produced something that is not 4 to 10 digits")),
      onSome: Effect.succeed
    })
  )
  return {
    kind: "custom",
    next,
    afterRejection: options.retryAfterRejection === true ? Option.some(next) : Option.none()
  }
}
