/**
 * How a token grant is obtained: by password, by password and two-factor code, by refreshing the current
 * session, from a machine user's fixed token, or by falling back from one to another.
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type * as AuthError from "./AuthError.js"
import type * as TokenGrant from "./TokenGrant.js"

/**
 * A way to obtain a grant. `authenticate` receives the current grant, if any, and yields a new one or fails
 * with `E`, which says exactly which errors remain possible.
 *
 * @since 0.1.0
 * @category models
 */
export interface Strategy<out E = AuthError.AuthError> {
  readonly name: string
  readonly authenticate: (current: Option.Option<TokenGrant.TokenGrant>) => Effect.Effect<TokenGrant.TokenGrant, E>
}

/**
 * The strategy a {@link TokenRef} uses, as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthStrategy extends Context.Tag("effect-opensolar-auth/AuthStrategy")<AuthStrategy, Strategy>() {}
