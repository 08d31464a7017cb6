/**
 * Runs the OpenSolar simulator as a standalone server: `npm run simulator -- --port 8787 --host 127.0.0.1`.
 *
 * Besides the API it answers JSON control requests under `/__simulator`:
 *
 * - `POST users` `{"username", "password", "org_ids"?, "totp_secret"?, "is_machine_user"?}`, `POST orgs`
 *   `{"name", "id"?, "api_access"?}`, `POST tokens` `{"username"}`
 * - `POST revoke` `{"token"}` or `{"username"}`
 * - `POST faults` `{"endpoint", "times"?, "fault": {"_tag": "Status", "status", "body"?, "retryAfter"?}}`, with
 *   the other fault tags `Delay` (`"millis"`), `ConnectionReset`, `MalformedJson`, `HtmlBody` (`"status"?`);
 *   `DELETE faults`
 * - `GET clock`, `POST clock/advance` `{"duration": "7 days"}` or `{"seconds"}` or `{"millis"}`
 * - `POST fetch-token-mode` `{"mode"}`, `POST response-shape` `{"user_shape"?, "org_info"?}`
 * - `GET totp?username=...&steps=0`, `GET log`, `DELETE log`, `POST reset`
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { isLoopbackHost } from "./internal/server.js"
import { Simulator } from "./Simulator.js"

const usage = "usage: simulator [--port <0-65535>] [--host <loopback address>]"

const print = (line: string) => process.stdout.write(`${line}\n`)

const parseArguments = (argv: ReadonlyArray<string>): { readonly port: number; readonly host: string } => {
  let port = 8787
  let host = "127.0.0.1"
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined]
    const value = () => inline ?? argv[++i]
    switch (flag) {
      case "--port": {
        const raw = value()
        port = Number(raw)
        if (raw === undefined || !/^\d+$/.test(raw) || port > 65535) {
          throw new Error(`invalid port "${raw ?? ""}"\n${usage}`)
        }
        break
      }
      case "--host": {
        const raw = value()
        if (raw === undefined || raw === "") {
          throw new Error(`missing host\n${usage}`)
        }
        if (!isLoopbackHost(raw)) {
          throw new Error(`host "${raw}" is not a loopback address: use 127.0.0.1, ::1 or localhost\n${usage}`)
        }
        host = raw
        break
      }
      case "--help":
      case "-h": {
        print(usage)
        process.exit(0)
        break
      }
      default:
        throw new Error(`unknown argument "${argv[i]}"\n${usage}`)
    }
  }
  return { port, host }
}

let options: { readonly port: number; readonly host: string }
try {
  options = parseArguments(process.argv.slice(2))
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(2)
}

const program = Effect.gen(function* () {
  const simulator = yield* Simulator
  yield* Effect.sync(() => print(`OpenSolar simulator listening on ${simulator.url}`))
  return yield* Effect.never
})

NodeRuntime.runMain(program.pipe(Effect.provide(Simulator.layer(options))))
