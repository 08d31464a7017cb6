/**
 * Requests per second through `OpenSolarClient` divided by requests per second through the bare platform
 * `HttpClient` sending the same request with the same token, against the simulator on loopback, measured in the
 * same run: a warm-up, then rounds that alternate between the two so that drift affects both alike.
 *
 * Run it with `npx tsx bench/client.bench.ts`.
 */
import { pathToFileURL } from "node:url"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolar from "../src/OpenSolar.js"
import * as OpenSolarClient from "../src/OpenSolarClient.js"
import * as TokenRef from "../src/TokenRef.js"
import { accounts, Simulator } from "../src/testing/index.js"

export interface ClientBenchResult {
  readonly name: "client"
  /** Requests per second through `OpenSolarClient` over requests per second through the bare `HttpClient`. */
  readonly ratio: number
  readonly clientRequestsPerSecond: number
  readonly bareRequestsPerSecond: number
  readonly requestsPerRound: number
  readonly rounds: number
  readonly concurrency: number
}

export interface ClientBenchOptions {
  /** @default 2000 */
  readonly requestsPerRound?: number
  /** @default 6 */
  readonly rounds?: number
  /** @default 32 */
  readonly concurrency?: number
}

const path = "/api/orgs/1/projects/"

const timed = (requests: number, concurrency: number, send: Effect.Effect<number, unknown>) =>
  Effect.gen(function* () {
    const started = performance.now()
    yield* Effect.forEach(
      Array.from({ length: requests }),
      () =>
        Effect.flatMap(send, (status) =>
          status === 200 ? Effect.void : Effect.dieMessage(`the simulator answered ${status}`)
        ),
      { concurrency, discard: true }
    )
    return performance.now() - started
  })

const measure = (options: ClientBenchOptions) =>
  Effect.gen(function* () {
    const requestsPerRound = options.requestsPerRound ?? 2000
    const rounds = options.rounds ?? 6
    const concurrency = options.concurrency ?? 32
    const sim = yield* Simulator
    const client = yield* OpenSolarClient.OpenSolarClient
    const token = yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.get)
    const bare = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(sim.url)),
      HttpClient.mapRequest(HttpClientRequest.acceptJson),
      HttpClient.mapRequest(HttpClientRequest.bearerToken(BearerToken.value(token)))
    )

    const throughClient = Effect.flatMap(client.get(path), (response) =>
      Effect.as(response.arrayBuffer, response.status)
    )
    const throughBare = Effect.flatMap(bare.get(path), (response) => Effect.as(response.arrayBuffer, response.status))

    yield* timed(requestsPerRound / 2, concurrency, throughBare)
    yield* timed(requestsPerRound / 2, concurrency, throughClient)
    yield* sim.clearLog

    let clientMillis = 0
    let bareMillis = 0
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so that neither always runs on a warmer or a more loaded process.
      if (round % 2 === 0) {
        bareMillis += yield* timed(requestsPerRound, concurrency, throughBare)
        clientMillis += yield* timed(requestsPerRound, concurrency, throughClient)
      } else {
        clientMillis += yield* timed(requestsPerRound, concurrency, throughClient)
        bareMillis += yield* timed(requestsPerRound, concurrency, throughBare)
      }
      yield* sim.clearLog
    }

    const total = requestsPerRound * rounds
    const clientRequestsPerSecond = (total / clientMillis) * 1000
    const bareRequestsPerSecond = (total / bareMillis) * 1000
    return {
      name: "client",
      ratio: clientRequestsPerSecond / bareRequestsPerSecond,
      clientRequestsPerSecond,
      bareRequestsPerSecond,
      requestsPerRound,
      rounds,
      concurrency
    } satisfies ClientBenchResult
  })

/**
 * Runs the benchmark against a simulator of its own and returns the ratio with the figures behind it.
 */
export const run = (options: ClientBenchOptions = {}): Promise<ClientBenchResult> => {
  const stack = Layer.unwrapEffect(
    Effect.map(Simulator, (sim) =>
      OpenSolar.layer({ baseUrl: sim.url, username: accounts.example.username, password: accounts.example.password })
    )
  ).pipe(Layer.provideMerge(Simulator.layer()), Layer.provideMerge(NodeHttpClient.layerUndici))
  return Effect.runPromise(Effect.provide(Effect.scoped(measure(options)), stack))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (result) => {
      console.log(
        `OpenSolarClient: ${result.clientRequestsPerSecond.toFixed(0)} req/s, bare HttpClient: ` +
          `${result.bareRequestsPerSecond.toFixed(0)} req/s, ratio ${result.ratio.toFixed(3)} ` +
          `(${result.rounds} rounds of ${result.requestsPerRound} requests, ${result.concurrency} at a time)`
      )
    },
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
