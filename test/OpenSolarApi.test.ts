import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  Context,
  DateTime,
  Duration,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Logger,
  Option,
  Redacted,
  TestClock,
  Tracer
} from "effect"
import * as net from "node:net"
import { inspect } from "node:util"
import * as AuthError from "../src/AuthError.js"
import * as BearerToken from "../src/BearerToken.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import { accounts, Fault, orgs, Simulator, type SimulatorOptions, type SimulatorService } from "../src/testing/index.js"
import * as TokenGrant from "../src/TokenGrant.js"

const tokenText = "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002"
const token = BearerToken.unsafeMake(tokenText)
const issuedText = "s_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
const password = Redacted.make("gettothechopper")
const username = "arnie@illbeback.com"

interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

type Answer = Response | HttpClientError.HttpClientError | "never"

const sentBody = (request: HttpClientRequest.HttpClientRequest): unknown =>
  request.body._tag === "Uint8Array" ? JSON.parse(new TextDecoder().decode(request.body.body)) : undefined

const stub = (answer: (sent: Sent) => Answer) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request, url) => {
    const entry: Sent = {
      method: request.method,
      url: url.toString(),
      headers: request.headers,
      body: sentBody(request)
    }
    sent.push(entry)
    const result = answer(entry)
    if (result === "never") {
      return Effect.never
    }
    if (result instanceof Response) {
      return Effect.succeed(HttpClientResponse.fromWeb(request, result))
    }
    return Effect.fail(result)
  })
  return { sent, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

const text = (status: number, body: string, contentType = "text/html"): Response =>
  new Response(body, { status, headers: { "content-type": contentType } })

const withApi = <A, E>(
  answer: (sent: Sent) => Answer,
  use: (api: OpenSolarApi.Service, sent: ReadonlyArray<Sent>) => Effect.Effect<A, E>,
  options: OpenSolarApi.Options = {}
): Effect.Effect<A, E | AuthError.ConfigurationError> => {
  const server = stub(answer)
  return OpenSolarApi.make(options).pipe(
    Effect.flatMap((api) => use(api, server.sent)),
    Effect.provide(server.layer)
  )
}

const tokenAnswer =
  (extra: Record<string, unknown> = {}) =>
  () =>
    json(200, { token: issuedText, ...extra })

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

const failure = <A>(effect: Effect.Effect<A, AuthError.ApiError>) => Effect.flip(effect)

describe("OpenSolarApi requests", () => {
  it.effect("logs in with a JSON body and no token field when no code is given", () =>
    withApi(tokenAnswer({ user: { id: 7 } }), (api, sent) =>
      Effect.gen(function* () {
        const response = yield* api.login({ username, password })

        expect(BearerToken.value(response.token)).toBe(issuedText)
        expect(sent).toHaveLength(1)
        expect(sent[0]!.method).toBe("POST")
        expect(sent[0]!.url).toBe("https://api.opensolar.com/api-token-auth/")
        expect(sent[0]!.headers.accept).toBe("application/json")
        expect(sent[0]!.headers["content-type"]).toBe("application/json")
        expect(sent[0]!.headers.authorization).toBeUndefined()
        expect(sent[0]!.body).toEqual({ username, password: "gettothechopper" })
      })
    )
  )

  it.effect("sends the two-factor code in the body's token field", () =>
    withApi(tokenAnswer(), (api, sent) =>
      Effect.gen(function* () {
        yield* api.login({ username, password, mfaCode: Redacted.make("123456") })

        expect(sent[0]!.body).toEqual({ username, password: "gettothechopper", token: "123456" })
      })
    )
  )

  it.effect("refreshes a session with the bearer header, with and without an organisation", () =>
    withApi(tokenAnswer(), (api, sent) =>
      Effect.gen(function* () {
        yield* api.fetchToken({ token })
        yield* api.fetchToken({ token, orgId: 3 })

        expect(sent.map(({ method, url }) => `${method} ${url}`)).toEqual([
          "GET https://api.opensolar.com/api/fetch_token/",
          "GET https://api.opensolar.com/api/fetch_token/?org_id=3"
        ])
        for (const request of sent) {
          expect(request.headers.authorization).toBe(`Bearer ${tokenText}`)
          expect(request.headers.accept).toBe("application/json")
        }
      })
    )
  )

  it.effect("turns machine-user mode on with a PATCH of the user", () =>
    withApi(
      () => json(200, { url: "https://api.opensolar.com/auth/users/7/", email: username, is_machine_user: true }),
      (api, sent) =>
        Effect.gen(function* () {
          const response = yield* api.setMachineUser({ token, userId: 7, enabled: true })

          expect(response.isMachineUser).toBe(true)
          expect(response.email).toEqual(Option.some(username))
          expect(sent[0]!.method).toBe("PATCH")
          expect(sent[0]!.url).toBe("https://api.opensolar.com/auth/users/7/")
          expect(sent[0]!.body).toEqual({ is_machine_user: true })
          expect(sent[0]!.headers.authorization).toBe(`Bearer ${tokenText}`)
        })
    )
  )

  it.effect("keeps a base URL's path prefix and drops its trailing slash", () =>
    withApi(
      tokenAnswer(),
      (api, sent) =>
        Effect.gen(function* () {
          yield* api.login({ username, password })

          expect(api.baseUrl).toBe("https://gateway.example.com/opensolar")
          expect(sent[0]!.url).toBe("https://gateway.example.com/opensolar/api-token-auth/")
        }),
      { baseUrl: "https://gateway.example.com/opensolar/" }
    )
  )
})

describe("OpenSolarApi configuration", () => {
  it.effect("refuses an unusable base URL, naming the problem and the setting", () =>
    Effect.gen(function* () {
      const cases = [
        ["http://api.opensolar.com", "plain http is allowed only for loopback hosts"],
        ["api.opensolar.com", "is not an absolute URL"],
        ["https://user:secret@api.opensolar.com", "must not contain a user name or password"],
        ["https://api.opensolar.com/?x=1", "must not contain a query or fragment"]
      ] as const
      for (const [baseUrl, problem] of cases) {
        const error = yield* Effect.flip(withApi(tokenAnswer(), () => Effect.void, { baseUrl }))

        expect(error._tag).toBe("ConfigurationError")
        expect(error.message).toContain(problem)
        expect(error.message).toContain("baseUrl")
        expect(error.message).not.toContain("secret")
      }
    })
  )

  it.effect("refuses a timeout that is not a duration from 1 millisecond to 100 years", () =>
    Effect.gen(function* () {
      for (const timeout of [0, -5, Duration.infinity, Number.NaN, "abc", "5e-324 days", "36526 days"]) {
        const error = yield* Effect.flip(
          withApi(tokenAnswer(), () => Effect.void, { timeout: timeout as Duration.DurationInput })
        )

        expect(error._tag, String(timeout)).toBe("ConfigurationError")
        expect(error.message).toContain("timeout")
      }
    })
  )

  it.effect("is also available as a layer", () =>
    Effect.gen(function* () {
      const api = yield* OpenSolarApi.OpenSolarApi
      expect(api.baseUrl).toBe("http://127.0.0.1:8000")
    }).pipe(
      Effect.provide(OpenSolarApi.layer({ baseUrl: "http://127.0.0.1:8000" })),
      Effect.provide(stub(tokenAnswer()).layer)
    )
  )
})

describe("OpenSolarApi status mapping", () => {
  const loginError = (answer: Answer, mfaCode?: string) =>
    withApi(
      () => answer,
      (api) =>
        failure(
          api.login({ username, password, ...(mfaCode === undefined ? {} : { mfaCode: Redacted.make(mfaCode) }) })
        )
    )

  const fetchError = (answer: Answer, orgId?: number) =>
    withApi(
      () => answer,
      (api) => failure(api.fetchToken({ token, ...(orgId === undefined ? {} : { orgId }) }))
    )

  it.effect("400 with non_field_errors is invalid credentials", () =>
    Effect.gen(function* () {
      const error = yield* loginError(json(400, { non_field_errors: ["Unable to log in with provided credentials."] }))

      expect(error._tag).toBe("InvalidCredentials")
      expect(error.message).toContain("POST https://api.opensolar.com/api-token-auth/")
      expect(error.message).toContain("Forgot Password")
    })
  )

  it.effect("400 that speaks of a two-factor code is MFA required without a code, invalid code with one", () =>
    Effect.gen(function* () {
      const bodies = [
        { non_field_errors: ["Please provide your 2FA token."] },
        { non_field_errors: ["Invalid token"] },
        { non_field_errors: ["OTP required"] },
        { token: ["This field is required."] },
        { detail: "Two-factor authentication code required" },
        { error: "MFA code invalid" }
      ]
      for (const body of bodies) {
        expect((yield* loginError(json(400, body)))._tag).toBe("MfaRequired")
        expect((yield* loginError(json(400, body), "123456"))._tag).toBe("InvalidMfaCode")
      }
    })
  )

  it.effect("other 400s are invalid credentials on login and unexpected elsewhere", () =>
    Effect.gen(function* () {
      expect((yield* loginError(json(400, { username: ["This field may not be blank."] })))._tag).toBe(
        "InvalidCredentials"
      )
      expect((yield* loginError(text(400, "Bad Request")))._tag).toBe("InvalidCredentials")
      const elsewhere = yield* fetchError(json(400, { non_field_errors: ["Unable to log in"] }))
      expect(elsewhere._tag).toBe("UnexpectedResponse")
    })
  )

  it.effect("401 is a rejected token, named by the fingerprint of the token sent", () =>
    Effect.gen(function* () {
      const rejected = yield* fetchError(json(401, { detail: "Invalid token." }, { "www-authenticate": "Token" }))
      expect(rejected).toBeInstanceOf(AuthError.TokenRejected)
      expect((rejected as AuthError.TokenRejected).fingerprint).toBe(BearerToken.fingerprint(token))
      expect(rejected.message).toContain(BearerToken.fingerprint(token))
      expect(rejected.message).not.toContain(tokenText)

      const onLogin = yield* loginError(json(401, { detail: "Authentication credentials were not provided." }))
      expect(onLogin).toBeInstanceOf(AuthError.TokenRejected)
      expect((onLogin as AuthError.TokenRejected).fingerprint).toBeUndefined()
    })
  )

  it.effect("402, 403, 5xx and unknown statuses", () =>
    Effect.gen(function* () {
      expect((yield* fetchError(json(402, { detail: "Payment required" })))._tag).toBe("ApiAccessNotEnabled")
      expect((yield* fetchError(json(403, { detail: "Forbidden" })))._tag).toBe("Forbidden")
      for (const status of [500, 502, 503, 504]) {
        const error = yield* fetchError(json(status, { detail: "oops" }))
        expect(error).toBeInstanceOf(AuthError.ServerError)
        expect((error as AuthError.ServerError).status).toBe(status)
      }
      for (const status of [301, 404, 405, 418]) {
        const error = yield* fetchError(json(status, { detail: "what" }))
        expect(error).toBeInstanceOf(AuthError.UnexpectedResponse)
        expect((error as AuthError.UnexpectedResponse).status).toBe(status)
      }
    })
  )

  it.effect("429 carries Retry-After in seconds or as an HTTP date relative to the clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2025, 5, 1, 12, 0, 0))
      const retryAfter = (header?: string) =>
        Effect.map(
          fetchError(json(429, { detail: "Throttled" }, header === undefined ? {} : { "retry-after": header })),
          (error) => (error as AuthError.RateLimited).retryAfterMillis
        )

      expect(yield* retryAfter("30")).toBe(30_000)
      expect(yield* retryAfter("Sun, 01 Jun 2025 12:02:00 GMT")).toBe(120_000)
      expect(yield* retryAfter("Sun, 01 Jun 2025 11:00:00 GMT")).toBeUndefined()
      expect(yield* retryAfter("-1")).toBeUndefined()
      expect(yield* retryAfter("later")).toBeUndefined()
      expect(yield* retryAfter()).toBeUndefined()

      const error = yield* fetchError(json(429, {}, { "retry-after": "30" }))
      expect(error._tag).toBe("RateLimited")
      expect(error.transient).toBe(true)
      expect(error.message).toContain("30s")
    })
  )

  it.effect("a success without a usable token is an unexpected response that never quotes JSON", () =>
    Effect.gen(function* () {
      const withoutToken = yield* fetchError(json(200, { detail: "ok", secret: tokenText }))
      expect(withoutToken).toBeInstanceOf(AuthError.UnexpectedResponse)
      expect((withoutToken as AuthError.UnexpectedResponse).reason).toBe("a JSON object without a usable token")
      expect((withoutToken as AuthError.UnexpectedResponse).excerpt).toBeUndefined()

      for (const body of [{ token: "" }, { token: "has space" }, { token: null }]) {
        const error = yield* fetchError(json(200, body))
        expect((error as AuthError.UnexpectedResponse).reason).toBe("a JSON object without a usable token")
      }

      const notObject = yield* fetchError(json(200, [tokenText]))
      expect((notObject as AuthError.UnexpectedResponse).reason).toBe("JSON that is not an object")

      const malformed = yield* fetchError(text(200, `{"token": "${tokenText}", "user": {`, "application/json"))
      expect((malformed as AuthError.UnexpectedResponse).reason).toBe("malformed JSON")
      expect((malformed as AuthError.UnexpectedResponse).excerpt).toBeUndefined()
      expect(malformed.message).not.toContain(tokenText)
    })
  )

  it.effect("an HTML page is an unexpected response with a short excerpt", () =>
    Effect.gen(function* () {
      const page = `<!DOCTYPE html>\n<html>\n  <title>Maintenance</title>\n<body>csrf ${tokenText}</body></html>`
      const error = yield* fetchError(text(200, page))

      expect(error).toBeInstanceOf(AuthError.UnexpectedResponse)
      const unexpected = error as AuthError.UnexpectedResponse
      expect(unexpected.reason).toBe("a body that is not JSON")
      expect(unexpected.excerpt).toBe("<!DOCTYPE html> <html> <title>Maintenance</title> <body>csrf …</body></html>")
      expect(error.message).not.toContain(tokenText)

      const badGateway = yield* fetchError(text(502, page))
      expect(badGateway._tag).toBe("ServerError")
    })
  )

  it.effect("a transport failure is a transport error with a short description", () =>
    Effect.gen(function* () {
      const refused = (request: HttpClientRequest.HttpClientRequest) =>
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) })
        })
      const server = stub(() => "never")
      const client = HttpClient.make((request) => Effect.fail(refused(request)))
      const error = yield* OpenSolarApi.make().pipe(
        Effect.flatMap((api) => failure(api.fetchToken({ token, orgId: 3 }))),
        Effect.provide(Layer.succeed(HttpClient.HttpClient, client))
      )

      expect(server.sent).toHaveLength(0)
      expect(error).toBeInstanceOf(AuthError.TransportError)
      expect((error as AuthError.TransportError).description).toBe("connection refused")
      expect(error.message).toContain("GET https://api.opensolar.com/api/fetch_token/?org_id=3")
      expect(error.transient).toBe(true)
    })
  )

  it.effect("a request that takes longer than the timeout fails with RequestTimeout", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(fetchError("never"))
      yield* TestClock.adjust(Duration.seconds(9))
      expect(fiber.unsafePoll()).toBeNull()

      yield* TestClock.adjust(Duration.seconds(1))
      const error = yield* Fiber.join(fiber)

      expect(error).toBeInstanceOf(AuthError.RequestTimeout)
      expect((error as AuthError.RequestTimeout).timeoutMillis).toBe(10_000)
      expect(error.message).toContain("GET https://api.opensolar.com/api/fetch_token/")
    })
  )

  it.effect("honours a custom timeout", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        withApi(
          () => "never",
          (api) => failure(api.login({ username, password })),
          { timeout: "2 seconds" }
        )
      )
      yield* TestClock.adjust(Duration.seconds(2))
      const error = yield* Fiber.join(fiber)

      expect((error as AuthError.RequestTimeout).timeoutMillis).toBe(2_000)
    })
  )
})

