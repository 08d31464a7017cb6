/**
 * Everything a program lets out, captured for inspection: every log line at every level (message, annotations,
 * spans and cause), every span (name, attributes, events, links and how it ended), and every unhandled rejection
 * or uncaught exception of the process while a scope is open.
 */
import * as Util from "node:util"
import { Cause, Effect, Exit, HashMap, Layer, List, Logger, LogLevel, Option, type Scope, Tracer } from "effect"

const render = (value: unknown): string =>
  typeof value === "string" ? value : Util.inspect(value, { depth: 12, breakLength: Number.POSITIVE_INFINITY })

/** One log call, rendered in every form a logger could write it. */
export interface LogEntry {
  readonly level: string
  readonly text: string
  readonly cause: Cause.Cause<unknown>
}

export interface LogCapture {
  readonly entries: ReadonlyArray<LogEntry>
  /** A layer adding the capturing logger and lowering the minimum level to everything. */
  readonly layer: Layer.Layer<never>
}

export const captureLogs = (): LogCapture => {
  const entries: Array<LogEntry> = []
  const logger = Logger.make<unknown, void>((options) => {
    const forms = [
      Logger.logfmtLogger.log(options),
      Logger.stringLogger.log(options),
      render(Logger.structuredLogger.log(options)),
      render(options.message),
      render(HashMap.toEntries(options.annotations)),
      render(List.toArray(options.spans)),
      Cause.isEmpty(options.cause) ? "" : Cause.pretty(options.cause, { renderErrorCause: true }),
      Cause.isEmpty(options.cause) ? "" : render(Cause.squash(options.cause))
    ]
    entries.push({ level: options.logLevel.label, text: forms.join("\n"), cause: options.cause })
  })
  return {
    entries,
    layer: Layer.merge(Logger.add(logger), Logger.minimumLogLevel(LogLevel.All))
  }
}

/** One span, rendered: name, attributes, events, links and its exit. */
export interface SpanRecord {
  readonly name: string
  readonly text: () => string
  readonly span: Tracer.Span
}

export interface SpanCapture {
  readonly spans: ReadonlyArray<SpanRecord>
  readonly layer: Layer.Layer<never>
}

export const captureSpans = (): SpanCapture => {
  const spans: Array<SpanRecord> = []
  const layer = Layer.unwrapEffect(
    Effect.map(Effect.tracer, (base) =>
      Layer.setTracer(
        Tracer.make({
          span: (...args) => {
            const span = base.span(...args)
            // What an exporter sends: name, attributes, events, links and, for a failure, the rendered cause (an
            // exporter records the exception's message and stack, not the fields of the error object).
            const text = () => {
              const status = span.status
              const exit =
                status._tag === "Ended" && Exit.isFailure(status.exit)
                  ? Cause.pretty(status.exit.cause, { renderErrorCause: true })
                  : ""
              return [
                span.name,
                render([...span.attributes]),
                render((span as { readonly events?: unknown }).events ?? []),
                render(span.links.map((link) => link.attributes)),
                exit
              ].join("\n")
            }
            spans.push({ name: span.name, text, span })
            return span
          },
          context: (f, fiber) => base.context(f, fiber)
        })
      )
    )
  )
  return { spans, layer }
}

export interface ProcessWatch {
  /** Every unhandled rejection and uncaught exception seen since the watch began. */
  readonly seen: ReadonlyArray<unknown>
  readonly stop: () => void
}

/** Starts recording the process's unhandled rejections and uncaught exceptions. */
export const startProcessWatch = (): ProcessWatch => {
  const seen: Array<unknown> = []
  const record = (reason: unknown) => {
    seen.push(reason)
  }
  process.on("unhandledRejection", record)
  process.on("uncaughtExceptionMonitor", record)
  return {
    seen,
    stop: () => {
      process.off("unhandledRejection", record)
      process.off("uncaughtExceptionMonitor", record)
    }
  }
}

/** Unhandled rejections and uncaught exceptions of the process while the scope is open. */
export const watchProcess: Effect.Effect<ReadonlyArray<unknown>, never, Scope.Scope> = Effect.map(
  Effect.acquireRelease(Effect.sync(startProcessWatch), (watch) => Effect.sync(watch.stop)),
  (watch) => watch.seen
)

/** The defects in a cause, if any: a `die`, never a typed failure or an interruption. */
export const defectsOf = (cause: Cause.Cause<unknown>): ReadonlyArray<unknown> =>
  Cause.reduce(cause, [] as ReadonlyArray<unknown>, (found, part) =>
    part._tag === "Die" ? Option.some([...found, part.defect]) : Option.none()
  )
