/**
 * The wire client for OpenSolar's authentication endpoints: request encoding, tolerant response decoding,
 * and the mapping of every status to a typed {@link AuthError.ApiError}.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import {
  Clock,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Schema
} from "effect"
import * as AuthError from "./AuthError.js"
import * as BaseUrl from "./BaseUrl.js"
import * as BearerToken from "./BearerToken.js"
import * as duration from "./internal/duration.js"
import * as wire from "./internal/wire.js"
import * as TokenGrant from "./TokenGrant.js"

/**
 * A login request: `POST /api-token-auth/`. `mfaCode` goes in the body's `token` field when given.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoginRequest {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly mfaCode?: Redacted.Redacted<string> | undefined
}

/**
 * A session refresh: `GET /api/fetch_token/`, optionally scoped to an organisation.
 *
 * @since 0.1.0
 * @category models
 */
export interface FetchTokenRequest {
  readonly token: BearerToken.BearerToken
  readonly orgId?: number | undefined
}

/**
 * Turning machine-user mode on or off: `PATCH /auth/users/{id}/`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SetMachineUserRequest {
  readonly token: BearerToken.BearerToken
  readonly userId: number
  readonly enabled: boolean
}

/**
 * What a login or a session refresh answered: the token, what could be read about the user and the
 * organisations, and every other field as sent (the token itself removed from them).
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly token: BearerToken.BearerToken
  readonly user: TokenGrant.GrantUser
  readonly org: Option.Option<TokenGrant.GrantOrg>
  readonly orgs: ReadonlyArray<TokenGrant.GrantOrg>
  readonly fields: Readonly<Record<string, unknown>>
}

/**
 * What `PATCH /auth/users/{id}/` answered.
 *
 * @since 0.1.0
 * @category models
 */
export interface MachineUserResponse {
  readonly url: Option.Option<string>
  readonly email: Option.Option<string>
  readonly isMachineUser: boolean
  readonly fields: Readonly<Record<string, unknown>>
}

/**
 * Options of the wire client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API's base URL. @default "https://api.opensolar.com" */
  readonly baseUrl?: string | undefined
  /** How long one request may take, from 1 millisecond to 100 years. @default 10 seconds */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The three authentication operations of the OpenSolar API.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly baseUrl: BaseUrl.BaseUrl
  readonly login: (request: LoginRequest) => Effect.Effect<TokenResponse, AuthError.ApiError>
  readonly fetchToken: (request: FetchTokenRequest) => Effect.Effect<TokenResponse, AuthError.ApiError>
  readonly setMachineUser: (request: SetMachineUserRequest) => Effect.Effect<MachineUserResponse, AuthError.ApiError>
}

