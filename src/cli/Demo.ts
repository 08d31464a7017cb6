/**
 * The guided tour `opensolar-auth demo` (and `npm start`) gives a newcomer: the library at work against the
 * embedded OpenSolar simulator, step by step, with timings and token fingerprints, in a few seconds.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type * as PlatformError from "@effect/platform/Error"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Path from "@effect/platform/Path"
import { Clock, Data, DateTime, Duration, Effect, Either, Exit, Layer, Option, Scope } from "effect"
import type * as AuthError from "../AuthError.js"
import * as AuthStrategy from "../AuthStrategy.js"
import * as BearerToken from "../BearerToken.js"
import * as FileTokenStore from "../FileTokenStore.js"
import * as MfaCodeSource from "../MfaCodeSource.js"
import * as OpenSolarApi from "../OpenSolarApi.js"
import * as OpenSolarClient from "../OpenSolarClient.js"
import { accounts, orgs, type RequestLogEntry, Simulator } from "../testing/index.js"
import type * as TokenGrant from "../TokenGrant.js"
import * as TokenRef from "../TokenRef.js"
import type * as TokenStore from "../TokenStore.js"
import * as Output from "./Output.js"

/**
 * A `Clock` that reads real time plus an offset the demo moves forward, so that days pass in an instant.
 * Sleeping is real: only the reading of the time jumps.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdjustableClock {
  readonly clock: Clock.Clock
  readonly advance: (duration: Duration.DurationInput) => Effect.Effect<void>
}

/**
 * Makes an {@link AdjustableClock} starting at real time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAdjustableClock = (): AdjustableClock => {
  const real = Clock.make()
  let offsetMillis = 0
  const millis = () => real.unsafeCurrentTimeMillis() + offsetMillis
  const nanos = () => real.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n
  return {
    clock: {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: millis,
      currentTimeMillis: Effect.sync(millis),
      unsafeCurrentTimeNanos: nanos,
      currentTimeNanos: Effect.sync(nanos),
      sleep: (duration) => real.sleep(duration)
    },
    advance: (duration) =>
      Effect.sync(() => {
        offsetMillis += Duration.toMillis(duration)
      })
  }
}

const stepCount = 7

const concurrentCallers = 1000

/** Real elapsed time of an effect, whatever the clock it runs under says. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [A, number], E, R> =>
  Effect.gen(function* () {
    const started = performance.now()
    const result = yield* effect
    return [result, performance.now() - started] as const
  })

const millisText = (millis: number): string => (millis < 10 ? `${millis.toFixed(1)} ms` : `${Math.round(millis)} ms`)

const describeRequest = (entry: RequestLogEntry): string => `${entry.method} ${entry.path}${entry.search}`

/**
 * Runs the tour and succeeds when every step behaved as shown; a step that does not behave fails the tour.
 *
 * @since 0.1.0
 * @category running
 */
export const run: Effect.Effect<
  void,
  | AuthError.AuthError
  | OpenSolarClient.ClientError
  | OpenSolarClient.StatusError
  | HttpClientError.ResponseError
  | PlatformError.PlatformError
  | DemoFailure,
  Output.Output | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> = Effect.suspend(() => {
  const adjustable = makeAdjustableClock()
  return tour(adjustable).pipe(
    Effect.withClock(adjustable.clock),
    Effect.scoped,
    // The simulator is built outside the adjustable clock: it keeps the server's own time, moved by its control
    // surface.
    Effect.provide(Simulator.layer())
  )
})

/**
 * A step of the tour did not behave as the tour says it does.
 *
 * @since 0.1.0
 * @category errors
 */
export class DemoFailure extends Data.TaggedError("DemoFailure")<{ readonly message: string }> {}

const expect = (condition: boolean, message: string): Effect.Effect<void, DemoFailure> =>
  condition ? Effect.void : Effect.fail(new DemoFailure({ message: `The demo did not go as planned: ${message}` }))

