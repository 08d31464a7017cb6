/**
 * The JSON lines the fleet test and its workers exchange.
 */
import { Schema } from "effect"

/**
 * To a worker: build the layers with a store under `keyPrefix` (`start`), then make `callers` concurrent calls
 * (`go`).
 */
export const Command = Schema.parseJson(
  Schema.Union(
    Schema.Struct({
      command: Schema.Literal("start"),
      keyPrefix: Schema.String,
      lockTtlMillis: Schema.Int,
      callers: Schema.Int
    }),
    Schema.Struct({ command: Schema.Literal("go") })
  )
)

export type Command = typeof Command.Type

/** From a worker. */
export const Event = Schema.parseJson(
  Schema.Union(
    Schema.Struct({ event: Schema.Literal("ready") }),
    Schema.Struct({ event: Schema.Literal("authenticating") }),
    Schema.Struct({
      event: Schema.Literal("done"),
      succeeded: Schema.Int,
      failures: Schema.Array(Schema.String),
      fingerprints: Schema.Array(Schema.String)
    })
  )
)

export type Event = typeof Event.Type
