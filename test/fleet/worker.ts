/**
 * One process of a fleet: a `TokenRef` over the Redis token store, driven by the fleet test through JSON lines.
 *
 * Environment: `OPENSOLAR_BASE_URL` (the simulator), `OPENSOLAR_USERNAME`, `OPENSOLAR_PASSWORD`, `REDIS_URL`,
 * and `FLEET_LOG_LEVEL=debug` for debug logs.
 *
 * Standard input carries one command a line (see `protocol.ts`): `start` builds the layers afresh, so the
 * `TokenRef` begins with nothing in memory and loads the store, and answers `ready`; each `go` makes the concurrent
 * `get` calls (and API requests, when asked) and answers `done`; `proceed` lets held authentications go on; the
 * next `start`, or the end of input, closes the layers. Standard output carries only these events, plus
 * `authenticating` each time the strategy is about to go to the API; logs go to standard error.
 */
import * as Readline from "node:readline"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import {
  Array as Arr,
  Context,
  Deferred,
  Duration,
  Effect,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Queue,
  Schema,
  Stream
} from "effect"
import type * as AuthError from "../../src/AuthError.js"
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

/** The standard strategy, announcing each time it is about to go to the API, and going only once `gate` opens. */
const strategy = (
  gate: Deferred.Deferred<void>
): AuthStrategy.Strategy<AuthError.AuthError, OpenSolarApi.OpenSolarApi> => {
  const standard = AuthStrategy.standard({ username, password: setting("OPENSOLAR_PASSWORD") })
  return {
    name: standard.name,
    authenticate: (current) =>
      emit({ event: "authenticating" }).pipe(
        Effect.zipRight(Deferred.await(gate)),
        Effect.zipRight(standard.authenticate(current))
      )
  }
}

type Start = Extract<Command, { readonly command: "start" }>

const tokensLayer = (start: Start, gate: Deferred.Deferred<void>) =>
  TokenRef.layer({ storeKey: { baseUrl, subject: username } }).pipe(
    Layer.provide(AuthStrategy.layer(strategy(gate))),
    Layer.provide(
      RedisTokenStore.layer({
        url: setting("REDIS_URL"),
        keyPrefix: start.keyPrefix,
        lockTtl: Duration.millis(start.lockTtlMillis),
        pollInterval: "20 millis"
      })
    ),
    Layer.provide(OpenSolarApi.layer({ baseUrl })),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

/** A token from the `TokenRef`, and the API's answer to a request for the org with it, when one is asked for. */
const call = (tokens: TokenRef.Service, http: HttpClient.HttpClient, requestOrgId: number | undefined) =>
  Effect.gen(function* () {
    const token = yield* tokens.get
    if (requestOrgId !== undefined) {
      const response = yield* http.get(`${baseUrl}/api/orgs/${requestOrgId}/`, {
        headers: { authorization: `Bearer ${BearerToken.value(token)}` }
      })
      // Read to the end, so that the connection serves the next request.
      yield* response.text
      if (response.status !== 200) {
        return yield* Effect.fail(new Error(`GET /api/orgs/${requestOrgId}/ answered ${response.status}`))
      }
    }
    return token
  })

const serve = (
  tokens: TokenRef.Service,
  http: HttpClient.HttpClient,
  start: Start,
  go: Extract<Command, { readonly command: "go" }>
) =>
  Effect.gen(function* () {
    const calls = Arr.replicate(Effect.either(call(tokens, http, go.requestOrgId)), start.callers)
    const results = yield* Effect.all(calls, { concurrency: "unbounded" })

    const tokensGot = Arr.getRights(results)
    yield* emit({
      event: "done",
      succeeded: tokensGot.length,
      failures: Arr.dedupe(Arr.getLefts(results).map((error) => error.message)),
      fingerprints: Arr.dedupe(tokensGot.map(BearerToken.fingerprint))
    })
  })

/** One set of layers, serving `go`s until the next `start` (returned) or the end of input. */
const round = (start: Start, commands: Queue.Dequeue<Option.Option<Command>>) =>
  Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    if (start.holdAuthentication !== true) {
      yield* Deferred.succeed(gate, undefined)
    }
    const context = yield* Layer.build(tokensLayer(start, gate))
    const tokens = Context.get(context, TokenRef.TokenRef)
    const http = Context.get(context, HttpClient.HttpClient)
    const serving: Array<Fiber.RuntimeFiber<void>> = []
    yield* emit({ event: "ready" })

    while (true) {
      const next = yield* Queue.take(commands)
      if (Option.isNone(next) || next.value.command === "start") {
        yield* Fiber.joinAll(serving)
        return next
      }
      if (next.value.command === "proceed") {
        yield* Deferred.succeed(gate, undefined)
      } else {
        serving.push(yield* Effect.fork(serve(tokens, http, start, next.value)))
      }
    }
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

  let next = yield* Queue.take(commands)
  while (Option.isSome(next)) {
    next = next.value.command === "start" ? yield* round(next.value, commands) : yield* Queue.take(commands)
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
