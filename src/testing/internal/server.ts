/**
 * Starting a simulator: state, control operations and the Node HTTP server.
 *
 * @internal
 */
import type * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import type {
  FaultInjection,
  FetchTokenMode,
  NewOrg,
  NewUser,
  OrgInfo,
  RequestLogEntry,
  SimulatorOptions,
  SimulatorOrg,
  SimulatorService,
  SimulatorUser,
  TokenState,
  UserShape
} from "../Simulator.js"
import * as Model from "./model.js"
import * as Routes from "./routes.js"

/**
 * Control operations with their failures as messages; the public service dies on them, the HTTP control
 * surface answers 400.
 *
 * @internal
 */
export interface Operations {
  readonly url: string
  readonly state: Ref.Ref<Model.State>
  readonly clock: Clock.Clock
  readonly nowMillis: Effect.Effect<number>
  readonly freshToken: () => string
  readonly advanceClock: (duration: Duration.DurationInput) => Effect.Effect<void>
  readonly addUser: (user: NewUser) => Effect.Effect<SimulatorUser, string>
  readonly addOrg: (org: NewOrg) => Effect.Effect<SimulatorOrg, string>
  readonly issueToken: (username: string) => Effect.Effect<string, string>
  readonly revokeToken: (token: string) => Effect.Effect<void>
  readonly revokeUserTokens: (username: string) => Effect.Effect<number, string>
  readonly tokenState: (token: string) => Effect.Effect<TokenState>
  readonly setFetchTokenMode: (mode: FetchTokenMode) => Effect.Effect<void>
  readonly setResponseShape: (shape: {
    readonly userShape?: UserShape
    readonly orgInfo?: OrgInfo
  }) => Effect.Effect<void>
  readonly injectFault: (injection: FaultInjection) => Effect.Effect<void, string>
  readonly clearFaults: Effect.Effect<void>
  readonly requestLog: Effect.Effect<ReadonlyArray<RequestLogEntry>>
  readonly clearLog: Effect.Effect<void>
  readonly totpCode: (username: string, steps: number) => Effect.Effect<string, string>
  readonly reset: Effect.Effect<void>
}

const regularToken = (): string => randomBytes(20).toString("hex")

const unknownUser = (username: string) => `No simulator user is named "${username}".`

const makeOperations = (
  url: string,
  clock: Clock.Clock,
  state: Ref.Ref<Model.State>,
  initial: (now: number) => Model.State
): Operations => {
  const nowMillis = Effect.zipWith(
    clock.currentTimeMillis,
    Ref.get(state),
    (millis, current) => millis + current.clockOffsetMillis
  )

  const withUser = <A>(
    username: string,
    f: (state: Model.State, user: Model.UserRecord, now: number) => [A, Model.State]
  ): Effect.Effect<A, string> =>
    Effect.flatMap(nowMillis, (now) =>
      Effect.flatten(
        Ref.modify(state, (current): [Effect.Effect<A, string>, Model.State] =>
          Option.match(Model.findUser(current, username), {
            onNone: () => [Effect.fail(unknownUser(username)), current],
            onSome: (user) => {
              const [result, next] = f(current, user, now)
              return [Effect.succeed(result), next]
            }
          })
        )
      )
    )

  return {
    url,
    state,
    clock,
    nowMillis,
    freshToken: regularToken,
    advanceClock: (duration) =>
      Ref.update(state, (current) => ({
        ...current,
        clockOffsetMillis: current.clockOffsetMillis + Duration.toMillis(Duration.decode(duration))
      })),
    addUser: (user) =>
      Effect.flatten(
        Ref.modify(state, (current): [Effect.Effect<SimulatorUser, string>, Model.State] => {
          const [outcome, next] = Model.addUser(current, user)
          switch (outcome._tag) {
            case "Duplicate":
              return [Effect.fail(`A simulator user is already named "${user.username}".`), current]
            case "InvalidSecret":
              return [Effect.fail("The TOTP secret must be base-32 (A-Z, 2-7), at least 8 characters."), current]
            case "Added":
              return [Effect.succeed(Model.userView(outcome.user)), next]
          }
        })
      ),
    addOrg: (org) =>
      Effect.flatten(
        Ref.modify(state, (current): [Effect.Effect<SimulatorOrg, string>, Model.State] => {
          if (org.id !== undefined && HashMap.has(current.orgs, org.id)) {
            return [Effect.fail(`A simulator org already has the id ${org.id}.`), current]
          }
          const [created, next] = Model.addOrg(current, org)
          return [Effect.succeed(created), next]
        })
      ),
    issueToken: (username) =>
      withUser(username, (current, user, now) => {
        const [record, next] = Model.issue(current, user, regularToken(), now)
        return [record.token, next]
      }),
    revokeToken: (token) => Ref.update(state, (current) => Model.revokeToken(current, token)),
    revokeUserTokens: (username) =>
      withUser(username, (current, user, now) => Model.revokeUserTokens(current, user.id, now)),
    tokenState: (token) =>
      Effect.flatMap(nowMillis, (now) =>
        Effect.map(Ref.get(state), (current) => Model.tokenState(current, Option.some(token), now))
      ),
    setFetchTokenMode: (mode) =>
      Ref.update(state, (current) => ({ ...current, settings: { ...current.settings, fetchTokenMode: mode } })),
    setResponseShape: (shape) =>
      Ref.update(state, (current) => ({
        ...current,
        settings: {
          ...current.settings,
          userShape: shape.userShape ?? current.settings.userShape,
          orgInfo: shape.orgInfo ?? current.settings.orgInfo
        }
      })),
    injectFault: (injection) => {
      const times = injection.times ?? 1
      if (!(times >= 1)) {
        return Effect.fail("A fault must apply at least once.")
      }
      return Ref.update(state, (current) => ({
        ...current,
        faults: [...current.faults, { target: injection.endpoint, remaining: times, fault: injection.fault }]
      }))
    },
    clearFaults: Ref.update(state, (current) => ({ ...current, faults: [] })),
    requestLog: Effect.map(Ref.get(state), (current) => current.log.map((logged) => logged.entry)),
    clearLog: Ref.update(state, (current) => ({ ...current, log: [] })),
    totpCode: (username, steps) =>
      withUser(username, (current, user, now) => [
        Option.map(user.totpSecret, (secret) => Model.totpCode(secret, now, steps)),
        current
      ]).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(`The simulator user "${username}" has no two-factor authentication.`),
            onSome: Effect.succeed
          })
        )
      ),
    reset: Effect.flatMap(clock.currentTimeMillis, (now) => Ref.set(state, initial(now)))
  }
}

