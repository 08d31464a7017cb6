/**
 * A token grant: a bearer token with what is known about it — when it was issued, when it expires, whom it
 * belongs to, and which strategy obtained it.
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Option, Schema } from "effect"
import * as BearerToken from "./BearerToken.js"

/**
 * What the API said about the token's user. Every field is optional: the API has answered with a full
 * object, with only a URL, and with nothing at all.
 *
 * @since 0.1.0
 * @category models
 */
export class GrantUser extends Schema.Class<GrantUser>("effect-opensolar-auth/GrantUser")({
  id: Schema.optional(Schema.Int),
  email: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  isMachineUser: Schema.optional(Schema.Boolean)
}) {}

/**
 * An organisation the token's user belongs to.
 *
 * @since 0.1.0
 * @category models
 */
export class GrantOrg extends Schema.Class<GrantOrg>("effect-opensolar-auth/GrantOrg")({
  id: Schema.Int,
  name: Schema.optional(Schema.String)
}) {}

/**
 * A bearer token and its metadata. `expiresAt` is `None` for a machine user's token, which never expires.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenGrant extends Schema.Class<TokenGrant>("effect-opensolar-auth/TokenGrant")({
  token: BearerToken.BearerToken,
  issuedAt: Schema.DateTimeUtc,
  expiresAt: Schema.OptionFromNullOr(Schema.DateTimeUtc),
  user: GrantUser,
  org: Schema.OptionFromNullOr(GrantOrg),
  orgs: Schema.Array(GrantOrg),
  strategy: Schema.String
}) {
  /**
   * A log-safe name for the token.
   *
   * @since 0.1.0
   */
  get fingerprint(): string {
    return BearerToken.fingerprint(this.token)
  }

  /**
   * Whether the token never expires.
   *
   * @since 0.1.0
   */
  get isPermanent(): boolean {
    return Option.isNone(this.expiresAt)
  }
}

/**
 * The lifetime of a standard OpenSolar token: 7 days after issue.
 *
 * @since 0.1.0
 * @category constants
 */
export const standardLifetime: Duration.Duration = Duration.days(7)

/**
 * Whether the grant is expired at `now` (epoch milliseconds), counting `margin` as already expired.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isExpiredAt = (grant: TokenGrant, now: number, margin: Duration.DurationInput = 0): boolean =>
  Option.match(grant.expiresAt, {
    onNone: () => false,
    onSome: (expiresAt) => DateTime.toEpochMillis(expiresAt) - Duration.toMillis(margin) <= now
  })

/**
 * The grant with its expiry set to `lifetime` after its issue time; a permanent grant is left as it is.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withLifetime = (grant: TokenGrant, lifetime: Duration.DurationInput): TokenGrant =>
  grant.isPermanent
    ? grant
    : new TokenGrant({ ...grant, expiresAt: Option.some(DateTime.addDuration(grant.issuedAt, lifetime)) })

/**
 * Reconciles a newly obtained grant with the one it replaces. When the API answered with the same token
 * string, the token's life did not restart: the earlier issue and expiry times are kept, and metadata the
 * new answer lacks is taken from the earlier grant. A new string starts a new lifetime.
 *
 * @since 0.1.0
 * @category combinators
 */
export const continueFrom = (previous: Option.Option<TokenGrant>, next: TokenGrant): TokenGrant => {
  if (Option.isNone(previous) || !BearerToken.equals(previous.value.token, next.token)) {
    return next
  }
  const earlier = previous.value
  return new TokenGrant({
    ...next,
    issuedAt: earlier.issuedAt,
    expiresAt: next.isPermanent ? next.expiresAt : earlier.expiresAt,
    user: new GrantUser({ ...earlier.user, ...definedFields(next.user) }),
    org: Option.orElse(next.org, () => earlier.org),
    orgs: next.orgs.length > 0 ? next.orgs : earlier.orgs
  })
}

const definedFields = <A extends object>(value: A): Partial<A> =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<A>
