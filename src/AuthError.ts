/**
 * Every way obtaining or using an OpenSolar token can fail, as one tagged union.
 *
 * Each error knows whether it is transient (worth retrying) and has a message that names the request's
 * method and URL and says what to do. No error ever holds a password, a token, an MFA code or a request body.
 *
 * @since 0.1.0
 */
import { Duration, Option, Predicate, Schema } from "effect"

const requestFields = {
  method: Schema.String,
  url: Schema.String
}

const nearmapHint =
  "Users who sign in with Nearmap must first set an OpenSolar password (Forgot Password) and then log in " +
  "with their OpenSolar email and that password."

/**
 * The username or password was refused (HTTP 400 with `non_field_errors`). Never retried: retrying a wrong
 * password can lock the account.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>(
  "effect-opensolar-auth/InvalidCredentials"
)("InvalidCredentials", requestFields) {
  /**
   * Whether retrying may succeed: never, as a refused password stays refused and retries can lock the account.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  /**
   * What users who sign in with Nearmap must do before a password login can work.
   *
   * @since 0.1.0
   */
  get hint(): string {
    return nearmapHint
  }

  override get message(): string {
    return `${this.method} ${this.url} refused the username or password: check both. ${nearmapHint}`
  }
}

/**
 * The account has two-factor authentication and no code was sent. Configure an MFA code source.
 *
 * @since 0.1.0
 * @category errors
 */
export class MfaRequired extends Schema.TaggedError<MfaRequired>("effect-opensolar-auth/MfaRequired")(
  "MfaRequired",
  requestFields
) {
  /**
   * Whether retrying may succeed: never, as the request needs a two-factor code first.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return (
      `${this.method} ${this.url} requires a two-factor code for this account: ` +
      "configure a TOTP secret, a code or a prompt as the MFA code source."
    )
  }
}

/**
 * The two-factor code that was sent was refused: wrong, expired, or already used.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMfaCode extends Schema.TaggedError<InvalidMfaCode>("effect-opensolar-auth/InvalidMfaCode")(
  "InvalidMfaCode",
  requestFields
) {
  /**
   * Whether retrying may succeed: never, as the same code is refused again.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return (
      `${this.method} ${this.url} refused the two-factor code: it was wrong, expired or already used. ` +
      "Check the TOTP secret and this machine's clock, or enter a fresh code."
    )
  }
}

/**
 * The bearer token was missing, unknown, expired or revoked (HTTP 401), or there was no session to refresh.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenRejected extends Schema.TaggedError<TokenRejected>("effect-opensolar-auth/TokenRejected")(
  "TokenRejected",
  {
    ...requestFields,
    fingerprint: Schema.optional(Schema.String)
  }
) {
  /**
   * Whether retrying may succeed: never with the same token, which the API no longer accepts.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    const which = this.fingerprint === undefined ? "no usable token" : `token ${this.fingerprint}`
    return `${this.method} ${this.url} rejected ${which}: log in again to obtain a new token.`
  }
}

/**
 * The organisation has no API Access product (HTTP 402).
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiAccessNotEnabled extends Schema.TaggedError<ApiAccessNotEnabled>(
  "effect-opensolar-auth/ApiAccessNotEnabled"
)("ApiAccessNotEnabled", requestFields) {
  /**
   * Whether retrying may succeed: never, until API access is enabled for the organisation.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return (
      `${this.method} ${this.url} answered 402: API Access is not enabled for this organisation. ` +
      "Ask OpenSolar to enable the API Access product, or use an organisation that has it."
    )
  }
}

/**
 * The user may not do this, typically because the request names an organisation they do not belong to (HTTP 403).
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>("effect-opensolar-auth/Forbidden")(
  "Forbidden",
  requestFields
) {
  /**
   * Whether retrying may succeed: never, as the account's permissions do not change on their own.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return `${this.method} ${this.url} answered 403: this user is not permitted here. Check the organisation id.`
  }
}

/**
 * The API throttled the request (HTTP 429). `retryAfterMillis` holds the server's `Retry-After` when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("effect-opensolar-auth/RateLimited")("RateLimited", {
  ...requestFields,
  retryAfterMillis: Schema.optional(Schema.NonNegative)
}) {
  /**
   * Whether retrying may succeed: yes, once the throttle's wait is over.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return true
  }

  /**
   * How long the server asked to wait, when it said.
   *
   * @since 0.1.0
   */
  get retryAfter(): Option.Option<Duration.Duration> {
    return Option.map(Option.fromNullable(this.retryAfterMillis), Duration.millis)
  }

  override get message(): string {
    const wait =
      this.retryAfterMillis === undefined ? "" : ` and asked to wait ${Duration.format(this.retryAfterMillis)}`
    return `${this.method} ${this.url} throttled the request (429)${wait}: slow down and try again later.`
  }
}

