/**
 * The simulator and the wire client with every exchange tracked, so that `settle` moves the `TestClock` only while
 * nothing is on the wire: a request still travelling, or an answer still being read, is never overtaken by a jump
 * (to its timeout, or past its token's expiry).
 *
 * The simulator is built with a clock that tells the `TestClock`'s time and counts the requests held in a `Delay`
 * fault. With `stall`, those sleeps never end, so a delayed request is answered only by the client giving up;
 * otherwise they end on the `TestClock`. `settle` may jump while every exchange in flight is held by a delay. When
 * the client gives up on a request, it waits for the simulator to notice before going on, so the request log is
 * complete.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Clock, type Duration, Effect, Exit, Layer } from "effect"
import * as OpenSolarApi from "../../../src/OpenSolarApi.js"
import { Simulator, type SimulatorOptions } from "../../../src/testing/index.js"

export interface Exchanges {
  /** Requests the simulator holds in a delay. */
  readonly parked: () => number
  /** Client exchanges started and not yet read to the end. */
  readonly inFlight: () => number
  /** Whether `settle` may move the clock: every exchange in flight is parked. */
  readonly canJump: () => boolean
}

const eventLoopTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const maxTurnsToNotice = 10_000

const holdingClock = (base: Clock.Clock, counts: { parked: number }, stall: boolean): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
  currentTimeMillis: base.currentTimeMillis,
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeNanos: base.currentTimeNanos,
  sleep: (duration: Duration.Duration) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        counts.parked += 1
      }),
      () => (stall ? Effect.never : base.sleep(duration)),
      () =>
        Effect.sync(() => {
          counts.parked -= 1
        })
    )
})

const statusesWithoutBody = new Set([101, 204, 205, 304])

export interface TrackedOptions {
  readonly simulator?: SimulatorOptions
  /** The wire client's request timeout. */
  readonly timeout: Duration.DurationInput
  /** Whether `Delay` faults hold their request for good. */
  readonly stall: boolean
}

export const trackedStack = (options: TrackedOptions) => {
  const counts = { parked: 0, inFlight: 0 }
  const exchanges: Exchanges = {
    parked: () => counts.parked,
    inFlight: () => counts.inFlight,
    canJump: () => counts.inFlight === counts.parked
  }

  const waitUntilNoticed = Effect.gen(function* () {
    for (let turn = 0; turn < maxTurnsToNotice && counts.parked > 0; turn++) {
      yield* eventLoopTurn
    }
  })

  // Reads each answer to the end before handing it on, so the exchange is in flight until nothing is left to read.
  const counted = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (execute, request) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            counts.inFlight += 1
          }),
          () =>
            Effect.flatMap(execute, (response) =>
              Effect.map(response.arrayBuffer, (body) =>
                HttpClientResponse.fromWeb(
                  request,
                  new Response(statusesWithoutBody.has(response.status) ? null : body, {
                    status: response.status,
                    headers: response.headers
                  })
                )
              )
            ),
          (_, exit) =>
            Effect.zipRight(
              Exit.isInterrupted(exit) ? waitUntilNoticed : Effect.void,
              Effect.sync(() => {
                counts.inFlight -= 1
              })
            )
        )
      )
    )
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

  const simulator = Layer.scopedContext(
    Effect.flatMap(Effect.clock, (base) =>
      Effect.withClock(Layer.build(Simulator.layer(options.simulator)), holdingClock(base, counts, options.stall))
    )
  )

  const layer = Layer.unwrapEffect(
    Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: options.timeout }))
  ).pipe(Layer.provideMerge(simulator), Layer.provideMerge(counted))

  return { exchanges, layer }
}
