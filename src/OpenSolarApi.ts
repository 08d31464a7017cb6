/**
 * The wire client for OpenSolar's authentication endpoints: request encoding, tolerant response decoding,
 * and the mapping of every status to a typed {@link AuthError.ApiError}.
 *
 * @since 0.1.0
 */
import type { Duration, Effect, Option, Redacted } from "effect"
import { Context } from "effect"
import type * as AuthError from "./AuthError.js"
import type * as BaseUrl from "./BaseUrl.js"
import type * as BearerToken from "./BearerToken.js"
import type * as TokenGrant from "./TokenGrant.js"

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
  /** How long one request may take. @default 10 seconds */
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
