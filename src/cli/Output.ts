/**
 * What the command writes: results on standard output (human text, or JSON with `--json`), everything else
 * on standard error, colour only on a terminal, and every error as one line that says what happened and what
 * to do.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/**
 * Text styles; each is the identity when colour is off.
 *
 * @since 0.1.0
 * @category models
 */
export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

const ansi =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`

const coloured: Style = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39)
}

const plain: Style = {
  bold: (text) => text,
  dim: (text) => text,
  red: (text) => text,
  green: (text) => text,
  yellow: (text) => text,
  cyan: (text) => text
}

/**
 * Styles that colour text when `enabled`, and leave it alone otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const style = (enabled: boolean): Style => (enabled ? coloured : plain)

/**
 * Removes colour and other terminal escape sequences from text.
 *
 * @since 0.1.0
 * @category combinators
 */
export const stripAnsi = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences start with ESC
  text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")

/**
 * Whether a stream is a terminal that should get colour: it is a TTY and `NO_COLOR` is not set.
 *
 * @since 0.1.0
 * @category predicates
 */
export const colourFor = (stream: { readonly isTTY?: boolean | undefined }): boolean =>
  stream.isTTY === true && (process.env.NO_COLOR ?? "") === ""

/**
 * A duration in its two largest units, such as "6 days 23 hours" or "3 minutes 5 seconds".
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatSpan = (millis: number): string => {
  const units: ReadonlyArray<readonly [string, number]> = [
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
    ["second", 1000]
  ]
  const parts: Array<string> = []
  let rest = Math.abs(millis)
  for (const [name, size] of units) {
    const count = Math.floor(rest / size)
    if (count > 0 || (parts.length > 0 && parts.length < 2)) {
      if (count > 0) {
        parts.push(`${count} ${name}${count === 1 ? "" : "s"}`)
      }
      rest -= count * size
    }
    if (parts.length === 2) {
      break
    }
  }
  return parts.length === 0 ? `${Math.round(Math.abs(millis))} ms` : parts.join(" ")
}

/**
 * An error as the command reports it: a tag, a message, and whether trying again may help.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reportable {
  readonly _tag: string
  readonly message: string
  readonly transient?: boolean | undefined
}

/**
 * The JSON form of an error, as `--json` prints it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const errorJson = (
  error: Reportable
): { readonly error: { readonly _tag: string; readonly message: string; readonly transient: boolean } } => ({
  error: { _tag: error._tag, message: oneLine(error.message), transient: error.transient === true }
})

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

/**
 * The output of one run of the command.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether results and errors are JSON. */
  readonly json: boolean
  /** Styles for text on standard output. */
  readonly out: Style
  /** Styles for text on standard error. */
  readonly err: Style
  /** Writes one line to standard output. */
  readonly line: (text: string) => Effect.Effect<void>
  /** Writes one line to standard error: progress, hints, warnings. */
  readonly note: (text: string) => Effect.Effect<void>
  /** Writes a command's result: the human lines, or the JSON value on one line with `--json`. */
  readonly result: (human: ReadonlyArray<string>, json: unknown) => Effect.Effect<void>
  /** Writes an error as one line on standard error (a JSON object with `--json`). */
  readonly failure: (error: Reportable) => Effect.Effect<void>
}

/**
 * The output as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Output extends Context.Tag("effect-opensolar-auth/cli/Output")<Output, Service>() {}

/**
 * Where output goes: two writable text streams, each possibly a terminal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Streams {
  readonly stdout: { readonly isTTY?: boolean | undefined; write(text: string): unknown }
  readonly stderr: { readonly isTTY?: boolean | undefined; write(text: string): unknown }
}

/**
 * Makes the output over two streams, colouring each only when it is a terminal.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: { readonly json: boolean; readonly streams?: Streams | undefined }): Service => {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr }
  const out = style(colourFor(streams.stdout))
  const err = style(colourFor(streams.stderr))
  const line = (text: string) => Effect.sync(() => void streams.stdout.write(`${text}\n`))
  const note = (text: string) => Effect.sync(() => void streams.stderr.write(`${text}\n`))

  return {
    json: options.json,
    out,
    err,
    line,
    note,
    result: (human, json) =>
      options.json ? line(JSON.stringify(json)) : Effect.forEach(human, line, { discard: true }),
    failure: (error) =>
      options.json
        ? note(JSON.stringify(errorJson(error)))
        : note(`${err.red(err.bold("error:"))} ${oneLine(error.message)}`)
  }
}

/**
 * The output on the process's standard output and standard error.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: { readonly json: boolean }): Layer.Layer<Output> =>
  Layer.sync(Output, () => make(options))
