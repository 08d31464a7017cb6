/**
 * Writes the API reference of the documentation site: one Markdown page per public module under `docs/api/`,
 * an index page, and `docs/api/sidebar.json` for the site's sidebar.
 *
 * The public modules are what the entry points of the `exports` map in `package.json` re-export: namespaces
 * (`export * as TokenRef from "./TokenRef.js"` in `src/index.ts`) or names (`src/testing/index.ts`). Each
 * export's TSDoc (summary, `@since`, `@category`, `@default`, `@example`) and its declaration head are read from
 * the source with a small scanner: the TypeScript compiler offers no JavaScript API to read declarations with.
 *
 * Run with `npx tsx scripts/api-docs.ts [outputDirectory]`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

// Tokens

interface Token {
  readonly kind: "word" | "punct" | "string" | "template" | "regex" | "number" | "doc"
  readonly text: string
  readonly start: number
  readonly end: number
  /** Whether a line break separates this token from the previous one. */
  readonly lineStart: boolean
}

interface Scanned {
  readonly source: string
  readonly tokens: ReadonlyArray<Token>
  /** Every comment, doc comments included, as [start, end) ranges. */
  readonly comments: ReadonlyArray<readonly [number, number]>
}

const punctuators = [
  "...",
  "===",
  "!==",
  "**=",
  "??=",
  "&&=",
  "||=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "**",
  "<<"
]

const regexAfterWords = new Set([
  "return",
  "typeof",
  "case",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
  "else",
  "do"
])

const isIdentifierStart = (char: string) => /[A-Za-z_$]/.test(char)
const isIdentifierPart = (char: string) => /[A-Za-z0-9_$]/.test(char)

/**
 * Splits TypeScript source into the tokens the reader needs: words, punctuation, literals and doc comments.
 * Strings, template literals, regular expressions and comments are skipped over whole, so that brackets inside
 * them never count.
 */
export const scan = (source: string): Scanned => {
  const tokens: Array<Token> = []
  const comments: Array<readonly [number, number]> = []
  // Brace depths at which a template literal's `${` was opened; a `}` at that depth resumes the template.
  const templateBraces: Array<number> = []
  let braceDepth = 0
  let index = 0
  let lineStart = true

  const previous = () => tokens[tokens.length - 1]
  const push = (kind: Token["kind"], start: number, end: number) => {
    tokens.push({ kind, text: source.slice(start, end), start, end, lineStart })
    lineStart = false
  }
  const regexAllowed = () => {
    const last = previous()
    if (last === undefined) return true
    if (last.kind === "word") return regexAfterWords.has(last.text)
    if (last.kind === "punct") return ![")", "]", "}"].includes(last.text)
    return false
  }
  // Reads template text from `from` (just after a backtick or a closing `}`) to the closing backtick or `${`.
  const templateText = (from: number): { readonly end: number; readonly opensExpression: boolean } => {
    let at = from
    while (at < source.length) {
      const char = source[at]
      if (char === "\\") {
        at += 2
      } else if (char === "`") {
        return { end: at + 1, opensExpression: false }
      } else if (char === "$" && source[at + 1] === "{") {
        return { end: at + 2, opensExpression: true }
      } else {
        at++
      }
    }
    throw new Error("unterminated template literal")
  }

  while (index < source.length) {
    const char = source[index]!
    const next = source[index + 1]
    if (char === "\n") {
      lineStart = true
      index++
    } else if (/\s/.test(char)) {
      index++
    } else if (char === "/" && next === "/") {
      const end = source.indexOf("\n", index)
      const stop = end === -1 ? source.length : end
      comments.push([index, stop])
      index = stop
    } else if (char === "/" && next === "*") {
      const end = source.indexOf("*/", index + 2)
      if (end === -1) throw new Error("unterminated comment")
      comments.push([index, end + 2])
      if (source[index + 2] === "*" && source[index + 3] !== "/") {
        push("doc", index, end + 2)
      }
      index = end + 2
    } else if (char === '"' || char === "'") {
      let at = index + 1
      while (at < source.length && source[at] !== char) {
        at += source[at] === "\\" ? 2 : 1
      }
      push("string", index, at + 1)
      index = at + 1
    } else if (char === "`") {
      const part = templateText(index + 1)
      if (part.opensExpression) {
        templateBraces.push(braceDepth)
        braceDepth++
      }
      push("template", index, part.end)
      index = part.end
    } else if (
      char === "}" &&
      templateBraces.length > 0 &&
      templateBraces[templateBraces.length - 1] === braceDepth - 1
    ) {
      braceDepth--
      templateBraces.pop()
      const part = templateText(index + 1)
      if (part.opensExpression) {
        templateBraces.push(braceDepth)
        braceDepth++
      }
      push("template", index, part.end)
      index = part.end
    } else if (char === "/" && regexAllowed()) {
      let at = index + 1
      let inClass = false
      while (at < source.length) {
        const current = source[at]
        if (current === "\\") {
          at += 2
          continue
        }
        if (current === "[") inClass = true
        else if (current === "]") inClass = false
        else if (current === "/" && !inClass) break
        else if (current === "\n") throw new Error(`unterminated regular expression at ${index}`)
        at++
      }
      at++
      while (at < source.length && /[a-z]/.test(source[at]!)) at++
      push("regex", index, at)
      index = at
    } else if (isIdentifierStart(char)) {
      let at = index + 1
      while (at < source.length && isIdentifierPart(source[at]!)) at++
      push("word", index, at)
      index = at
    } else if (/[0-9]/.test(char)) {
      let at = index + 1
      while (at < source.length && /[0-9A-Za-z_.]/.test(source[at]!)) at++
      push("number", index, at)
      index = at
    } else {
      const punctuator = punctuators.find((candidate) => source.startsWith(candidate, index)) ?? char
      if (punctuator === "{") braceDepth++
      if (punctuator === "}") braceDepth--
      push("punct", index, index + punctuator.length)
      index += punctuator.length
    }
  }
  return { source, tokens, comments }
}

