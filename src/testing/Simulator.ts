/**
 * An embedded OpenSolar API simulator: a real HTTP server on loopback that speaks the token endpoints, a few
 * protected resources and a control surface for tests.
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/server.js"
import * as seed from "./internal/seed.js"

/**
 * How `GET /api/fetch_token/` answers: a new token that replaces the old one, the same token, or the same token
 * with its lifetime restarted.
 *
 * @since 0.1.0
 * @category models
 */
export type FetchTokenMode = "rotate" | "same" | "same-extend"

/**
 * The API endpoints the simulator serves, as named in the request log and in fault injection.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = "login" | "fetchToken" | "machineUser" | "org" | "projects"

/**
 * Where a fault applies: one endpoint, or every API endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultTarget = Endpoint | "any"

/**
 * The state of the bearer token a request carried, at the moment it arrived.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenState = "valid" | "expired" | "revoked" | "unknown" | "none"

/**
 * How responses carry the user: an object with `id`, `email`, `is_machine_user` and more, or a URL string.
 *
 * @since 0.1.0
 * @category models
 */
export type UserShape = "object" | "url"

/**
 * Whether token responses carry a top-level `org_id` and `orgs` list, or leave org information out.
 *
 * @since 0.1.0
 * @category models
 */
export type OrgInfo = "top-level" | "omitted"

/**
 * A misbehaviour the simulator answers with instead of (or before) its normal answer.
 *
 * - `Status`: any status, with an optional JSON body (a DRF-style `detail` by default) and an optional
 *   `Retry-After` in seconds or as an HTTP date.
 * - `Delay`: sleeps on the simulator's `Clock` (so `TestClock` controls it), then answers normally.
 * - `ConnectionReset`: destroys the socket without answering.
 * - `MalformedJson`: 200 with a truncated JSON body.
 * - `HtmlBody`: an HTML page with status 502 (default) or 200, as a proxy or maintenance page would send.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  Status: { readonly status: number; readonly body?: unknown; readonly retryAfter?: number | string }
  Delay: { readonly duration: Duration.DurationInput }
  ConnectionReset: {}
  MalformedJson: {}
  HtmlBody: { readonly status?: 200 | 502 }
}>

/**
 * Constructors and matchers for `Fault`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
 * A fault to inject: where, how many times (default 1) and what.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultInjection {
  readonly endpoint: FaultTarget
  /** How many of the endpoint's next requests get the fault. @default 1 */
  readonly times?: number
  readonly fault: Fault
}

/**
 * One request the simulator received; `status` is 0 when the connection was reset without an answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  readonly search: string
  readonly endpoint: Endpoint | "unknown"
  readonly status: number
  readonly time: DateTime.Utc
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly tokenState: TokenState
}

/**
 * A user to add to the simulator; orgs that do not exist yet are created with API access.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewUser {
  readonly username: string
  readonly password: string
  /** The orgs the user belongs to. @default [1] */
  readonly orgIds?: ReadonlyArray<number>
  /** A base-32 TOTP secret; when present the account requires a 2FA code at login. */
  readonly totpSecret?: string
  /** Whether the user's tokens never expire. @default false */
  readonly isMachineUser?: boolean
  readonly firstName?: string
  readonly lastName?: string
}

/**
 * A user as the simulator knows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorUser {
  readonly id: number
  readonly username: string
  readonly orgIds: ReadonlyArray<number>
  readonly isMachineUser: boolean
  readonly mfaEnabled: boolean
}

/**
 * An org to add to the simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewOrg {
  /** Defaults to the next free id. */
  readonly id?: number
  readonly name: string
  /** Whether the org has the paid API Access product. @default true */
  readonly apiAccess?: boolean
}

/**
 * An org as the simulator knows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOrg {
  readonly id: number
  readonly name: string
  readonly apiAccess: boolean
}

/**
 * Options of `Simulator.layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number
  /** The loopback address to listen on; any other address is refused. @default "127.0.0.1" */
  readonly host?: string
  /** Whether to create the accounts in `accounts` and the orgs in `orgs`. @default true */
  readonly seed?: boolean
  /** How long a standard token stays valid after issue. @default "7 days" */
  readonly tokenLifetime?: Duration.DurationInput
  /** How `GET /api/fetch_token/` answers: see {@link FetchTokenMode}. @default "rotate" */
  readonly fetchTokenMode?: FetchTokenMode
  /** Login attempts allowed per username in any 60 seconds. @default 10 */
  readonly loginRateLimit?: number
  /** Whether token answers carry the user as an object or as a URL. @default "object" */
  readonly userShape?: UserShape
  /** Whether token answers say which orgs the user belongs to. @default "top-level" */
  readonly orgInfo?: OrgInfo
}

