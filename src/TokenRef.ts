/**
 * The always-fresh bearer token: the layer other programs compose to get a valid token at any moment.
 *
 * @since 0.1.0
 */
import type { Effect, Option, Stream } from "effect"
import { Context } from "effect"
import type * as AuthError from "./AuthError.js"
import type * as BearerToken from "./BearerToken.js"
import type * as TokenGrant from "./TokenGrant.js"

/**
 * An always-fresh token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A token that is valid now, refreshing first when there is none or it is past its deadline. */
  readonly get: Effect.Effect<BearerToken.BearerToken, AuthError.AuthError>
  /** The current grant, without any refresh. */
  readonly current: Effect.Effect<Option.Option<TokenGrant.TokenGrant>>
  /** Marks `token` as rejected; the next `get` refreshes, unless `token` was already replaced. */
  readonly invalidate: (token: BearerToken.BearerToken) => Effect.Effect<void>
  /** Obtains a new grant now, joining a refresh already in flight. */
  readonly refresh: Effect.Effect<TokenGrant.TokenGrant, AuthError.AuthError>
  /** Every new grant, as it is installed. */
  readonly changes: Stream.Stream<TokenGrant.TokenGrant>
}

/**
 * The always-fresh token as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenRef extends Context.Tag("effect-opensolar-auth/TokenRef")<TokenRef, Service>() {}