const opening: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">" }
const closing = new Set([")", "]", "}", ">"])

/**
 * The index of the token that closes the bracket at `open`. Angle brackets are counted only when `angles` is set,
 * which is right in type positions only.
 */
const matching = (tokens: ReadonlyArray<Token>, open: number, angles: boolean): number => {
  let depth = 0
  for (let at = open; at < tokens.length; at++) {
    const token = tokens[at]!
    if (token.kind !== "punct") continue
    if (token.text in opening && (angles || token.text !== "<")) depth++
    else if (closing.has(token.text) && (angles || token.text !== ">")) {
      depth--
      if (depth === 0) return at
    }
  }
  throw new Error(`unbalanced bracket at ${tokens[open]?.start}`)
}

/** The first token from `from` on, at bracket depth 0, that satisfies `stop`. */
const findAtDepthZero = (
  tokens: ReadonlyArray<Token>,
  from: number,
  stop: (token: Token, at: number) => boolean,
  angles: boolean
): number => {
  for (let at = from; at < tokens.length; at++) {
    const token = tokens[at]!
    if (stop(token, at)) return at
    if (token.kind === "punct" && token.text in opening && (angles || token.text !== "<")) {
      at = matching(tokens, at, angles)
    }
  }
  return tokens.length
}

// Doc comments

/**
 * A parsed TSDoc comment.
 */
export interface Doc {
  readonly description: string
  readonly since: string | undefined
  readonly category: string | undefined
  readonly defaultValue: string | undefined
  readonly examples: ReadonlyArray<string>
  readonly internal: boolean
}

const knownTags = new Set(["since", "category", "example", "default", "internal", "see", "deprecated"])

/** Reads a doc comment: the description up to the first tag, then the tags this reference shows. */
export const parseDoc = (comment: string): Doc => {
  const lines = comment
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, "").replace(/\s+$/, ""))
  const sections: Array<{ tag: string; lines: Array<string> }> = [{ tag: "description", lines: [] }]
  let inFence = false
  for (const line of lines) {
    if (/^\s*```/.test(line)) inFence = !inFence
    const tagged = inFence ? null : /^@([a-z]+)\b\s?(.*)$/.exec(line.trim())
    if (tagged !== null && knownTags.has(tagged[1]!)) {
      sections.push({ tag: tagged[1]!, lines: [tagged[2]!] })
      continue
    }
    // A one-line comment may end with `@default value` after its description.
    const inline = inFence ? null : /^(.*?)\s+@default\s+(.*)$/.exec(line)
    if (inline !== null && (inline[1]!.match(/`/g) ?? []).length % 2 === 0) {
      sections[sections.length - 1]!.lines.push(inline[1]!)
      sections.push({ tag: "default", lines: [inline[2]!] })
      continue
    }
    sections[sections.length - 1]!.lines.push(line)
  }
  const text = (section: { lines: Array<string> }) => section.lines.join("\n").trim()
  const first = (tag: string) => {
    const section = sections.find((candidate) => candidate.tag === tag)
    return section === undefined ? undefined : text(section)
  }
  return {
    description: text(sections[0]!),
    since: first("since"),
    category: first("category"),
    defaultValue: first("default"),
    examples: sections.filter((section) => section.tag === "example").map(text),
    internal: sections.some((section) => section.tag === "internal")
  }
}

// Declarations

/**
 * One member of an exported interface or class.
 */
export interface Member {
  readonly name: string
  readonly signature: string
  readonly doc: Doc | undefined
}

