/**
 * The JSON lines the fleet test and its workers exchange.
 */
import { Schema } from "effect"

/**
 * To a worker: build the layers with a store under `keyPrefix` (`start`), then make `callers` concurrent calls
 * (`go`), each also asking the API for org `requestOrgId` with its token when given. With `holdAuthentication`,
 * every authentication of the round waits for `proceed` before it goes to the API.
 */
export const Command = Schema.parseJson(
  Schema.Union(
    Schema.Struct({
      command: Schema.Literal("start"),
      keyPrefix: Schema.String,
      lockTtlMillis: Schema.Int,
      callers: Schema.Int,
      holdAuthentication: Schema.optional(Schema.Boolean)
    }),
    Schema.Struct({ command: Schema.Literal("go"), requestOrgId: Schema.optional(Schema.Int) }),
    Schema.Struct({ command: Schema.Literal("proceed") })
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