const tour = (adjustable: AdjustableClock) =>
  Effect.gen(function* () {
    const output = yield* Output.Output
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const simulator = yield* Simulator
    const style = output.out
    const startedAt = performance.now()
    let step = 0

    const heading = (title: string, explanation: ReadonlyArray<string>) => {
      step += 1
      return Effect.forEach(
        [
          "",
          style.bold(`Step ${step} of ${stepCount}: ${title}`),
          ...explanation.map((line) => style.dim(`  ${line}`))
        ],
        output.line,
        { discard: true }
      )
    }
    const done = (text: string, millis?: number) => {
      const took = millis === undefined ? "" : style.dim(`  (${millisText(millis)})`)
      return output.line(`  ${style.green("✔")} ${text}${took}`)
    }
    const detail = (text: string) => output.line(`    ${text}`)
    const logSince = (count: number) => Effect.map(simulator.requestLog, (log) => log.slice(count))
    const logLength = Effect.map(simulator.requestLog, (log) => log.length)
    const showRequests = (
      entries: ReadonlyArray<RequestLogEntry>,
      note: (entry: RequestLogEntry) => string = () => ""
    ) =>
      Effect.forEach(
        entries,
        (entry) => {
          const status = entry.status < 400 ? style.green(String(entry.status)) : style.yellow(String(entry.status))
          const explained = note(entry)
          return detail(
            style.dim(`${describeRequest(entry).padEnd(26)} -> `) +
              status +
              (explained === "" ? "" : style.dim(`  ${explained}`))
          )
        },
        { discard: true }
      )
    /** The requests sent since `count`, shown; the count of every request so far. */
    const requestsSince = (count: number, note?: (entry: RequestLogEntry) => string) =>
      Effect.flatMap(logSince(count), (entries) => Effect.as(showRequests(entries, note), count + entries.length))

    const directory = yield* fs.makeTempDirectoryScoped({ prefix: "opensolar-auth-demo-" })
    const storePath = path.join(directory, "tokens.json")
    const api = OpenSolarApi.layer({ baseUrl: simulator.url })
    const example = accounts.example
    const storeKey: TokenStore.StoreKey = { baseUrl: simulator.url, subject: example.username }

    /** The stack a program would run: its token kept valid and saved in a file, and the authenticated client. */
    const programLayer = OpenSolarClient.layer({ baseUrl: simulator.url }).pipe(
      Layer.provideMerge(TokenRef.layer({ storeKey })),
      Layer.provide(
        AuthStrategy.layer(AuthStrategy.standard({ username: example.username, password: example.password }))
      ),
      Layer.provide(api),
      Layer.provide(FileTokenStore.layerNode({ path: storePath }))
    )

    yield* output.line(style.bold("effect-opensolar-auth: a guided tour"))
    yield* Effect.forEach(
      [
        "effect-opensolar-auth logs programs in to the OpenSolar API and keeps their",
        "token valid, so that every API request they send carries a token that works.",
        `An OpenSolar API simulator runs inside this process, at ${simulator.url}:`,
        "nothing leaves this machine. Tokens are shown by fingerprint (tok_ and 8",
        "characters of their SHA-256), never in full."
      ],
      (line) => output.line(style.dim(line)),
      { discard: true }
    )

    // Step 1 -------------------------------------------------------------------------------------------------------
    yield* heading("Password login", [
      "A program asks its TokenRef, the library's keeper of the current token, for a",
      "token. There is none yet, so it logs in with the email and password of",
      "OpenSolar's documentation example, and keeps the grant (the token, its user",
      "and its expiry) in a file:",
      `  ${storePath}`
    ])
    const programScope = yield* Scope.make()
    const program = yield* Layer.buildWithScope(programLayer, programScope)
    const tokens = yield* Effect.provide(TokenRef.TokenRef, program)
    const client = yield* Effect.provide(OpenSolarClient.OpenSolarClient, program)
    let logStart = yield* logLength
    const [first, firstMillis] = yield* timed(tokens.get)
    const firstGrant = yield* currentGrant(tokens)
    yield* done(`Logged in as ${example.username}: token ${style.bold(BearerToken.fingerprint(first))}.`, firstMillis)
    yield* detail(style.dim(`It is valid for ${lifetimeText(firstGrant)}, and saved in ${path.basename(storePath)}.`))
    logStart = yield* requestsSince(logStart)

    // Step 2 -------------------------------------------------------------------------------------------------------
    yield* heading("Login with two-factor authentication (TOTP)", [
      `${accounts.mfa.username} has two-factor authentication. A login with the`,
      "password alone is refused; given the account's TOTP secret, the library",
      "computes the current code itself, as an authenticator app would."
    ])
    const withoutCode = yield* AuthStrategy.password({
      username: accounts.mfa.username,
      password: accounts.mfa.password
    })
      .authenticate(Option.none())
      .pipe(Effect.either, Effect.provide(api))
    const refusal = Either.isLeft(withoutCode) ? withoutCode.left._tag : "no error"
    yield* expect(refusal === "MfaRequired", `a login without a code ended with ${refusal}`)
    yield* done(`Refused without a code: ${style.yellow(refusal)}, an error a program can check for.`)
    logStart = yield* requestsSince(logStart)
    const [mfaGrant, mfaMillis] = yield* timed(
      AuthStrategy.passwordWithMfa({
        username: accounts.mfa.username,
        password: accounts.mfa.password,
        mfa: MfaCodeSource.totp(accounts.mfa.totpSecret)
      })
        .authenticate(Option.none())
        .pipe(Effect.provide(api))
    )
    yield* done(`With a code computed from the TOTP secret: token ${style.bold(mfaGrant.fingerprint)}.`, mfaMillis)
    logStart = yield* requestsSince(logStart)

    // Step 3 -------------------------------------------------------------------------------------------------------
    yield* heading("An authenticated API call", [
      "OpenSolarClient is an HTTP client that adds `Authorization: Bearer <token>` to",
      "every request to the OpenSolar API, and to no other host. Here it lists the",
      "projects of an organisation."
    ])
    const [projects, projectsMillis] = yield* timed(listProjects(client))
    yield* done(`${projects.length} projects of ${orgs.main.name}.`, projectsMillis)
    yield* detail(projects.map((project) => project.title).join(", "))
    logStart = yield* requestsSince(logStart)

    // Step 4 -------------------------------------------------------------------------------------------------------
    yield* heading("Six days later: the refresh before expiry", [
      "The demo moves time six days ahead, for the simulator and for the program: the",
      "library reads the time from a clock the demo can set, so nobody waits. A token",
      "is renewed once 80% of its life has passed, while it still works."
    ])
    yield* simulator.advanceClock(Duration.days(6))
    yield* adjustable.advance(Duration.days(6))
    const [stale, staleMillis] = yield* timed(tokens.get)
    yield* expect(BearerToken.equals(stale, first), "the token was replaced before the caller got it")
    const now = yield* Clock.currentTimeMillis
    yield* done(`The caller got ${BearerToken.fingerprint(stale)} at once.`, staleMillis)
    yield* detail(
      style.dim(
        `It is past 80% of its life, so due for renewal, but still valid for ${remainingText(firstGrant, now)}.`
      )
    )
    const [renewed, renewedMillis] = yield* timed(awaitNewGrant(tokens, firstGrant))
    yield* done(
      `A background refresh renewed it: ${style.bold(renewed.fingerprint)}, valid for ${lifetimeText(renewed)}.`,
      renewedMillis
    )
    logStart = yield* requestsSince(logStart)

    // Step 5 -------------------------------------------------------------------------------------------------------
    yield* heading("Server-side revocation and the 401 recovery", [
      "The server revokes the current token, as OpenSolar does after a password",
      "change. The next API call is answered 401 (unauthorised); the client gets a",
      "new token once and repeats the request, and the caller only sees the projects."
    ])
    yield* simulator.revokeToken(renewed.token)
    const [again, againMillis] = yield* timed(listProjects(client))
    yield* done(`${again.length} projects, after recovering from the revocation.`, againMillis)
    const recovery = yield* logSince(logStart)
    logStart = yield* requestsSince(logStart, recoveryNote)
    yield* expect(
      recovery.some((entry) => entry.status === 401),
      "the revoked token was not refused by the simulator"
    )
    const recovered = yield* currentGrant(tokens)
    yield* done(`Token now: ${style.bold(recovered.fingerprint)}.`)

    // Step 6 -------------------------------------------------------------------------------------------------------
    const callers = concurrentCallers.toLocaleString("en")
    yield* heading(`${callers} concurrent callers, one login`, [
      `A new TokenRef with no token yet is asked for one by ${callers} callers at once.`,
      "They all wait for the one login in flight instead of each logging in."
    ])
    const [tokensHanded, crowdMillis] = yield* timed(
      Effect.scoped(
        Effect.gen(function* () {
          const fresh = yield* Layer.build(
            TokenRef.layerMemory().pipe(
              Layer.provide(
                AuthStrategy.layer(
                  AuthStrategy.standard({ username: accounts.multiOrg.username, password: accounts.multiOrg.password })
                )
              ),
              Layer.provide(api)
            )
          )
          const crowd = yield* Effect.provide(TokenRef.TokenRef, fresh)
          return yield* Effect.all(
            Array.from({ length: concurrentCallers }, () => crowd.get),
            { concurrency: "unbounded" }
          )
        })
      )
    )
    const crowdRequests = yield* logSince(logStart)
    const logins = crowdRequests.filter((entry) => entry.endpoint === "login").length
    const distinct = new Set(tokensHanded.map(BearerToken.value)).size
    yield* expect(logins === 1 && distinct === 1, `${logins} logins and ${distinct} different tokens`)
    yield* done(
      `${tokensHanded.length.toLocaleString("en")} callers got the same token with ${logins} login request in total.`,
      crowdMillis
    )
    logStart = yield* requestsSince(logStart)

    // Step 7 -------------------------------------------------------------------------------------------------------
    yield* heading("A restart reuses the stored grant", [
      "The program stops, and a new one starts over the same token file: it finds",
      "the grant it saved and sends no login."
    ])
    yield* Scope.close(programScope, Exit.void)
    const [restarted, restartMillis] = yield* timed(
      Effect.scoped(
        Effect.gen(function* () {
          const next = yield* Layer.build(programLayer)
          const nextTokens = yield* Effect.provide(TokenRef.TokenRef, next)
          return yield* nextTokens.get
        })
      )
    )
    const afterRestart = yield* logSince(logStart)
    yield* expect(afterRestart.length === 0, `the restarted program sent ${afterRestart.length} requests`)
    yield* expect(BearerToken.equals(restarted, recovered.token), "the restarted program holds another token")
    const restartedName = style.bold(BearerToken.fingerprint(restarted))
    yield* done(`It holds ${restartedName} from ${path.basename(storePath)}, with 0 requests.`, restartMillis)

    const total = performance.now() - startedAt
    yield* output.line("")
    yield* output.line(`${style.green(style.bold("All 7 steps done"))} in ${(total / 1000).toFixed(1)} s.`)
    yield* output.line(style.dim("Next: `opensolar-auth simulate` runs the simulator on its own, and"))
    yield* output.line(style.dim("`opensolar-auth --help` lists the commands."))
  })