/**
 * One exported declaration with its documentation.
 */
export interface Declaration {
  readonly name: string
  readonly kind: "const" | "function" | "class" | "interface" | "type" | "namespace"
  readonly signature: string
  readonly doc: Doc | undefined
  readonly members: ReadonlyArray<Member>
  /** 1-based line of the declaration in its file. */
  readonly line: number
}

/**
 * A module: its own doc comment and its exported declarations in source order.
 */
export interface ModuleDocs {
  readonly doc: Doc | undefined
  readonly declarations: ReadonlyArray<Declaration>
}

/** Removes the indentation all lines share, after giving the first line back the indentation of its column. */
const dedent = (text: string, column: number): string => {
  const lines = [" ".repeat(column) + text.split("\n")[0], ...text.split("\n").slice(1)]
  const indents = lines.filter((line) => line.trim() !== "").map((line) => /^ */.exec(line)![0].length)
  const common = Math.min(...indents)
  return lines.map((line) => line.slice(common)).join("\n")
}

/** The source between two offsets without its comments, trimmed of blank lines and trailing spaces. */
const sourceText = (scanned: Scanned, start: number, end: number): string => {
  let text = ""
  let at = start
  for (const [commentStart, commentEnd] of scanned.comments) {
    if (commentEnd <= at || commentStart >= end) continue
    text += scanned.source.slice(at, commentStart)
    at = commentEnd
  }
  text += scanned.source.slice(at, end)
  const lineText = scanned.source.slice(scanned.source.lastIndexOf("\n", start - 1) + 1, start)
  const column = /^ */.exec(lineText)![0].length
  return dedent(
    text
      .split("\n")
      .map((line) => line.replace(/\s+$/, ""))
      .filter((line) => line.trim() !== "")
      .join("\n")
      .trim(),
    column
  )
}

const docBefore = (tokens: ReadonlyArray<Token>, at: number): Doc | undefined => {
  const token = tokens[at - 1]
  return token?.kind === "doc" ? parseDoc(token.text) : undefined
}

const lineOf = (source: string, offset: number): number => source.slice(0, offset).split("\n").length

/** Whether a token begins a new statement or member: it starts a line and does not continue the previous one. */
const startsStatement = (tokens: ReadonlyArray<Token>, at: number): boolean => {
  const token = tokens[at]!
  if (!token.lineStart) return false
  const before = tokens[at - 1]
  if (
    token.kind === "punct" &&
    ["|", "&", "=>", "?", ":", ".", "?.", "=", ",", ")", "]", "}", ">"].includes(token.text)
  ) {
    return false
  }
  if (
    before?.kind === "punct" &&
    ["|", "&", "=>", "=", ",", "(", "[", "{", "<", ":", "?", "??", "&&", "||", "+"].includes(before.text)
  ) {
    return false
  }
  return true
}

