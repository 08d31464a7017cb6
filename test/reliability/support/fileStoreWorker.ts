/**
 * A separate process using a file token store, started by the file store tests with `node --import tsx`.
 *
 * `loop <file> <subject> <count>`: prints `ready`, waits for a line on standard input, then saves `count` grants
 * for `subject` one after another (tokens `<subject>-1` … `<subject>-<count>`), loading its entry after each save.
 * `once <file> <subject> <token>`: loads the entry, saves a grant with `token`, and loads it again.
 *
 * The last line on standard output is a JSON report: what each load found, and every store error.
 */
import * as Readline from "node:readline"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { DateTime, Effect, Option } from "effect"
import * as BearerToken from "../../../src/BearerToken.js"
import * as FileTokenStore from "../../../src/FileTokenStore.js"
import * as TokenGrant from "../../../src/TokenGrant.js"
import type * as TokenStore from "../../../src/TokenStore.js"

const [command, file, subject, argument] = process.argv.slice(2)

const keyOf = (name: string): TokenStore.StoreKey => ({ baseUrl: "https://api.opensolar.com", subject: name, orgId: 1 })

const grantOf = (token: string) =>
  new TokenGrant.TokenGrant({
    token: BearerToken.unsafeMake(token),
    issuedAt: DateTime.unsafeMake(Date.now()),
    expiresAt: Option.some(DateTime.unsafeMake(Date.now() + 7 * 86_400_000)),
    user: new TokenGrant.GrantUser({ email: subject! }),
    org: Option.some(new TokenGrant.GrantOrg({ id: 1 })),
    orgs: [],
    strategy: "password"
  })

const tokenOf = (loaded: Option.Option<TokenGrant.TokenGrant>) =>
  Option.getOrNull(Option.map(loaded, (grant) => BearerToken.value(grant.token)))

const waitForGo = Effect.async<void>((resume) => {
  const lines = Readline.createInterface({ input: process.stdin })
  lines.once("line", () => {
    lines.close()
    resume(Effect.void)
  })
})

const program = Effect.gen(function* () {
  const store = yield* FileTokenStore.make({ path: file! })
  const key = keyOf(subject!)
  const errors: Array<string> = []
  const record = <A>(effect: Effect.Effect<A, TokenStore.TokenStoreError>) =>
    Effect.catchAll(Effect.asSome(effect), (error) =>
      Effect.as(
        Effect.sync(() => errors.push(error.message)),
        Option.none<A>()
      )
    )

  if (command === "once") {
    const before = yield* record(store.load(key))
    yield* record(store.save(key, grantOf(argument!)))
    const after = yield* record(store.load(key))
    return { before: tokenOf(Option.flatten(before)), after: tokenOf(Option.flatten(after)), errors }
  }

  const count = Number(argument)
  yield* Effect.sync(() => process.stdout.write("ready\n"))
  yield* waitForGo
  const found: Array<string | null> = []
  for (let index = 1; index <= count; index++) {
    yield* record(store.save(key, grantOf(`${subject}-${index}`)))
    const loaded = yield* record(store.load(key))
    found.push(tokenOf(Option.flatten(loaded)))
  }
  return { found, errors }
})

Effect.runPromise(Effect.provide(program, NodeContext.layer)).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exitCode = 1
  }
)
