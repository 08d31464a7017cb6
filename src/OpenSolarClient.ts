/**
 * An `HttpClient` for the OpenSolar API: the base URL prepended, `Accept: application/json`, a fresh
 * `Authorization: Bearer` on every request, one retry with a new token after a 401, and the token sent to the
 * OpenSolar origin only.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Context, Duration, Effect, Either, Layer, type Metric, Schema } from "effect"
import * as AuthError from "./AuthError.js"
import * as BaseUrl from "./BaseUrl.js"
import * as Credentials from "./Credentials.js"
import * as internal from "./internal/client.js"
import * as duration from "./internal/duration.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as TokenRef from "./TokenRef.js"

/**
 * A request refused because the bearer token would go where it must not: before sending, because its URL leaves the
 * OpenSolar origin (or cannot be read, or carries a user name), or after, with `answeredFrom`, because the platform
 * `HttpClient` followed a redirect on its own. Use a plain `HttpClient` for other hosts, and give the client a
 * platform `HttpClient` that does not follow redirects.
 *
 * @since 0.1.0
 * @category errors
 */
export const UnsafeRequest = internal.UnsafeRequest

/**
 * A request refused because the bearer token would go where it must not; see {@link UnsafeRequest}.
 *
 * @since 0.1.0
 * @category errors
 */
export type UnsafeRequest = internal.UnsafeRequest

/**
 * What a request through the client can fail with, whatever the status: the token could not be obtained or was
 * refused twice ({@link AuthError.AuthError}), the request was refused before sending ({@link UnsafeRequest}),
 * the connection failed or timed out (`TransportError`, `RequestTimeout`), or the request body could not be
 * encoded (`RequestError`).
 *
 * @since 0.1.0
 * @category models
 */
export type ClientError = internal.ClientError

/**
 * What a non-success status becomes with {@link Service.filterStatusOk} or {@link checkStatus}: 402
 * `ApiAccessNotEnabled`, 403 `Forbidden`, 429 `RateLimited` (with the server's `Retry-After`), 5xx `ServerError`,
 * and any other status outside 2xx a `ResponseError` holding the response.
 *
 * @since 0.1.0
 * @category models
 */
export type StatusError = internal.StatusError

/**
 * An authenticated client. It is an `HttpClient` itself, returning every status but 401 as a response:
 *
 * - relative URLs resolve against the base URL; absolute URLs are accepted only on the OpenSolar origin;
 * - each request carries the token `TokenRef.get` gives at that moment; a 401 invalidates exactly that token and
 *   the request is sent once more with a fresh one; a second 401 fails with `TokenRejected`. The request is sent
 *   again only when the 401 answered the request itself: on its first hop, or after redirects that kept its method
 *   and body (as 307 and 308 do). A 401 on a hop reached otherwise (the `GET` that follows a `303` answer to a
 *   `POST`, which the server has acted on), or to a request whose body is a stream, invalidates the token and fails
 *   with `TokenRejected` naming that hop, without sending anything again;
 * - redirects are followed by the client itself (at most `maxRedirects` hops): once a hop leaves the OpenSolar
 *   origin, it and every later hop go without the `Authorization`, `Cookie` and `Proxy-Authorization` headers, and a
 *   401 from such a hop is returned as it is rather than taken for a rejected token. Fetch-based clients are asked
 *   not to follow redirects on their own (`redirect: "manual"`); in browsers, where fetch hides redirect responses,
 *   they come back with status 0. The platform `HttpClient` given to the client must not follow redirects itself:
 *   one wrapped with `HttpClient.followRedirects` carries the `Authorization` header to wherever a redirect points,
 *   before this client sees the redirect. The client cannot prevent that; when an answer comes from another URL
 *   than the one it sent, it fails with `UnsafeRequest` (`answeredFrom` set) so that the mistake shows;
 * - idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS) whose body can be read again (not a stream) are retried
 *   by the retry policy after connection failures, timeouts and answers 429, 500, 502, 503 and 504, waiting at least
 *   as long as `Retry-After` asks. When the policy gives up (too many tries, or a `Retry-After` longer than it waits),
 *   the last answer is returned, or the last error. A retried answer's body is read into memory before the wait, so
 *   that waiting holds no connection; the last answer's body can still be read. POST and PATCH are sent once (plus
 *   the one resend after a 401, which the server refused before acting on).
 *
 * `filterStatusOk` is the same client, retrying the same way, failing on non-success statuses of the last answer
 * (see {@link StatusError}).
 *
 * Each logical request is one span, `OpenSolarClient <METHOD>`, with the method, the URL without its query, the
 * status, the token's fingerprint, the number of attempts and whether it re-authenticated; a failed request's span
 * holds its typed error, never the request. The platform makes no span of its own for these exchanges (its span
 * would keep the request, token included, when the connection fails), so no trace headers are sent to the API.
 * A response's `request` is the request as sent without its credentials, so printing or serialising a response,
 * or an error holding one, never shows the token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends HttpClient.HttpClient.With<ClientError> {
  /** The API's base URL. */
  readonly baseUrl: BaseUrl.BaseUrl
  /** The same client, retrying the same way, failing when the last answer's status is outside 2xx. */
  readonly filterStatusOk: HttpClient.HttpClient.With<ClientError | StatusError>
  /**
   * The same client with relative URLs resolved under `/api/orgs/{orgId}/`: `get("projects/")` asks for
   * `/api/orgs/{orgId}/projects/`. An id that is not a positive integer fails each request with a
   * `ConfigurationError`.
   */
  readonly forOrg: (orgId: number) => Service
}