const orDie = <A>(effect: Effect.Effect<A, string>): Effect.Effect<A> =>
  Effect.orDieWith(effect, (message) => new Error(message))

const toService = (operations: Operations): SimulatorService => {
  const reveal = (token: string | Redacted.Redacted<string>) =>
    Redacted.isRedacted(token) ? Redacted.value(token) : token
  return {
    url: operations.url,
    now: Effect.map(operations.nowMillis, DateTime.unsafeMake),
    advanceClock: operations.advanceClock,
    addUser: (user) => orDie(operations.addUser(user)),
    addOrg: (org) => orDie(operations.addOrg(org)),
    issueToken: (username) => Effect.map(orDie(operations.issueToken(username)), Redacted.make),
    revokeToken: (token) => operations.revokeToken(reveal(token)),
    revokeUserTokens: (username) => orDie(operations.revokeUserTokens(username)),
    tokenState: (token) => operations.tokenState(reveal(token)),
    setFetchTokenMode: operations.setFetchTokenMode,
    setResponseShape: operations.setResponseShape,
    injectFault: (injection) => orDie(operations.injectFault(injection)),
    clearFaults: operations.clearFaults,
    requestLog: operations.requestLog,
    clearLog: operations.clearLog,
    totpCode: (username, steps = 0) => orDie(operations.totpCode(username, steps)),
    reset: operations.reset
  }
}

const baseUrl = (address: HttpServer.Address): string => {
  if (address._tag === "UnixAddress") {
    return `http://localhost`
  }
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname
  return `http://${host}:${address.port}`
}

/**
 * Whether the simulator may listen on `host`: its control surface has no authentication, so only loopback.
 *
 * @internal
 */
export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host)

/** @internal */
export const make = (options: SimulatorOptions): Effect.Effect<SimulatorService, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (options.host !== undefined && !isLoopbackHost(options.host)) {
      return yield* Effect.dieMessage(
        `Simulator: host "${options.host}" is not a loopback address; use 127.0.0.1, ::1 or localhost`
      )
    }
    const clock = yield* Effect.clock
    const settings: Model.Settings = {
      tokenLifetimeMillis: Duration.toMillis(Duration.decode(options.tokenLifetime ?? Duration.days(7))),
      loginRateLimit: options.loginRateLimit ?? 10,
      fetchTokenMode: options.fetchTokenMode ?? "rotate",
      userShape: options.userShape ?? "object",
      orgInfo: options.orgInfo ?? "top-level"
    }
    const initial = (now: number) => ((options.seed ?? true) ? Model.seeded(settings, now) : Model.empty(settings))
    const state = yield* Ref.make(initial(yield* clock.currentTimeMillis))

    const nodeServer = Http.createServer()
    const server = yield* Effect.orDie(
      NodeHttpServer.make(() => nodeServer, { port: options.port ?? 0, host: options.host ?? "127.0.0.1" })
    )
    // Keep-alive sockets held by clients would otherwise keep `close` waiting.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))

    const operations = makeOperations(baseUrl(server.address), clock, state, initial)
    const app = yield* Routes.make(operations)
    yield* server.serve(app)
    return toService(operations)
  })