/**
 * The API failed on its side (HTTP 5xx).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("effect-opensolar-auth/ServerError")("ServerError", {
  ...requestFields,
  status: Schema.Int
}) {
  /**
   * Whether retrying may succeed: yes, once the API recovers.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return true
  }

  override get message(): string {
    return `${this.method} ${this.url} answered ${this.status}: the OpenSolar API failed on its side; try again later.`
  }
}

/**
 * The request did not reach the API or its answer did not come back: refused connection, reset, DNS failure.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("effect-opensolar-auth/TransportError")(
  "TransportError",
  {
    ...requestFields,
    description: Schema.String
  }
) {
  /**
   * Whether retrying may succeed: yes, as the network or the server may come back.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return true
  }

  override get message(): string {
    return `${this.method} ${this.url} could not be completed (${this.description}): check the network and base URL.`
  }
}

/**
 * The API did not answer within the request timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>("effect-opensolar-auth/RequestTimeout")(
  "RequestTimeout",
  {
    ...requestFields,
    timeoutMillis: Schema.NonNegative
  }
) {
  /**
   * Whether retrying may succeed: yes, as the API may answer in time on another attempt.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return true
  }

  override get message(): string {
    return `${this.method} ${this.url} did not answer within ${Duration.format(this.timeoutMillis)}: try again later.`
  }
}

/**
 * The API answered something this library cannot use: an unknown status, HTML, malformed JSON, or a body
 * without a token. `excerpt` is a short, secret-free sample of the body.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>(
  "effect-opensolar-auth/UnexpectedResponse"
)("UnexpectedResponse", {
  ...requestFields,
  status: Schema.Int,
  reason: Schema.String,
  excerpt: Schema.optional(Schema.String)
}) {
  /**
   * Whether retrying may succeed: no, as an unusable answer usually means a wrong base URL.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    const excerpt = this.excerpt === undefined ? "" : ` Body began: ${JSON.stringify(this.excerpt)}.`
    return (
      `${this.method} ${this.url} answered ${this.status} with ${this.reason}.${excerpt} ` +
      "Check that the base URL points at the OpenSolar API."
    )
  }
}

/**
 * No two-factor code could be produced: the prompt was cancelled, no terminal is attached, or the TOTP
 * secret is unusable.
 *
 * @since 0.1.0
 * @category errors
 */
export class MfaCodeUnavailable extends Schema.TaggedError<MfaCodeUnavailable>(
  "effect-opensolar-auth/MfaCodeUnavailable"
)("MfaCodeUnavailable", {
  reason: Schema.String
}) {
  /**
   * Whether retrying may succeed: no, as someone must provide a code or fix the TOTP secret first.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return `No two-factor code is available: ${this.reason}`
  }
}

/**
 * The library was configured in a way that cannot work. `variables` names the settings to set or remove.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>(
  "effect-opensolar-auth/ConfigurationError"
)("ConfigurationError", {
  reason: Schema.String,
  variables: Schema.Array(Schema.String)
}) {
  /**
   * Whether retrying may succeed: never, as the configuration must be changed first.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    return this.variables.length === 0 ? this.reason : `${this.reason} (${this.variables.join(", ")})`
  }
}

/**
 * The schema of every {@link AuthError}, for encoding errors across process boundaries.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuthError = Schema.Union(
  InvalidCredentials,
  MfaRequired,
  InvalidMfaCode,
  TokenRejected,
  ApiAccessNotEnabled,
  Forbidden,
  RateLimited,
  ServerError,
  TransportError,
  RequestTimeout,
  UnexpectedResponse,
  MfaCodeUnavailable,
  ConfigurationError
)

/**
 * Any error of this library.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthError = typeof AuthError.Type

/**
 * The errors a request to the API can end with, before any strategy adds its own.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiError =
  | InvalidCredentials
  | MfaRequired
  | InvalidMfaCode
  | TokenRejected
  | ApiAccessNotEnabled
  | Forbidden
  | RateLimited
  | ServerError
  | TransportError
  | RequestTimeout
  | UnexpectedResponse

const tags: ReadonlySet<string> = new Set([
  "InvalidCredentials",
  "MfaRequired",
  "InvalidMfaCode",
  "TokenRejected",
  "ApiAccessNotEnabled",
  "Forbidden",
  "RateLimited",
  "ServerError",
  "TransportError",
  "RequestTimeout",
  "UnexpectedResponse",
  "MfaCodeUnavailable",
  "ConfigurationError"
])

/**
 * Whether a value is an {@link AuthError}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isAuthError = (u: unknown): u is AuthError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

/**
 * Whether an error is worth retrying: transport failures, timeouts, server errors and throttling.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransient = (error: AuthError): boolean => error.transient

/**
 * Whether an error means the credentials themselves are wrong or incomplete; such errors are never retried.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isCredentialsError = (error: AuthError): error is InvalidCredentials | MfaRequired | InvalidMfaCode =>
  error._tag === "InvalidCredentials" || error._tag === "MfaRequired" || error._tag === "InvalidMfaCode"
