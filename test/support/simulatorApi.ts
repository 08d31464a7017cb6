/**
 * The simulator with the real wire client pointed at it, over undici. The wire client's timeout lies beyond
 * any jump `drive` makes, so moving the `TestClock` never times out a request in flight.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer } from "effect"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import { Simulator, type SimulatorOptions } from "../../src/testing/index.js"
import { requestTimeout } from "./drive.js"

export const simulatorApi = (options?: SimulatorOptions) =>
  Layer.unwrapEffect(
    Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: requestTimeout }))
  ).pipe(Layer.provideMerge(Simulator.layer(options)), Layer.provide(NodeHttpClient.layerUndici))
