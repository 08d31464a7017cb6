/**
 * The generated API reference: the scanner reads declarations right, every public export is documented, and every
 * `@example` in the source type-checks against the package as users import it.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { publicModules, readModule, render, scan } from "../../scripts/api-docs.js"

const root = path.resolve(import.meta.dirname, "../..")

describe("scripts/api-docs.ts", () => {
  describe("scan", () => {
    it("skips brackets inside strings, template literals, regular expressions and comments", () => {
      const source = [
        `const a = "{(" + \`\${"}"}{ \${{ b: 1 }.b} }\` // }`,
        "const b = /^127(\\.\\d{1,3}){3}$/.test(a) ? [1] : [2] /* ) */",
        "const c = a.length / 2 / 3",
        "export const d = 1"
      ].join("\n")

      const tokens = scan(source).tokens

      const opened = tokens.filter((token) => token.kind === "punct" && ["{", "(", "["].includes(token.text)).length
      const closed = tokens.filter((token) => token.kind === "punct" && ["}", ")", "]"].includes(token.text)).length
      expect(opened).toBe(closed)
      expect(tokens.filter((token) => token.kind === "regex").map((token) => token.text)).toEqual([
        "/^127(\\.\\d{1,3}){3}$/"
      ])
      expect(tokens.at(-5)?.text).toBe("export")
    })
  })

  describe("readModule", () => {
    const source = [
      "/**",
      " * A module.",
      " *",
      " * @since 0.1.0",
      " */",
      'import { Effect } from "effect"',
      "",
      "/**",
      " * Makes one.",
      " *",
      " * @since 0.1.0",
      " * @category constructors",
      " * @example",
      " * ```ts",
      ' * import { X } from "x"',
      " * ```",
      " */",
      "export const make = <A>(",
      "  options: Options = {}",
      "): Effect.Effect<A> =>",
      "  Effect.die(options)",
      "",
      "/**",
      " * Options.",
      " *",
      " * @since 0.1.0",
      " * @category models",
      " */",
      "export interface Options {",
      "  /** How long. @default 5 seconds */",
      "  readonly wait?: number | undefined",
      "  readonly shape?: {",
      "    readonly a: string",
      "  }",
      "}",
      "",
      "/**",
      " * Both ways.",
      " *",
      " * @since 0.1.0",
      " * @category combinators",
      " */",
      "export const both: {",
      "  (that: string): (self: string) => string",
      "  (self: string, that: string): string",
      "} = (self: string, that?: string) => self + that",
      "",
      "const fixed = (code: string): string => code",
      "",
      "export {",
      "  /**",
      "   * A fixed one.",
      "   *",
      "   * @since 0.1.0",
      "   * @category constructors",
      "   */",
      "  fixed as static",
      "}",
      "",
      "/** @internal */",
      "export const hidden = 1"
    ].join("\n")

    it("reads the module's doc, each export's doc, signature and members", () => {
      const module = readModule(source)

      expect(module.doc?.description).toBe("A module.")
      expect(module.declarations.map((declaration) => declaration.name)).toEqual([
        "make",
        "Options",
        "both",
        "static",
        "hidden"
      ])
      const [make, options, both, fixed, hidden] = module.declarations
      expect(make?.signature).toBe("const make = <A>(\n  options: Options = {}\n): Effect.Effect<A>")
      expect(make?.doc?.category).toBe("constructors")
      expect(make?.doc?.examples).toEqual(['```ts\nimport { X } from "x"\n```'])
      expect(options?.members.map((member) => [member.name, member.doc?.defaultValue])).toEqual([
        ["wait", "5 seconds"],
        ["shape", undefined]
      ])
      expect(options?.members[0]?.doc?.description).toBe("How long.")
      expect(both?.signature).toBe(
        "const both: {\n  (that: string): (self: string) => string\n  (self: string, that: string): string\n}"
      )
      expect(fixed?.signature).toBe("const static = (code: string): string")
      expect(fixed?.doc?.description).toBe("A fixed one.")
      expect(hidden?.doc?.internal).toBe(true)
    })
  })

  describe("render", () => {
    it("reports every export, re-export and class member without a sentence, @since or lower-case @category", () => {
      const fixture = fs.mkdtempSync(path.join(root, "node_modules", ".cache-api-fixture-"))
      try {
        const files: Record<string, string> = {
          "package.json": JSON.stringify({ name: "fixture", exports: { ".": { import: "./dist/index.js" } } }),
          "src/index.ts": [
            "/**",
            " * The fixture.",
            " *",
            " * @since 0.1.0",
            " */",
            "",
            "/**",
            " * @since 0.1.0",
            " * @category modules",
            " */",
            'export * as Bare from "./Bare.js"',
            "",
            "/**",
            " * A documented namespace.",
            " *",
            " * @since 0.1.0",
            " * @category modules",
            " */",
            'export * as Good from "./Good.js"',
            "",
            "/**",
            " * A namespace without tags.",
            " */",
            'export * as Untagged from "./Good.js"'
          ].join("\n"),
          "src/Bare.ts": [
            "/**",
            " * @since 0.1.0",
            " * @category models",
            " */",
            "export type Alias = string",
            "",
            "/**",
            " * A thing.",
            " *",
            " * @since 0.1.0",
            " * @category Models",
            " */",
            "export class Thing {",
            "  /**",
            "   * @since 0.1.0",
            "   */",
            "  get flag(): boolean {",
            "    return true",
            "  }",
            "}"
          ].join("\n"),
          "src/Good.ts": [
            "/**",
            " * Fine.",
            " *",
            " * @since 0.1.0",
            " * @category constants",
            " */",
            "export const a = 1"
          ].join("\n")
        }
        for (const [file, text] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true })
          fs.writeFileSync(path.join(fixture, file), text)
        }

        const reference = render(fixture, publicModules(fixture))

        expect(
          reference.problems.map((problem) => `${problem.file}:${problem.line} ${problem.name} ${problem.message}`)
        ).toEqual([
          "src/index.ts:11 * as Bare has no summary sentence",
          "src/Bare.ts:5 Alias has no summary sentence",
          'src/Bare.ts:13 Thing has an upper-case @category "Models"',
          "src/Bare.ts:13 Thing.flag has no summary sentence",
          "src/index.ts:24 * as Untagged has no @since",
          "src/index.ts:24 * as Untagged has no @category"
        ])
        const index = reference.pages.get("index.md")
        expect(index).toMatch(/\| \[Good\]\(\.\/Good\) +\| A documented namespace\. +\|/)
        expect(index).toMatch(/\| \[Bare\]\(\.\/Bare\) +\| +\|/)
      } finally {
        fs.rmSync(fixture, { recursive: true, force: true })
      }
    })
  })

  describe("the reference of this package", () => {
    const modules = publicModules(root)
    const reference = render(root, modules)

    it("covers every entry point of package.json", () => {
      const entries = new Set(modules.map((module) => module.entry))
      expect([...entries]).toEqual([
        "effect-opensolar-auth",
        "effect-opensolar-auth/node",
        "effect-opensolar-auth/redis",
        "effect-opensolar-auth/testing"
      ])
      expect(reference.pages.has("index.md")).toBe(true)
      for (const module of modules) expect(reference.pages.has(`${module.name}.md`), module.name).toBe(true)
    })

    it("documents every public export with a summary, @since and a lower-case @category", () => {
      const problems = reference.problems.map(
        (problem) => `${problem.file}:${problem.line} ${problem.name} ${problem.message}`
      )
      expect(problems).toEqual([])
    })

    it("has examples that type-check as users would write them", async () => {
      const directory = fs.mkdtempSync(path.join(root, "node_modules", ".cache-api-examples-"))
      try {
        reference.examples.forEach((example, index) => {
          const code = example.code.replace(/^```\w*\n/, "").replace(/\n```$/, "")
          const name = `${String(index).padStart(2, "0")}-${example.module}-${example.name.replace(/\W/g, "_")}.ts`
          fs.writeFileSync(path.join(directory, name), `${code}\n\nexport {}\n`)
        })
        // Examples show a value being built; whether they then use it is beside the point.
        const tsconfig = {
          extends: path.relative(directory, path.join(root, "docs", "tsconfig.json")),
          compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
          include: ["*.ts"]
        }
        fs.writeFileSync(path.join(directory, "tsconfig.json"), JSON.stringify(tsconfig))

        const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
        const output = await new Promise<string>((resolve) => {
          const child = spawn(process.execPath, [tsc, "-p", directory, "--noEmit"], { cwd: root })
          let text = ""
          child.stdout.on("data", (chunk) => {
            text += chunk
          })
          child.stderr.on("data", (chunk) => {
            text += chunk
          })
          child.on("close", () => resolve(text))
        })

        expect(reference.examples.length).toBeGreaterThan(5)
        expect(output.split(path.basename(directory)).join("<examples>")).toBe("")
      } finally {
        fs.rmSync(directory, { recursive: true, force: true })
      }
    })
  })
})
