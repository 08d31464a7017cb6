/**
 * A separate process sharing a file token store, started by the file token store tests with `node --import tsx`.
 *
 * `refresh <file> <base URL> <username> <password>`: builds a `TokenRef` over the file and the standard strategy,
 * prints `ready`, waits for a line on standard input, takes a token and prints its fingerprint.
 * `hold <file> <base URL> <username>`: takes the store's refresh lock for the account, prints `holding`, and holds
 * it until the process is killed.
 */
import * as Readline from "node:readline"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, Effect, Layer } from "effect"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as FileTokenStore from "../../src/FileTokenStore.js"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import * as TokenRef from "../../src/TokenRef.js"

const [command, file, baseUrl, username, password] = process.argv.slice(2)

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const waitForGo = Effect.async<void>((resume) => {
  const lines = Readline.createInterface({ input: process.stdin })
  lines.once("line", () => {
    lines.close()
    resume(Effect.void)
  })
})

const storeKey = { baseUrl: baseUrl!, subject: username! }

const refresh = Effect.gen(function* () {
  const context = yield* Layer.build(
    TokenRef.layer({ storeKey }).pipe(
      Layer.provide(AuthStrategy.layer(AuthStrategy.standard({ username: username!, password: password! }))),
      Layer.provide(FileTokenStore.layerNode({ path: file! })),
      Layer.provide(OpenSolarApi.layer({ baseUrl: baseUrl! })),
      Layer.provide(NodeHttpClient.layerUndici)
    )
  )
  const tokens = Context.get(context, TokenRef.TokenRef)
  yield* say("ready")

  yield* waitForGo
  const token = yield* tokens.get
  yield* say(BearerToken.fingerprint(token))
}).pipe(Effect.scoped)

const hold = Effect.gen(function* () {
  const store = yield* FileTokenStore.make({ path: file! })
  yield* store.exclusive(storeKey, Effect.zipRight(say("holding"), Effect.never))
}).pipe(Effect.provide(NodeContext.layer))

Effect.runPromise(command === "hold" ? hold : refresh).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
