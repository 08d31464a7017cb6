/**
 * Questions to the person at the keyboard: prompts are written to standard error (standard output stays
 * clean for results), answers are read from standard input. On a terminal, `@effect/cli` prompts are used and
 * secrets are typed without any echo (not even asterisks); when standard input is a pipe, one line is read per
 * question.
 *
 * @since 0.1.0
 */
import * as Prompt from "@effect/cli/Prompt"
import * as PlatformError from "@effect/platform/Error"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Context, Effect, Exit, Layer, Mailbox, Option, Redacted, Scope } from "effect"
import * as readline from "node:readline"
import { Cancelled } from "./CliError.js"

/**
 * Asking questions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether standard input is a terminal, so that a person can answer. */
  readonly interactive: boolean
  /** Asks for text; `None` when standard input has ended. */
  readonly text: (message: string) => Effect.Effect<Option.Option<string>, Cancelled>
  /** Asks for a secret, typed without echo on a terminal; `None` when standard input has ended. */
  readonly secret: (message: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, Cancelled>
}

/**
 * Asking questions, as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Prompter extends Context.Tag("effect-opensolar-auth/cli/Prompter")<Prompter, Service>() {}

type Input = NodeJS.ReadStream
type Output = NodeJS.WriteStream

const isQuit = (input: Terminal.UserInput) => input.key.ctrl && (input.key.name === "c" || input.key.name === "d")

/** A `Terminal` reading keys from `input` and drawing on `output`, for `@effect/cli` prompts. */
const terminalOn = (input: Input, output: Output): Terminal.Terminal =>
  Terminal.Terminal.of({
    columns: Effect.sync(() => output.columns ?? 80),
    rows: Effect.sync(() => output.rows ?? 24),
    isTTY: Effect.sync(() => input.isTTY === true && output.isTTY === true),
    readInput: Effect.gen(function* () {
      const mailbox = yield* Mailbox.make<Terminal.UserInput>()
      const onKeypress = (text: string | undefined, key: Partial<Terminal.Key> | undefined) => {
        const event: Terminal.UserInput = {
          input: Option.fromNullable(text),
          key: { name: key?.name ?? "", ctrl: key?.ctrl === true, meta: key?.meta === true, shift: key?.shift === true }
        }
        mailbox.unsafeOffer(event)
        if (isQuit(event)) {
          mailbox.unsafeDone(Exit.void)
        }
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const lines = readline.createInterface({ input, escapeCodeTimeout: 50 })
          readline.emitKeypressEvents(input, lines)
          input.setRawMode?.(true)
          input.on("keypress", onKeypress)
          return lines
        }),
        (lines) =>
          Effect.sync(() => {
            input.off("keypress", onKeypress)
            input.setRawMode?.(false)
            lines.close()
          })
      )
      return mailbox
    }),
    readLine: Effect.async<string, Terminal.QuitException>((resume) => {
      const lines = readline.createInterface({ input })
      lines.once("line", (line) => {
        lines.close()
        resume(Effect.succeed(line))
      })
      lines.once("SIGINT", () => {
        lines.close()
        resume(Effect.fail(new Terminal.QuitException()))
      })
      return Effect.sync(() => lines.close())
    }),
    display: (text) =>
      Effect.async<void, PlatformError.PlatformError>((resume) => {
        output.write(text, (error) =>
          resume(
            error
              ? Effect.fail(
                  new PlatformError.SystemError({
                    reason: "Unknown",
                    module: "Terminal",
                    method: "display",
                    description: error.message
                  })
                )
              : Effect.void
          )
        )
      })
  })

/** Lines of a piped standard input, read once and handed out one per question. */
interface LineReader {
  readonly next: Effect.Effect<Option.Option<string>>
  readonly close: Effect.Effect<void>
}

const lineReader = (input: Input): LineReader => {
  const buffered: Array<string> = []
  const waiting: Array<(line: Option.Option<string>) => void> = []
  let ended = false
  const lines = readline.createInterface({ input, terminal: false })
  lines.on("line", (line) => {
    const resume = waiting.shift()
    if (resume === undefined) {
      buffered.push(line)
    } else {
      resume(Option.some(line))
    }
  })
  lines.on("close", () => {
    ended = true
    for (const resume of waiting.splice(0)) {
      resume(Option.none())
    }
  })

  return {
    next: Effect.async<Option.Option<string>>((resume) => {
      const line = buffered.shift()
      if (line !== undefined) {
        return resume(Effect.succeed(Option.some(line)))
      }
      if (ended) {
        return resume(Effect.succeedNone)
      }
      const waiter = (answer: Option.Option<string>) => resume(Effect.succeed(answer))
      waiting.push(waiter)
      return Effect.sync(() => {
        const index = waiting.indexOf(waiter)
        if (index >= 0) {
          waiting.splice(index, 1)
        }
      })
    }),
    close: Effect.sync(() => lines.close())
  }
}

/**
 * Makes a prompter over two streams. A piped input is read only once a question is asked, and released when
 * the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  input: Input = process.stdin,
  output: Output = process.stderr
): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const interactive = input.isTTY === true
    const scope = yield* Effect.scope
    const terminal = terminalOn(input, output)
    let reader: LineReader | undefined

    const readLine = Effect.suspend(() => {
      if (reader === undefined) {
        const created = lineReader(input)
        reader = created
        return Effect.zipRight(Scope.addFinalizer(scope, created.close), created.next)
      }
      return reader.next
    })

    // A piped answer is not echoed, so the line is ended here.
    const piped = (message: string) =>
      Effect.sync(() => output.write(`${message}: `)).pipe(
        Effect.zipRight(readLine),
        Effect.zipLeft(Effect.sync(() => output.write("\n")))
      )

    const prompted = <A>(message: string, prompt: Prompt.Prompt<A>) =>
      Prompt.run(prompt).pipe(
        Effect.provideService(Terminal.Terminal, terminal),
        // Text prompts never touch files, but the prompt environment includes them.
        Effect.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)),
        Effect.map(Option.some),
        Effect.catchTag("QuitException", () => Effect.fail(new Cancelled({ prompt: message })))
      )

    return {
      interactive,
      text: (message) =>
        interactive
          ? prompted(message, Prompt.text({ message, validate: nonEmpty }))
          : Effect.map(
              piped(message),
              Option.map((line) => line.trim())
            ),
      secret: (message) =>
        interactive
          ? prompted(message, Prompt.hidden({ message, validate: nonEmpty }))
          : Effect.map(
              piped(message),
              Option.map((line) => Redacted.make(line))
            )
    } satisfies Service
  })

const nonEmpty = (value: string) =>
  value.trim() === "" ? Effect.fail("an answer is needed (Ctrl+C to cancel)") : Effect.succeed(value)

/**
 * The prompter on the process's standard input and standard error.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Prompter> = Layer.scoped(Prompter, make())
