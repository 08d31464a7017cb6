/**
 * A throw-away `redis-server` for tests: started on a free loopback port with persistence off, stopped when the
 * scope closes. It can be stopped and started again on the same port to simulate an outage.
 *
 * The `redis-server` on the PATH is used (Debian's package installs `/usr/bin/redis-server`), or the one named by
 * `REDIS_SERVER`. It listens on 127.0.0.1 only, and may require a password.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Net from "node:net"
import * as Os from "node:os"
import { Context, Data, Effect, Layer, Ref, Schedule, type Scope } from "effect"

export class RedisServerError extends Data.TaggedError("RedisServerError")<{ readonly reason: string }> {
  override get message(): string {
    return `redis-server could not be started: ${this.reason}`
  }
}

export interface RedisServerService {
  readonly host: "127.0.0.1"
  readonly port: number
  /** `redis://127.0.0.1:<port>`, with the password percent-encoded when the server requires one. */
  readonly url: string
  /** Stops the server (SIGTERM) and waits for it to exit; nothing is kept, persistence being off. */
  readonly stop: Effect.Effect<void>
  /** Starts the server again on the same port, after `stop` (or for the first time, when made `stopped`). */
  readonly start: Effect.Effect<void, RedisServerError>
}

export class RedisServer extends Context.Tag("test/RedisServer")<RedisServer, RedisServerService>() {}

const executable = process.env.REDIS_SERVER ?? "redis-server"

/** A port that was free a moment ago: bind to port 0 on loopback and let the kernel choose. */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.unref()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

export interface ServerOptions {
  /** The password the server requires (`requirepass`). @default none */
  readonly password?: string
  /** Only choose the port, leaving the server to be started with `start`. @default false */
  readonly stopped?: boolean
}

const spawnServer = (port: number, options: ServerOptions): Effect.Effect<ChildProcess, RedisServerError> =>
  Effect.async<ChildProcess, RedisServerError>((resume) => {
    const child = spawn(
      executable,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        Os.tmpdir(),
        "--loglevel",
        "notice",
        ...(options.password === undefined ? [] : ["--requirepass", options.password])
      ],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    let settled = false
    const settle = (effect: Effect.Effect<ChildProcess, RedisServerError>) => {
      if (!settled) {
        settled = true
        resume(effect)
      }
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData)
        child.stdout?.resume()
        settle(Effect.succeed(child))
      }
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once("error", (error) => settle(Effect.fail(new RedisServerError({ reason: error.message }))))
    child.once("exit", (code) =>
      settle(Effect.fail(new RedisServerError({ reason: `exited with ${code}: ${output.trim().slice(-500)}` })))
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const stopProcess = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return resume(Effect.void)
    }
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  })

/** Starts a server on a free loopback port, trying another port when the chosen one was taken meanwhile. */
export const makeWith = (
  options: ServerOptions = {}
): Effect.Effect<RedisServerService, RedisServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const started = yield* Effect.gen(function* () {
      const port = yield* freePort
      const child = options.stopped === true ? undefined : yield* spawnServer(port, options)
      return { port, child }
    }).pipe(Effect.retry(Schedule.recurs(3)))

    const current = yield* Ref.make<ChildProcess | undefined>(started.child)
    yield* Effect.addFinalizer(() =>
      Ref.get(current).pipe(Effect.flatMap((child) => (child ? stopProcess(child) : Effect.void)))
    )
    const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`

    return {
      host: "127.0.0.1",
      port: started.port,
      url: `redis://${auth}127.0.0.1:${started.port}`,
      stop: Ref.getAndSet(current, undefined).pipe(
        Effect.flatMap((child) => (child ? stopProcess(child) : Effect.void))
      ),
      start: Ref.get(current).pipe(
        Effect.flatMap((child) =>
          child
            ? Effect.void
            : spawnServer(started.port, options).pipe(Effect.flatMap((next) => Ref.set(current, next)))
        )
      )
    } as const
  })

/** A server without a password, started now. */
export const make: Effect.Effect<RedisServerService, RedisServerError, Scope.Scope> = makeWith()

/** The server as a layer, for sharing one server across a test file. */
export const layer: Layer.Layer<RedisServer, RedisServerError> = Layer.scoped(RedisServer, make)
