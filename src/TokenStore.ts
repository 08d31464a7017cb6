/**
 * Where grants are kept between runs and shared between processes: in memory, in a file, in a
 * `KeyValueStore`, or in Redis for a fleet.
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context, Schema } from "effect"
import type * as TokenGrant from "./TokenGrant.js"

/**
 * A store failed to read or write. Token stores are a cache: callers log this and carry on.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("effect-opensolar-auth/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.Literal("load", "save", "remove", "lock"),
    reason: Schema.String
  }
) {
  override get message(): string {
    return `The token store could not ${this.operation}: ${this.reason}`
  }
}

/**
 * What a stored grant is filed under: the API, the user and the organisation, so accounts never mix.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreKey {
  readonly baseUrl: string
  readonly subject: string
  readonly orgId?: number | undefined
}

/**
 * The text form of a {@link StoreKey}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyToString = (key: StoreKey): string =>
  `${key.baseUrl.replace(/\/+$/, "")}|${key.subject.toLowerCase()}|${key.orgId ?? "-"}`

/**
 * A place to keep grants.
 *
 * `exclusive` runs a refresh so that, across everything sharing the store, one refresh for a key runs at a
 * time; a refresh must load the store first and use a grant another holder saved meanwhile. Stores used by
 * one process make it the identity.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly load: (key: StoreKey) => Effect.Effect<Option.Option<TokenGrant.TokenGrant>, TokenStoreError>
  readonly save: (key: StoreKey, grant: TokenGrant.TokenGrant) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: StoreKey) => Effect.Effect<void, TokenStoreError>
  readonly exclusive: <A, E, R>(key: StoreKey, refresh: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * The token store as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("effect-opensolar-auth/TokenStore")<TokenStore, Service>() {}