describe("OpenSolarApi over any client", () => {
  it.effect("reads error statuses from a client that fails on them", () =>
    Effect.gen(function* () {
      const server = stub(() => json(401, { detail: "Invalid token." }))
      const strict = Layer.map(server.layer, (context) =>
        Context.add(
          context,
          HttpClient.HttpClient,
          HttpClient.filterStatusOk(Context.get(context, HttpClient.HttpClient))
        )
      )

      const error = yield* OpenSolarApi.make().pipe(
        Effect.flatMap((api) => failure(api.fetchToken({ token }))),
        Effect.provide(strict)
      )

      expect(error).toBeInstanceOf(AuthError.TokenRejected)
      expect((error as AuthError.TokenRejected).fingerprint).toBe(BearerToken.fingerprint(token))
    })
  )
})

describe("OpenSolarApi secrets", () => {
  const status = fc.constantFrom(200, 201, 400, 401, 402, 403, 404, 418, 429, 500, 502, 503)
  const bodyKind = fc.constantFrom("json", "json-token", "malformed", "html", "plain", "empty")

  const echo = (kind: string, secrets: ReadonlyArray<string>): { body: string; contentType: string } => {
    const joined = secrets.join(" ")
    switch (kind) {
      case "json":
        return { body: JSON.stringify({ non_field_errors: secrets, detail: joined }), contentType: "application/json" }
      case "json-token":
        return { body: JSON.stringify({ token: ["bad"], password: secrets }), contentType: "application/json" }
      case "malformed":
        return { body: `{"token": ${JSON.stringify(joined)}`, contentType: "application/json" }
      case "html":
        return { body: `<html><body><p>${joined}</p></body></html>`, contentType: "text/html" }
      case "plain":
        return { body: `error: ${joined}`, contentType: "text/plain" }
      default:
        return { body: "", contentType: "text/plain" }
    }
  }

  it.effect.prop(
    "no error built from any answer echoing them contains the password or token sent",
    {
      passwordSuffix: fc.string({ maxLength: 24 }),
      tokenSuffix: BearerToken.BearerTokenText,
      mfaCode: fc.option(fc.stringMatching(/^[0-9]{6}$/), { nil: undefined }),
      status,
      kind: bodyKind,
      operation: fc.constantFrom("login", "fetchToken", "setMachineUser")
    },
    ({ passwordSuffix, tokenSuffix, mfaCode, status, kind, operation }) =>
      Effect.gen(function* () {
        const passwordCanary = `canary-password ${passwordSuffix}`
        const tokenCanary = `canary${tokenSuffix}`
        const sentToken = BearerToken.unsafeMake(tokenCanary)
        const sentSecrets = operation === "login" ? [passwordCanary, mfaCode ?? ""] : [tokenCanary]
        const { body, contentType } = echo(kind, sentSecrets)
        const retryAfter = { "retry-after": passwordCanary.replace(/[^\x20-\x7e]/g, "") }
        const answer = () => new Response(body, { status, headers: { "content-type": contentType, ...retryAfter } })

        const exit = yield* withApi(answer, (api): Effect.Effect<unknown, AuthError.ApiError> => {
          switch (operation) {
            case "login":
              return api.login({
                username,
                password: Redacted.make(passwordCanary),
                ...(mfaCode === undefined ? {} : { mfaCode: Redacted.make(mfaCode) })
              })
            case "fetchToken":
              return api.fetchToken({ token: sentToken, orgId: 3 })
            default:
              return api.setMachineUser({ token: sentToken, userId: 7, enabled: true })
          }
        }).pipe(Effect.exit)

        if (Exit.isFailure(exit)) {
          const error = yield* Effect.flip(exit)
          const printed = [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 })]
          for (const output of printed) {
            expect(output).not.toContain(passwordCanary)
            expect(output).not.toContain(tokenCanary)
          }
          if (error._tag === "UnexpectedResponse" && error.excerpt !== undefined && mfaCode !== undefined) {
            expect(error.excerpt).not.toContain(mfaCode)
          }
        }
      }),
    { fastCheck: { numRuns: 300 } }
  )
})

