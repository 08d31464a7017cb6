/**
 * The refresh machinery behind `TokenRef`: the state, the single-flight refresh, the retries of a background
 * refresh, and the fiber that wakes at refresh points.
 *
 * @internal
 */
import {
  type Clock,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Either,
  ExecutionStrategy,
  Exit,
  FiberId,
  Metric,
  MetricLabel,
  Option,
  PubSub,
  Queue,
  type Random,
  Ref,
  type Schedule,
  ScheduleDecision,
  ScheduleIntervals,
  Scope,
  Stream
} from "effect"
import * as AuthError from "../AuthError.js"
import type * as AuthStrategy from "../AuthStrategy.js"
import * as BearerToken from "../BearerToken.js"
import * as TokenGrant from "../TokenGrant.js"
import type * as TokenRef from "../TokenRef.js"
import type * as TokenStore from "../TokenStore.js"
import * as duration from "./duration.js"
import * as timing from "./timing.js"

/** @internal */
export type Reason = "initial" | "proactive" | "deadline" | "invalidated" | "forced"

/** @internal */
export type Outcome = "renewed" | "unchanged" | "adopted" | "failed"

/** @internal */
export interface Settings {
  readonly lifetime: Duration.Duration
  readonly refreshRatio: number
  readonly jitterMillis: number | undefined
  readonly safetyMarginMillis: number
  readonly wakeIntervalMillis: number
  readonly retryPolicy: Schedule.Schedule<unknown, AuthError.AuthError>
  readonly storeKey: TokenStore.StoreKey | undefined
}

/** @internal */
export const refreshes = Metric.counter("opensolar_auth_token_refreshes_total", {
  description: "Token refreshes, by reason and outcome",
  incremental: true
})

/** @internal */
export const joinedRefreshes = Metric.counter("opensolar_auth_token_refresh_joins_total", {
  description: "Callers that waited for a refresh another caller had started",
  incremental: true
})

/** @internal */
export const staleTokensServed = Metric.counter("opensolar_auth_stale_tokens_served_total", {
  description: "Tokens handed out past their refresh point while a background refresh renews them",
  incremental: true
})

const countStale = Metric.increment(staleTokensServed)

const countJoin = Metric.increment(joinedRefreshes)

const defaultWakeRatio = 0.01

const invalid = (reason: string, variable: string) =>
  new AuthError.ConfigurationError({ reason: `TokenRef: ${reason}`, variables: [variable] })

const millisOf = (
  input: unknown,
  name: string,
  bounds: duration.Bounds = {}
): Either.Either<number, AuthError.ConfigurationError> =>
  Either.map(duration.decode(input, { ...bounds, name, owner: "TokenRef" }), Duration.toMillis)

// The options that could move the refresh point before the deadline, naming those the program set (with only a
// lifetime given, the lifetime is what to change): a longer lifetime when one would do, a lower ratio, and a jitter or
// margin that is not already zero.
const clashing = (
  options: TokenRef.Options,
  helps: { readonly lifetime: boolean; readonly jitter: boolean; readonly safetyMargin: boolean }
): ReadonlyArray<string> => {
  const names = (["lifetime", "refreshRatio", "jitter", "safetyMargin"] as const).filter(
    (name) => name === "refreshRatio" || helps[name]
  )
  const given = names.filter((name) => options[name] !== undefined)
  return given.length === 0 ? names : given
}

