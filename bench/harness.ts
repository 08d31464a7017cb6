/**
 * The pieces every benchmark shares: medians, the figures the report prints, and the table itself.
 */

/** One line of the report: a ratio (or a count) with how to read it and the measurements behind it. */
export interface Figure {
  readonly id: string
  readonly title: string
  readonly value: number
  /** `ratio`: subject ÷ baseline measured in the same run; `count`: a plain number, such as upstream calls. */
  readonly unit: "ratio" | "count"
  /** How to read `value`: what it divides by what, and which direction is better. */
  readonly reading: string
  /** The measurements behind `value`, for a reader who wants to check it. */
  readonly detail: string
  /** False marks a failure: the run exits with status 1. */
  readonly ok: boolean
}

export interface MachineFacts {
  readonly node: string
  readonly cpus: number
  readonly cpuModel: string
  readonly platform: string
  readonly arch: string
  readonly totalMemoryBytes: number
}

export interface Report {
  readonly configuration: "full" | "quick"
  readonly machine: MachineFacts
  readonly figures: ReadonlyArray<Figure>
  /** Each benchmark's own result, as it measured it. */
  readonly results: Readonly<Record<string, unknown>>
}

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) {
    return Number.NaN
  }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const maximum = (values: ReadonlyArray<number>): number =>
  values.reduce((highest, value) => Math.max(highest, value), Number.NEGATIVE_INFINITY)

/** Runs the baseline and the subject `rounds` times, alternating which goes first so drift hits both alike. */
export const alternate = async <A>(
  rounds: number,
  baseline: () => Promise<A>,
  subject: () => Promise<A>
): Promise<ReadonlyArray<{ readonly baseline: A; readonly subject: A }>> => {
  const results: Array<{ baseline: A; subject: A }> = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const baselineResult = await baseline()
      results.push({ baseline: baselineResult, subject: await subject() })
    } else {
      const subjectResult = await subject()
      results.push({ baseline: await baseline(), subject: subjectResult })
    }
  }
  return results
}

export const formatNumber = (value: number, digits = 2): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : String(value)

export const formatInteger = (value: number): string => Math.round(value).toLocaleString("en-US")

const formatValue = (figure: Figure): string => {
  switch (figure.unit) {
    case "ratio":
      return `${formatNumber(figure.value)}×`
    case "count":
      return formatInteger(figure.value)
  }
}

const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line.length === 0 ? word : `${line} ${word}`
    }
  }
  if (line.length > 0) {
    lines.push(line)
  }
  return lines
}

/** The report as a table a person reads: one block per figure, its value first, then how to read it. */
export const formatTable = (report: Report): string => {
  const machine = report.machine
  const titleWidth = Math.max(...report.figures.map((figure) => figure.title.length))
  const valueWidth = Math.max(...report.figures.map((figure) => formatValue(figure).length))
  const indent = " ".repeat(2 + titleWidth + 2 + valueWidth + 2 + 4 + 2)
  const textWidth = Math.max(40, 118 - indent.length)

  const lines = [
    `effect-opensolar-auth benchmarks (${report.configuration} configuration)`,
    `node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.platform} ${machine.arch}, ` +
      `${formatInteger(machine.totalMemoryBytes / 2 ** 20)} MiB memory`,
    "Every ratio divides the subject by a baseline measured in the same run; no figure is a wall-clock time.",
    ""
  ]
  for (const figure of report.figures) {
    const reading = wrap(figure.reading, textWidth)
    const detail = wrap(figure.detail, textWidth)
    lines.push(
      `  ${figure.title.padEnd(titleWidth)}  ${formatValue(figure).padStart(valueWidth)}  ` +
        `${(figure.ok ? "ok" : "FAIL").padEnd(4)}  ${reading[0] ?? ""}`
    )
    for (const line of [...reading.slice(1), ...detail]) {
      lines.push(`${indent}${line}`)
    }
  }
  const failures = report.figures.filter((figure) => !figure.ok)
  lines.push("")
  lines.push(
    failures.length === 0
      ? "No failures."
      : `FAILED: ${failures.map((figure) => figure.title).join(", ")}; see the figures marked FAIL.`
  )
  return lines.join("\n")
}