describe("OpenSolarApi tracing", () => {
  const attributesOf = (span: Tracer.Span): Record<string, unknown> => Object.fromEntries(span.attributes)

  it.effect("records a span per request with method, URL, status and fingerprints, and no secret", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer

      yield* withApi(tokenAnswer({ user: { id: 7 } }), (api) =>
        Effect.gen(function* () {
          yield* api.login({ username, password })
          yield* api.fetchToken({ token, orgId: 3 })
        })
      ).pipe(Effect.withTracer(tracer))

      const login = spans.find((span) => span.name === "OpenSolarApi.login")!
      expect(attributesOf(login)).toMatchObject({
        "http.request.method": "POST",
        "url.full": "https://api.opensolar.com/api-token-auth/",
        "http.response.status_code": 200,
        "opensolar.issued_token.fingerprint": BearerToken.fingerprint(BearerToken.unsafeMake(issuedText))
      })

      const fetch = spans.find((span) => span.name === "OpenSolarApi.fetchToken")!
      expect(attributesOf(fetch)).toMatchObject({
        "http.request.method": "GET",
        "url.full": "https://api.opensolar.com/api/fetch_token/?org_id=3",
        "http.response.status_code": 200,
        "opensolar.token.fingerprint": BearerToken.fingerprint(token)
      })

      expect(spans.map((span) => span.name)).toEqual(["OpenSolarApi.login", "OpenSolarApi.fetchToken"])

      const everything = JSON.stringify(spans.map((span) => [span.name, attributesOf(span)]))
      for (const secret of [tokenText, issuedText, "gettothechopper"]) {
        expect(everything).not.toContain(secret)
      }
    })
  )

  it.effect("hides the token from a client that logs its requests, even when the program redacts nothing", () =>
    Effect.gen(function* () {
      const server = stub(tokenAnswer())
      const printed: Array<string> = []
      const logging = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, HttpClient.tapRequest(Effect.log))
      )
      const capture = Logger.make(({ message }) => {
        printed.push(inspect(message, { depth: Infinity }))
      })

      yield* OpenSolarApi.make().pipe(
        Effect.flatMap((api) => api.fetchToken({ token })),
        Effect.provide(Layer.provide(logging, server.layer)),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Effect.locally(Headers.currentRedactedNames, [])
      )

      expect(printed).toHaveLength(1)
      expect(printed[0]).toContain("authorization")
      expect(printed[0]).not.toContain(tokenText)
    })
  )

  it.effect("records the failure of a request on its span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer

      yield* withApi(
        () => json(401, { detail: "Invalid token." }),
        (api) => failure(api.fetchToken({ token }))
      ).pipe(Effect.withTracer(tracer))

      const fetch = spans.find((span) => span.name === "OpenSolarApi.fetchToken")!
      expect(attributesOf(fetch)["http.response.status_code"]).toBe(401)
      expect(fetch.status._tag === "Ended" && Exit.isFailure(fetch.status.exit)).toBe(true)
    })
  )
})