/** @internal */
export const resolveOptions = (
  options: TokenRef.Options,
  fallbackRetryPolicy: Schedule.Schedule<unknown, AuthError.AuthError>
): Either.Either<Settings, AuthError.ConfigurationError> =>
  Either.gen(function* () {
    const lifetimeMillis = Duration.toMillis(yield* duration.decodeLifetime(options.lifetime, "TokenRef"))
    const safetyMarginMillis = yield* millisOf(options.safetyMargin ?? timing.defaultSafetyMargin, "safetyMargin", {
      acceptsZero: true
    })
    const jitterMillis =
      options.jitter === undefined ? undefined : yield* millisOf(options.jitter, "jitter", { acceptsZero: true })
    const refreshRatio = options.refreshRatio ?? timing.defaultRefreshRatio

    if (!(typeof refreshRatio === "number" && refreshRatio > 0 && refreshRatio < 1)) {
      const given = typeof refreshRatio === "number" ? String(refreshRatio) : `a value of type ${typeof refreshRatio}`
      return yield* Either.left(
        invalid(`refreshRatio must be a number between 0 and 1 (exclusive), got ${given}`, "refreshRatio")
      )
    }
    const wakeIntervalMillis = yield* millisOf(
      options.wakeInterval ??
        Duration.millis(Math.max(lifetimeMillis * defaultWakeRatio, Duration.toMillis(Duration.minutes(1)))),
      "wakeInterval"
    )
    const jitter = jitterMillis ?? lifetimeMillis * timing.defaultJitterRatio
    if (jitter > lifetimeMillis * refreshRatio) {
      return yield* Either.left(invalid("jitter must not move the refresh point before the token is issued", "jitter"))
    }
    if (lifetimeMillis * refreshRatio + jitter >= lifetimeMillis - safetyMarginMillis) {
      const shortest = timing.shortestLifetimeMillis(refreshRatio, jitterMillis, safetyMarginMillis)
      const lengthen = shortest === undefined ? "" : `lengthen lifetime beyond ${timing.formatMillis(shortest)}, `
      return yield* Either.left(
        new AuthError.ConfigurationError({
          reason:
            `TokenRef: the refresh point (lifetime × refreshRatio + jitter) must come before the deadline ` +
            `(lifetime − safetyMargin), and a lifetime of ${timing.formatMillis(lifetimeMillis)} ` +
            `leaves no time between them; ${lengthen}lower refreshRatio or jitter, or shorten safetyMargin`,
          variables: clashing(options, {
            lifetime: shortest !== undefined,
            jitter: jitter > 0,
            safetyMargin: safetyMarginMillis > 0
          })
        })
      )
    }

    return {
      lifetime: Duration.millis(lifetimeMillis),
      refreshRatio,
      jitterMillis,
      safetyMarginMillis,
      wakeIntervalMillis,
      retryPolicy: options.retryPolicy ?? fallbackRetryPolicy,
      storeKey: options.storeKey
    }
  })

interface Installed {
  readonly grant: TokenGrant.TokenGrant
  /** The token as a ready effect, so the fast path allocates nothing. */
  readonly token: Effect.Effect<BearerToken.BearerToken>
  /** The token handed out past the refresh point, counted as stale, built once per grant. */
  readonly staleToken: Effect.Effect<BearerToken.BearerToken>
  /** Epoch milliseconds; `Infinity` for a permanent grant, `-Infinity` once rejected. */
  readonly refreshAt: number
  readonly deadline: number
  readonly rejected: boolean
  /** Whether a background refresh may still be started for this grant. */
  readonly renewable: boolean
}

interface InFlight {
  readonly result: Deferred.Deferred<TokenGrant.TokenGrant, AuthError.AuthError>
  /** Completed when a caller needs the result now: waits between retries end at once. */
  readonly urgent: Deferred.Deferred<void>
  /** Whether `urgent` is completed or about to be, so that later joiners leave it alone. */
  readonly hurried: boolean
}

interface State {
  readonly installed: Installed | undefined
  readonly inFlight: InFlight | undefined
  readonly closed: boolean
}

interface Obtained {
  readonly grant: TokenGrant.TokenGrant
  readonly outcome: Outcome
}

interface Start {
  readonly _tag: "Start"
  readonly inFlight: InFlight
  readonly reason: Reason
  readonly replacing: Installed | undefined
  readonly background: boolean
  /** The stale grant handed out while the refresh runs in the background, if any. */
  readonly serve: Installed | undefined
}

/** What a call does, decided atomically against the state. */
type Plan =
  | { readonly _tag: "Serve"; readonly token: Effect.Effect<BearerToken.BearerToken> }
  | Start
  | { readonly _tag: "Join"; readonly inFlight: InFlight; readonly hurry: boolean }
  | { readonly _tag: "Closed" }

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

const tokenOf = (grant: TokenGrant.TokenGrant): BearerToken.BearerToken => grant.token

const usedAfterClose = Effect.dieMessage(
  "TokenRef was used after the scope it was made in had closed; keep the TokenRef layer open while it is used"
)

