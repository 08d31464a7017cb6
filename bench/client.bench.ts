/**
 * Requests per second through `OpenSolarClient` divided by requests per second through the bare platform
 * `HttpClient` sending the same request with the same token, against the simulator on loopback, measured in the
 * same run: a warm-up, then rounds that rotate between them so that drift affects all alike. The client is measured
 * twice: with its defaults, and with its per-exchange timeout turned off, which is most of its cost per request.
 *
 * Run it with `npx tsx bench/client.bench.ts`.
 */
import { pathToFileURL } from "node:url"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolar from "../src/OpenSolar.js"
import * as OpenSolarClient from "../src/OpenSolarClient.js"
import * as TokenRef from "../src/TokenRef.js"
import { accounts, Simulator } from "../src/testing/index.js"

export interface ClientBenchResult {
  readonly name: "client"
  /** Requests per second through `OpenSolarClient` over requests per second through the bare `HttpClient`. */
  readonly ratio: number
  /** The same ratio with the client's per-exchange timeout turned off (`timeout: Duration.infinity`). */
  readonly ratioWithoutTimeout: number
  readonly clientRequestsPerSecond: number
  readonly clientWithoutTimeoutRequestsPerSecond: number
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

    const untimed = yield* OpenSolarClient.make({ baseUrl: sim.url, timeout: Duration.infinity })

    const through = (send: HttpClient.HttpClient.With<unknown>) =>
      Effect.flatMap(send.get(path), (response) => Effect.as(response.arrayBuffer, response.status))
    const contenders = [
      { name: "bare", send: through(bare), millis: 0 },
      { name: "client", send: through(client), millis: 0 },
      { name: "untimed", send: through(untimed), millis: 0 }
    ]

    for (const contender of contenders) {
      yield* timed(requestsPerRound / 2, concurrency, contender.send)
    }
    yield* sim.clearLog

    for (let round = 0; round < rounds; round++) {
      // Rotate which goes first, so that none always runs on a warmer or a more loaded process.
      for (let turn = 0; turn < contenders.length; turn++) {
        const contender = contenders[(round + turn) % contenders.length]!
        contender.millis += yield* timed(requestsPerRound, concurrency, contender.send)
      }
      yield* sim.clearLog
    }

    const total = requestsPerRound * rounds
    const [bareRequestsPerSecond, clientRequestsPerSecond, clientWithoutTimeoutRequestsPerSecond] = contenders.map(
      (contender) => (total / contender.millis) * 1000
    ) as [number, number, number]
    return {
      name: "client",
      ratio: clientRequestsPerSecond / bareRequestsPerSecond,
      ratioWithoutTimeout: clientWithoutTimeoutRequestsPerSecond / bareRequestsPerSecond,
      clientRequestsPerSecond,
      clientWithoutTimeoutRequestsPerSecond,
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
          `${result.bareRequestsPerSecond.toFixed(0)} req/s, ratio ${result.ratio.toFixed(3)}; ` +
          `without the per-exchange timeout: ${result.clientWithoutTimeoutRequestsPerSecond.toFixed(0)} req/s, ` +
          `ratio ${result.ratioWithoutTimeout.toFixed(3)} ` +
          `(${result.rounds} rounds of ${result.requestsPerRound} requests, ${result.concurrency} at a time)`
      )
    },
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
