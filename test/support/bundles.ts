/**
 * The programs the tests start as child processes, built once per test run by `globalSetup.ts`: each bundled by
 * esbuild with its dependencies, so that a process starts in a third of a second instead of first compiling
 * TypeScript for two.
 */
import * as Path from "node:path"
import { inject } from "vitest"
import type { BundleName } from "./entryPoints.js"

export { snippetBundle } from "./entryPoints.js"

/** The path of a bundle, to run with `node <path>`. */
export const bundle = (name: BundleName): string => Path.join(inject("bundles"), `${name}.mjs`)
