/**
 * What `--verbose` adds on standard error: a line for every step the library records as a span (a login, a
 * session refresh, an API request) once it ends, with its outcome, its duration and the fingerprints of the
 * tokens involved, never a token.
 *
 * @since 0.1.0
 */
import { Cause, type Context, Exit, Option, Tracer } from "effect"

/**
 * The span attributes a line shows, each under a short name, in this order. Other attributes are left out: a
 * line says what happened, and an attribute added to a span later is not shown until it is listed here.
 *
 * @since 0.1.0
 * @category constants
 */
export const shownAttributes: ReadonlyArray<readonly [attribute: string, shownAs: string]> = [
  ["opensolar.auth.strategy", "strategy"],
  ["opensolar.refresh.reason", "reason"],
  ["opensolar.refresh.outcome", "refresh"],
  ["http.request.method", "method"],
  ["url.full", "url"],
  ["http.response.status_code", "status"],
  ["opensolar.attempts", "attempts"],
  ["opensolar.reauthenticated", "reauthenticated"],
  ["opensolar.auth.error", "error"],
  ["opensolar.token.previous_fingerprint", "previous"],
  ["opensolar.token.fingerprint", "token"],
  ["opensolar.issued_token.fingerprint", "issued"]
]

const outcome = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) {
    return "ok"
  }
  if (Cause.isInterruptedOnly(exit.cause)) {
    return "interrupted"
  }
  return Option.match(Cause.failureOption(exit.cause), {
    onNone: () => "died",
    onSome: (error) =>
      typeof error === "object" && error !== null && "_tag" in error ? `failed (${String(error._tag)})` : "failed"
  })
}

const durationText = (nanos: bigint): string => {
  const millis = Number(nanos) / 1_000_000
  return millis < 10 ? `${millis.toFixed(1)} ms` : `${Math.round(millis)} ms`
}

/**
 * The line of a span that has ended: its name, outcome and duration, then the attributes of
 * {@link shownAttributes} it has.
 *
 * @since 0.1.0
 * @category formatting
 */
export const spanLine = (span: Tracer.Span): string => {
  const status = span.status
  const head =
    status._tag === "Ended"
      ? `${span.name} ${outcome(status.exit)} in ${durationText(status.endTime - status.startTime)}`
      : `${span.name} still running`
  const fields = shownAttributes.flatMap(([attribute, shownAs]) =>
    span.attributes.has(attribute) ? [` ${shownAs}=${String(span.attributes.get(attribute))}`] : []
  )
  return `span: ${head}${fields.join("")}`
}

const randomHex = (length: number): string =>
  Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join("")

class ReportedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = randomHex(16)
  readonly traceId: string
  readonly sampled = true
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink>
  status: Tracer.SpanStatus

  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    private readonly report: (span: Tracer.Span) => void
  ) {
    this.traceId = Option.match(parent, { onNone: () => randomHex(32), onSome: (span) => span.traceId })
    this.links = [...links]
    this.status = { _tag: "Started", startTime }
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.report(this)
  }

  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }

  event(): void {}

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

/**
 * A tracer that writes {@link spanLine} of every span when it ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tracer = (write: (line: string) => void): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind) =>
      new ReportedSpan(name, parent, context, links, startTime, kind, (span) => write(spanLine(span))),
    context: (execute) => execute()
  })