/** The members of the body between `open` and its closing brace: interface properties or class members. */
const readMembers = (scanned: Scanned, open: number, close: number, onlyDocumented: boolean): Array<Member> => {
  const { tokens } = scanned
  const members: Array<Member> = []
  let at = open + 1
  while (at < close) {
    const doc = tokens[at]!.kind === "doc" ? parseDoc(tokens[at]!.text) : undefined
    if (doc !== undefined) at++
    if (at >= close) break
    const start = at
    let end = at + 1
    for (; end < close; end++) {
      const token = tokens[end]!
      if (token.kind === "doc" || (startsStatement(tokens, end) && token.text !== "{")) break
      if (token.kind === "punct" && token.text in opening && token.text !== "<") end = matching(tokens, end, false)
    }
    const words = tokens.slice(start, end).filter((token) => token.kind === "word")
    const modifiers = new Set(["readonly", "static", "public", "get", "set", "override", "async", "declare"])
    const nameToken = tokens.slice(start, end).find((token) => token.kind !== "punct" && !modifiers.has(token.text))
    const name = nameToken?.text.replace(/^["']|["']$/g, "") ?? ""
    // A class member's initializer or body is not part of its signature.
    const body = findAtDepthZero(
      tokens,
      start,
      (token, index) => index >= end || (token.kind === "punct" && (token.text === "=" || token.text === "{")),
      true
    )
    const isGetter = words.some((word) => word.text === "get")
    const signature =
      body < end && tokens[body]!.text === "="
        ? initializedHead(scanned, tokens[start]!.start, body + 1, end)
        : sourceText(scanned, tokens[start]!.start, tokens[(body < end && isGetter ? body : end) - 1]!.end)
    if (name !== "" && (!onlyDocumented || doc !== undefined)) {
      members.push({ name, signature, doc })
    }
    at = end
  }
  return members
}

/**
 * The head of `name = initializer` from `startOffset`: a function's parameters and return type, a short value
 * whole, or the first line of a long one.
 */
const initializedHead = (scanned: Scanned, startOffset: number, initializer: number, limit: number): string => {
  const { tokens } = scanned
  const first = tokens[initializer]!
  const statementEnd = findAtDepthZero(
    tokens,
    initializer + 1,
    (_token, index) => index >= limit || startsStatement(tokens, index),
    false
  )
  if (first.text === "(" || first.text === "<" || (first.text === "async" && tokens[initializer + 1]?.text === "(")) {
    const params = findAtDepthZero(tokens, initializer, (token) => token.text === "(", false)
    const afterParams = matching(tokens, params, false) + 1
    const arrow = findAtDepthZero(
      tokens,
      afterParams,
      (token, index) => token.text === "=>" || index >= statementEnd,
      true
    )
    if (arrow < statementEnd) return sourceText(scanned, startOffset, tokens[arrow - 1]!.end)
  }
  const text = sourceText(scanned, startOffset, tokens[statementEnd - 1]!.end)
  const lines = text.split("\n")
  return lines.length <= 12 ? text : `${lines[0]} …`
}

/** Reads the head of a declaration starting at the `export` token `at`; `undefined` for re-exports. */
const readDeclaration = (scanned: Scanned, at: number): Array<Declaration> => {
  const { source, tokens } = scanned
  const doc = docBefore(tokens, at)
  let keyword = at + 1
  while (["declare", "abstract", "default", "async"].includes(tokens[keyword]?.text ?? "")) keyword++
  const kind = tokens[keyword]!.text
  const line = lineOf(source, tokens[at]!.start)

  if (kind === "{") {
    return readExportClause(scanned, keyword)
  }
  if (kind === "*") {
    return []
  }
  const nameToken = tokens[keyword + 1]!
  const name = nameToken.text
  const startOffset = tokens[keyword]!.start

  if (kind === "const" || kind === "let") {
    const afterName = keyword + 2
    if (tokens[afterName]!.text === ":") {
      const equals = findAtDepthZero(tokens, afterName + 1, (token) => token.text === "=", true)
      const signature = sourceText(scanned, startOffset, tokens[equals - 1]!.end)
      return [{ name, kind: "const", signature, doc, members: [], line }]
    }
    const signature = initializedHead(scanned, startOffset, afterName + 1, tokens.length)
    return [{ name, kind: "const", signature, doc, members: [], line }]
  }

  if (kind === "function") {
    const params = findAtDepthZero(tokens, keyword + 2, (token) => token.text === "(", false)
    const afterParams = matching(tokens, params, false) + 1
    const body = findAtDepthZero(
      tokens,
      afterParams,
      (token, index) => (token.text === "{" && tokens[index - 1]?.text !== ":") || startsStatement(tokens, index),
      true
    )
    return [
      {
        name,
        kind: "function",
        signature: sourceText(scanned, startOffset, tokens[body - 1]!.end),
        doc,
        members: [],
        line
      }
    ]
  }

  if (kind === "interface") {
    const open = findAtDepthZero(tokens, keyword + 2, (token) => token.text === "{", true)
    const close = matching(tokens, open, false)
    const members = readMembers(scanned, open, close, false)
    const head = sourceText(scanned, startOffset, tokens[open - 1]!.end)
    const body = members.map((member) => `  ${member.signature.split("\n").join("\n  ")}`).join("\n")
    return [{ name, kind: "interface", signature: `${head} {\n${body}\n}`, doc, members, line }]
  }

  if (kind === "type") {
    const equals = findAtDepthZero(tokens, keyword + 2, (token) => token.text === "=", true)
    const end = findAtDepthZero(tokens, equals + 1, (_token, index) => startsStatement(tokens, index), true)
    return [
      { name, kind: "type", signature: sourceText(scanned, startOffset, tokens[end - 1]!.end), doc, members: [], line }
    ]
  }

  if (kind === "class") {
    const open = findAtDepthZero(
      tokens,
      keyword + 2,
      (token, index) => token.text === "{" && index >= keyword + 2,
      false
    )
    const close = matching(tokens, open, false)
    const members = readMembers(scanned, open, close, true)
    return [
      { name, kind: "class", signature: sourceText(scanned, startOffset, tokens[open - 1]!.end), doc, members, line }
    ]
  }

  if (kind === "namespace") {
    return [{ name, kind: "namespace", signature: `namespace ${name}`, doc, members: [], line }]
  }
  throw new Error(`unknown export form "export ${kind}" at line ${line}`)
}

/** `export { local as exported }` with doc comments inside the braces: the local declarations, renamed. */
const readExportClause = (scanned: Scanned, open: number): Array<Declaration> => {
  const { tokens } = scanned
  const close = matching(tokens, open, false)
  if (tokens[close + 1]?.text === "from") return []
  const declarations: Array<Declaration> = []
  for (let at = open + 1; at < close; at++) {
    if (tokens[at]!.kind !== "word") continue
    const doc = docBefore(tokens, at)
    const local = tokens[at]!.text
    const exported = tokens[at + 1]?.text === "as" ? tokens[at + 2]!.text : local
    if (tokens[at + 1]?.text === "as") at += 2
    const localAt = tokens.findIndex(
      (token, index) =>
        token.kind === "word" &&
        ["const", "let", "function", "class"].includes(token.text) &&
        tokens[index + 1]?.text === local
    )
    if (localAt === -1) throw new Error(`export { ${local} }: no local declaration`)
    const [declaration] = readLocal(scanned, localAt)
    declarations.push({
      ...declaration!,
      name: exported,
      signature: declaration!.signature.replace(new RegExp(`\\b${local}\\b`), exported),
      doc
    })
  }
  return declarations
}

const readLocal = (scanned: Scanned, keywordAt: number): Array<Declaration> => {
  // A local declaration reads like an exported one with the `export` keyword missing.
  const fake: Token = {
    kind: "word",
    text: "export",
    start: scanned.tokens[keywordAt]!.start,
    end: scanned.tokens[keywordAt]!.start,
    lineStart: true
  }
  const tokens = [...scanned.tokens.slice(0, keywordAt), fake, ...scanned.tokens.slice(keywordAt)]
  return readDeclaration({ ...scanned, tokens }, keywordAt)
}

/** Reads the module doc comment and every exported declaration of a source file. */
export const readModule = (source: string): ModuleDocs => {
  const scanned = scan(source)
  const { tokens } = scanned
  // The file's first comment documents the module unless it documents a declaration, which has a category.
  const first = tokens[0]?.kind === "doc" ? parseDoc(tokens[0].text) : undefined
  const moduleDoc = first?.category === undefined ? first : undefined
  const declarations: Array<Declaration> = []
  let depth = 0
  for (let at = 0; at < tokens.length; at++) {
    const token = tokens[at]!
    if (token.kind === "punct" && ["{", "(", "["].includes(token.text)) depth++
    else if (token.kind === "punct" && ["}", ")", "]"].includes(token.text)) depth--
    else if (depth === 0 && token.kind === "word" && token.text === "export" && token.lineStart) {
      declarations.push(...readDeclaration(scanned, at))
    }
  }
  return { doc: moduleDoc, declarations }
}

// Entry points

/**
 * A page of the reference: a namespace of the package entry, or the names of another entry point.
 */
export interface PublicModule {
  /** The page's name and, for namespaces, the name users import. */
  readonly name: string
  /** The entry point users import from. */
  readonly entry: string
  /** The source file, relative to the repository. */
  readonly file: string
  /** `undefined` for a namespace (every export), otherwise the names re-exported. */
  readonly names: ReadonlyArray<string> | undefined
  /** The doc comment of the entry point file, for pages of named re-exports. */
  readonly entryDoc: Doc | undefined
  /** Where a namespace is re-exported (`export * as Name`) and that statement's doc comment. */
  readonly reexport: { readonly file: string; readonly line: number; readonly doc: Doc | undefined } | undefined
}

/** The doc comment that ends right before `offset`, with only white space between them. */
const docEndingAt = (source: string, offset: number): Doc | undefined => {
  const before = source.slice(0, offset).trimEnd()
  const start = before.lastIndexOf("/*")
  return before.endsWith("*/") && before.startsWith("/**", start) ? parseDoc(before.slice(start)) : undefined
}

/** Reads an entry point's re-exports: `export * as Name from "./Name.js"` and `export { a, type B } from "./X.js"`. */
export const readEntry = (root: string, entryFile: string, entry: string): Array<PublicModule> => {
  const source = fs.readFileSync(path.join(root, entryFile), "utf8")
  const directory = path.dirname(entryFile)
  const toSource = (specifier: string) => path.join(directory, specifier.replace(/\.js$/, ".ts"))
  const modules: Array<PublicModule> = []
  for (const match of source.matchAll(/export\s+\*\s+as\s+(\w+)\s+from\s+"([^"]+)"/g)) {
    modules.push({
      name: match[1]!,
      entry,
      file: toSource(match[2]!),
      names: undefined,
      entryDoc: undefined,
      reexport: { file: entryFile, line: lineOf(source, match.index), doc: docEndingAt(source, match.index) }
    })
  }
  for (const match of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/g)) {
    const names = match[1]!
      .split(",")
      .map((name) => name.trim().replace(/^type\s+/, ""))
      .filter((name) => name !== "")
      .map((name) => name.split(/\s+as\s+/).pop()!)
    modules.push({
      name: entry.split("/").pop()!,
      entry,
      file: toSource(match[2]!),
      names,
      entryDoc: readModule(source).doc,
      reexport: undefined
    })
  }
  if (/export\s+\*\s+from/.test(source)) {
    throw new Error(`${entryFile}: "export * from" hides which names are public; re-export namespaces or names`)
  }
  return modules
}