/**
 * The control surface of a running simulator.
 *
 * Operations given an unknown username, or a username that already exists to `addUser`, die: they are
 * mistakes in a test, not conditions to handle.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorService {
  /** The base URL, such as `http://127.0.0.1:54321`, without a trailing slash. */
  readonly url: string
  /** The simulator's time: the `Clock` of the fiber that built the layer plus `advanceClock` offsets. */
  readonly now: Effect.Effect<DateTime.Utc>
  /** Moves the simulator's time forward without touching the `Clock` (for standalone runs). */
  readonly advanceClock: (duration: Duration.DurationInput) => Effect.Effect<void>
  readonly addUser: (user: NewUser) => Effect.Effect<SimulatorUser>
  readonly addOrg: (org: NewOrg) => Effect.Effect<SimulatorOrg>
  /** Mints a valid token for a user, as a login would, without a request. */
  readonly issueToken: (username: string) => Effect.Effect<Redacted.Redacted<string>>
  /** Revokes one token; unknown tokens are ignored. */
  readonly revokeToken: (token: string | Redacted.Redacted<string>) => Effect.Effect<void>
  /** Revokes every token of a user and returns how many were still active. */
  readonly revokeUserTokens: (username: string) => Effect.Effect<number>
  readonly tokenState: (token: string | Redacted.Redacted<string>) => Effect.Effect<TokenState>
  readonly setFetchTokenMode: (mode: FetchTokenMode) => Effect.Effect<void>
  readonly setResponseShape: (shape: {
    readonly userShape?: UserShape
    readonly orgInfo?: OrgInfo
  }) => Effect.Effect<void>
  readonly injectFault: (injection: FaultInjection) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** Every API request so far, in order of arrival (control requests are not logged). */
  readonly requestLog: Effect.Effect<ReadonlyArray<RequestLogEntry>>
  readonly clearLog: Effect.Effect<void>
  /** The TOTP code of an MFA user at the simulator's time, `steps` periods of 30 s away (default 0). */
  readonly totpCode: (username: string, steps?: number) => Effect.Effect<string>
  /** Back to the state right after start: seeded data, initial options, no faults, no log, no clock offset. */
  readonly reset: Effect.Effect<void>
}

/**
 * The accounts seeded by default; `machine.token` never expires.
 *
 * @since 0.1.0
 * @category constants
 */
export const accounts = seed.accounts

/**
 * The orgs seeded by default; `noApiAccess` lacks the API Access product, so its resources answer 402.
 *
 * @since 0.1.0
 * @category constants
 */
export const orgs = seed.orgs

/**
 * A running simulator and its control surface.
 *
 * @since 0.1.0
 * @category tags
 */
export class Simulator extends Context.Tag("effect-opensolar-auth/testing/Simulator")<Simulator, SimulatorService>() {
  /**
   * Starts a simulator for the lifetime of the layer's scope.
   *
   * Handlers read the `Clock` of the fiber that built the layer, so under `TestClock` token lifetimes, TOTP
   * steps, throttling windows and `Delay` faults follow `TestClock.adjust`.
   *
   * @example
   * ```ts
   * import { HttpClient, HttpClientRequest } from "@effect/platform"
   * import { NodeHttpClient } from "@effect/platform-node"
   * import { Effect } from "effect"
   * import { Simulator, accounts } from "effect-opensolar-auth/testing"
   *
   * const program = Effect.gen(function* () {
   *   const sim = yield* Simulator
   *   const response = yield* HttpClientRequest.post(`${sim.url}/api-token-auth/`).pipe(
   *     HttpClientRequest.bodyUnsafeJson({ username: accounts.example.username, password: accounts.example.password }),
   *     HttpClient.execute
   *   )
   *   return yield* response.json
   * }).pipe(Effect.provide(Simulator.layer()), Effect.provide(NodeHttpClient.layerUndici))
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (options?: SimulatorOptions): Layer.Layer<Simulator> =>
    Layer.scoped(Simulator, internal.make(options ?? {}))

  /**
   * The seeded accounts, as in `accounts`.
   *
   * @since 0.1.0
   * @category constants
   */
  static readonly accounts = seed.accounts

  /**
   * The seeded orgs, as in `orgs`.
   *
   * @since 0.1.0
   * @category constants
   */
  static readonly orgs = seed.orgs
}