/**
 * The wire client as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class OpenSolarApi extends Context.Tag("effect-opensolar-auth/OpenSolarApi")<OpenSolarApi, Service>() {}

/**
 * The default time one request may take.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTimeout: Duration.Duration = Duration.seconds(10)

/**
 * Makes the wire client over the `HttpClient` in context, failing when the base URL or timeout cannot work.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Redacted } from "effect"
 * import { OpenSolarApi } from "effect-opensolar-auth"
 *
 * const program = Effect.gen(function* () {
 *   const api = yield* OpenSolarApi.make()
 *   const response = yield* api.login({ username: "arnie@illbeback.com", password: Redacted.make("gettothechopper") })
 *   return yield* OpenSolarApi.toGrant(response, { strategy: "password" })
 * }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 * ```
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, AuthError.ConfigurationError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const baseUrl = yield* decodeBaseUrl(options.baseUrl ?? BaseUrl.production)
    const timeout = yield* decodeTimeout(options.timeout ?? defaultTimeout)
    // The platform's span of an exchange would keep the request, with its body and headers, in its failure cause;
    // the wire client's own span, whose failures are typed errors without the request, stands in for it.
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)

    const send = <A>(
      context: wire.RequestContext,
      request: HttpClientRequest.HttpClientRequest,
      decode: (json: unknown) => Either.Either<A, string>
    ): Effect.Effect<A, AuthError.ApiError> =>
      Effect.gen(function* () {
        const response = yield* client.execute(HttpClientRequest.acceptJson(request)).pipe(
          // A client built with `filterStatusOk` fails on non-2xx statuses; those answers are still read here.
          Effect.catchIf(
            (error): error is HttpClientError.ResponseError =>
              error._tag === "ResponseError" && error.reason === "StatusCode",
            (error) => Effect.succeed(error.response)
          ),
          // Whatever the program configured, a request printed on its way (by a logging client) hides the token.
          Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "authorization"])
        )
        yield* Effect.annotateCurrentSpan("http.response.status_code", response.status)

        const body = yield* response.text
        const now = yield* Clock.currentTimeMillis
        return yield* wire.interpret(context, { status: response.status, headers: response.headers, body }, now, decode)
      }).pipe(
        Effect.catchTags({
          RequestError: (error) => Effect.fail(wire.errorFromHttpClient(context, error)),
          ResponseError: (error) => Effect.fail(wire.errorFromHttpClient(context, error))
        }),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new AuthError.RequestTimeout({
              method: context.method,
              url: context.url,
              timeoutMillis: Duration.toMillis(timeout)
            })
        })
      )

    const traced = <A, E>(context: wire.RequestContext, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.withSpan(effect, `OpenSolarApi.${context.operation}`, {
        kind: "client",
        attributes: {
          "http.request.method": context.method,
          "url.full": context.url,
          ...Option.match(context.token, {
            onNone: () => ({}),
            onSome: (token) => ({ "opensolar.token.fingerprint": BearerToken.fingerprint(token) })
          })
        }
      })

    const annotateIssued = (response: TokenResponse): Effect.Effect<void> =>
      Effect.annotateCurrentSpan("opensolar.issued_token.fingerprint", BearerToken.fingerprint(response.token))

    const login = (request: LoginRequest): Effect.Effect<TokenResponse, AuthError.ApiError> => {
      const url = wire.requestUrl(baseUrl, "/api-token-auth/")
      const context: wire.RequestContext = {
        operation: "login",
        method: "POST",
        url,
        token: Option.none(),
        mfaCodeSent: request.mfaCode !== undefined,
        secrets: request.mfaCode === undefined ? [request.password] : [request.password, request.mfaCode]
      }
      const body = {
        username: request.username,
        password: Redacted.value(request.password),
        ...(request.mfaCode === undefined ? {} : { token: Redacted.value(request.mfaCode) })
      }
      return traced(
        context,
        Effect.suspend(() =>
          send(
            context,
            HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body)),
            wire.decodeTokenResponse
          )
        ).pipe(Effect.tap(annotateIssued))
      )
    }

    const fetchToken = (request: FetchTokenRequest): Effect.Effect<TokenResponse, AuthError.ApiError> => {
      const query: Record<string, string> = request.orgId === undefined ? {} : { org_id: String(request.orgId) }
      const url = wire.requestUrl(baseUrl, "/api/fetch_token/", query)
      const context: wire.RequestContext = {
        operation: "fetchToken",
        method: "GET",
        url,
        token: Option.some(request.token),
        mfaCodeSent: false,
        secrets: [request.token]
      }
      return traced(
        context,
        Effect.suspend(() =>
          send(
            context,
            HttpClientRequest.get(url).pipe(HttpClientRequest.bearerToken(BearerToken.value(request.token))),
            wire.decodeTokenResponse
          )
        ).pipe(Effect.tap(annotateIssued))
      )
    }

    const setMachineUser = (request: SetMachineUserRequest): Effect.Effect<MachineUserResponse, AuthError.ApiError> => {
      const url = wire.requestUrl(baseUrl, `/auth/users/${request.userId}/`)
      const context: wire.RequestContext = {
        operation: "setMachineUser",
        method: "PATCH",
        url,
        token: Option.some(request.token),
        mfaCodeSent: false,
        secrets: [request.token]
      }
      return traced(
        context,
        Effect.suspend(() =>
          send(
            context,
            HttpClientRequest.patch(url).pipe(
              HttpClientRequest.bearerToken(BearerToken.value(request.token)),
              HttpClientRequest.bodyUnsafeJson({ is_machine_user: request.enabled })
            ),
            wire.decodeMachineUserResponse
          )
        )
      )
    }

    return OpenSolarApi.of({ baseUrl, login, fetchToken, setMachineUser })
  })

/**
 * The wire client as a layer over the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<OpenSolarApi, AuthError.ConfigurationError, HttpClient.HttpClient> =>
  Layer.effect(OpenSolarApi, make(options))

/**
 * Options of {@link toGrant}.
 *
 * @since 0.1.0
 * @category models
 */
export interface GrantOptions {
  /** The name of the strategy that obtained the token, recorded in the grant. */
  readonly strategy: string
  /**
   * How long a standard token lives after issue, from 1 millisecond to 100 years.
   * @default TokenGrant.standardLifetime (7 days)
   */
  readonly lifetime?: Duration.DurationInput | undefined
}

/**
 * Turns an answer of the API into a grant issued now (by `Clock`), expiring `lifetime` later — or never, when
 * the answer says the user is a machine user. Fails with a `ConfigurationError` naming `lifetime` when it is
 * not a duration from 1 millisecond to 100 years.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toGrant = (
  response: TokenResponse,
  options: GrantOptions
): Effect.Effect<TokenGrant.TokenGrant, AuthError.ConfigurationError> =>
  Effect.flatMap(duration.decodeLifetime(options.lifetime), (lifetime) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const issuedAt = DateTime.unsafeMake(now)
      return new TokenGrant.TokenGrant({
        token: response.token,
        issuedAt,
        expiresAt:
          response.user.isMachineUser === true ? Option.none() : Option.some(DateTime.addDuration(issuedAt, lifetime)),
        user: response.user,
        org: response.org,
        orgs: response.orgs,
        strategy: options.strategy
      })
    })
  )

const decodeBaseUrl = (text: string): Effect.Effect<BaseUrl.BaseUrl, AuthError.ConfigurationError> =>
  Either.match(Schema.decodeUnknownEither(BaseUrl.BaseUrl)(text), {
    onRight: Effect.succeed,
    onLeft: (error) => {
      const problem = ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "it is not a valid URL"
      return Effect.fail(
        new AuthError.ConfigurationError({
          reason: `The OpenSolar API base URL cannot be used: ${problem}`,
          variables: ["baseUrl"]
        })
      )
    }
  })

const decodeTimeout = (input: unknown): Effect.Effect<Duration.Duration, AuthError.ConfigurationError> =>
  duration.decode(input, { name: "timeout" })