// Markdown

/**
 * A problem with the documentation of an export: what a reader would miss.
 */
export interface Problem {
  readonly file: string
  readonly line: number
  readonly name: string
  readonly message: string
}

const categoryOrder = [
  "constructors",
  "layers",
  "tags",
  "models",
  "schemas",
  "combinators",
  "accessors",
  "getters",
  "predicates",
  "guards",
  "parsers",
  "config",
  "errors",
  "metrics",
  "constants"
]

const title = (category: string) => category.charAt(0).toUpperCase() + category.slice(1)

const anchor = (name: string) =>
  name
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase()

/** Turns TSDoc `{@link X}` into inline code, linked when the target is documented in this reference. */
const links = (text: string, current: string, pages: ReadonlyMap<string, ReadonlySet<string>>): string =>
  text.replace(/\{@link\s+([^}\s|]+)(?:\s*\|\s*([^}]+))?\}/g, (_match, target: string, label: string | undefined) => {
    const shown = `\`${label?.trim() ?? target}\``
    const [first, ...rest] = target.split(".")
    if (rest.length > 0 && pages.has(first!)) {
      const member = rest[0]!
      return pages.get(first!)!.has(member) ? `[${shown}](./${first}#${anchor(member)})` : `[${shown}](./${first})`
    }
    if (pages.get(current)?.has(first!) === true) {
      return `[${shown}](#${anchor(first!)})`
    }
    if (pages.has(first!)) {
      return `[${shown}](./${first})`
    }
    return shown
  })

