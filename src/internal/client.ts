/**
 * The request pipeline of the authenticated client: URL resolution, the origin guard, the bearer header, one
 * re-authentication after a 401, redirect following that never carries the token to another origin, status
 * mapping, and retries of idempotent requests.
 *
 * @internal
 */
import type * as Cookies from "@effect/platform/Cookies"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import { Clock, Duration, Effect, Inspectable, Metric, Option, Predicate, Schedule, Schema, Stream } from "effect"
import * as AuthError from "../AuthError.js"
import type * as BaseUrl from "../BaseUrl.js"
import * as BearerToken from "../BearerToken.js"
import type * as TokenRef from "../TokenRef.js"
import * as wire from "./wire.js"

/**
 * A request refused because the bearer token would go somewhere it must not: refused before it was sent, or, when
 * `answeredFrom` is set, answered from another URL because the platform client followed a redirect on its own.
 *
 * @internal
 */
export class UnsafeRequest extends Schema.TaggedError<UnsafeRequest>("effect-opensolar-auth/UnsafeRequest")(
  "UnsafeRequest",
  {
    method: Schema.String,
    url: Schema.String,
    allowedOrigin: Schema.String,
    reason: Schema.String,
    answeredFrom: Schema.optional(Schema.String)
  }
) {
  /**
   * Never: another try would send the token to the same place.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    return false
  }

  override get message(): string {
    if (this.answeredFrom !== undefined) {
      return (
        `${this.method} ${this.url} was answered from ${this.answeredFrom}: ${this.reason}. The OpenSolar client ` +
        `follows redirects itself so that its bearer token goes only to ${this.allowedOrigin}; give it an ` +
        "HttpClient that does not follow them (not one wrapped with HttpClient.followRedirects)."
      )
    }
    return (
      `${this.method} ${this.url} was refused before sending: ${this.reason}. The OpenSolar client sends its ` +
      `bearer token only to ${this.allowedOrigin}; use a plain HttpClient for other hosts.`
    )
  }
}

/**
 * Everything a request through the client can fail with before any status is judged.
 *
 * @internal
 */
export type ClientError = AuthError.AuthError | UnsafeRequest | HttpClientError.RequestError

/**
 * The errors a non-success status becomes.
 *
 * @internal
 */
export type StatusError =
  | AuthError.ApiAccessNotEnabled
  | AuthError.Forbidden
  | AuthError.RateLimited
  | AuthError.ServerError
  | HttpClientError.ResponseError

/**
 * What the pipeline needs: the platform client, the token, where the token may go, and the limits.
 *
 * @internal
 */
export interface Config {
  readonly http: HttpClient.HttpClient
  readonly tokenRef: TokenRef.Service
  readonly baseUrl: BaseUrl.BaseUrl
  readonly origin: string
  readonly maxRedirects: number
  readonly timeout: Duration.Duration
  readonly retryPolicy: Schedule.Schedule<unknown, AuthError.AuthError>
}

/**
 * Counts the requests answered 401 that then succeeded, with a 2xx answer, after one re-authentication.
 *
 * @internal
 */
export const tokenRecoveries = Metric.counter("opensolar_client_token_recoveries", {
  description: "Requests answered 401 that then succeeded (2xx) after one re-authentication",
  incremental: true
})

/**
 * Counts the requests that ended in `TokenRejected`: refused again with a fresh token, or refused where sending them
 * again was not safe.
 *
 * @internal
 */
export const tokenRejections = Metric.counter("opensolar_client_token_rejections", {
  description: "Requests that ended in TokenRejected: refused again with a fresh token, or not safe to send again",
  incremental: true
})

const fingerprints = new WeakMap<BearerToken.BearerToken, string>()

// The same token object comes back from every `TokenRef.get` until it is replaced: hash it once.
const fingerprintOf = (token: BearerToken.BearerToken): string => {
  let fingerprint = fingerprints.get(token)
  if (fingerprint === undefined) {
    fingerprint = BearerToken.fingerprint(token)
    fingerprints.set(token, fingerprint)
  }
  return fingerprint
}

const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])

/**
 * Whether a method may be sent again without changing the outcome, so that transient failures are retried.
 *
 * @internal
 */