/** @internal */
export const make = (
  settings: Settings,
  strategy: AuthStrategy.Strategy,
  store: TokenStore.Service
): Effect.Effect<TokenRef.Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock: Clock.Clock = yield* Effect.clock
    const random: Random.Random = yield* Effect.random
    const scope = yield* Effect.scope
    const workers = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const hub = yield* PubSub.sliding<TokenGrant.TokenGrant>(16)
    const nudges = yield* Queue.sliding<void>(1)
    const storeKey = settings.storeKey

    const now = () => clock.unsafeCurrentTimeMillis()

    const deadlineOf = (grant: TokenGrant.TokenGrant): number =>
      Option.match(grant.expiresAt, {
        onNone: () => Number.POSITIVE_INFINITY,
        onSome: (expiresAt) => DateTime.toEpochMillis(expiresAt) - settings.safetyMarginMillis
      })

    const installedOf = (
      grant: TokenGrant.TokenGrant,
      refreshAt: number,
      deadline: number,
      renewable: boolean
    ): Installed => {
      const token = Effect.succeed(grant.token)
      return {
        grant,
        token,
        staleToken: Effect.zipRight(countStale, token),
        refreshAt,
        deadline,
        rejected: false,
        renewable
      }
    }

    const toInstalled = (
      grant: TokenGrant.TokenGrant,
      origin: "stored" | "renewed" | "unchanged"
    ): Effect.Effect<Installed> =>
      Effect.gen(function* () {
        if (Option.isNone(grant.expiresAt)) {
          return installedOf(grant, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, false)
        }
        const issuedAt = DateTime.toEpochMillis(grant.issuedAt)
        const expiresAt = DateTime.toEpochMillis(grant.expiresAt.value)
        const span = expiresAt - issuedAt
        const jitter = settings.jitterMillis ?? span * timing.defaultJitterRatio
        const offset = jitter > 0 ? yield* random.nextRange(-jitter, jitter) : 0
        const deadline = expiresAt - settings.safetyMarginMillis
        const refreshAt = Math.min(Math.round(issuedAt + span * settings.refreshRatio + offset), deadline)
        // A refresh that answers with a grant already past its deadline (the same token, near its end) would
        // answer the same again at once: that grant is served until it expires, then replaced.
        const pastDeadline = origin !== "stored" && now() >= deadline
        return pastDeadline
          ? installedOf(grant, expiresAt, expiresAt, false)
          : installedOf(grant, refreshAt, deadline, origin !== "unchanged")
      })

    const logStoreError = (error: TokenStore.TokenStoreError) =>
      Effect.logDebug(`TokenRef: ignoring a token store failure: ${error.message}`)

    const loadStored: Effect.Effect<Option.Option<TokenGrant.TokenGrant>> =
      storeKey === undefined
        ? Effect.succeedNone
        : store.load(storeKey).pipe(
            Effect.map(Option.map((grant) => TokenGrant.withLifetime(grant, settings.lifetime))),
            Effect.catchAll((error) => Effect.as(logStoreError(error), Option.none()))
          )

    const saveGrant = (grant: TokenGrant.TokenGrant): Effect.Effect<void> =>
      storeKey === undefined ? Effect.void : Effect.catchAll(store.save(storeKey, grant), logStoreError)

    const isAdoptable = (stored: TokenGrant.TokenGrant, replacing: Installed | undefined): boolean => {
      if (now() >= deadlineOf(stored)) {
        return false
      }
      if (replacing === undefined) {
        return true
      }
      return (
        !BearerToken.equals(stored.token, replacing.grant.token) &&
        DateTime.toEpochMillis(stored.issuedAt) >= DateTime.toEpochMillis(replacing.grant.issuedAt)
      )
    }

    const attempt = (replacing: Installed | undefined): Effect.Effect<Obtained, AuthError.AuthError> => {
      const obtain = Effect.gen(function* () {
        const stored = yield* loadStored
        if (Option.isSome(stored) && isAdoptable(stored.value, replacing)) {
          return { grant: stored.value, outcome: "adopted" } satisfies Obtained
        }

        const previous = Option.fromNullable(replacing?.grant)
        const answer = yield* strategy.authenticate(previous)
        const grant = TokenGrant.withLifetime(TokenGrant.continueFrom(previous, answer), settings.lifetime)
        yield* saveGrant(grant)
        const unchanged = replacing !== undefined && BearerToken.equals(replacing.grant.token, grant.token)
        return { grant, outcome: unchanged ? "unchanged" : "renewed" } satisfies Obtained
      })
      return storeKey === undefined ? obtain : store.exclusive(storeKey, obtain)
    }

    const waitUntil = (time: number, urgent: Deferred.Deferred<void>): Effect.Effect<void> =>
      Effect.gen(function* () {
        while (now() < time && !(yield* Deferred.isDone(urgent))) {
          const wait = Math.min(time - now(), settings.wakeIntervalMillis)
          yield* Effect.raceFirst(Effect.sleep(Duration.millis(wait)), Deferred.await(urgent))
        }
      })

    const retryUntilDeadline = (
      inFlight: InFlight,
      replacing: Installed
    ): Effect.Effect<Obtained, AuthError.AuthError> =>
      Effect.gen(function* () {
        const policy = settings.retryPolicy
        let policyState: unknown = policy.initial
        let attempts = 0
        while (true) {
          attempts += 1
          const result = yield* Effect.either(attempt(replacing))
          if (Either.isRight(result)) {
            yield* Effect.annotateCurrentSpan("opensolar.attempts", attempts)
            return result.right
          }

          const error = result.left
          const failedAt = now()
          if (failedAt >= replacing.deadline || (yield* Deferred.isDone(inFlight.urgent))) {
            yield* Effect.annotateCurrentSpan("opensolar.attempts", attempts)
            return yield* Effect.fail(error)
          }

          const [nextState, , decision] = yield* policy.step(failedAt, error, policyState)
          let retryAt: number
          if (ScheduleDecision.isContinue(decision)) {
            policyState = nextState
            retryAt = ScheduleIntervals.start(decision.intervals)
          } else if (AuthError.isTransient(error)) {
            // The policy gave up, but the token is still good for a while: a new round starts later.
            policyState = policy.initial
            retryAt = failedAt + settings.wakeIntervalMillis
          } else {
            yield* Effect.annotateCurrentSpan("opensolar.attempts", attempts)
            return yield* Effect.fail(error)
          }
          yield* Effect.logDebug(
            `TokenRef: background refresh of ${replacing.grant.fingerprint} failed (${error._tag}); retrying`
          )
          yield* waitUntil(Math.min(retryAt, replacing.deadline), inFlight.urgent)
        }
      })

    const state = yield* Ref.make<State>({ installed: undefined, inFlight: undefined, closed: false })

    const recordOutcome = (reason: Reason, outcome: Outcome) =>
      Metric.increment(
        Metric.taggedWithLabels(refreshes, [MetricLabel.make("reason", reason), MetricLabel.make("outcome", outcome)])
      )

    const settle = (
      inFlight: InFlight,
      reason: Reason,
      replacing: Installed | undefined,
      background: boolean,
      exit: Exit.Exit<Obtained, AuthError.AuthError>
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (Exit.isSuccess(exit)) {
          const { grant, outcome } = exit.value
          const installed = yield* toInstalled(grant, outcome === "unchanged" ? "unchanged" : "renewed")
          const closed = yield* Ref.modify(state, (current) => [
            current.closed,
            { ...current, installed, inFlight: undefined }
          ])
          yield* Deferred.succeed(inFlight.result, grant)
          yield* recordOutcome(reason, outcome)
          if (!closed) {
            yield* PubSub.publish(hub, grant)
          }
        } else {
          yield* Ref.update(state, (current) => ({
            ...current,
            inFlight: undefined,
            installed:
              background && current.installed !== undefined && current.installed === replacing
                ? { ...current.installed, renewable: false }
                : current.installed
          }))
          yield* Deferred.failCause(inFlight.result, exit.cause)
          if (!Exit.isInterrupted(exit)) {
            yield* recordOutcome(reason, "failed")
          }
        }
        yield* Queue.offer(nudges, undefined)
      })

    const runRefresh = (
      inFlight: InFlight,
      reason: Reason,
      replacing: Installed | undefined,
      background: boolean
    ): Effect.Effect<void> =>
      (background && replacing !== undefined ? retryUntilDeadline(inFlight, replacing) : attempt(replacing)).pipe(
        Effect.tap(({ grant, outcome }) =>
          Effect.annotateCurrentSpan({
            "opensolar.refresh.outcome": outcome,
            "opensolar.token.fingerprint": grant.fingerprint
          })
        ),
        Effect.tapError((error) =>
          Effect.annotateCurrentSpan({ "opensolar.refresh.outcome": "failed", "opensolar.refresh.error": error._tag })
        ),
        Effect.withSpan("TokenRef.refresh", {
          attributes: {
            "opensolar.auth.strategy": strategy.name,
            "opensolar.refresh.reason": reason,
            ...(replacing === undefined ? {} : { "opensolar.token.previous_fingerprint": replacing.grant.fingerprint })
          }
        }),
        // Forked from an uninterruptible region: the refresh itself must stay interruptible so that closing
        // the scope stops it, while `settle` always runs.
        Effect.interruptible,
        Effect.onExit((exit) => settle(inFlight, reason, replacing, background, exit)),
        Effect.ignore
      )

    const start = (
      current: State,
      reason: Reason,
      background: boolean,
      serve: Installed | undefined
    ): [Start, State] => {
      // Only a background refresh waits between retries, so only its waits can be cut short.
      const inFlight: InFlight = {
        result: Deferred.unsafeMake(FiberId.none),
        urgent: Deferred.unsafeMake(FiberId.none),
        hurried: !background
      }
      return [
        { _tag: "Start", inFlight, reason, replacing: current.installed, background, serve },
        { ...current, inFlight }
      ]
    }

    /** Joins the refresh in flight; the first joiner to need it hurries a background refresh along. */
    const joinInFlight = (current: State, inFlight: InFlight): [Plan, State] =>
      inFlight.hurried
        ? [{ _tag: "Join", inFlight, hurry: false }, current]
        : [
            { _tag: "Join", inFlight, hurry: true },
            { ...current, inFlight: { ...inFlight, hurried: true } }
          ]

    /** What `get` does past the fast path, decided atomically. */
    const planGet = (current: State): [Plan, State] => {
      if (current.closed) {
        return [{ _tag: "Closed" }, current]
      }
      const installed = current.installed
      const at = now()
      if (installed !== undefined && at < installed.deadline) {
        if (at < installed.refreshAt) {
          return [{ _tag: "Serve", token: installed.token }, current]
        }
        if (current.inFlight === undefined && installed.renewable) {
          return start(current, "proactive", true, installed)
        }
        return [{ _tag: "Serve", token: installed.staleToken }, current]
      }
      if (current.inFlight !== undefined) {
        return joinInFlight(current, current.inFlight)
      }
      const reason: Reason = installed === undefined ? "initial" : installed.rejected ? "invalidated" : "deadline"
      return start(current, reason, false, undefined)
    }

    const planRefresh = (current: State): [Plan, State] => {
      if (current.closed) {
        return [{ _tag: "Closed" }, current]
      }
      if (current.inFlight !== undefined) {
        return joinInFlight(current, current.inFlight)
      }
      return start(current, "forced", false, undefined)
    }

    const join = (inFlight: InFlight, hurry: boolean, restore: Restore) =>
      Effect.zipRight(
        hurry ? Effect.zipRight(Deferred.succeed(inFlight.urgent, undefined), countJoin) : countJoin,
        restore(Deferred.await(inFlight.result))
      )

    const fork = (plan: Start) =>
      Effect.forkIn(runRefresh(plan.inFlight, plan.reason, plan.replacing, plan.background), workers)

    const executeGet = (plan: Plan, restore: Restore): Effect.Effect<BearerToken.BearerToken, AuthError.AuthError> => {
      switch (plan._tag) {
        case "Closed":
          return usedAfterClose
        case "Serve":
          return plan.token
        case "Join":
          return Effect.map(join(plan.inFlight, plan.hurry, restore), tokenOf)
        case "Start":
          return plan.serve === undefined
            ? Effect.zipRight(fork(plan), Effect.map(restore(Deferred.await(plan.inFlight.result)), tokenOf))
            : Effect.zipRight(fork(plan), plan.serve.staleToken)
      }
    }

    const executeRefresh = (
      plan: Plan,
      restore: Restore
    ): Effect.Effect<TokenGrant.TokenGrant, AuthError.AuthError> => {
      switch (plan._tag) {
        case "Join":
          return join(plan.inFlight, plan.hurry, restore)
        case "Start":
          return Effect.zipRight(fork(plan), restore(Deferred.await(plan.inFlight.result)))
        default:
          return usedAfterClose
      }
    }

    // A plan is carried out in the same uninterruptible step that records it: a caller interrupted in between
    // would leave a refresh recorded as in flight that never runs, and every later caller would wait for it.
    // Only the waiting for a result is interruptible.
    const getPlanned = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Ref.modify(state, planGet), (plan) => executeGet(plan, restore))
    )

    const get: Effect.Effect<BearerToken.BearerToken, AuthError.AuthError> = Effect.flatMap(
      Ref.get(state),
      (current) => {
        const installed = current.installed
        return installed !== undefined && now() < installed.refreshAt ? installed.token : getPlanned
      }
    )

    const refresh = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Ref.modify(state, planRefresh), (plan) => executeRefresh(plan, restore))
    )

    const invalidate = (token: BearerToken.BearerToken): Effect.Effect<void> =>
      Effect.uninterruptible(
        Effect.flatten(
          Ref.modify(state, (current): [Effect.Effect<void>, State] => {
            const installed = current.installed
            if (installed === undefined || installed.rejected || !BearerToken.equals(installed.grant.token, token)) {
              return [Effect.void, current]
            }
            const rejected: Installed = {
              ...installed,
              refreshAt: Number.NEGATIVE_INFINITY,
              deadline: Number.NEGATIVE_INFINITY,
              rejected: true,
              renewable: false
            }
            const inFlight = current.inFlight
            if (inFlight === undefined || inFlight.hurried) {
              return [Queue.offer(nudges, undefined), { ...current, installed: rejected }]
            }
            return [
              Effect.zipRight(Deferred.succeed(inFlight.urgent, undefined), Queue.offer(nudges, undefined)),
              { ...current, installed: rejected, inFlight: { ...inFlight, hurried: true } }
            ]
          })
        )
      )

    const scheduler: Effect.Effect<never> = Effect.gen(function* () {
      while (true) {
        const current = yield* Ref.get(state)
        const installed = current.installed
        const at = now()
        if (installed?.renewable && current.inFlight === undefined && at < installed.deadline) {
          if (at >= installed.refreshAt) {
            // Recorded and started in one uninterruptible step, as in `get`.
            yield* Effect.uninterruptible(
              Effect.flatMap(
                Ref.modify(state, (latest): [Start | undefined, State] =>
                  latest === current ? start(latest, "proactive", true, undefined) : [undefined, latest]
                ),
                (plan) => (plan === undefined ? Effect.void : fork(plan))
              )
            )
            continue
          }
          const wait = Math.min(installed.refreshAt - at, settings.wakeIntervalMillis)
          yield* Effect.raceFirst(Effect.sleep(Duration.millis(wait)), Queue.take(nudges))
          continue
        }
        yield* Queue.take(nudges)
      }
    })

    if (storeKey === undefined) {
      yield* Effect.logDebug("TokenRef: no storeKey given; grants live in this TokenRef only and are not stored")
    }
    const stored = yield* loadStored
    if (Option.isSome(stored) && !TokenGrant.isExpiredAt(stored.value, now())) {
      const installed = yield* toInstalled(stored.value, "stored")
      yield* Ref.update(state, (current) => ({ ...current, installed }))
    }

    // Added after the workers' scope, so it runs first when the scope closes: nothing starts after it.
    yield* Scope.addFinalizer(
      scope,
      Effect.zipRight(
        Ref.update(state, (current) => ({ ...current, closed: true })),
        PubSub.shutdown(hub)
      )
    )
    yield* Effect.forkIn(Effect.interruptible(scheduler), workers)

    return {
      get,
      current: Effect.map(Ref.get(state), (current) => Option.fromNullable(current.installed?.grant)),
      invalidate,
      refresh,
      changes: Stream.fromPubSub(hub)
    }
  })
