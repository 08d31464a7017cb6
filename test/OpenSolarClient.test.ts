import * as http from "node:http"
import * as net from "node:net"
import { inspect } from "node:util"
import { FetchHttpClient, HttpBody, HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  DateTime,
  Duration,
  Effect,
  Exit,
  Fiber,
  FastCheck,
  Inspectable,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Option,
  Redacted,
  Schedule,
  Schema,
  Stream,
  TestClock,
  Tracer
} from "effect"
import type * as AuthError from "../src/AuthError.js"
import * as AuthStrategy from "../src/AuthStrategy.js"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import * as OpenSolarClient from "../src/OpenSolarClient.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenRef from "../src/TokenRef.js"
import { accounts, type Endpoint, Fault, Simulator } from "../src/testing/index.js"

// A retry policy without waits, so that retries need no clock; the Retry-After test uses the default policy.
const instantRetries = RetryPolicy.make({ base: 0, jitter: 0 })

// At most two attempts, without waiting between them.
const twoAttempts = Schedule.as(Schedule.recurs(1), Duration.zero)

// The real token stack against the simulator: password logins, grants in memory.
const tokenRefLayer = (apiOptions: OpenSolarApi.Options) =>
  Layer.unwrapEffect(
    Effect.map(Simulator, (sim) =>
      TokenRef.layerMemory().pipe(
        Layer.provide(
          AuthStrategy.layer(
            AuthStrategy.password({ username: accounts.example.username, password: accounts.example.password })
          )
        ),
        Layer.provide(OpenSolarApi.layer({ ...apiOptions, baseUrl: sim.url }))
      )
    )
  )

const provideWorld = <A, E, R>(effect: Effect.Effect<A, E, R>, apiOptions: OpenSolarApi.Options = {}) =>
  effect.pipe(
    Effect.provide(Layer.provideMerge(tokenRefLayer(apiOptions), Simulator.layer())),
    Effect.provide(NodeHttpClient.layerUndici)
  )

const makeClient = (options: OpenSolarClient.Options = {}) =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    return yield* OpenSolarClient.make({ baseUrl: sim.url, retryPolicy: instantRetries, ...options })
  })

const currentToken = Effect.gen(function* () {
  const tokenRef = yield* TokenRef.TokenRef
  const grant = yield* tokenRef.current
  return Option.getOrThrow(grant).token
})

const logOf = (endpoint: Endpoint | "refresh") =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    const log = yield* sim.requestLog
    return log.filter((entry) =>
      endpoint === "refresh"
        ? entry.endpoint === "login" || entry.endpoint === "fetchToken"
        : entry.endpoint === endpoint
    )
  })

const resourceLog = Effect.map(
  Effect.flatMap(Simulator, (sim) => sim.requestLog),
  (log) => log.filter((entry) => entry.endpoint === "org" || entry.endpoint === "projects")
)

const counterValue = (counter: Metric.Metric.Counter<number>) =>
  Effect.map(Metric.value(counter), (state) => state.count)

// A real server on loopback that records every request it receives and answers with `respond`.
interface Received {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly cookie: string | undefined
  readonly body: string
}

interface RecordingServer {
  readonly url: string
  readonly received: ReadonlyArray<Received>
}

// `keepAliveTimeout` as Node's server takes it: 0 keeps an idle connection open until the test ends.
const recordingServer = (
  respond: (request: Received, response: http.ServerResponse, self: string) => void,
  keepAliveTimeout = 5_000
) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly recording: RecordingServer }>((resume) => {
      const received: Array<Received> = []
      const recording = { url: "", received }
      const server = http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const entry: Received = {
            method: request.method ?? "",
            path: request.url ?? "",
            authorization: request.headers.authorization,
            cookie: request.headers.cookie,
            body: Buffer.concat(chunks).toString("utf8")
          }
          received.push(entry)
          respond(entry, response, recording.url)
        })
      })
      server.keepAliveTimeout = keepAliveTimeout
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        recording.url = typeof address === "object" && address !== null ? `http://127.0.0.1:${address.port}` : ""
        resume(Effect.succeed({ server, recording }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ recording }) => recording))

const answerJson = (response: http.ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

const redirect = (response: http.ServerResponse, status: number, location: string) => {
  response.writeHead(status, { location })
  response.end()
}

// Lets I/O callbacks run: one turn of the event loop, not a wait for any amount of time.
const eventLoopTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

// Waits, in turns of the event loop, for a sleep on the TestClock that ends no further than `within` ahead and that is
// not among the `pending` ones, and gives the time it ends.
const newSleep = (pending: ReadonlySet<number>, within: number) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 20_000; turn++) {
      const now = yield* TestClock.currentTimeMillis
      const due = Chunk.filter(
        yield* TestClock.sleeps(),
        (time) => !pending.has(time) && time > now && time <= now + within
      )
      if (Chunk.isNonEmpty(due)) {
        return Math.min(...due)
      }
      yield* eventLoopTurn
    }
    return yield* Effect.dieMessage("no fiber went to sleep")
  })

// Runs `effect` until it starts a sleep on the TestClock that ends no further than `within` ahead, then moves the clock
// to its end.
const advancingToNewSleep = <A, E, R>(within: number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const pending = new Set(yield* TestClock.sleeps())
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.setTime(yield* newSleep(pending, within))
    return yield* Fiber.join(fiber)
  })

type Answer = 200 | 401 | 402 | 403 | 429 | 500 | 503 | "reset"

// What the client should do with a sequence of answers, followed by a 200: how many requests it sends and whether it
// succeeds.
const expectedExchange = (method: "GET" | "POST", answers: ReadonlyArray<Answer>) => {
  let next = 0
  let requests = 0
  let reauthenticated = false
  const answer = (): Answer => {
    requests += 1
    return answers[next++] ?? 200
  }
  while (true) {
    let current = answer()
    if (current === 401) {
      if (reauthenticated) {
        return { requests, succeeds: false }
      }
      reauthenticated = true
      current = answer()
      if (current === 401) {
        return { requests, succeeds: false }
      }
    }
    if (current === 200) {
      return { requests, succeeds: true }
    }
    if (current === 402 || current === 403 || method === "POST") {
      return { requests, succeeds: false }
    }
  }
}

