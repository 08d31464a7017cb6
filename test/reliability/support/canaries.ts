/**
 * Looking for secrets where they must never be: every text a program let out (log lines, span attributes, error
 * renderings, command output, files) is searched for each canary — a password, a TOTP secret, an MFA code or a
 * token this test handed out or saw issued — and for anything shaped like a token.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

/** One text a program let out, and where it came from. */
export interface Exposure {
  readonly source: string
  readonly text: string
}

/** A canary found: where, which one (by name, never by value), and the text around it with the canary masked. */
export interface Hit {
  readonly source: string
  readonly canary: string
  readonly around: string
}

/** Token shapes the simulator issues: 40 hexadecimal characters, or `s_` and 32 base-32 characters. */
const tokenShapes: ReadonlyArray<RegExp> = [/(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/i, /s_[a-z2-7]{32}/i]

const around = (text: string, index: number, length: number): string =>
  `${text.slice(Math.max(0, index - 60), index)}<canary>${text.slice(index + length, index + length + 60)}`

/** Every canary (name → value) and every token-shaped string found in the exposures. */
export const scan = (
  exposures: ReadonlyArray<Exposure>,
  canaries: ReadonlyMap<string, string>,
  options: { readonly tokenShapes: boolean } = { tokenShapes: true }
): ReadonlyArray<Hit> => {
  const hits: Array<Hit> = []
  for (const { source, text } of exposures) {
    for (const [name, value] of canaries) {
      const index = text.indexOf(value)
      if (value.length > 0 && index !== -1) {
        hits.push({ source, canary: name, around: around(text, index, value.length) })
      }
    }
    if (options.tokenShapes) {
      for (const shape of tokenShapes) {
        const match = shape.exec(text)
        if (match !== null) {
          hits.push({
            source,
            canary: `token-shaped ${shape.source}`,
            around: around(text, match.index, match[0].length)
          })
        }
      }
    }
  }
  return hits
}

/**
 * Every file under `directory`, read as text, except those `skip` names (by path) — the token store itself, and
 * the caches of the TypeScript loader the processes run under.
 */
export const filesUnder = (directory: string, skip: (path: string) => boolean): ReadonlyArray<Exposure> => {
  if (!Fs.existsSync(directory)) {
    return []
  }
  return Fs.readdirSync(directory, { recursive: true, encoding: "utf8" })
    .map((relative) => Path.join(directory, relative))
    .filter((path) => Fs.statSync(path).isFile() && !skip(path))
    .map((path) => ({ source: `file ${path}`, text: Fs.readFileSync(path, "utf8") }))
}

/** Whether a path lies in a cache directory of tsx, which holds compiled sources, not program output. */
export const isLoaderCache = (path: string): boolean => path.split(Path.sep).some((part) => /^tsx-\d+$/.test(part))
