/**
 * The pages of the documentation site: their code comes from snippet files, and the tables that restate the
 * library (errors, exit codes, environment variables) agree with the source.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as AuthError from "../../src/AuthError.js"
import { exitCodes } from "../../src/cli/ExitCode.js"
import { variables } from "../../src/OpenSolarConfig.js"

const root = path.resolve(import.meta.dirname, "../..")
const docs = path.join(root, "docs")
const snippets = path.join(docs, "snippets")

const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")

const pages = fs
  .readdirSync(docs)
  .filter((file) => file.endsWith(".md"))
  .sort()
  .map((file) => ({ file, text: fs.readFileSync(path.join(docs, file), "utf8") }))

interface Fence {
  readonly page: string
  readonly line: number
  readonly language: string
  readonly body: ReadonlyArray<string>
}

const fences = (page: string, text: string): Array<Fence> => {
  const found: Array<Fence> = []
  const lines = text.split("\n")
  for (let index = 0; index < lines.length; index++) {
    const open = /^\s*(`{3,}|~{3,})\s*([^\s{]*)/.exec(lines[index]!)
    if (open === null) continue
    const close = lines.findIndex((line, after) => after > index && line.trim() === open[1])
    found.push({ page, line: index + 1, language: open[2]!, body: lines.slice(index + 1, close) })
    index = close
  }
  return found
}

const includePattern = /^<<< @\/snippets\/([^\s{[]+)(\{[^}]*\})?(\s+\[[^\]]*\])?\s*$/

const includes = (text: string): Array<string> =>
  text
    .split("\n")
    .filter((line) => line.startsWith("<<<"))
    .map((line) => includePattern.exec(line)?.[1] ?? `(not a snippet include: ${line})`)

/** The rows of the first table after `heading`, as trimmed cells. */
const table = (text: string, heading: string): Array<Array<string>> => {
  const lines = text.split("\n")
  const start = lines.findIndex((line) => line.trim() === heading)
  expect(start, `the heading "${heading}"`).not.toBe(-1)
  const first = lines.findIndex((line, index) => index > start && line.startsWith("|"))
  const rows: Array<Array<string>> = []
  for (let index = first + 2; index < lines.length && lines[index]!.startsWith("|"); index++) {
    rows.push(
      lines[index]!.slice(1, -1)
        .split(" | ")
        .map((cell) => cell.trim())
    )
  }
  return rows
}

const page = (file: string) => pages.find((candidate) => candidate.file === file)!.text

const unquote = (cell: string) => cell.replace(/^`|`$/g, "")

describe("documentation pages", () => {
  it("hold no code of their own: every block is included from a file in docs/snippets/", () => {
    const fenced = pages
      .flatMap(({ file, text }) => fences(file, text))
      .map(
        (fence) =>
          `docs/${fence.page}:${fence.line}: a \`\`\`${fence.language} block: put it in docs/snippets/ and ` +
          "include it with <<< @/snippets/…"
      )
    expect(fenced).toEqual([])
    expect(pages.flatMap(({ text }) => includes(text)).length).toBeGreaterThan(0)
  })

  it("README's quick start is docs/snippets/quickstart.ts, as the test suite runs it", () => {
    const blocks = fences("README.md", readme).filter((fence) => fence.language === "ts")
    expect(blocks).toHaveLength(1)
    expect(`${blocks[0]!.body.join("\n")}\n`).toBe(fs.readFileSync(path.join(snippets, "quickstart.ts"), "utf8"))
  })

  it("README links to the documentation's pages, which exist", () => {
    const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)(#[^)]*)?\)/g)].map((link) => link[1]!)
    expect(linked).toContain("docs/index.md")
    expect(linked.filter((file) => !fs.existsSync(path.join(root, file)))).toEqual([])
  })

  it("include only snippets that exist", () => {
    const missing = pages.flatMap(({ file, text }) =>
      includes(text)
        .filter((snippet) => !fs.existsSync(path.join(snippets, snippet)))
        .map((snippet) => `docs/${file}: ${snippet}`)
    )
    expect(missing).toEqual([])
  })

  it("include every snippet and every expected output", () => {
    const included = new Set(pages.flatMap(({ text }) => includes(text)))
    const files = fs.readdirSync(snippets).filter((file) => /\.(ts|sh|out)$/.test(file) && file !== "vitest.config.ts")
    expect(files.filter((file) => !included.has(file))).toEqual([])
  })

  it("show a snippet's expected output wherever they show the snippet", () => {
    const missing = pages.flatMap(({ file, text }) => {
      const shown = new Set(includes(text))
      return [...shown]
        .map((snippet) => snippet.replace(/\.(test\.ts|ts|sh)$/, ".out"))
        .filter((out) => out.endsWith(".out") && fs.existsSync(path.join(snippets, out)) && !shown.has(out))
        .map((out) => `docs/${file} should show ${out}`)
    })
    expect(missing).toEqual([])
  })

  it("list every AuthError, retried exactly when it is transient", () => {
    const rows = table(page("errors.md"), "## Every error")
    const documented = rows.map(([tag, , retried]) => [unquote(tag!), retried])
    const actual = AuthError.AuthError.members.map((member) => {
      const transient = Object.getOwnPropertyDescriptor(member.prototype, "transient")!.get!.call({}) as boolean
      return [member._tag, transient ? "yes" : "no"]
    })
    expect(documented.sort()).toEqual(actual.sort())
  })

  it("list the CLI's exit codes as the CLI defines them", () => {
    const rows = table(page("cli.md"), "## Exit codes")
    expect(
      rows.map(([code, name, meaning, errors]) => ({
        code: Number(code),
        name,
        meaning,
        errors: errors === "" ? [] : errors!.split(", ").map(unquote)
      }))
    ).toEqual(exitCodes.map((entry) => ({ ...entry, errors: [...entry.errors] })))
  })

  it("list every environment variable the library reads", () => {
    const rows = table(page("getting-started.md"), "## Configure")
    expect(rows.map(([name]) => unquote(name!)).sort()).toEqual(Object.values(variables).sort())
  })
})