describe("OpenSolarClient", () => {
  it.effect("sends the current token, the base URL and Accept: application/json with every request", () =>
    provideWorld(
      Effect.gen(function* () {
        const client = yield* makeClient()

        const org = yield* client.get("/api/orgs/1/").pipe(Effect.flatMap((response) => response.json))
        const projects = yield* client.forOrg(1).get("projects/")
        const again = yield* client.get("api/orgs/1/projects/")

        const token = yield* currentToken
        const log = yield* resourceLog
        expect(org).toMatchObject({ id: 1 })
        expect(projects.status).toBe(200)
        expect(again.status).toBe(200)
        expect(projects.request.headers.accept).toBe("application/json")
        expect(log.map((entry) => entry.path)).toEqual([
          "/api/orgs/1/",
          "/api/orgs/1/projects/",
          "/api/orgs/1/projects/"
        ])
        for (const entry of log) {
          expect(entry.tokenState).toBe("valid")
          expect(Option.map(entry.token, Redacted.value)).toEqual(Option.some(BearerToken.value(token)))
        }
      })
    )
  )

  it.effect("keeps an Accept header the caller set", () =>
    provideWorld(
      Effect.gen(function* () {
        const client = yield* makeClient()

        const response = yield* client.get("/api/orgs/1/", { headers: { accept: "text/plain" } })

        expect(response.request.headers.accept).toBe("text/plain")
      })
    )
  )

  it.effect("recovers from a token revoked on the server with exactly one refresh", () =>
    provideWorld(
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient()
        yield* client.get("/api/orgs/1/")
        const revoked = yield* currentToken
        const recoveriesBefore = yield* counterValue(OpenSolarClient.tokenRecoveries)
        const refreshesBefore = (yield* logOf("refresh")).length

        yield* sim.revokeToken(revoked)
        const response = yield* client.get("/api/orgs/1/")

        const log = yield* logOf("org")
        const fresh = yield* currentToken
        expect(response.status).toBe(200)
        expect(log.map((entry) => entry.tokenState)).toEqual(["valid", "revoked", "valid"])
        expect((yield* logOf("refresh")).length - refreshesBefore).toBe(1)
        expect(BearerToken.equals(fresh, revoked)).toBe(false)
        expect(yield* counterValue(OpenSolarClient.tokenRecoveries)).toBe(recoveriesBefore + 1)
      })
    )
  )

  it.effect("counts as recovered only the requests answered 401 that then succeed", () =>
    provideWorld(
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient()
        yield* client.get("/api/orgs/1/")
        const recoveriesBefore = yield* counterValue(OpenSolarClient.tokenRecoveries)
        yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 401 }) })
        yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 403 }) })
        yield* sim.injectFault({ endpoint: "org", fault: Fault.Status({ status: 401 }) })
        yield* sim.injectFault({ endpoint: "org", fault: Fault.Status({ status: 503 }) })

        const forbidden = yield* client.post("/api/orgs/1/projects/")
        const retried = yield* client.get("/api/orgs/1/")

        expect([forbidden.status, retried.status]).toEqual([403, 200])
        expect((yield* logOf("org")).map((entry) => entry.status)).toEqual([200, 401, 503, 200])
        expect(yield* counterValue(OpenSolarClient.tokenRecoveries)).toBe(recoveriesBefore + 1)
      })
    )
  )

  it.effect("fails with TokenRejected after exactly two requests when the fresh token is refused too", () =>
    provideWorld(
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient()
        const rejectionsBefore = yield* counterValue(OpenSolarClient.tokenRejections)
        yield* sim.injectFault({ endpoint: "org", times: 2, fault: Fault.Status({ status: 401 }) })

        const error = yield* Effect.flip(client.get("/api/orgs/1/"))

        const log = yield* logOf("org")
        expect(error._tag).toBe("TokenRejected")
        expect(error.message).toContain("/api/orgs/1/")
        expect(log).toHaveLength(2)
        expect(Redacted.value(Option.getOrThrow(log[0]!.token))).not.toBe(
          Redacted.value(Option.getOrThrow(log[1]!.token))
        )
        expect(yield* counterValue(OpenSolarClient.tokenRejections)).toBe(rejectionsBefore + 1)
      })
    )
  )

  it.effect("concurrent requests answered 401 on the same token share one refresh", () =>
    provideWorld(
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient()
        yield* client.get("/api/orgs/1/")
        yield* sim.revokeToken(yield* currentToken)
        yield* sim.clearLog

        const responses = yield* Effect.forEach(Array.from({ length: 20 }), () => client.get("/api/orgs/1/projects/"), {
          concurrency: "unbounded"
        })

        const tokens = new Set(
          (yield* logOf("projects")).flatMap((entry) => Option.toArray(entry.token)).map(Redacted.value)
        )
        expect(responses.every((response) => response.status === 200)).toBe(true)
        expect(tokens.size).toBe(2)
        expect(yield* logOf("refresh")).toHaveLength(1)
      })
    )
  )

  it.effect(
    "1,000 concurrent requests across the token's expiry: one refresh, all succeed, no expired token sent",
    () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          // Each request leaves its timeout's sleep on the test clock: 30 days lie beyond every jump, which wakes none.
          const client = yield* makeClient({ timeout: "30 days" })
          const wave = Effect.all(
            Array.from({ length: 250 }, () => client.get("/api/orgs/1/projects/")),
            { concurrency: "unbounded" }
          )
          yield* client.get("/api/orgs/1/")
          const grant = Option.getOrThrow(yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.current))
          const expiring = BearerToken.value(grant.token)
          const expiresAt = DateTime.toEpochMillis(Option.getOrThrow(grant.expiresAt))
          const start = yield* TestClock.currentTimeMillis
          yield* sim.clearLog
          // The server holds the refresh for two days, so that it is still on its way when the token expires.
          yield* sim.injectFault({ endpoint: "login", fault: Fault.Delay({ duration: "2 days" }) })

          // Three waves wait for their time, inside the safety margin, at the expiry and a minute after it, while a
          // fourth is sent at once.
          const later = yield* Effect.forEach([expiresAt - 30_000, expiresAt, expiresAt + 60_000], (at) =>
            Effect.fork(Effect.zipRight(Effect.sleep(at - start), wave))
          )
          const early = yield* wave
          const pending = new Set(yield* TestClock.sleeps())
          yield* TestClock.setTime(expiresAt + 60_000)
          // Only then does the server answer the refresh, which started on the way, at the refresh point.
          yield* TestClock.setTime(yield* newSleep(pending, Duration.toMillis("3 days")))
          const responses = [...early, ...(yield* Effect.forEach(later, Fiber.join)).flat()]

          const sent = yield* logOf("projects")
          const tokens = sent.flatMap((entry) => Option.toArray(entry.token)).map(Redacted.value)
          const fresh = BearerToken.value(yield* currentToken)
          const afterExpiry = sent.filter((entry) => DateTime.toEpochMillis(entry.time) >= expiresAt)
          expect(responses.filter((response) => response.status === 200)).toHaveLength(1_000)
          expect(yield* logOf("refresh")).toHaveLength(1)
          expect(sent).toHaveLength(1_000)
          expect(afterExpiry).toHaveLength(750)
          expect(sent.filter((entry) => entry.tokenState !== "valid")).toEqual([])
          expect(fresh).not.toBe(expiring)
          expect(tokens.slice(0, 250).every((token) => token === expiring)).toBe(true)
          expect(tokens.slice(250).every((token) => token === fresh)).toBe(true)
        }),
        // The refresh is held by the server for days of the test clock: no timeout may fire for that.
        { timeout: "30 days" }
      ),
    60_000
  )

  it.effect("does not resend a streamed body after a 401, and invalidates the token for the next request", () =>
    provideWorld(
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient()
        yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 401 }) })

        const error = yield* client
          .execute(
            HttpClientRequest.post("/api/orgs/1/projects/").pipe(
              HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("{}")), {
                contentType: "application/json"
              })
            )
          )
          .pipe(Effect.flip)
        const next = yield* client.get("/api/orgs/1/projects/")

        const log = yield* logOf("projects")
        expect(error._tag).toBe("TokenRejected")
        expect(next.status).toBe(200)
        expect(log.map((entry) => entry.method)).toEqual(["POST", "GET"])
        expect(Redacted.value(Option.getOrThrow(log[0]!.token))).not.toBe(
          Redacted.value(Option.getOrThrow(log[1]!.token))
        )
      })
    )
  )

  describe("the token goes to the OpenSolar origin only", () => {
    it.scoped("refuses a request to another origin before sending it", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const elsewhere = yield* recordingServer((_, response) => answerJson(response, 200, {}))
          const client = yield* makeClient()
          const port = new URL(sim.url).port
          const foreign = [
            `${elsewhere.url}/steal`,
            `http://localhost:${port}/api/orgs/1/`,
            `https://127.0.0.1:${port}/api/orgs/1/`,
            `http://user:secret@127.0.0.1:${port}/api/orgs/1/`,
            "file:///etc/passwd",
            "http://user:secret@[unparsable/x"
          ]

          const errors = yield* Effect.forEach(foreign, (url) => Effect.flip(client.get(url)))
          const viaOrg = yield* Effect.flip(client.forOrg(1).post(`${elsewhere.url}/steal`))

          expect(errors.map((error) => error._tag)).toEqual(Array(foreign.length).fill("UnsafeRequest"))
          expect(viaOrg._tag).toBe("UnsafeRequest")
          expect(errors[0]!.message).toContain(`GET ${elsewhere.url}/steal was refused before sending`)
          expect(errors[0]!.message).toContain(sim.url)
          expect(errors[3]!.message).not.toContain("secret")
          expect(errors[5]!.message).toContain("the URL cannot be parsed")
          expect(errors[5]!.message).not.toContain("secret")
          expect(elsewhere.received).toEqual([])
          expect(yield* sim.requestLog).toEqual([])
        })
      )
    )

    it.scoped("accepts absolute URLs on the OpenSolar origin, as in pagination links", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* makeClient()

          const response = yield* client.get(`${sim.url}/api/orgs/1/projects/`)

          expect(response.status).toBe(200)
        })
      )
    )

    it.scoped("keeps relative URLs that look like other hosts on the OpenSolar origin", () =>
      provideWorld(
        Effect.gen(function* () {
          const elsewhere = yield* recordingServer((_, response) => answerJson(response, 200, {}))
          const client = yield* makeClient()
          const host = new URL(elsewhere.url).host

          const responses = yield* Effect.forEach([`@${host}/x`, `//${host}/x`], (url) => client.get(url))

          expect(responses.map((response) => response.status)).toEqual([404, 404])
          expect(elsewhere.received).toEqual([])
        })
      )
    )

    // The simulator's faults carry no Location header, so a small redirecting server on loopback stands in as the
    // OpenSolar origin here; a second one plays the foreign origin. Fetch would follow redirects on its own if the
    // client did not ask it not to, so the client runs on it as well as on the Node client.
    const platforms = {
      Node: <A, E, R>(effect: Effect.Effect<A, E, R>) => effect,
      fetch: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, FetchHttpClient.layer)
    }

    for (const [platform, onPlatform] of Object.entries(platforms)) {
      it.scoped(`follows redirects without ever sending the token to another origin, on the ${platform} client`, () =>
        provideWorld(
          Effect.gen(function* () {
            const elsewhere = yield* recordingServer((request, response, self) => {
              if (request.path === "/bounce") {
                return redirect(response, 302, home.url.length > 0 ? `${home.url}/final` : self)
              }
              return answerJson(response, 200, { at: "elsewhere", path: request.path })
            })
            const home: RecordingServer = yield* recordingServer((request, response, self) => {
              switch (request.path) {
                case "/away":
                  return redirect(response, 302, `${elsewhere.url}/landing`)
                case "/away-and-back":
                  return redirect(response, 307, `${elsewhere.url}/bounce`)
                case "/home":
                  return redirect(response, 308, "/final")
                case "/see-other":
                  return redirect(response, 303, `${self}/final`)
                case "/loop":
                  return redirect(response, 302, "/loop")
                default:
                  return answerJson(response, 200, { at: "home", path: request.path, method: request.method })
              }
            })
            const client = yield* onPlatform(makeClient({ baseUrl: home.url }))
            const token = yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.get)
            const bearer = `Bearer ${BearerToken.value(token)}`

            const away = yield* client.get("/away", { headers: { cookie: "session=1" } })
            const awayAndBack = yield* client.put("/away-and-back", { body: HttpBody.text("moved") })
            const home308 = yield* client.get("/home")
            const seeOther = yield* client.post("/see-other")
            const loop = yield* client.get("/loop")

            expect(away.status).toBe(200)
            expect(yield* away.json).toMatchObject({ at: "elsewhere", path: "/landing" })
            expect(yield* awayAndBack.json).toMatchObject({ at: "home", path: "/final", method: "PUT" })
            expect(yield* home308.json).toMatchObject({ at: "home", path: "/final" })
            expect(yield* seeOther.json).toMatchObject({ at: "home", path: "/final", method: "GET" })
            expect(loop.status).toBe(302)
            expect(elsewhere.received.map((request) => request.path)).toEqual(["/landing", "/bounce"])
            expect(elsewhere.received.every((request) => request.authorization === undefined)).toBe(true)
            expect(elsewhere.received.every((request) => request.cookie === undefined)).toBe(true)
            expect(home.received.map((request) => [request.path, request.authorization === bearer])).toEqual([
              ["/away", true],
              ["/away-and-back", true],
              ["/final", false],
              ["/home", true],
              ["/final", true],
              ["/see-other", true],
              ["/final", true],
              ["/loop", true],
              ["/loop", true],
              ["/loop", true],
              ["/loop", true],
              ["/loop", true],
              ["/loop", true]
            ])
          })
        )
      )
    }

    it.scoped("sends a request again after a 401 only when the 401 answered the request itself", () =>
      provideWorld(
        Effect.gen(function* () {
          let finalAnswers = 0
          const home = yield* recordingServer((request, response) => {
            switch (request.path) {
              case "/submit":
                return redirect(response, 303, "/submitted")
              case "/submitted":
                return answerJson(response, 401, { detail: "Invalid token." })
              case "/moved":
                return redirect(response, 307, "/moved-here")
              default:
                finalAnswers += 1
                return answerJson(response, finalAnswers === 1 ? 401 : 200, { method: request.method })
            }
          })
          const client = yield* makeClient({ baseUrl: home.url })
          const tokenRef = yield* TokenRef.TokenRef
          const first = yield* tokenRef.get

          const submitted = yield* Effect.flip(client.post("/submit", { body: HttpBody.text("order") }))
          const second = yield* tokenRef.get
          const moved = yield* client.put("/moved", { body: HttpBody.text("moved") })

          expect(submitted).toMatchObject({ _tag: "TokenRejected", method: "GET", url: `${home.url}/submitted` })
          expect(BearerToken.equals(second, first)).toBe(false)
          expect(yield* moved.json).toEqual({ method: "PUT" })
          expect(home.received.map((request) => `${request.method} ${request.path} ${request.body}`)).toEqual([
            "POST /submit order",
            "GET /submitted ",
            "PUT /moved moved",
            "PUT /moved-here moved",
            "PUT /moved moved",
            "PUT /moved-here moved"
          ])
        })
      )
    )

    it.scoped("fails with UnsafeRequest when the platform client follows a redirect on its own", () =>
      provideWorld(
        Effect.gen(function* () {
          const elsewhere = yield* recordingServer((_, response) => answerJson(response, 200, {}))
          const home = yield* recordingServer((request, response) =>
            request.path === "/away"
              ? redirect(response, 302, `${elsewhere.url}/landing?code=1`)
              : answerJson(response, 200, {})
          )
          const client = yield* makeClient({ baseUrl: home.url }).pipe(
            Effect.updateService(HttpClient.HttpClient, (platform) => HttpClient.followRedirects(platform))
          )
          const token = BearerToken.value(yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.get))

          const error = yield* Effect.flip(client.get("/away"))
          const direct = yield* client.get("/here?page=2")

          expect(error).toMatchObject({
            _tag: "UnsafeRequest",
            method: "GET",
            url: `${home.url}/away`,
            answeredFrom: `${elsewhere.url}/landing`
          })
          expect(error.message).toContain("HttpClient.followRedirects")
          expect(error.message).not.toContain("code=1")
          // The platform client took the token along before the OpenSolar client could see the redirect.
          expect(elsewhere.received.map((request) => request.authorization)).toEqual([`Bearer ${token}`])
          expect(direct.status).toBe(200)
        })
      )
    )

    it.scoped("does not treat a 401 from another origin as a rejected token", () =>
      provideWorld(
        Effect.gen(function* () {
          const elsewhere = yield* recordingServer((_, response) => answerJson(response, 401, { detail: "no" }))
          const home = yield* recordingServer((_, response) => redirect(response, 302, `${elsewhere.url}/private`))
          const client = yield* makeClient({ baseUrl: home.url })
          const tokenRef = yield* TokenRef.TokenRef
          const before = yield* tokenRef.get

          const lenient = yield* client.get("/go")
          const strict = yield* Effect.flip(client.filterStatusOk.get("/go"))

          expect(lenient.status).toBe(401)
          expect(strict._tag).toBe("ResponseError")
          expect(BearerToken.equals(yield* tokenRef.get, before)).toBe(true)
          expect(home.received).toHaveLength(2)
        })
      )
    )
  })

  describe("statuses and retries", () => {
    it.effect("returns every status but 401, and the last answer when retrying a transient one runs out", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* makeClient({ retryPolicy: twoAttempts })
          yield* sim.injectFault({ endpoint: "org", times: 3, fault: Fault.Status({ status: 503 }) })
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 503 }) })
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 400 }) })

          const unavailable = yield* client.get("/api/orgs/1/")
          const posted = yield* client.post("/api/orgs/1/projects/")
          const invalid = yield* client.get("/api/orgs/1/projects/")

          expect([unavailable.status, posted.status, invalid.status]).toEqual([503, 503, 400])
          expect((yield* logOf("org")).map((entry) => entry.status)).toEqual([503, 503])
          expect((yield* logOf("projects")).map((entry) => `${entry.method} ${entry.status}`)).toEqual([
            "POST 503",
            "GET 400"
          ])
        })
      )
    )

    it.scoped("retries HEAD, PUT and DELETE after 429, 502, 503 and 504, sending the same body each time", () =>
      provideWorld(
        Effect.gen(function* () {
          const answers = [503, 502, 429, 504, 204]
          const answered = new Map<string, number>()
          const home = yield* recordingServer((request, response) => {
            const count = answered.get(request.method) ?? 0
            answered.set(request.method, count + 1)
            response.writeHead(answers[count] ?? 204)
            response.end()
          })
          const client = yield* makeClient({ baseUrl: home.url })

          const responses = yield* Effect.all([
            client.head("/resource"),
            client.put("/resource", { body: HttpBody.text("replacement") }),
            client.del("/resource")
          ])

          expect(responses.map((response) => response.status)).toEqual([204, 204, 204])
          expect(home.received.map((request) => `${request.method} ${request.body}`)).toEqual([
            ...Array(5).fill("HEAD "),
            ...Array(5).fill("PUT replacement"),
            ...Array(5).fill("DELETE ")
          ])
        })
      )
    )

    it.scoped("never sends a request whose body is a stream twice", () =>
      provideWorld(
        Effect.gen(function* () {
          const home = yield* recordingServer((request, response) =>
            request.path === "/reset" ? response.socket?.destroy() : answerJson(response, 503, {})
          )
          const client = yield* makeClient({ baseUrl: home.url })
          const streamed = (url: string) =>
            HttpClientRequest.put(url).pipe(
              HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("chunk")), {
                contentType: "text/plain"
              })
            )

          const unavailable = yield* client.execute(streamed("/unavailable"))
          const reset = yield* Effect.flip(client.execute(streamed("/reset")))

          expect(unavailable.status).toBe(503)
          expect(reset._tag).toBe("TransportError")
          expect(home.received.map((request) => `${request.method} ${request.path} ${request.body}`)).toEqual([
            "PUT /unavailable chunk",
            "PUT /reset chunk"
          ])
        })
      )
    )

    it.effect("the lenient client honours Retry-After, and gives a 429 back when it asks for too long a wait", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* OpenSolarClient.make({
            baseUrl: sim.url,
            timeout: "1 hour",
            retryPolicy: RetryPolicy.make({ maxRetryAfter: "1 minute" })
          })
          yield* client.get("/api/orgs/1/")
          yield* sim.clearLog
          yield* sim.injectFault({ endpoint: "org", fault: Fault.Status({ status: 429, retryAfter: 7 }) })
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 429, retryAfter: 3_600 }) })

          const waited = yield* advancingToNewSleep(10_000, client.get("/api/orgs/1/"))
          const throttled = yield* client.get("/api/orgs/1/projects/")

          const [first, retried] = yield* logOf("org")
          expect(waited.status).toBe(200)
          expect(DateTime.distance(first!.time, retried!.time)).toBeGreaterThanOrEqual(7_000)
          expect(throttled.status).toBe(429)
          expect(throttled.headers["retry-after"]).toBe("3600")
          expect(yield* logOf("projects")).toHaveLength(1)
        })
      )
    )

    it.effect("filterStatusOk maps 402, 403, 429 and 5xx to AuthError and other failures to ResponseError", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const strict = (yield* makeClient({ retryPolicy: RetryPolicy.make({ maxElapsed: 0 }) })).filterStatusOk
          const answer = (status: number) =>
            Effect.zipRight(
              sim.injectFault({ endpoint: "org", fault: Fault.Status({ status, retryAfter: 3 }) }),
              Effect.flip(strict.get("/api/orgs/1/"))
            )

          const errors = yield* Effect.forEach([402, 403, 429, 500, 503, 404, 400], answer)
          const forbidden = yield* Effect.flip(strict.get("/api/orgs/2/"))

          expect(errors.map((error) => error._tag)).toEqual([
            "ApiAccessNotEnabled",
            "Forbidden",
            "RateLimited",
            "ServerError",
            "ServerError",
            "ResponseError",
            "ResponseError"
          ])
          expect(errors[2]).toMatchObject({ retryAfterMillis: 3000 })
          expect(forbidden._tag).toBe("Forbidden")
          expect(OpenSolarClient.checkStatus).toBeTypeOf("function")
        })
      )
    )

    it.effect("checkStatus judges a response of the lenient client", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* makeClient()
          yield* sim.injectFault({ endpoint: "org", fault: Fault.Status({ status: 402 }) })

          const error = yield* client.get("/api/orgs/1/").pipe(Effect.flatMap(OpenSolarClient.checkStatus), Effect.flip)
          const ok = yield* client.get("/api/orgs/1/").pipe(Effect.flatMap(OpenSolarClient.checkStatus))

          expect(error._tag).toBe("ApiAccessNotEnabled")
          expect(ok.status).toBe(200)
        })
      )
    )

    it.effect("retries transient answers to idempotent requests until one succeeds", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const strict = (yield* makeClient()).filterStatusOk
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 503 }) })
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.ConnectionReset() })
          yield* sim.injectFault({ endpoint: "projects", fault: Fault.Status({ status: 429 }) })

          const response = yield* strict
            .get("/api/orgs/1/projects/")
            .pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Schema.Array(Schema.Struct({ id: Schema.Number })))))

          expect(response.length).toBeGreaterThan(0)
          expect((yield* logOf("projects")).map((entry) => entry.status)).toEqual([503, 0, 429, 200])
        })
      )
    )

    it.effect("waits as long as Retry-After asks before retrying", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const strict = (yield* OpenSolarClient.make({ baseUrl: sim.url, timeout: "1 hour" })).filterStatusOk
          yield* strict.get("/api/orgs/1/")
          yield* sim.clearLog
          yield* sim.injectFault({ endpoint: "org", fault: Fault.Status({ status: 429, retryAfter: 7 }) })

          const response = yield* advancingToNewSleep(10_000, strict.get("/api/orgs/1/"))

          const [throttled, retried] = yield* logOf("org")
          expect(response.status).toBe(200)
          expect(DateTime.distance(throttled!.time, retried!.time)).toBeGreaterThanOrEqual(7_000)
        })
      )
    )

    it.scoped("hands a retried answer's connection back before waiting, and keeps the last answer's body", () =>
      provideWorld(
        Effect.gen(function* () {
          let busy = 0
          const home = yield* recordingServer((request, response) => {
            if (request.path !== "/busy") {
              return answerJson(response, 200, { path: request.path })
            }
            busy += 1
            response.writeHead(429, { "content-type": "application/json", "retry-after": "60" })
            response.end(JSON.stringify({ detail: `busy ${busy}` }))
          }, 0)
          // One socket to the server, which never closes it: a body left unread would hold it, and the request sent
          // during the wait would never go out.
          const oneSocket = yield* Layer.build(
            NodeHttpClient.layerWithoutAgent.pipe(
              Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true, maxSockets: 1 }))
            )
          )
          const client = yield* Effect.provide(
            OpenSolarClient.make({
              baseUrl: home.url,
              timeout: "1 hour",
              retryPolicy: RetryPolicy.make({ maxElapsed: "90 seconds", maxRetryAfter: "2 minutes", jitter: 0 })
            }),
            oneSocket
          )

          const waiting = yield* Effect.fork(client.get("/busy"))
          const retryAt = (yield* TestClock.currentTimeMillis) + 60_000
          while (!Chunk.contains(yield* TestClock.sleeps(), retryAt)) {
            yield* eventLoopTurn
          }
          const meanwhile = yield* Effect.flatMap(client.get("/other"), (response) => response.json)
          yield* TestClock.setTime(retryAt)
          const last = yield* Fiber.join(waiting)

          expect(meanwhile).toEqual({ path: "/other" })
          expect(home.received.map((request) => request.path)).toEqual(["/busy", "/other", "/busy"])
          expect(last.status).toBe(429)
          expect(last.headers["retry-after"]).toBe("60")
          expect(yield* last.text).toBe(JSON.stringify({ detail: "busy 2" }))
          expect(yield* last.json).toEqual({ detail: "busy 2" })
          expect(yield* Stream.runCollect(Stream.decodeText(last.stream)).pipe(Effect.map(Chunk.join("")))).toBe(
            JSON.stringify({ detail: "busy 2" })
          )
        })
      )
    )

    it.effect("never retries POST or PATCH", () =>
      provideWorld(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const client = yield* makeClient()
          yield* sim.injectFault({ endpoint: "projects", times: 4, fault: Fault.ConnectionReset() })
          yield* sim.injectFault({ endpoint: "org", times: 4, fault: Fault.Status({ status: 503 }) })

          const reset = yield* Effect.flip(client.post("/api/orgs/1/projects/"))
          const patched = yield* Effect.flip(client.filterStatusOk.patch("/api/orgs/1/"))
          const retried = yield* client.get("/api/orgs/1/projects/")

          expect(reset._tag).toBe("TransportError")
          expect(patched._tag).toBe("ServerError")
          expect(retried.status).toBe(200)
          expect((yield* logOf("projects")).map((entry) => entry.method)).toEqual(["POST", "GET", "GET", "GET", "GET"])
          expect((yield* logOf("org")).map((entry) => entry.method)).toEqual(["PATCH"])
        })
      )
    )

    it.effect.prop(
      "re-authenticates at most once per logical request, whatever the server answers; POST is never retried",
      {
        method: FastCheck.constantFrom<"GET" | "POST">("GET", "POST"),
        answers: FastCheck.array(FastCheck.constantFrom<Answer>(200, 401, 402, 403, 429, 500, 503, "reset"), {
          minLength: 1,
          maxLength: 8
        })
      },
      ({ method, answers }) =>
        provideWorld(
          Effect.gen(function* () {
            const sim = yield* Simulator
            const strict = (yield* makeClient()).filterStatusOk
            yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.get)
            const refreshesBefore = (yield* logOf("refresh")).length
            for (const answer of [...answers, 200 as const]) {
              yield* sim.injectFault({
                endpoint: "projects",
                fault:
                  answer === "reset"
                    ? Fault.ConnectionReset()
                    : Fault.Status({ status: answer, body: answer === 200 ? { count: 0, results: [] } : undefined })
              })
            }

            const exit = yield* Effect.exit(strict.execute(HttpClientRequest.make(method)("/api/orgs/1/projects/")))

            const sent = yield* logOf("projects")
            const expected = expectedExchange(method, answers)
            const tokens = new Set(sent.flatMap((entry) => Option.toArray(entry.token)).map(Redacted.value))
            expect(sent.map((entry) => entry.method)).toEqual(Array(expected.requests).fill(method))
            expect(Exit.isSuccess(exit)).toBe(expected.succeeds)
            expect(tokens.size).toBeLessThanOrEqual(answers.includes(401) ? 2 : 1)
            expect((yield* logOf("refresh")).length - refreshesBefore).toBeLessThanOrEqual(1)
          })
        ),
      { fastCheck: { numRuns: 100 } }
    )
  })

  describe("observability", () => {
    it.effect("records a span per request with method, URL, status and fingerprint, never the token", () =>
      provideWorld(
        Effect.gen(function* () {
          const spans: Array<Tracer.Span> = []
          const recording = yield* Effect.map(Effect.tracer, (tracer) =>
            Tracer.make({
              span: (...args) => {
                const span = tracer.span(...args)
                spans.push(span)
                return span
              },
              context: tracer.context
            })
          )
          const sim = yield* Simulator
          const client = yield* makeClient()
          yield* client.get("/api/orgs/1/")
          yield* sim.revokeToken(yield* currentToken)

          yield* client.get("/api/orgs/1/projects/?page=1").pipe(Effect.withTracer(recording))

          const token = BearerToken.value(yield* currentToken)
          const outer = spans.find((span) => span.name === "OpenSolarClient GET")!
          expect(Object.fromEntries(outer.attributes)).toMatchObject({
            "http.request.method": "GET",
            "url.full": `${sim.url}/api/orgs/1/projects/`,
            "http.response.status_code": 200,
            "opensolar.token.fingerprint": BearerToken.fingerprint(yield* currentToken),
            "opensolar.reauthenticated": true,
            "opensolar.attempts": 1
          })
          expect(spans.filter((span) => span.name.startsWith("http.client"))).toEqual([])
          expect(inspect(spans, { depth: Infinity })).not.toContain(token)
        })
      )
    )

    it.scoped("never logs the token, and says when a redirect drops it", () =>
      provideWorld(
        Effect.gen(function* () {
          const lines: Array<string> = []
          const capture = Logger.map(Logger.jsonLogger, (line) => {
            lines.push(line)
          })
          const elsewhere = yield* recordingServer((_, response) => answerJson(response, 200, {}))
          const home = yield* recordingServer((request, response) =>
            request.path === "/away"
              ? redirect(response, 302, `${elsewhere.url}/landing`)
              : answerJson(response, 200, { at: "home" })
          )
          const client = yield* makeClient({ baseUrl: home.url })

          const [away, here] = yield* Effect.all([client.get("/away"), client.get("/here")]).pipe(
            Effect.tap((responses) =>
              Effect.forEach(responses, (response) =>
                Effect.logDebug("answered", response.request, response.request.headers)
              )
            ),
            Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
            Logger.withMinimumLogLevel(LogLevel.All)
          )

          const token = BearerToken.value(yield* currentToken)
          const logged = lines.join("\n")
          expect([away.status, here.status]).toEqual([200, 200])
          expect(home.received.find((request) => request.path === "/here")?.authorization).toBe(`Bearer ${token}`)
          expect(here.request.headers.authorization).toBeUndefined()
          expect(logged).toContain("A redirect leaves the OpenSolar origin")
          expect(logged).toContain(`${elsewhere.url}/landing`)
          expect(logged).toContain("answered")
          expect(logged).not.toContain(token)
          expect(Inspectable.format(here.request)).not.toContain(token)
          expect(JSON.stringify(here)).not.toContain(token)
          expect(inspect(here, { depth: 10 })).not.toContain(token)
          expect(String(here)).not.toContain(token)
        })
      )
    )

    it.scoped("never shows the token when a response or an error holding one is printed", () =>
      provideWorld(
        Effect.gen(function* () {
          const home = yield* recordingServer((request, response) =>
            request.path === "/missing" ? answerJson(response, 404, { detail: "Not found." }) : response.end("<html>")
          )
          const client = yield* makeClient({ baseUrl: home.url })

          const notFound = yield* Effect.flip(client.filterStatusOk.get("/missing"))
          const undecodable = yield* Effect.flip(Effect.flatMap(client.get("/html"), (response) => response.json))

          const token = BearerToken.value(yield* currentToken)
          expect(home.received.map((request) => request.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`])
          expect([notFound._tag, undecodable._tag]).toEqual(["ResponseError", "ResponseError"])
          for (const error of [notFound, undecodable]) {
            expect(JSON.stringify(error)).not.toContain(token)
            expect(inspect(error, { depth: 10 })).not.toContain(token)
            expect(String(error)).not.toContain(token)
            expect(inspect(error._tag === "ResponseError" ? error.response : error, { depth: 10 })).not.toContain(token)
          }
        })
      )
    )
    it.effect("keeps the request as sent out of a response's own properties", () =>
      provideWorld(
        Effect.gen(function* () {
          const client = yield* makeClient()
          const response = yield* client.get("/api/orgs/1/")
          const error = yield* Effect.flip(client.filterStatusOk.get("/api/orgs/1/nothing/"))

          const token = BearerToken.value(yield* currentToken)
          const deeply = { depth: Infinity, showHidden: true, getters: false, customInspect: false }
          expect(error._tag).toBe("ResponseError")
          for (const shown of [
            JSON.stringify({ ...response }),
            inspect({ ...response }, deeply),
            inspect(response, deeply),
            inspect(structuredClone(response), deeply),
            inspect(error, deeply),
            JSON.stringify(Object.getOwnPropertyNames(response).map((name) => Reflect.get(response, name)))
          ]) {
            expect(shown).not.toContain(token)
          }
        })
      )
    )

    describe("spans of failed connections", () => {
      const passwordCanary = "canary-password-7e3a9d51c0"
      const tokenCanary = "canarytoken4f9b2e7d1a6c08e3b5f2a9d4c7e1b06f"

      // An address on loopback where nothing listens, so that connecting is refused.
      const refusedUrl = Effect.async<string>((resume) => {
        const server = net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as net.AddressInfo
          server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}`)))
        })
      })

      const recordingTracer = Effect.map(Effect.tracer, (native) => {
        const spans: Array<Tracer.Span> = []
        const tracer = Tracer.make({
          span: (...args) => {
            const span = native.span(...args)
            spans.push(span)
            return span
          },
          context: native.context
        })
        return { spans, tracer }
      })

      const loggingIn = (baseUrl: string) =>
        TokenRef.layerMemory().pipe(
          Layer.provide(
            AuthStrategy.layer(AuthStrategy.password({ username: accounts.example.username, password: passwordCanary }))
          ),
          Layer.provide(OpenSolarApi.layer({ baseUrl }))
        )

      const get = (
        baseUrl: string,
        tokens: Layer.Layer<TokenRef.TokenRef, AuthError.ConfigurationError, HttpClient.HttpClient>
      ) =>
        Effect.flip(
          Effect.flatMap(OpenSolarClient.make({ baseUrl, retryPolicy: twoAttempts }), (client) =>
            client.get("/api/orgs/1/projects/")
          ).pipe(Effect.provide(tokens))
        )

      it.effect("hold neither the password nor the token, however deeply they are inspected", () =>
        Effect.gen(function* () {
          const { spans, tracer } = yield* recordingTracer
          const sim = yield* Simulator
          const refused = yield* refusedUrl
          yield* sim.injectFault({ endpoint: "any", times: 4, fault: Fault.ConnectionReset() })
          const canaryToken = TokenRef.layerStatic(BearerToken.unsafeMake(tokenCanary))

          const errors = yield* Effect.all([
            get(sim.url, loggingIn(sim.url)),
            get(sim.url, canaryToken),
            get(refused, loggingIn(refused)),
            get(refused, canaryToken)
          ]).pipe(Effect.withTracer(tracer))

          const printed = inspect(spans, { depth: Infinity, showHidden: true, getters: true })
          expect(printed).not.toContain(passwordCanary)
          expect(printed).not.toContain(tokenCanary)
          expect(errors.map((error) => error._tag)).toEqual(Array(4).fill("TransportError"))
          expect(new Set(spans.map((span) => span.name))).toEqual(
            new Set(["OpenSolarClient GET", "TokenRef.refresh", "AuthStrategy.authenticate", "OpenSolarApi.login"])
          )
          const requests = spans.filter((span) => span.name === "OpenSolarClient GET")
          expect(requests).toHaveLength(4)
          for (const span of requests) {
            expect(span.status._tag === "Ended" && Exit.isFailure(span.status.exit)).toBe(true)
          }
          expect(printed).toContain("TransportError")
        }).pipe(Effect.provide(Layer.merge(Simulator.layer(), NodeHttpClient.layerUndici)))
      )
    })
  })

  describe("organisations", () => {
    it.effect("forOrg resolves relative URLs under /api/orgs/{orgId}/", () =>
      provideWorld(
        Effect.gen(function* () {
          const client = yield* makeClient()
          const layerClient = yield* OpenSolarClient.forOrg(1).pipe(
            Effect.provideService(OpenSolarClient.OpenSolarClient, client)
          )

          yield* client.forOrg(1).get("")
          yield* client.forOrg(1).get("/projects/")
          yield* layerClient.filterStatusOk.get("projects/")

          expect((yield* resourceLog).map((entry) => entry.path)).toEqual([
            "/api/orgs/1/",
            "/api/orgs/1/projects/",
            "/api/orgs/1/projects/"
          ])
        })
      )
    )

    it.effect("forOrg with an id that is not a positive integer fails each request with ConfigurationError", () =>
      provideWorld(
        Effect.gen(function* () {
          const client = yield* makeClient()

          const errors = yield* Effect.forEach([0, -1, 1.5, Number.NaN], (orgId) =>
            Effect.flip(client.forOrg(orgId).get("projects/"))
          )

          expect(errors.map((error) => error._tag)).toEqual(Array(4).fill("ConfigurationError"))
          expect(errors[0]!.message).toContain("forOrg was given 0")
          expect(yield* Effect.flatten(Effect.map(Simulator, (sim) => sim.requestLog))).toEqual([])
        })
      )
    )
  })

  describe("timeouts", () => {
    const slowPost = (options: OpenSolarClient.Options) =>
      Effect.gen(function* () {
        const sim = yield* Simulator
        const client = yield* makeClient(options)
        yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.get)
        yield* sim.injectFault({ endpoint: "projects", fault: Fault.Delay({ duration: "1 hour" }) })

        return yield* advancingToNewSleep(
          Duration.toMillis("2 hours"),
          Effect.either(client.post("/api/orgs/1/projects/"))
        )
      })

    it.effect("an exchange that takes longer than the timeout fails with RequestTimeout", () =>
      provideWorld(
        Effect.gen(function* () {
          const outcome = yield* slowPost({ timeout: "30 seconds" })

          expect(outcome._tag).toBe("Left")
          expect(outcome._tag === "Left" ? outcome.left : undefined).toMatchObject({
            _tag: "RequestTimeout",
            timeoutMillis: 30_000
          })
        })
      )
    )

    it.effect("Duration.infinity leaves the limit to the platform client", () =>
      provideWorld(
        Effect.gen(function* () {
          const outcome = yield* slowPost({ timeout: Duration.infinity })

          expect(outcome._tag).toBe("Right")
          expect(outcome._tag === "Right" ? outcome.right.status : undefined).toBe(405)
        })
      )
    )
  })

  describe("configuration", () => {
    it.effect("refuses a base URL that is not https off loopback, and nonsensical limits", () =>
      provideWorld(
        Effect.gen(function* () {
          const errors = yield* Effect.forEach(
            [
              { baseUrl: "http://api.opensolar.com" },
              { baseUrl: "not a url" },
              { maxRedirects: -1 },
              { timeout: "soon" as never }
            ] satisfies Array<OpenSolarClient.Options>,
            (options) => Effect.flip(OpenSolarClient.make(options))
          )

          expect(errors.map((error) => error._tag)).toEqual(Array(4).fill("ConfigurationError"))
          expect(errors[0]!.message).toContain("https://api.opensolar.com")
          expect(errors.map((error) => error.variables)).toEqual([
            ["baseUrl"],
            ["baseUrl"],
            ["maxRedirects"],
            ["timeout"]
          ])
        })
      )
    )
  })
})