/** Splits a Markdown table row into its cells, leaving escaped pipes inside cells. */
const cells = (row: string): Array<string> =>
  row
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim())

/** Pads the tables in Markdown text, as the repository's formatter writes them. */
const padTables = (text: string): string => {
  const lines = text.split("\n")
  const output: Array<string> = []
  for (let at = 0; at < lines.length; at++) {
    const isRow = (line: string | undefined) => line !== undefined && /^\s*\|.*\|\s*$/.test(line)
    if (!isRow(lines[at]) || !/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[at + 1] ?? "")) {
      output.push(lines[at]!)
      continue
    }
    const header = cells(lines[at]!)
    const rows: Array<Array<string>> = []
    at += 2
    while (isRow(lines[at])) rows.push(cells(lines[at++]!))
    at--
    output.push(markdownTable(header, rows))
  }
  return output.join("\n")
}

/** Prose from a doc comment, ready for a page: links resolved, tables in the formatter's layout. */
const prose = (text: string, current: string, pages: ReadonlyMap<string, ReadonlySet<string>>): string =>
  padTables(links(text, current, pages))

const codeBlock = (code: string, language = "ts") => {
  const fence = code.includes("```") ? "````" : "```"
  return `${fence}${language}\n${code}\n${fence}`
}

const exampleBlock = (example: string): string => {
  const trimmed = example.trim()
  return trimmed.startsWith("```") ? trimmed : codeBlock(trimmed)
}

const tableCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n+/g, " ")

/** A Markdown table with its columns padded to one width, as the repository's formatter writes tables. */
const markdownTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((title, column) =>
    Math.max(3, title.length, ...rows.map((row) => (row[column] ?? "").length))
  )
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n")
}

const renderDeclaration = (
  declaration: Declaration,
  id: string,
  module: PublicModule,
  pages: ReadonlyMap<string, ReadonlySet<string>>
): string => {
  const doc = declaration.doc
  const parts: Array<string> = [`### ${declaration.name} {#${id}}`]
  if (doc !== undefined && doc.description !== "") parts.push(prose(doc.description, module.name, pages))
  parts.push(codeBlock(declaration.signature))
  const documentedMembers = declaration.members.filter((member) => member.doc !== undefined)
  if (declaration.kind === "interface" && documentedMembers.length > 0) {
    const hasDefaults = documentedMembers.some((member) => member.doc?.defaultValue !== undefined)
    const rows = documentedMembers.map((member) => {
      const description = tableCell(prose(member.doc?.description ?? "", module.name, pages))
      const defaultValue = member.doc?.defaultValue === undefined ? "" : tableCell(member.doc.defaultValue)
      return hasDefaults ? [`\`${member.name}\``, defaultValue, description] : [`\`${member.name}\``, description]
    })
    parts.push(markdownTable(hasDefaults ? ["member", "default", "description"] : ["member", "description"], rows))
  }
  if (declaration.kind === "class") {
    for (const member of declaration.members.filter((member) => member.doc?.description !== "")) {
      parts.push(`#### ${declaration.name}.${member.name} {#${id}-${anchor(member.name)}}`)
      if (member.doc !== undefined) parts.push(prose(member.doc.description, module.name, pages))
      parts.push(codeBlock(member.signature))
      for (const example of member.doc?.examples ?? []) parts.push(`**Example**\n\n${exampleBlock(example)}`)
    }
  }
  for (const example of doc?.examples ?? []) parts.push(`**Example**\n\n${exampleBlock(example)}`)
  if (doc?.since !== undefined) parts.push(`<small>Since ${doc.since}</small>`)
  return parts.join("\n\n")
}

