import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import { accounts } from "../../src/testing/index.js"
import { bundle } from "../support/bundles.js"

interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly stdout: () => string
  readonly exited: Promise<number | null>
}

/**
 * `npm` starts the simulator exactly as the README says, through npm, a shell and the `tsx` binary; none of them
 * passes the simulator's exit code on faithfully when signalled, so it is stopped by signalling its whole process
 * group. `node` on the simulator's bundle (built once per test run) runs it in the spawned process itself, so its
 * exit code is the simulator's own.
 */
type Launcher = "npm" | "node"

const command = (launcher: Launcher): [string, ReadonlyArray<string>] =>
  launcher === "npm" ? ["npm", ["run", "simulator", "--"]] : [process.execPath, [bundle("simulator")]]

const run = (args: ReadonlyArray<string>, launcher: Launcher = "node") => {
  const [executable, prefix] = command(launcher)
  const child = spawn(executable, [...prefix, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: launcher === "npm"
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

const listening = /^OpenSolar simulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/m

/** Starts the standalone simulator on an ephemeral port, and stops it with `signal` when the scope closes. */
const start = (launcher: Launcher, signal: NodeJS.Signals) =>
  Effect.acquireRelease(
    Effect.async<Running, Error>((resume) => {
      const launched = run(["--port", "0"], launcher)
      let settled = false
      const settle = (effect: Effect.Effect<Running, Error>) => {
        if (!settled) {
          settled = true
          resume(effect)
        }
      }
      const onData = () => {
        const match = listening.exec(launched.stdout())
        if (match !== null) {
          launched.child.stdout!.off("data", onData)
          settle(Effect.succeed({ ...launched, url: match[1]! }))
        }
      }
      launched.child.stdout!.on("data", onData)
      launched.exited.then((code) =>
        settle(Effect.fail(new Error(`exited early with ${code}: ${launched.stdout()}${launched.stderr()}`)))
      )
    }),
    (running) =>
      Effect.promise(() => {
        if (launcher === "npm") {
          process.kill(-running.child.pid!, signal)
        } else {
          running.child.kill(signal)
        }
        return running.exited
      })
  )

const postJson = (url: string, body: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body })
    return { status: response.status, body: (await response.json()) as any }
  })

const getJson = (url: string, token: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } })
    return { status: response.status, body: (await response.json()) as any }
  })

describe("standalone simulator", () => {
  it.live("serves the docs' curl requests when started with npm run simulator", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.scoped(
        Effect.gen(function* () {
          const running = yield* start("npm", "SIGTERM")
          const auth = `${running.url}/api-token-auth/`

          const withCode = yield* postJson(
            auth,
            '{"username":"arnie@illbeback.com","password":"gettothechopper", "token": "1234"}'
          )
          expect(withCode.status).toBe(200)
          expect(withCode.body.token).toMatch(/^[0-9a-f]{40}$/)
          expect(withCode.body.user).toEqual(expect.objectContaining({ id: accounts.example.id }))

          const plain = yield* postJson(auth, '{"username":"arnie@illbeback.com","password":"gettothechopper"}')
          expect(plain.status).toBe(200)

          const wrong = yield* postJson(auth, '{"username":"arnie@illbeback.com","password":"illbeback"}')
          expect(wrong.status).toBe(400)
          expect(wrong.body).toEqual({ non_field_errors: ["Unable to log in with provided credentials."] })

          const scoped = yield* getJson(`${running.url}/api/fetch_token/?org_id=1`, plain.body.token)
          expect(scoped.status).toBe(200)
          expect(scoped.body.org_id).toBe(1)
          const unscoped = yield* getJson(`${running.url}/api/fetch_token/`, scoped.body.token)
          expect(unscoped.status).toBe(200)
          expect(unscoped.body.token).toMatch(/^[0-9a-f]{40}$/)

          return running
        })
      )
      expect(exit.child.exitCode ?? exit.child.signalCode).not.toBeNull()
      expect(exit.stdout().endsWith(`\nOpenSolar simulator listening on ${exit.url}\n`)).toBe(true)
    })
  )

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it.live(`closes the server and exits with 0 on ${signal}`, () =>
      Effect.gen(function* () {
        const running = yield* Effect.scoped(start("node", signal))
        expect(yield* Effect.promise(() => running.exited)).toBe(0)
        expect(running.stdout()).toBe(`OpenSolar simulator listening on ${running.url}\n`)
        const after = yield* Effect.promise(() =>
          fetch(`${running.url}/api/fetch_token/`).then(
            () => "answered",
            () => "refused"
          )
        )
        expect(after).toBe("refused")
      })
    )
  }

  it.live("refuses an invalid port with a usage line", () =>
    Effect.gen(function* () {
      const launched = run(["--port", "eighty"])
      expect(yield* Effect.promise(() => launched.exited)).toBe(2)
      expect(launched.stderr()).toMatch(/usage: simulator/)
      expect(launched.stdout()).toBe("")
    })
  )

  it.live("refuses to listen on an address other than loopback", () =>
    Effect.gen(function* () {
      const launched = run(["--host", "0.0.0.0", "--port", "0"])
      expect(yield* Effect.promise(() => launched.exited)).toBe(2)
      expect(launched.stderr()).toMatch(/host "0\.0\.0\.0" is not a loopback address: use 127\.0\.0\.1/)
      expect(launched.stdout()).toBe("")
    })
  )
})
