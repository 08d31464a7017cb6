/**
 * One process of a fleet: a `TokenRef` over the Redis token store, driven by the fleet test through JSON lines.
 *
 * Environment: `OPENSOLAR_BASE_URL` (the simulator), `OPENSOLAR_USERNAME`, `OPENSOLAR_PASSWORD`, `REDIS_URL`,
 * and `FLEET_LOG_LEVEL=debug` for debug logs.
 *
 * Standard input carries one command a line (see `protocol.ts`): `start` builds the layers afresh, so the
 * `TokenRef` begins with nothing in memory and loads the store, and answers `ready`; `go` makes the concurrent
 * `get` calls, answers `done` and closes the layers. Standard output carries only these events, plus
 * `authenticating` each time the strategy goes to the API; logs go to standard error.
 */
import * as Readline from "node:readline"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Array as Arr, Context, Duration, Effect, Layer, Logger, LogLevel, Option, Queue, Schema, Stream } from "effect"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import * as RedisTokenStore from "../../src/RedisTokenStore.js"
import * as TokenRef from "../../src/TokenRef.js"
import { Command, Event } from "./protocol.js"

const emit = (event: Event) => Effect.sync(() => process.stdout.write(`${Schema.encodeSync(Event)(event)}\n`))

const setting = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") {
    throw new Error(`the fleet worker needs ${name}`)
  }
  return value
}

const baseUrl = setting("OPENSOLAR_BASE_URL")
const username = setting("OPENSOLAR_USERNAME")

/** The standard strategy, announcing each time it goes to the API. */
const strategy = (() => {
  const standard = AuthStrategy.standard({ username, password: setting("OPENSOLAR_PASSWORD") })
  return {
    name: standard.name,
    authenticate: (current: Parameters<typeof standard.authenticate>[0]) =>
      emit({ event: "authenticating" }).pipe(Effect.zipRight(standard.authenticate(current)))
  }
})()

type Start = Extract<Command, { readonly command: "start" }>

const tokensLayer = (start: Start) =>
  TokenRef.layer({ storeKey: { baseUrl, subject: username } }).pipe(
    Layer.provide(AuthStrategy.layer(strategy)),
    Layer.provide(
      RedisTokenStore.layer({
        url: setting("REDIS_URL"),
        keyPrefix: start.keyPrefix,
        lockTtl: Duration.millis(start.lockTtlMillis),
        pollInterval: "20 millis"
      })
    ),
    Layer.provide(OpenSolarApi.layer({ baseUrl })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

const round = (start: Start, commands: Queue.Dequeue<Option.Option<Command>>) =>
  Effect.gen(function* () {
    const tokens = Context.get(yield* Layer.build(tokensLayer(start)), TokenRef.TokenRef)
    yield* emit({ event: "ready" })

    const go = yield* Queue.take(commands).pipe(
      Effect.repeat({ until: (next) => Option.isNone(next) || next.value.command === "go" })
    )
    if (Option.isNone(go)) {
      return
    }
    const results = yield* Effect.all(Arr.replicate(Effect.either(tokens.get), start.callers), {
      concurrency: "unbounded"
    })

    const tokensGot = Arr.getRights(results)
    yield* emit({
      event: "done",
      succeeded: tokensGot.length,
      failures: Arr.dedupe(Arr.getLefts(results).map((error) => error.message)),
      fingerprints: Arr.dedupe(tokensGot.map(BearerToken.fingerprint))
    })
  }).pipe(Effect.scoped)

const lines = Stream.async<string>((emitLine) => {
  const reader = Readline.createInterface({ input: process.stdin })
  reader.on("line", (line) => emitLine.single(line))
  reader.on("close", () => emitLine.end())
  return Effect.sync(() => reader.close())
})

const main = Effect.gen(function* () {
  const commands = yield* Queue.unbounded<Option.Option<Command>>()
  yield* lines.pipe(
    Stream.mapEffect(Schema.decode(Command)),
    Stream.runForEach((command) => Queue.offer(commands, Option.some(command))),
    Effect.ensuring(Queue.offer(commands, Option.none())),
    Effect.forkScoped
  )

  while (true) {
    const next = yield* Queue.take(commands)
    if (Option.isNone(next)) {
      return
    }
    if (next.value.command === "start") {
      yield* round(next.value, commands)
    }
  }
}).pipe(
  Effect.scoped,
  Effect.catchAllCause(Effect.logError),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  Logger.withMinimumLogLevel(process.env.FLEET_LOG_LEVEL === "debug" ? LogLevel.Debug : LogLevel.Info)
)

Effect.runPromise(main).then(
  () => process.exit(0),
  () => process.exit(1)
)