describe("toGrant", () => {
  const response = (user: Record<string, unknown>) =>
    withApi(tokenAnswer({ user, org_id: 1, orgs: [{ id: 1, name: "One" }] }), (api) =>
      api.login({ username, password })
    )

  it.effect("issues the grant at the clock's time, expiring after the standard lifetime", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2025, 0, 1))
      const grant = yield* Effect.flatMap(response({ id: 7 }), (answer) =>
        OpenSolarApi.toGrant(answer, { strategy: "password" })
      )

      expect(DateTime.toEpochMillis(grant.issuedAt)).toBe(Date.UTC(2025, 0, 1))
      expect(Option.map(grant.expiresAt, DateTime.toEpochMillis)).toEqual(
        Option.some(Date.UTC(2025, 0, 1) + Duration.toMillis(TokenGrant.standardLifetime))
      )
      expect(grant.strategy).toBe("password")
      expect(grant.user.id).toBe(7)
      expect(Option.map(grant.org, (org) => org.name)).toEqual(Option.some("One"))
      expect(grant.orgs).toHaveLength(1)
    })
  )

  it.effect("uses a given lifetime, and none for a machine user", () =>
    Effect.gen(function* () {
      const short = yield* Effect.flatMap(response({ id: 7 }), (answer) =>
        OpenSolarApi.toGrant(answer, { strategy: "password", lifetime: "1 hour" })
      )
      expect(Option.map(short.expiresAt, DateTime.toEpochMillis)).toEqual(Option.some(3_600_000))

      const machine = yield* Effect.flatMap(response({ id: 8, is_machine_user: true }), (answer) =>
        OpenSolarApi.toGrant(answer, { strategy: "session" })
      )
      expect(machine.expiresAt).toEqual(Option.none())
      expect(machine.isPermanent).toBe(true)
    })
  )

  it.effect("refuses a lifetime that is not a duration from 1 millisecond to 100 years, naming it", () =>
    Effect.gen(function* () {
      const answer = yield* response({ id: 7 })

      for (const lifetime of ["abc", 0, Number.NaN, -1, Duration.infinity, 8.64e15, "99999999999999999999 weeks"]) {
        const error = yield* Effect.flip(
          OpenSolarApi.toGrant(answer, { strategy: "password", lifetime: lifetime as Duration.DurationInput })
        )

        expect(error._tag, String(lifetime)).toBe("ConfigurationError")
        expect(error.variables).toEqual(["lifetime"])
      }
    })
  )
})