/**
 * A rendered reference: its pages by file name, the sidebar, and the problems found in the documentation.
 */
export interface Reference {
  readonly pages: ReadonlyMap<string, string>
  /** The sidebar: one group per entry point, one link per module. */
  readonly sidebar: ReadonlyArray<{
    readonly text: string
    readonly items: ReadonlyArray<{ readonly text: string; readonly link: string }>
  }>
  readonly problems: ReadonlyArray<Problem>
  /** Every `@example` block, with where it came from. */
  readonly examples: ReadonlyArray<{ readonly module: string; readonly name: string; readonly code: string }>
}

/** What a reader of an export's doc comment would miss: its sentence, `@since` or lower-case `@category`. */
const docProblems = (doc: Doc | undefined): Array<string> => {
  if (doc === undefined) return ["has no doc comment"]
  const problems: Array<string> = []
  if (doc.description === "") problems.push("has no summary sentence")
  if (doc.since === undefined) problems.push("has no @since")
  if (doc.category === undefined) problems.push("has no @category")
  else if (doc.category !== doc.category.toLowerCase()) problems.push(`has an upper-case @category "${doc.category}"`)
  return problems
}

/** Renders the reference of the given public modules, reading their sources under `root`. */
export const render = (root: string, modules: ReadonlyArray<PublicModule>): Reference => {
  const read = new Map(
    modules.map((module) => [module, readModule(fs.readFileSync(path.join(root, module.file), "utf8"))])
  )
  const problems: Array<Problem> = []
  const examples: Array<{ module: string; name: string; code: string }> = []
  const selected = new Map<PublicModule, ReadonlyArray<Declaration>>()
  for (const module of modules) {
    const all = read.get(module)!.declarations.filter((declaration) => declaration.doc?.internal !== true)
    const chosen =
      module.names === undefined
        ? all
        : module.names.map((name) => {
            const found = all.find((declaration) => declaration.name === name)
            if (found === undefined) throw new Error(`${module.file}: ${name} is re-exported but not declared there`)
            return found
          })
    selected.set(module, chosen)
  }
  const pages = new Map<string, ReadonlySet<string>>(
    modules.map((module) => [module.name, new Set(selected.get(module)!.map((declaration) => declaration.name))])
  )

  const output = new Map<string, string>()
  for (const module of modules) {
    const declarations = selected.get(module)!
    if (module.reexport !== undefined) {
      const { file, line, doc } = module.reexport
      for (const message of docProblems(doc)) problems.push({ file, line, name: `* as ${module.name}`, message })
    }
    for (const declaration of declarations) {
      const where = { file: module.file, line: declaration.line, name: declaration.name }
      for (const message of docProblems(declaration.doc)) problems.push({ ...where, message })
      for (const member of declaration.members) {
        if (member.doc?.description === "") {
          problems.push({ ...where, name: `${declaration.name}.${member.name}`, message: "has no summary sentence" })
        }
      }
      for (const example of declaration.doc?.examples ?? [])
        examples.push({ module: module.name, name: declaration.name, code: example })
      for (const member of declaration.members) {
        for (const example of member.doc?.examples ?? []) {
          examples.push({ module: module.name, name: `${declaration.name}.${member.name}`, code: example })
        }
      }
    }

    const byCategory = new Map<string, Array<Declaration>>()
    for (const declaration of declarations) {
      const category = declaration.doc?.category ?? "uncategorised"
      byCategory.set(category, [...(byCategory.get(category) ?? []), declaration])
    }
    const categories = [...byCategory.keys()].sort((left, right) => {
      const rank = (category: string) => {
        const index = categoryOrder.indexOf(category)
        return index === -1 ? categoryOrder.length : index
      }
      return rank(left) - rank(right) || left.localeCompare(right)
    })

    const moduleDoc = module.names === undefined ? read.get(module)!.doc : (module.entryDoc ?? read.get(module)!.doc)
    const importLine =
      module.names === undefined
        ? `import { ${module.name} } from "${module.entry}"`
        : `import { ${module.names
            .filter((name) => /^[a-z]|^[A-Z][a-z]+$/.test(name))
            .slice(0, 3)
            .join(", ")} } from "${module.entry}"`
    // A value and a type of one name (a schema and its type) share a heading text; the later gets its kind appended.
    const ids = new Set<string>()
    const idOf = (declaration: Declaration) => {
      const base = anchor(declaration.name)
      const id = ids.has(base) ? `${base}-${declaration.kind}` : base
      ids.add(id)
      return id
    }
    const sections = categories.map((category) =>
      [
        `## ${title(category)} {#category-${anchor(category)}}`,
        ...byCategory
          .get(category)!
          .map((declaration) => renderDeclaration(declaration, idOf(declaration), module, pages))
      ].join("\n\n")
    )
    const page = [
      "<!-- Generated by scripts/api-docs.ts from the TSDoc in the source; edit the source, not this page. -->",
      "",
      // The title gets its own id, so that a declaration named like the module keeps the plain one.
      `# ${module.name} {#module}`,
      "",
      "::: v-pre",
      "",
      moduleDoc === undefined ? "" : prose(moduleDoc.description, module.name, pages),
      "",
      codeBlock(importLine),
      "",
      `Source: \`${module.file.split(path.sep).join("/")}\``,
      "",
      sections.join("\n\n"),
      "",
      ":::",
      ""
    ].join("\n")
    output.set(`${module.name}.md`, page)
  }

  // A namespace's one-line sentence at its re-export says what it is; otherwise the module's first paragraph does.
  const summary = (module: PublicModule) => {
    const sentence = module.reexport?.doc
    const doc =
      sentence !== undefined && sentence.description !== ""
        ? sentence
        : module.names === undefined
          ? read.get(module)!.doc
          : (module.entryDoc ?? read.get(module)!.doc)
    const first = (doc?.description ?? "").split(/\n\s*\n/)[0]!.replace(/\n/g, " ")
    return tableCell(links(first, module.name, pages))
  }
  const byEntry = new Map<string, Array<PublicModule>>()
  for (const module of modules) byEntry.set(module.entry, [...(byEntry.get(module.entry) ?? []), module])
  const index = [
    "<!-- Generated by scripts/api-docs.ts from the TSDoc in the source; edit the source, not this page. -->",
    "",
    "# API reference",
    "",
    "Every public module, generated from the documentation comments in the source. Each page lists the module's",
    "exports by category, with their signatures, defaults and examples.",
    "",
    "::: v-pre",
    "",
    ...[...byEntry.entries()].flatMap(([entry, entryModules]) => [
      `## \`${entry}\``,
      "",
      markdownTable(
        ["module", "what it is"],
        entryModules.map((module) => [`[${module.name}](./${module.name})`, summary(module)])
      ),
      ""
    ]),
    ":::",
    ""
  ].join("\n")
  output.set("index.md", index)

  return {
    pages: output,
    sidebar: [...byEntry.entries()].map(([entry, entryModules]) => ({
      text: entry,
      items: entryModules.map((module) => ({ text: module.name, link: `/api/${module.name}` }))
    })),
    problems,
    examples
  }
}