export const isIdempotent = (method: string): boolean => idempotentMethods.has(method)

const isAbsoluteUrl = (url: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(url)

/**
 * Resolves a relative request URL against `root` (the base URL, or an organisation under it); absolute URLs are
 * left as they are, for the origin guard to judge.
 *
 * @internal
 */
export const resolveAgainst =
  (root: string) =>
  (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
    isAbsoluteUrl(request.url) ? request : HttpClientRequest.prependUrl(request, root.endsWith("/") ? root : `${root}/`)

/**
 * A URL as errors, logs and spans may show it: without user name, password, query or fragment.
 *
 * @internal
 */
export const displayUrl = (url: URL | string): string => {
  if (typeof url === "string" && !URL.canParse(url)) {
    return (url.split(/[?#]/, 1)[0] ?? "").replace(/\/\/[^/]*@/, "//")
  }
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

const guard = (config: Config, request: HttpClientRequest.HttpClientRequest): Effect.Effect<URL, UnsafeRequest> => {
  const refuse = (url: string, reason: string) =>
    Effect.fail(
      new UnsafeRequest({ method: request.method, url: displayUrl(url), allowedOrigin: config.origin, reason })
    )
  const built = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (built._tag === "Left") {
    return refuse(request.url, "the URL cannot be parsed")
  }
  const url = built.right
  if (url.origin !== config.origin) {
    return refuse(url.toString(), `its origin is ${url.origin}`)
  }
  if (url.username !== "" || url.password !== "") {
    return refuse(url.toString(), "the URL carries a user name or password")
  }
  return Effect.succeed(url)
}

const isReplayable = (request: HttpClientRequest.HttpClientRequest): boolean => request.body._tag !== "Stream"

const rebuild = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  headers: Headers.Headers,
  method: HttpClientRequest.HttpClientRequest["method"],
  keepBody: boolean
): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.modify(HttpClientRequest.get(url.toString()), {
    method,
    headers,
    ...(keepBody ? { body: request.body } : {})
  })

const credentialHeaders = ["authorization", "cookie", "proxy-authorization"]

const withoutCredentials = (headers: Headers.Headers): Headers.Headers =>
  credentialHeaders.reduce((remaining, name) => Headers.remove(remaining, name), headers)

const stripCredentials = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.modify(HttpClientRequest.get(request.url), {
    method: request.method,
    urlParams: request.urlParams,
    headers: withoutCredentials(request.headers),
    body: request.body,
    ...Option.match(request.hash, { onNone: () => ({}), onSome: (hash) => ({ hash }) })
  })

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/**
 * A response as the client hands it out: `request` is the request that was sent, without its credentials, so
 * that printing or serialising a response (or an error holding one) never shows the token, inside a logger or
 * not. Everything else is the platform's response, but for a body read into memory (see `buffered`). The
 * platform's response and the request as sent, both holding the token, are private fields: spreading, cloning
 * or inspecting the response without its custom inspection does not reach them.
 *
 * @internal
 */
export class SentResponse implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  readonly #original: HttpClientResponse.HttpClientResponse
  readonly #sent: HttpClientRequest.HttpClientRequest
  readonly #body: Uint8Array | undefined
  #stripped: HttpClientRequest.HttpClientRequest | undefined

  constructor(
    original: HttpClientResponse.HttpClientResponse,
    sent: HttpClientRequest.HttpClientRequest,
    body?: Uint8Array
  ) {
    this.#original = original
    this.#sent = sent
    this.#body = body
  }

  /**
   * The same response with its body read into memory, which hands its connection back to the platform client; the
   * response itself when the body cannot be read, since reading it again fails the same way.
   */
  get buffered(): Effect.Effect<SentResponse> {
    if (this.#body !== undefined) {
      return Effect.succeed(this)
    }
    return Effect.match(this.#original.arrayBuffer, {
      onFailure: () => this,
      onSuccess: (bytes) => new SentResponse(this.#original, this.#sent, new Uint8Array(bytes))
    })
  }

  get request(): HttpClientRequest.HttpClientRequest {
    if (this.#stripped === undefined) {
      this.#stripped = stripCredentials(this.#sent)
    }
    return this.#stripped
  }

  get status(): number {
    return this.#original.status
  }

  get headers(): Headers.Headers {
    return this.#original.headers
  }

  get cookies(): Cookies.Cookies {
    return this.#original.cookies
  }

  get remoteAddress(): Option.Option<string> {
    return this.#original.remoteAddress
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return this.#reading(this.#source().formData)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.#reading(this.#source().text)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.#reading(this.#source().json)
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.#reading(this.#source().urlParamsBody)
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.#reading(this.#source().arrayBuffer)
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.mapError(this.#source().stream, (error) => this.#rebased(error))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }

  toString(): string {
    return Inspectable.format(this.toJSON())
  }

  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }

  // A buffered body is served from a fresh web response for every read, so that it can be read more than once and
  // in more than one form.
  #source(): HttpClientResponse.HttpClientResponse {
    if (this.#body === undefined) {
      return this.#original
    }
    const type = this.#original.headers["content-type"]
    return HttpClientResponse.fromWeb(
      this.request,
      new Response(this.#body, type === undefined ? {} : { headers: { "content-type": type } })
    )
  }

  #reading<A>(read: Effect.Effect<A, HttpClientError.ResponseError>): Effect.Effect<A, HttpClientError.ResponseError> {
    return Effect.mapError(read, (error) => this.#rebased(error))
  }

  #rebased(error: HttpClientError.ResponseError): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: error.reason,
      cause: error.cause,
      ...(error.description === undefined ? {} : { description: error.description })
    })
  }
}

/**
 * A response, the hop that produced it, whether that hop carried the bearer token, and whether it was the request
 * itself: its method and body unchanged by the redirects followed to reach it.
 *
 * @internal
 */
export interface Exchange {
  readonly response: SentResponse
  readonly method: HttpClientRequest.HttpClientRequest["method"]
  readonly url: URL
  readonly carriedToken: boolean
  readonly sameRequest: boolean
  readonly redirects: number
}

const drain = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  Effect.ignore(response.arrayBuffer)

const describeCause = (cause: unknown): string | undefined => {
  let current = cause
  for (let depth = 0; depth < 5 && Predicate.isObject(current); depth++) {
    if (Predicate.hasProperty(current, "code") && typeof current.code === "string") {
      return `${current.code}`
    }
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return undefined
}

const fromRequestError = (
  original: HttpClientRequest.HttpClientRequest,
  url: URL,
  error: HttpClientError.HttpClientError
): AuthError.TransportError | HttpClientError.RequestError => {
  if (error._tag === "RequestError" && error.reason !== "Transport") {
    // The user's own request, not the one carrying the token, goes back in the error.
    return new HttpClientError.RequestError({
      request: original,
      reason: error.reason,
      cause: error.cause,
      ...(error.description === undefined ? {} : { description: error.description })
    })
  }
  return new AuthError.TransportError({
    method: original.method,
    url: displayUrl(url),
    description: describeCause(error.cause) ?? "the connection failed"
  })
}

/**
 * What sending one request can fail with.
 *
 * @internal
 */
export type SendError =
  | AuthError.TransportError
  | AuthError.RequestTimeout
  | HttpClientError.RequestError
  | UnsafeRequest

const withoutFragment = (url: URL): string => url.href.split("#", 1)[0]!

// A platform client that follows redirects itself answers with the request of its last hop, sent with the token.
const answeredElsewhere = (
  sent: HttpClientRequest.HttpClientRequest,
  sentUrl: URL,
  answered: HttpClientRequest.HttpClientRequest
): boolean =>
  answered !== sent &&
  (answered.url !== sent.url || answered.urlParams !== sent.urlParams) &&
  Option.match(HttpClientRequest.toUrl(answered), {
    onNone: () => true,
    onSome: (url) => withoutFragment(url) !== withoutFragment(sentUrl)
  })

const followedOnItsOwn = (
  config: Config,
  sent: HttpClientRequest.HttpClientRequest,
  sentUrl: URL,
  answered: HttpClientRequest.HttpClientRequest
): UnsafeRequest =>
  new UnsafeRequest({
    method: sent.method,
    url: displayUrl(sentUrl),
    allowedOrigin: config.origin,
    reason: "the platform HttpClient followed a redirect on its own, sending the bearer token along",
    answeredFrom: displayUrl(answered.url)
  })

/**
 * Sends one request with the token, following redirects itself: at most `maxRedirects` hops, and once a hop
 * leaves the OpenSolar origin the credentials are dropped for it and every hop after it.
 *
 * @internal
 */
export const send = (
  config: Config,
  original: HttpClientRequest.HttpClientRequest,
  url: URL,
  token: BearerToken.BearerToken
): Effect.Effect<Exchange, SendError> => {
  const headers = original.headers.accept === undefined ? { accept: "application/json" } : {}
  const first = HttpClientRequest.setHeaders(original, {
    ...headers,
    authorization: `Bearer ${BearerToken.value(token)}`
  })

  const exchange = (
    request: HttpClientRequest.HttpClientRequest,
    hopUrl: URL
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, SendError> =>
    withManualRedirects(config.http.execute(request)).pipe(
      (sending) =>
        Duration.isFinite(config.timeout)
          ? Effect.timeoutFail(sending, {
              duration: config.timeout,
              onTimeout: () =>
                new AuthError.RequestTimeout({
                  method: original.method,
                  url: displayUrl(hopUrl),
                  timeoutMillis: Duration.toMillis(config.timeout)
                })
            })
          : sending,
      Effect.catchTag("RequestError", "ResponseError", (error) =>
        Effect.fail(fromRequestError(original, hopUrl, error))
      ),
      Effect.flatMap((response) =>
        answeredElsewhere(request, hopUrl, response.request)
          ? Effect.zipRight(drain(response), Effect.fail(followedOnItsOwn(config, request, hopUrl, response.request)))
          : Effect.succeed(response)
      )
    )

  const loop = (
    request: HttpClientRequest.HttpClientRequest,
    hopUrl: URL,
    carriedToken: boolean,
    sameRequest: boolean,
    redirects: number
  ): Effect.Effect<Exchange, SendError> =>
    Effect.flatMap(exchange(request, hopUrl), (response) => {
      const done = Effect.succeed<Exchange>({
        response: new SentResponse(response, request),
        method: request.method,
        url: hopUrl,
        carriedToken,
        sameRequest,
        redirects
      })
      if (!redirectStatuses.has(response.status) || redirects >= config.maxRedirects) {
        return done
      }
      const location = response.headers.location
      if (location === undefined || !URL.canParse(location, hopUrl.toString())) {
        return done
      }
      const next = new URL(location, hopUrl)
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        return done
      }
      const becomesGet =
        response.status === 303 ? request.method !== "HEAD" : response.status <= 302 && request.method === "POST"
      if (!becomesGet && !isReplayable(request)) {
        return done
      }
      const stillCarries = carriedToken && next.origin === config.origin
      const stillSame = sameRequest && (!becomesGet || (request.method === "GET" && request.body._tag === "Empty"))
      const nextHeaders = stillCarries ? request.headers : withoutCredentials(request.headers)
      const nextRequest = rebuild(
        request,
        next,
        becomesGet ? Headers.remove(Headers.remove(nextHeaders, "content-type"), "content-length") : nextHeaders,
        becomesGet ? "GET" : request.method,
        !becomesGet
      )
      const dropped =
        carriedToken && !stillCarries
          ? Effect.logDebug("A redirect leaves the OpenSolar origin: the next hops are sent without the token").pipe(
              Effect.annotateLogs({ from: displayUrl(hopUrl), to: displayUrl(next), status: response.status })
            )
          : Effect.void
      return drain(response).pipe(
        Effect.zipRight(dropped),
        Effect.zipRight(loop(nextRequest, next, stillCarries, stillSame, redirects + 1))
      )
    })

  return loop(first, url, true, true, 0)
}

// Fetch follows redirects on its own unless told otherwise, keeping headers it should not; the other platform
// clients never follow them.
const withManualRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, {
      ...Option.getOrElse(init, () => ({})),
      redirect: "manual"
    })
  )

const transientError = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<AuthError.RateLimited | AuthError.ServerError> => {
  const fields = { method: response.request.method, url: displayUrl(response.request.url) }
  if (response.status !== 429) {
    return Effect.succeed(new AuthError.ServerError({ ...fields, status: response.status }))
  }
  return Effect.map(
    Clock.currentTimeMillis,
    (now) =>
      new AuthError.RateLimited({
        ...fields,
        ...Option.match(wire.parseRetryAfter(response.headers["retry-after"], now), {
          onNone: () => ({}),
          onSome: (wait) => ({ retryAfterMillis: Duration.toMillis(wait) })
        })
      })
  )
}

/**
 * The typed error for a non-success status, or the response itself when it is a success: 402, 403, 429 and 5xx
 * become {@link AuthError} members (their bodies discarded), anything else a `ResponseError` holding the response.
 *
 * @internal
 */
export const checkStatus = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, StatusError> => {
  const status = response.status
  if (status >= 200 && status < 300) {
    return Effect.succeed(response)
  }
  const fields = { method: response.request.method, url: displayUrl(response.request.url) }
  const fail = (error: StatusError) => Effect.zipRight(drain(response), Effect.fail(error))
  if (status === 402) {
    return fail(new AuthError.ApiAccessNotEnabled(fields))
  }
  if (status === 403) {
    return fail(new AuthError.Forbidden(fields))
  }
  if (status === 429 || (status >= 500 && status <= 599)) {
    return Effect.flatMap(transientError(response), fail)
  }
  return Effect.fail(
    new HttpClientError.ResponseError({
      request: response.request,
      response,
      reason: "StatusCode",
      description: `non 2xx status code ${status}`
    })
  )
}

const retriedStatuses: ReadonlySet<number> = new Set([429, 500, 502, 503, 504])

/**
 * Whether a request may be sent again after a transient failure: its method is idempotent and its body can be read
 * again.
 *
 * @internal
 */
export const isRetryable = (request: HttpClientRequest.HttpClientRequest): boolean =>
  isIdempotent(request.method) && isReplayable(request)

/**
 * Runs `attempt` again, as long as `policy` continues, after each transient {@link AuthError} and each answer
 * with a status worth another try (429, 500, 502, 503 and 504), fed to the policy as `RateLimited` (with its
 * `Retry-After`) or `ServerError`. When the policy stops, the last error or answer is the result; any other error
 * ends it at once.
 *
 * @internal
 */
export const retryTransient = <E, R>(
  attempt: Effect.Effect<Exchange, E, R>,
  policy: Schedule.Schedule<unknown, AuthError.AuthError>
): Effect.Effect<Exchange, E, R> => {
  type Driver = Schedule.ScheduleDriver<unknown, AuthError.AuthError>

  // The driver is made on the first transient failure only: most requests never need it.
  const again = <A, F>(
    driver: Driver | undefined,
    reason: AuthError.AuthError,
    stop: Effect.Effect<A, F>
  ): Effect.Effect<A | Exchange, F | E, R> =>
    Effect.flatMap(driver === undefined ? Schedule.driver(policy) : Effect.succeed(driver), (current) =>
      Effect.matchEffect(current.next(reason), {
        onFailure: () => stop,
        onSuccess: () => run(current)
      })
    )

  const run = (driver: Driver | undefined): Effect.Effect<Exchange, E, R> =>
    Effect.matchEffect(attempt, {
      onFailure: (error) =>
        AuthError.isAuthError(error) && error.transient ? again(driver, error, Effect.fail(error)) : Effect.fail(error),
      // The answer's body is read before the policy's wait, so that its connection is not held while waiting; the
      // answer is still whole if it turns out to be the last.
      onSuccess: (exchange) =>
        retriedStatuses.has(exchange.response.status)
          ? Effect.flatMap(
              Effect.zip(transientError(exchange.response), exchange.response.buffered),
              ([reason, kept]) => again(driver, reason, Effect.succeed({ ...exchange, response: kept }))
            )
          : Effect.succeed(exchange)
    })

  return run(undefined)
}

interface Progress {
  reauthenticated: boolean
  attempts: number
  token: BearerToken.BearerToken | undefined
}

const rejected = (exchange: Exchange, token: BearerToken.BearerToken) =>
  new AuthError.TokenRejected({
    method: exchange.method,
    url: displayUrl(exchange.url),
    fingerprint: fingerprintOf(token)
  })

const attemptOnce = (
  config: Config,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  progress: Progress
): Effect.Effect<Exchange, ClientError> =>
  Effect.gen(function* () {
    progress.attempts += 1
    const token = yield* config.tokenRef.get
    progress.token = token

    const first = yield* send(config, request, url, token)
    if (first.response.status !== 401 || !first.carriedToken) {
      return first
    }

    yield* drain(first.response)
    if (progress.reauthenticated) {
      yield* Metric.increment(tokenRejections)
      return yield* Effect.fail(rejected(first, token))
    }

    // A logical request invalidates at most one token, so it causes at most one re-authentication.
    progress.reauthenticated = true
    yield* config.tokenRef.invalidate(token)
    // Sending the request again is safe only when the 401 refused the request itself. A 401 on a hop reached by a
    // redirect that changed the method (a 303 after a POST, say) comes after the server acted on the request.
    if (!first.sameRequest || !isReplayable(request)) {
      yield* Metric.increment(tokenRejections)
      return yield* Effect.fail(rejected(first, token))
    }

    const fresh = yield* config.tokenRef.get
    progress.token = fresh
    const second = yield* send(config, request, url, fresh)
    if (second.response.status === 401 && second.carriedToken) {
      yield* drain(second.response)
      yield* Metric.increment(tokenRejections)
      return yield* Effect.fail(rejected(second, fresh))
    }

    return second
  })

const progressAttributes = (progress: Progress): Record<string, unknown> => ({
  "opensolar.reauthenticated": progress.reauthenticated,
  "opensolar.attempts": progress.attempts,
  ...(progress.token === undefined ? {} : { "opensolar.token.fingerprint": fingerprintOf(progress.token) })
})

const finish = (
  exchange: Exchange,
  progress: Progress,
  statusErrors: boolean
): Effect.Effect<HttpClientResponse.HttpClientResponse, StatusError> => {
  const status = exchange.response.status
  const recovered = progress.reauthenticated && status >= 200 && status < 300
  return Effect.annotateCurrentSpan({
    ...progressAttributes(progress),
    "http.response.status_code": status,
    "opensolar.redirects": exchange.redirects
  }).pipe(
    Effect.zipRight(recovered ? Metric.increment(tokenRecoveries) : Effect.void),
    Effect.zipRight(statusErrors ? checkStatus(exchange.response) : Effect.succeed(exchange.response))
  )
}

/**
 * One logical request: guarded, authenticated, re-authenticated at most once, and, when it is retryable, sent again
 * after transient failures and answers. With `statusErrors`, non-success statuses of the last answer fail; without,
 * every status but 401 comes back as a response.
 *
 * @internal
 */
export const execute = (
  config: Config,
  request: HttpClientRequest.HttpClientRequest,
  statusErrors: boolean
): Effect.Effect<HttpClientResponse.HttpClientResponse, ClientError | StatusError> =>
  Effect.flatMap(guard(config, request), (url) => {
    const progress: Progress = { reauthenticated: false, attempts: 0, token: undefined }
    const attempt = attemptOnce(config, request, url, progress)
    const retried = isRetryable(request) ? retryTransient(attempt, config.retryPolicy) : attempt
    return retried.pipe(
      Effect.flatMap((exchange) => finish(exchange, progress, statusErrors)),
      Effect.tapError(() => Effect.annotateCurrentSpan(progressAttributes(progress))),
      Effect.withSpan(`OpenSolarClient ${request.method}`, {
        kind: "client",
        captureStackTrace: false,
        attributes: {
          "http.request.method": request.method,
          "url.full": displayUrl(url),
          "server.address": config.origin
        }
      })
    )
  })

/**
 * An `HttpClient` whose relative URLs resolve under `root` and whose requests run through {@link execute}.
 *
 * @internal
 */
export const makeClient = <StatusErrors extends boolean>(
  config: Config,
  root: string,
  statusErrors: StatusErrors
): HttpClient.HttpClient.With<StatusErrors extends true ? ClientError | StatusError : ClientError> =>
  HttpClient.makeWith(
    (request) => Effect.flatMap(request, (resolved) => execute(config, resolved, statusErrors)),
    (request) => Effect.succeed(resolveAgainst(root)(request))
  ) as HttpClient.HttpClient.With<any>