/** What each request of the recovery from a revoked token is for. */
const recoveryNote = (entry: RequestLogEntry): string => {
  switch (entry.endpoint) {
    case "fetchToken":
      return entry.status === 401 ? "a revoked session cannot be renewed" : "the session is renewed"
    case "login":
      return entry.status < 400 ? "so the library logs in with the password" : ""
    default:
      return entry.status === 401 ? "the revoked token is refused" : "the same request, with the new token"
  }
}

const lifetimeText = (grant: TokenGrant.TokenGrant): string =>
  Option.match(grant.expiresAt, {
    onNone: () => "ever",
    onSome: (expiresAt) => Output.formatSpan(DateTime.toEpochMillis(expiresAt) - DateTime.toEpochMillis(grant.issuedAt))
  })

/** The time a grant has left, to the hour. */
const remainingText = (grant: TokenGrant.TokenGrant, now: number): string =>
  Option.match(grant.expiresAt, {
    onNone: () => "ever",
    onSome: (expiresAt) =>
      Output.formatSpan(Math.round((DateTime.toEpochMillis(expiresAt) - now) / 3_600_000) * 3_600_000)
  })

const currentGrant = (tokens: TokenRef.Service): Effect.Effect<TokenGrant.TokenGrant, DemoFailure> =>
  Effect.flatMap(tokens.current, (grant) =>
    Option.match(grant, {
      onNone: () =>
        Effect.fail(new DemoFailure({ message: "The demo did not go as planned: the TokenRef holds no grant" })),
      onSome: Effect.succeed
    })
  )

/** Waits, a few seconds at most, for the background refresh to install a grant other than `previous`. */
const awaitNewGrant = (
  tokens: TokenRef.Service,
  previous: TokenGrant.TokenGrant
): Effect.Effect<TokenGrant.TokenGrant, DemoFailure> =>
  Effect.gen(function* () {
    const deadline = performance.now() + 5000
    while (performance.now() < deadline) {
      const current = yield* tokens.current
      if (Option.isSome(current) && !BearerToken.equals(current.value.token, previous.token)) {
        return current.value
      }
      yield* Effect.sleep(Duration.millis(5))
    }
    return yield* Effect.fail(
      new DemoFailure({ message: "The demo did not go as planned: no background refresh happened within 5 seconds" })
    )
  })

interface Project {
  readonly title: string
}

const listProjects = (client: OpenSolarClient.Service) =>
  client
    .forOrg(orgs.main.id)
    .filterStatusOk.get("projects/")
    .pipe(
      Effect.flatMap((response) => response.json),
      Effect.map(
        (body): ReadonlyArray<Project> =>
          Array.isArray(body)
            ? body.map((project) => ({ title: String((project as { readonly title?: unknown }).title ?? "untitled") }))
            : []
      ),
      Effect.scoped
    )