/**
 * The public modules of this package: for each entry point of the `exports` map in `package.json`, the namespaces
 * or names its source file re-exports.
 */
export const publicModules = (root: string): Array<PublicModule> => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    readonly name: string
    readonly exports: Record<string, string | { readonly import?: string }>
  }
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
    const built = typeof target === "string" ? target : target.import
    if (built === undefined || !built.endsWith(".js")) return []
    const file = built.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")
    const entry = subpath === "." ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, "")}`
    return readEntry(root, file, entry)
  })
}

/** Writes the reference into `directory`, replacing what a previous run wrote there. */
export const write = (reference: Reference, directory: string): void => {
  fs.mkdirSync(directory, { recursive: true })
  for (const entry of fs.readdirSync(directory)) {
    if (entry.endsWith(".md") || entry === "sidebar.json") fs.rmSync(path.join(directory, entry))
  }
  for (const [file, text] of reference.pages) fs.writeFileSync(path.join(directory, file), text)
  fs.writeFileSync(path.join(directory, "sidebar.json"), `${JSON.stringify(reference.sidebar, null, 2)}\n`)
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const directory = path.resolve(process.argv[2] ?? path.join(root, "docs", "api"))
  const reference = render(root, publicModules(root))
  write(reference, directory)
  for (const problem of reference.problems) {
    console.warn(`${problem.file}:${problem.line} ${problem.name} ${problem.message}`)
  }
  console.log(`API reference: ${reference.pages.size} pages in ${path.relative(process.cwd(), directory) || "."}`)
}
