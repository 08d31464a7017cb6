import { randomUUID } from "node:crypto"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { Array as Arr, Context, DateTime, Duration, Effect, Layer, Logger, Option, Redacted, Ref } from "effect"
import { Redis } from "ioredis"
import * as AuthStrategy from "../../src/AuthStrategy.js"
import * as BearerToken from "../../src/BearerToken.js"
import * as OpenSolarApi from "../../src/OpenSolarApi.js"
import * as RedisTokenStore from "../../src/RedisTokenStore.js"
import * as TokenGrant from "../../src/TokenGrant.js"
import * as TokenRef from "../../src/TokenRef.js"
import * as TokenStore from "../../src/TokenStore.js"
import {
  accounts,
  Fault,
  orgs,
  type RequestLogEntry,
  Simulator,
  type SimulatorService
} from "../../src/testing/index.js"
import * as RedisServer from "../support/redisServer.js"
import { spawnWorker, type Worker } from "./harness.js"

const processes = 4
const callersPerProcess = 250

const authRequests = (log: ReadonlyArray<RequestLogEntry>) =>
  log.filter((entry) => entry.endpoint === "login" || entry.endpoint === "fetchToken")

const storeKeyOf = (sim: SimulatorService): TokenStore.StoreKey => ({
  baseUrl: sim.url,
  subject: accounts.example.username
})

/**
 * A grant past its deadline, issued 7 days less 50 seconds ago, whose token the API still accepts for a session
 * refresh: every caller waits for one refresh.
 */
const pastDeadline = (sim: SimulatorService) =>
  Effect.gen(function* () {
    const issuedAt = DateTime.subtractDuration(
      yield* DateTime.now,
      Duration.subtract(TokenGrant.standardLifetime, "50 seconds")
    )
    return new TokenGrant.TokenGrant({
      token: BearerToken.unsafeMake(Redacted.value(yield* sim.issueToken(accounts.example.username))),
      issuedAt,
      expiresAt: Option.some(DateTime.addDuration(issuedAt, TokenGrant.standardLifetime)),
      user: new TokenGrant.GrantUser({ id: accounts.example.id, email: accounts.example.username }),
      org: Option.none(),
      orgs: [],
      strategy: "session-refresh"
    })
  })

/** A simulator, a Redis server, and worker processes that use both; started once for the tests below. */
class Fleet extends Context.Tag("test/Fleet")<
  Fleet,
  { readonly sim: SimulatorService; readonly redis: RedisServer.RedisServerService; readonly workers: Array<Worker> }
>() {}

const FleetLive = Layer.scoped(
  Fleet,
  Effect.gen(function* () {
    const sim = yield* Simulator
    const redis = yield* RedisServer.make
    const workers = yield* Effect.all(
      Arr.makeBy(processes, () =>
        spawnWorker({
          baseUrl: sim.url,
          username: accounts.example.username,
          password: accounts.example.password,
          redisUrl: redis.url
        })
      ),
      { concurrency: "unbounded" }
    )
    return { sim, redis, workers }
  })
).pipe(Layer.provide(Simulator.layer()))

/** Every worker builds its layers afresh over a store under `keyPrefix`, with nothing in memory. */
const startAll = (
  workers: ReadonlyArray<Worker>,
  keyPrefix: string,
  lockTtlMillis: number,
  options: { readonly callers?: number; readonly holdAuthentication?: boolean } = {}
) =>
  Effect.gen(function* () {
    const callers = options.callers ?? callersPerProcess
    yield* Effect.forEach(workers, (worker) =>
      worker.send({
        command: "start",
        keyPrefix,
        lockTtlMillis,
        callers,
        holdAuthentication: options.holdAuthentication
      })
    )
    yield* Effect.forEach(workers, (worker) => worker.next("ready"), { concurrency: "unbounded" })
  })

const goAll = (workers: ReadonlyArray<Worker>, requestOrgId?: number) =>
  Effect.gen(function* () {
    yield* Effect.forEach(workers, (worker) => worker.send({ command: "go", requestOrgId }))
    return yield* Effect.forEach(workers, (worker) => worker.next("done"), { concurrency: "unbounded" })
  })

const allSucceeded = (
  results: ReadonlyArray<{ readonly succeeded: number; readonly failures: ReadonlyArray<string> }>
) => results.map((result) => ({ succeeded: result.succeeded, failures: result.failures }))