describe("OpenSolarApi against the simulator", () => {
  const { example, mfa, machine, multiOrg, noApiAccess } = accounts

  const run = <A, E>(
    use: (api: OpenSolarApi.Service, sim: SimulatorService) => Effect.Effect<A, E>,
    options: { readonly simulator?: SimulatorOptions; readonly api?: OpenSolarApi.Options } = {}
  ): Effect.Effect<A, E | AuthError.ConfigurationError> =>
    Effect.gen(function* () {
      const sim = yield* Simulator
      const api = yield* OpenSolarApi.make({ ...options.api, baseUrl: sim.url })
      return yield* use(api, sim)
    }).pipe(Effect.provide(Layer.merge(Simulator.layer(options.simulator), NodeHttpClient.layerUndici)))

  const loginAs = (api: OpenSolarApi.Service, account: { readonly username: string; readonly password: string }) =>
    api.login({ username: account.username, password: Redacted.make(account.password) })

  // Lets sockets and timers of the real server progress without reading the wall clock.
  const nextTurn = Effect.async<void>((resume) => {
    const handle = setImmediate(() => resume(Effect.void))
    return Effect.sync(() => clearImmediate(handle))
  })

  const awaitSleeps = (count: number) =>
    Effect.gen(function* () {
      while ((yield* TestClock.sleeps()).length < count) {
        yield* nextTurn
      }
    })

  it.effect("logs in with the documented account and reads user and organisation", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        const response = yield* loginAs(api, example)

        expect(yield* sim.tokenState(BearerToken.value(response.token))).toBe("valid")
        expect(response.user.id).toBe(example.id)
        expect(response.user.email).toBe(example.username)
        expect(response.user.isMachineUser).toBe(false)
        expect(response.user.url).toBe(`${sim.url}/auth/users/${example.id}/`)
        expect(Option.map(response.org, ({ id, name }) => ({ id, name }))).toEqual(
          Option.some({ id: 1, name: orgs.main.name })
        )
        expect(response.orgs.map((org) => org.id)).toEqual([1])
        expect(response.fields).toMatchObject({ is_new_user: false, org_id: 1 })
        expect("token" in response.fields).toBe(false)

        const log = yield* sim.requestLog
        expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.status}`)).toEqual([
          "POST /api-token-auth/ 200"
        ])
      })
    )
  )

  it.effect("reads a user given as a URL string, and answers without organisation fields", () =>
    run(
      (api) =>
        Effect.gen(function* () {
          const response = yield* loginAs(api, example)

          expect(response.user.id).toBe(example.id)
          expect(response.user.email).toBeUndefined()
          expect(response.org).toEqual(Option.none())
          expect(response.orgs).toEqual([])
        }),
      { simulator: { userShape: "url", orgInfo: "omitted" } }
    )
  )

  it.effect("refuses a wrong password as invalid credentials", () =>
    run((api) =>
      Effect.gen(function* () {
        const error = yield* failure(loginAs(api, { username: example.username, password: "illbeback" }))

        expect(error).toBeInstanceOf(AuthError.InvalidCredentials)
        expect(error.message).not.toContain("illbeback")
      })
    )
  )

  it.effect("asks an MFA account for its code, refuses a wrong one and accepts the current one", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        const missing = yield* failure(loginAs(api, mfa))
        expect(missing).toBeInstanceOf(AuthError.MfaRequired)

        const current = yield* sim.totpCode(mfa.username)
        const wrong = current === "000000" ? "111111" : "000000"
        const refused = yield* failure(
          api.login({ username: mfa.username, password: Redacted.make(mfa.password), mfaCode: Redacted.make(wrong) })
        )
        expect(refused).toBeInstanceOf(AuthError.InvalidMfaCode)

        const response = yield* api.login({
          username: mfa.username,
          password: Redacted.make(mfa.password),
          mfaCode: Redacted.make(current)
        })
        expect(response.user.id).toBe(mfa.id)

        const replayed = yield* failure(
          api.login({ username: mfa.username, password: Redacted.make(mfa.password), mfaCode: Redacted.make(current) })
        )
        expect(replayed).toBeInstanceOf(AuthError.InvalidMfaCode)
      })
    )
  )

  it.effect("throttles repeated logins with a Retry-After", () =>
    run(
      (api) =>
        Effect.gen(function* () {
          yield* loginAs(api, example)
          yield* loginAs(api, example)
          const error = yield* failure(loginAs(api, example))

          expect(error).toBeInstanceOf(AuthError.RateLimited)
          expect((error as AuthError.RateLimited).retryAfterMillis).toBe(60_000)
          expect(error.transient).toBe(true)
        }),
      { simulator: { loginRateLimit: 2 } }
    )
  )

  it.effect("refreshes a session, with and without an organisation", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        const first = yield* loginAs(api, multiOrg)
        expect(first.orgs.map((org) => org.id)).toEqual([1, 2])

        const refreshed = yield* api.fetchToken({ token: first.token })
        expect(BearerToken.equals(refreshed.token, first.token)).toBe(false)
        expect(yield* sim.tokenState(BearerToken.value(first.token))).toBe("revoked")

        const scoped = yield* api.fetchToken({ token: refreshed.token, orgId: 2 })
        expect(Option.map(scoped.org, ({ id, name }) => ({ id, name }))).toEqual(
          Option.some({ id: 2, name: orgs.second.name })
        )
        expect(scoped.orgs.map((org) => org.id)).toEqual([2])

        const log = yield* sim.requestLog
        expect(log.map((entry) => [entry.path, entry.search, entry.tokenState])).toEqual([
          ["/api-token-auth/", "", "none"],
          ["/api/fetch_token/", "", "valid"],
          ["/api/fetch_token/", "?org_id=2", "valid"]
        ])
        expect(Option.map(log[2]!.token, Redacted.value)).toEqual(Option.some(BearerToken.value(refreshed.token)))
      })
    )
  )

  it.effect("keeps the same token when the API answers with it", () =>
    run(
      (api) =>
        Effect.gen(function* () {
          const first = yield* loginAs(api, example)
          const grant = yield* OpenSolarApi.toGrant(first, { strategy: "password" })
          yield* TestClock.adjust(Duration.days(2))

          const again = yield* api.fetchToken({ token: first.token })
          const next = yield* OpenSolarApi.toGrant(again, { strategy: "session" })
          const continued = TokenGrant.continueFrom(Option.some(grant), next)

          expect(BearerToken.equals(again.token, first.token)).toBe(true)
          expect(continued.issuedAt).toEqual(grant.issuedAt)
          expect(continued.expiresAt).toEqual(grant.expiresAt)
        }),
      { simulator: { fetchTokenMode: "same" } }
    )
  )

  it.effect("rejects a revoked or unknown token with its fingerprint", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        const response = yield* loginAs(api, example)
        yield* sim.revokeToken(BearerToken.value(response.token))

        const error = yield* failure(api.fetchToken({ token: response.token, orgId: 1 }))

        expect(error).toBeInstanceOf(AuthError.TokenRejected)
        expect((error as AuthError.TokenRejected).fingerprint).toBe(BearerToken.fingerprint(response.token))
        expect(error.message).toContain(`GET ${sim.url}/api/fetch_token/?org_id=1`)
        expect(error.message).not.toContain(BearerToken.value(response.token))

        const unknown = yield* failure(api.fetchToken({ token: BearerToken.unsafeMake("not-a-real-token") }))
        expect(unknown._tag).toBe("TokenRejected")
      })
    )
  )

  it.effect("is forbidden an organisation the user does not belong to", () =>
    run((api) =>
      Effect.gen(function* () {
        const response = yield* loginAs(api, example)
        const error = yield* failure(api.fetchToken({ token: response.token, orgId: orgs.second.id }))

        expect(error).toBeInstanceOf(AuthError.Forbidden)
        expect(error.message).toContain("?org_id=2")
      })
    )
  )

  it.effect("turns a user into a machine user whose token never expires", () =>
    run((api) =>
      Effect.gen(function* () {
        const response = yield* loginAs(api, example)
        const updated = yield* api.setMachineUser({ token: response.token, userId: example.id, enabled: true })

        expect(updated.isMachineUser).toBe(true)
        expect(updated.email).toEqual(Option.some(example.username))
        expect(Option.isSome(updated.url)).toBe(true)

        const refreshed = yield* api.fetchToken({ token: response.token })
        const grant = yield* OpenSolarApi.toGrant(refreshed, { strategy: "session" })
        expect(grant.isPermanent).toBe(true)

        const other = yield* failure(api.setMachineUser({ token: refreshed.token, userId: machine.id, enabled: true }))
        expect(other).toBeInstanceOf(AuthError.Forbidden)
      })
    )
  )

  it.effect("refreshes the seeded machine user's permanent token", () =>
    run((api) =>
      Effect.gen(function* () {
        const response = yield* api.fetchToken({ token: BearerToken.unsafeMake(machine.token) })
        const grant = yield* OpenSolarApi.toGrant(response, { strategy: "machine" })

        expect(response.user.isMachineUser).toBe(true)
        expect(grant.expiresAt).toEqual(Option.none())
      })
    )
  )

  it.effect("maps every injected status to its error", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        const token = yield* Effect.map(sim.issueToken(noApiAccess.username), (text) =>
          BearerToken.unsafeMake(Redacted.value(text))
        )
        const fetchWith = (fault: Fault) =>
          Effect.zipRight(sim.injectFault({ endpoint: "fetchToken", fault }), failure(api.fetchToken({ token })))

        expect((yield* fetchWith(Fault.Status({ status: 401 })))._tag).toBe("TokenRejected")
        expect((yield* fetchWith(Fault.Status({ status: 402 })))._tag).toBe("ApiAccessNotEnabled")
        expect((yield* fetchWith(Fault.Status({ status: 403 })))._tag).toBe("Forbidden")
        expect((yield* fetchWith(Fault.Status({ status: 400, body: { org_id: ["bad"] } })))._tag).toBe(
          "UnexpectedResponse"
        )
        expect((yield* fetchWith(Fault.Status({ status: 404 })))._tag).toBe("UnexpectedResponse")

        const seconds = yield* fetchWith(Fault.Status({ status: 429, retryAfter: 7 }))
        expect((seconds as AuthError.RateLimited).retryAfterMillis).toBe(7_000)

        const inTwoMinutes = new Date((yield* Clock.currentTimeMillis) + 120_000).toUTCString()
        const date = yield* fetchWith(Fault.Status({ status: 429, retryAfter: inTwoMinutes }))
        expect((date as AuthError.RateLimited).retryAfterMillis).toBe(120_000)

        for (const status of [500, 502, 503]) {
          const error = yield* fetchWith(Fault.Status({ status }))
          expect(error).toBeInstanceOf(AuthError.ServerError)
          expect((error as AuthError.ServerError).status).toBe(status)
        }

        const loginWith = (fault: Fault, mfaCode?: string) =>
          Effect.zipRight(
            sim.injectFault({ endpoint: "login", fault }),
            failure(
              api.login({
                username: example.username,
                password: Redacted.make(example.password),
                ...(mfaCode === undefined ? {} : { mfaCode: Redacted.make(mfaCode) })
              })
            )
          )
        const mfaBody = { non_field_errors: ["Two-factor authentication code required."] }
        expect((yield* loginWith(Fault.Status({ status: 400, body: mfaBody })))._tag).toBe("MfaRequired")
        expect((yield* loginWith(Fault.Status({ status: 400, body: mfaBody }), "123456"))._tag).toBe("InvalidMfaCode")
        expect((yield* loginWith(Fault.Status({ status: 400 })))._tag).toBe("InvalidCredentials")
      })
    )
  )

  it.effect("reports malformed JSON and HTML pages as unexpected responses without leaking the body", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        yield* sim.injectFault({ endpoint: "login", fault: Fault.MalformedJson() })
        const malformed = yield* failure(loginAs(api, example))
        expect(malformed).toBeInstanceOf(AuthError.UnexpectedResponse)
        expect((malformed as AuthError.UnexpectedResponse).reason).toBe("malformed JSON")
        expect((malformed as AuthError.UnexpectedResponse).excerpt).toBeUndefined()
        expect(malformed.message).not.toContain("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")

        yield* sim.injectFault({ endpoint: "login", fault: Fault.HtmlBody({ status: 200 }) })
        const maintenance = yield* failure(loginAs(api, example))
        expect(maintenance).toBeInstanceOf(AuthError.UnexpectedResponse)
        expect((maintenance as AuthError.UnexpectedResponse).status).toBe(200)
        expect((maintenance as AuthError.UnexpectedResponse).excerpt).toMatch(/^<!DOCTYPE html> <html lang="en">/)
        expect(maintenance.message).toContain("Check that the base URL points at the OpenSolar API")

        yield* sim.injectFault({ endpoint: "login", fault: Fault.HtmlBody({}) })
        const badGateway = yield* failure(loginAs(api, example))
        expect(badGateway).toBeInstanceOf(AuthError.ServerError)
        expect((badGateway as AuthError.ServerError).status).toBe(502)
      })
    )
  )

  it.effect("reports a reset connection as a transport error", () =>
    run((api, sim) =>
      Effect.gen(function* () {
        yield* sim.injectFault({ endpoint: "fetchToken", fault: Fault.ConnectionReset() })
        const error = yield* failure(api.fetchToken({ token: BearerToken.unsafeMake(machine.token), orgId: 1 }))

        expect(error).toBeInstanceOf(AuthError.TransportError)
        expect(error.transient).toBe(true)
        expect(error.message).toContain(`GET ${sim.url}/api/fetch_token/?org_id=1`)
        expect((error as AuthError.TransportError).description).toMatch(/connection/)
        expect(error.message).not.toContain(machine.token)
      })
    )
  )

  it.effect("reports a refused connection as a transport error", () =>
    Effect.gen(function* () {
      const closedUrl = yield* run((_, sim) => Effect.succeed(sim.url))
      const api = yield* OpenSolarApi.make({ baseUrl: closedUrl })
      const error = yield* failure(loginAs(api, example))

      expect(error).toBeInstanceOf(AuthError.TransportError)
      expect((error as AuthError.TransportError).description).toBe("connection refused")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("times out a request delayed past the timeout, and waits for one delayed less", () =>
    run(
      (api, sim) =>
        Effect.gen(function* () {
          yield* sim.injectFault({ endpoint: "login", fault: Fault.Delay({ duration: Duration.seconds(30) }) })
          const slow = yield* Effect.fork(failure(loginAs(api, example)))
          yield* awaitSleeps(2)
          yield* TestClock.adjust(Duration.seconds(5))

          const error = yield* Fiber.join(slow)
          expect(error).toBeInstanceOf(AuthError.RequestTimeout)
          expect((error as AuthError.RequestTimeout).timeoutMillis).toBe(5_000)
          expect(error.message).toContain(`POST ${sim.url}/api-token-auth/`)

          yield* sim.injectFault({ endpoint: "login", fault: Fault.Delay({ duration: Duration.seconds(4) }) })
          const patient = yield* Effect.fork(loginAs(api, example))
          yield* awaitSleeps(2)
          yield* TestClock.adjust(Duration.seconds(4))

          const response = yield* Fiber.join(patient)
          expect(response.user.id).toBe(example.id)
        }),
      { api: { timeout: Duration.seconds(5) } }
    )
  )

  it.effect("leaves the platform no span of its own that could record the bearer token", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer

      yield* run((api) => api.fetchToken({ token: BearerToken.unsafeMake(machine.token), orgId: 1 })).pipe(
        Effect.withTracer(tracer)
      )

      const clientSpans = spans.filter((span) => !span.name.startsWith("http.server"))
      expect(clientSpans.map((span) => span.name)).toEqual(["OpenSolarApi.fetchToken"])
      expect(inspect(clientSpans, { depth: Infinity })).not.toContain(machine.token)
    })
  )
})

describe("OpenSolarApi spans of failed connections", () => {
  const passwordCanary = "canary-password-2c41f7d09e"
  const tokenCanary = "canarytoken8b5e0a3f6d1c94e7b2a0f5d8c3e6b9a1"

  // An address on loopback where nothing listens, so that connecting is refused.
  const refusedUrl = Effect.async<string>((resume) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}`)))
    })
  })

  it.effect("hold neither the password nor the token, however deeply they are inspected", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const sim = yield* Simulator
      yield* sim.injectFault({ endpoint: "login", fault: Fault.ConnectionReset() })
      const reset = yield* OpenSolarApi.make({ baseUrl: sim.url })
      const refused = yield* OpenSolarApi.make({ baseUrl: yield* refusedUrl })

      const errors = yield* Effect.all([
        failure(reset.login({ username, password: Redacted.make(passwordCanary) })),
        failure(refused.login({ username, password: Redacted.make(passwordCanary) })),
        failure(refused.fetchToken({ token: BearerToken.unsafeMake(tokenCanary), orgId: 1 }))
      ]).pipe(Effect.withTracer(tracer))

      const printed = inspect(spans, { depth: Infinity, showHidden: true, getters: true })
      expect(printed).not.toContain(passwordCanary)
      expect(printed).not.toContain(tokenCanary)
      expect(errors.map((error) => error._tag)).toEqual(["TransportError", "TransportError", "TransportError"])
      expect(spans.map((span) => span.name)).toEqual([
        "OpenSolarApi.login",
        "OpenSolarApi.login",
        "OpenSolarApi.fetchToken"
      ])
      for (const span of spans) {
        expect(span.status._tag === "Ended" && Exit.isFailure(span.status.exit)).toBe(true)
      }
      expect(printed).toContain("TransportError")
    }).pipe(Effect.provide(Layer.merge(Simulator.layer(), NodeHttpClient.layerUndici)))
  )
})
