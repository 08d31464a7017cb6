/**
 * The library's real stack against a real simulator on loopback, for the reliability tests: the wire client,
 * strategies, a `TokenRef` and the authenticated client, each over undici, with request timeouts either far
 * beyond any jump `drive` makes (TestClock runs) or short (live runs).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { type Duration, Effect, Layer } from "effect"
import type * as AuthError from "../../../src/AuthError.js"
import * as AuthStrategy from "../../../src/AuthStrategy.js"
import * as OpenSolarApi from "../../../src/OpenSolarApi.js"
import * as OpenSolarClient from "../../../src/OpenSolarClient.js"
import type * as RetryPolicy from "../../../src/RetryPolicy.js"
import * as TokenRef from "../../../src/TokenRef.js"
import { type Endpoint, type RequestLogEntry, Simulator, type SimulatorOptions } from "../../../src/testing/index.js"
import { requestTimeout } from "../../support/drive.js"

export interface StackOptions {
  readonly simulator?: SimulatorOptions
  /** How long one request may take, in the wire client and the authenticated client. @default 1 day */
  readonly timeout?: Duration.DurationInput
}

/** The simulator, the wire client pointed at it, and undici. */
export const apiLayer = (options: StackOptions = {}) =>
  Layer.unwrapEffect(
    Effect.map(Simulator, (sim) => OpenSolarApi.layer({ baseUrl: sim.url, timeout: options.timeout ?? requestTimeout }))
  ).pipe(Layer.provideMerge(Simulator.layer(options.simulator)), Layer.provideMerge(NodeHttpClient.layerUndici))

export interface ClientOptions {
  readonly tokenRef?: TokenRef.Options
  readonly retryPolicy?: RetryPolicy.RetryPolicy
  readonly timeout?: Duration.DurationInput
}

/**
 * A `TokenRef` over `strategy` (grants in memory) and the authenticated client over it, both pointed at the
 * simulator in context.
 */
export const clientLayer = <E extends AuthError.AuthError, R>(
  strategy: AuthStrategy.Strategy<E, R>,
  options: ClientOptions = {}
) =>
  Layer.unwrapEffect(
    Effect.map(Simulator, (sim) =>
      OpenSolarClient.layer({
        baseUrl: sim.url,
        timeout: options.timeout ?? requestTimeout,
        ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy })
      }).pipe(Layer.provideMerge(TokenRef.layerMemory(options.tokenRef)), Layer.provide(AuthStrategy.layer(strategy)))
    )
  )

/** One log entry as `"<endpoint> <status>"`, the form the expectations are written in. */
export const describeEntry = (entry: RequestLogEntry): string => `${entry.endpoint} ${entry.status}`

/** The simulator's request log as `"<endpoint> <status>"` lines. */
export const logLines: Effect.Effect<ReadonlyArray<string>, never, Simulator> = Effect.flatMap(Simulator, (sim) =>
  Effect.map(sim.requestLog, (log) => log.map(describeEntry))
)

/** `count` copies of `"<endpoint> <status>"`. */
export const times = (count: number, endpoint: Endpoint, status: number): ReadonlyArray<string> =>
  Array.from({ length: count }, () => `${endpoint} ${status}`)
