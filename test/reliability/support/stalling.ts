/**
 * A simulator whose `Delay` faults never answer, for request timeouts on the `TestClock`.
 *
 * The simulator is built with a clock that tells the `TestClock`'s time but parks every sleep for good, so a
 * delayed request is answered only by the client giving up. The client side counts its exchanges in flight, and
 * `settle` may jump the clock only while every exchange in flight is parked at the simulator: a request that is
 * still travelling, or an answer still being read, is never overtaken by a jump to its timeout. When the client
 * gives up on a request, it waits for the simulator to notice before going on, so the request log is complete.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Clock, type Duration, Effect, Exit, Layer } from "effect"
import * as OpenSolarApi from "../../../src/OpenSolarApi.js"
import { Simulator, type SimulatorOptions } from "../../../src/testing/index.js"

export interface Stalls {
  /** Requests the simulator holds without ever answering. */
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

const parkingClock = (base: Clock.Clock, counts: { parked: number }): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
  currentTimeMillis: base.currentTimeMillis,
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeNanos: base.currentTimeNanos,
  sleep: (_: Duration.Duration) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        counts.parked += 1
      }),
      () => Effect.never,
      () =>
        Effect.sync(() => {
          counts.parked -= 1
        })
    )
})

const statusesWithoutBody = new Set([101, 204, 205, 304])

export const stallingStack = (options: {
  readonly simulator?: SimulatorOptions
  readonly timeout: Duration.DurationInput
}) => {
  const counts = { parked: 0, inFlight: 0 }
  const stalls: Stalls = {
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
      Effect.withClock(Layer.build(Simulator.layer(options.simulator)), parkingClock(base, counts))
    )
  )

  const layer = Layer.unwrapEffect(
    Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: options.timeout }))
  ).pipe(Layer.provideMerge(simulator), Layer.provideMerge(counted))

  return { stalls, layer }
}