// Workers, Redis and the simulator all keep real time, so these tests run on the live clock; none measures time.
layer(FleetLive, { excludeTestServices: true })("a fleet of processes sharing one account through Redis", (it) => {
  it.effect(
    `${processes} processes × ${callersPerProcess} callers make one login, then one refresh`,
    () =>
      Effect.gen(function* () {
        const { sim, redis, workers } = yield* Fleet
        const keyPrefix = `fleet-${randomUUID()}:`
        yield* sim.reset

        // Nothing is stored yet, and every caller asks at once.
        yield* startAll(workers, keyPrefix, 5_000)
        const first = yield* goAll(workers)
        const firstRequests = authRequests(yield* sim.requestLog)

        expect(firstRequests.map((entry) => entry.endpoint)).toEqual(["login"])
        expect(first.map((result) => result.failures)).toEqual(Arr.replicate([], processes))
        expect(Arr.reduce(first, 0, (sum, result) => sum + result.succeeded)).toBe(processes * callersPerProcess)
        expect(Arr.dedupe(first.flatMap((result) => result.fingerprints))).toHaveLength(1)

        // The stored grant is past its deadline. The processes start afresh, with nothing in memory.
        yield* sim.clearLog
        const old = yield* pastDeadline(sim)
        const store = yield* RedisTokenStore.make({ url: redis.url, keyPrefix })
        yield* store.save(storeKeyOf(sim), old)

        yield* startAll(workers, keyPrefix, 5_000)
        const second = yield* goAll(workers)
        const secondRequests = authRequests(yield* sim.requestLog)

        expect(secondRequests.map((entry) => entry.endpoint)).toEqual(["fetchToken"])
        expect(second.map((result) => result.failures)).toEqual(Arr.replicate([], processes))
        expect(Arr.reduce(second, 0, (sum, result) => sum + result.succeeded)).toBe(processes * callersPerProcess)
        const secondTokens = Arr.dedupe(second.flatMap((result) => result.fingerprints))
        expect(secondTokens).toHaveLength(1)
        expect(secondTokens).not.toContain(old.fingerprint)
      }).pipe(Effect.scoped),
    // Starting four Node processes is most of the time taken, and much slower on a busy machine.
    60_000
  )

  it.effect("when Redis stops while a refresh is in flight, every process keeps serving valid tokens", () =>
    Effect.gen(function* () {
      const { sim, redis, workers } = yield* Fleet
      const keyPrefix = `fleet-${randomUUID()}:`
      const callers = 25
      yield* Effect.addFinalizer(() => Effect.orDie(redis.start))
      yield* sim.reset
      const store = yield* RedisTokenStore.make({ url: redis.url, keyPrefix })
      yield* store.save(storeKeyOf(sim), yield* pastDeadline(sim))

      // Every caller waits for the refresh. The process holding the lock announces it, then waits for `proceed`.
      yield* startAll(workers, keyPrefix, 5_000, { callers, holdAuthentication: true })
      yield* Effect.forEach(workers, (worker) => worker.send({ command: "go", requestOrgId: orgs.main.id }))
      yield* Effect.raceAll(workers.map((worker) => worker.next("authenticating")))
      yield* redis.stop
      yield* Effect.forEach(workers, (worker) => worker.send({ command: "proceed" }))
      const during = yield* Effect.forEach(workers, (worker) => worker.next("done"), { concurrency: "unbounded" })
      const authenticationsDuring = authRequests(yield* sim.requestLog).length

      // Redis is still down: the tokens in memory serve every caller.
      const after = yield* goAll(workers, orgs.main.id)
      const log = yield* sim.requestLog
      const orgRequests = log.filter((entry) => entry.endpoint === "org")

      const everyCallerServed = Arr.replicate({ succeeded: callers, failures: [] }, processes)
      expect(allSucceeded(during)).toEqual(everyCallerServed)
      expect(allSucceeded(after)).toEqual(everyCallerServed)
      expect(orgRequests).toHaveLength(2 * processes * callers)
      expect(orgRequests.filter((entry) => entry.status !== 200 || entry.tokenState !== "valid")).toEqual([])
      expect(log.filter((entry) => entry.tokenState === "expired")).toEqual([])
      expect(authRequests(log)).toHaveLength(authenticationsDuring)
    }).pipe(Effect.scoped)
  )

  // Kills one of the workers, so it comes last.
  it.effect("when the refreshing process is killed, another completes the refresh once its lock expires", () =>
    Effect.gen(function* () {
      const { sim, redis, workers } = yield* Fleet
      const keyPrefix = `fleet-${randomUUID()}:`
      const raw = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(redis.url)),
        (client) => Effect.promise(() => client.quit())
      )
      yield* sim.reset
      yield* sim.injectFault({ endpoint: "login", times: 100, fault: Fault.Delay({ duration: "1 hour" }) })

      yield* startAll(workers, keyPrefix, 1_000)
      const authenticationsBefore = yield* Effect.forEach(workers, (worker) => worker.authentications)
      yield* Effect.forEach(workers, (worker) => worker.send({ command: "go" }))
      const holder = yield* Effect.raceAll(workers.map((worker) => Effect.as(worker.next("authenticating"), worker)))
      yield* holder.kill
      yield* sim.clearFaults
      // The dead process still holds the lock, so no other has tried to log in while logins were delayed.
      const owner = yield* Effect.promise(() => raw.get(`${keyPrefix}lock:${TokenStore.keyToString(storeKeyOf(sim))}`))

      const survivors = workers.filter((worker) => worker !== holder)
      const results = yield* Effect.forEach(survivors, (worker) => worker.next("done"), { concurrency: "unbounded" })
      const authentications = yield* Effect.forEach(workers, (worker) => worker.authentications)
      const survivorAuthentications = Arr.reduce(
        Arr.zip(workers, Arr.zip(authenticationsBefore, authentications)),
        0,
        (sum, [worker, [before, after]]) => (worker === holder ? sum : sum + after - before)
      )
      const answered = authRequests(yield* sim.requestLog).filter((entry) => entry.status === 200)

      expect(owner).toContain(`/${holder.pid}/`)
      expect(results.map((result) => result.failures)).toEqual(Arr.replicate([], survivors.length))
      expect(Arr.reduce(results, 0, (sum, result) => sum + result.succeeded)).toBe(survivors.length * callersPerProcess)
      expect(Arr.dedupe(results.flatMap((result) => result.fingerprints))).toHaveLength(1)
      expect(survivorAuthentications).toBe(1)
      expect(answered.map((entry) => entry.endpoint)).toEqual(["login"])
    }).pipe(Effect.scoped)
  )
})

