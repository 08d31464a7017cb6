/**
 * Starts fleet workers (`test/fleet/worker.ts`, bundled once per test run) as separate Node processes and talks to
 * them in JSON lines.
 */
import { spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { Data, Effect, Queue, Schema, type Scope } from "effect"
import { bundle } from "../support/bundles.js"
import { Command, Event } from "./protocol.js"

export class WorkerExited extends Data.TaggedError("WorkerExited")<{ readonly pid: number; readonly stderr: string }> {
  override get message(): string {
    return `fleet worker ${this.pid} exited early:\n${this.stderr.slice(-2_000)}`
  }
}

export interface WorkerOptions {
  readonly baseUrl: string
  readonly username: string
  readonly password: string
  readonly redisUrl: string
}

export interface Worker {
  readonly pid: number
  readonly send: (command: Command) => Effect.Effect<void>
  /** The next event of the given kind, skipping others; fails when the process ends first. */
  readonly next: <K extends Event["event"]>(
    kind: K
  ) => Effect.Effect<Extract<Event, { readonly event: K }>, WorkerExited>
  /** Every `authenticating` event seen so far. */
  readonly authentications: Effect.Effect<number>
  readonly kill: Effect.Effect<void>
  /** What the process wrote to standard error so far: its logs. */
  readonly stderr: Effect.Effect<string>
}

const root = Path.resolve(import.meta.dirname, "../..")

export const spawnWorker = (options: WorkerOptions): Effect.Effect<Worker, never, Scope.Scope> =>
  Effect.gen(function* () {
    const events = yield* Queue.unbounded<Event | undefined>()
    let stderr = ""
    let authentications = 0

    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        // Node itself runs the worker, not a launcher with a child process of its own: SIGKILL must reach the worker.
        spawn(process.execPath, [bundle("fleet-worker")], {
          cwd: root,
          env: {
            ...process.env,
            OPENSOLAR_BASE_URL: options.baseUrl,
            OPENSOLAR_USERNAME: options.username,
            OPENSOLAR_PASSWORD: options.password,
            REDIS_URL: options.redisUrl
          },
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            return resume(Effect.void)
          }
          child.once("exit", () => resume(Effect.void))
          child.stdin?.end()
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
          child.once("exit", () => clearTimeout(timer))
        })
    )

    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    Readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      const event = Schema.decodeUnknownOption(Event)(line)
      if (event._tag === "Some") {
        if (event.value.event === "authenticating") {
          authentications += 1
        }
        Queue.unsafeOffer(events, event.value)
      }
    })
    child.once("exit", () => Queue.unsafeOffer(events, undefined))

    const pid = child.pid ?? -1

    const next = <K extends Event["event"]>(kind: K) =>
      Effect.gen(function* () {
        while (true) {
          const event = yield* Queue.take(events)
          if (event === undefined) {
            yield* Queue.offer(events, undefined)
            return yield* new WorkerExited({ pid, stderr })
          }
          if (event.event === kind) {
            return event as Extract<Event, { readonly event: K }>
          }
        }
      })

    return {
      pid,
      send: (command) => Effect.sync(() => child.stdin?.write(`${Schema.encodeSync(Command)(command)}\n`)),
      next,
      authentications: Effect.sync(() => authentications),
      stderr: Effect.sync(() => stderr),
      kill: Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return resume(Effect.void)
        }
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
    } satisfies Worker
  })