/**
 * The authenticated client as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class OpenSolarClient extends Context.Tag("effect-opensolar-auth/OpenSolarClient")<OpenSolarClient, Service>() {}

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API's base URL; the token is sent to its origin only. @default "https://api.opensolar.com" */
  readonly baseUrl?: string | undefined
  /** How many redirects one request follows before its last redirect response is returned. @default 5 */
  readonly maxRedirects?: number | undefined
  /**
   * How long one exchange (one hop of one attempt) may take to answer before it fails with `RequestTimeout`;
   * `Duration.infinity` leaves the limit to the platform client. Timing each exchange is the client's largest
   * cost per request (a race of fibers); on a remote API it is negligible. @default 30 seconds
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * When idempotent requests are retried after transient failures and answers (429, 500, 502, 503, 504); it sees
   * those answers as `RateLimited` or `ServerError`. @default RetryPolicy.default
   */
  readonly retryPolicy?: RetryPolicy.RetryPolicy | undefined
}

/**
 * The default number of redirects one request follows.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxRedirects = 5

/**
 * The default time one exchange may take.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTimeout: Duration.Duration = Duration.seconds(30)

/**
 * Counts the requests answered 401 that then succeeded, with a 2xx answer, after one re-authentication. A request
 * whose fresh token was accepted but that failed for another reason (403, 5xx) is not counted.
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRecoveries: Metric.Metric.Counter<number> = internal.tokenRecoveries

/**
 * Counts the requests that ended in `TokenRejected`: their fresh token was refused again, or sending them again
 * after the 401 was not safe.
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRejections: Metric.Metric.Counter<number> = internal.tokenRejections

/**
 * Turns a response with a non-success status into its {@link StatusError}, for responses of the lenient client:
 * `client.get(url).pipe(Effect.flatMap(OpenSolarClient.checkStatus))`, the same as {@link Service.filterStatusOk}
 * gives. It judges the one response given and retries nothing: the client has already retried transient answers.
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkStatus: (
  response: HttpClientResponse.HttpClientResponse
) => Effect.Effect<HttpClientResponse.HttpClientResponse, StatusError> = internal.checkStatus

/**
 * Makes the client over the platform `HttpClient` and the `TokenRef` in context. The platform client must not follow
 * redirects itself (no `HttpClient.followRedirects`): the client follows them, dropping the token off the origin.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, AuthError.ConfigurationError, HttpClient.HttpClient | TokenRef.TokenRef> =>
  Effect.gen(function* () {
    const baseUrl = yield* Schema.decodeUnknown(BaseUrl.BaseUrl)(options.baseUrl ?? BaseUrl.production).pipe(
      Effect.mapError(
        (error) =>
          new AuthError.ConfigurationError({
            reason: `The OpenSolar client's base URL is not usable: ${error.message}`,
            variables: ["baseUrl"]
          })
      )
    )
    const maxRedirects = options.maxRedirects ?? defaultMaxRedirects
    if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
      return yield* new AuthError.ConfigurationError({
        reason: `maxRedirects must be a whole number of at least 0, got ${maxRedirects}`,
        variables: ["maxRedirects"]
      })
    }
    const timeout = yield* duration.decode(options.timeout ?? defaultTimeout, {
      name: "timeout",
      owner: "OpenSolarClient",
      example: "30 seconds",
      acceptsInfinity: true
    })

    const config: internal.Config = {
      // The platform's span of an exchange would keep the request, with its token, in its failure cause; the
      // client's own span, whose failures are typed errors without the request, stands in for it.
      http: HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true),
      tokenRef: yield* TokenRef.TokenRef,
      baseUrl,
      origin: BaseUrl.origin(baseUrl),
      maxRedirects,
      timeout,
      retryPolicy: options.retryPolicy ?? RetryPolicy.default
    }
    return scoped(config, baseUrl)
  })

const scoped = (config: internal.Config, root: string): Service =>
  Object.assign(internal.makeClient(config, root, false), {
    baseUrl: config.baseUrl,
    filterStatusOk: internal.makeClient(config, root, true),
    forOrg: (orgId: number) =>
      Either.match(Schema.decodeUnknownEither(Credentials.OrgId)(orgId), {
        onLeft: () => invalidOrg(config, orgId),
        onRight: (id) => scoped(config, `${config.baseUrl}/api/orgs/${id}/`)
      })
  })

const invalidOrg = (config: internal.Config, orgId: number): Service => {
  const refuse = HttpClient.makeWith(
    () =>
      Effect.fail(
        new AuthError.ConfigurationError({
          reason: `forOrg was given ${orgId}: an organisation id must be a positive integer`,
          variables: ["orgId"]
        })
      ),
    Effect.succeed
  )
  return Object.assign(refuse, {
    baseUrl: config.baseUrl,
    filterStatusOk: refuse,
    forOrg: (next: number) => scoped(config, config.baseUrl).forOrg(next)
  })
}

/**
 * The client scoped to an organisation: relative URLs resolve under `/api/orgs/{orgId}/`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const forOrg = (orgId: number): Effect.Effect<Service, never, OpenSolarClient> =>
  Effect.map(OpenSolarClient, (client) => client.forOrg(orgId))

/**
 * The client as a layer, over the platform `HttpClient` (one that does not follow redirects itself) and a
 * `TokenRef`. Most programs use `OpenSolar.layer`, which provides the `TokenRef` too.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<OpenSolarClient, AuthError.ConfigurationError, HttpClient.HttpClient | TokenRef.TokenRef> =>
  Layer.effect(OpenSolarClient, make(options))