/** Runs `effect` with every log line (level and text) collected in a list it is given. */
const capturingLogs = <A, E, R>(effect: (logs: Ref.Ref<ReadonlyArray<string>>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const logs = yield* Ref.make<ReadonlyArray<string>>([])
    const logger = Logger.make(({ logLevel, message }) => {
      const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
      Effect.runSync(Ref.update(logs, Arr.append(`${logLevel.label} ${text}`)))
    })
    return yield* effect(logs).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
  })

describe("a process whose Redis goes away", () => {
  it.scopedLive("keeps serving its valid token, and refreshes once on its own", () =>
    capturingLogs((logs) =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const redis = yield* RedisServer.make
        const dependencies = yield* Layer.build(
          Layer.mergeAll(
            AuthStrategy.layer(
              AuthStrategy.standard({ username: accounts.example.username, password: accounts.example.password })
            ).pipe(Layer.provide(OpenSolarApi.layer({ baseUrl: sim.url })), Layer.provide(NodeHttpClient.layerUndici)),
            RedisTokenStore.layer({ url: redis.url, keyPrefix: `outage-${randomUUID()}:` })
          )
        )
        const tokens = yield* TokenRef.make({ storeKey: storeKeyOf(sim) }).pipe(Effect.provide(dependencies))
        const first = yield* tokens.get

        yield* redis.stop
        const served = yield* Effect.all(Arr.replicate(tokens.get, 100), { concurrency: "unbounded" })
        const requestsBeforeRefresh = authRequests(yield* sim.requestLog).length
        const refreshed = yield* Effect.all(Arr.replicate(tokens.refresh, 20), { concurrency: "unbounded" })
        const afterRefresh = yield* tokens.get
        const requests = authRequests(yield* sim.requestLog)

        expect(served.every((token) => BearerToken.equals(token, first))).toBe(true)
        expect(requestsBeforeRefresh).toBe(1)
        expect(requests.map((entry) => entry.endpoint)).toEqual(["login", "fetchToken"])
        expect(Arr.dedupe(refreshed.map((grant) => grant.fingerprint))).toEqual([BearerToken.fingerprint(afterRefresh)])
        expect(BearerToken.equals(afterRefresh, first)).toBe(false)
        const warnings = (yield* Ref.get(logs)).filter((line) => line.startsWith("WARN"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toContain("cannot be used")
      }).pipe(Effect.provide(Simulator.layer()))
    )
  )
})
