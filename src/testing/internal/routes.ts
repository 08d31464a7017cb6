/**
 * The simulator's HTTP surface: the OpenSolar API endpoints, fault injection, the request log, and the
 * `/__simulator` control prefix.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import type { Endpoint, Fault, RequestLogEntry } from "../Simulator.js"
import * as Drf from "./drf.js"
import * as Model from "./model.js"
import type { Operations } from "./server.js"

type Handler = Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | HttpRouter.RouteContext
>

const controlPrefix = "/__simulator"

const userUrl = (operations: Operations, id: number) => `${operations.url}/auth/users/${id}/`

const orgUrl = (operations: Operations, id: number) => `${operations.url}/api/orgs/${id}/`

const orgJson = (operations: Operations, org: Model.OrgRecord) => ({
  id: org.id,
  name: org.name,
  url: orgUrl(operations, org.id),
  country_iso2: "AU",
  currency: "AUD"
})

const userJson = (operations: Operations, state: Model.State, user: Model.UserRecord) =>
  state.settings.userShape === "url"
    ? userUrl(operations, user.id)
    : {
        id: user.id,
        url: userUrl(operations, user.id),
        email: user.username,
        first_name: user.firstName,
        last_name: user.lastName,
        is_machine_user: user.isMachineUser,
        two_factor_enabled: Option.isSome(user.totpSecret),
        is_staff: false,
        date_joined: "2024-01-15T09:30:00Z"
      }

const tokenJson = (
  operations: Operations,
  state: Model.State,
  user: Model.UserRecord,
  token: string,
  scope: Option.Option<number>
) => {
  const memberships = Model.userOrgs(state, user).filter((org) => Option.isNone(scope) || org.id === scope.value)
  const orgInfo =
    state.settings.orgInfo === "top-level"
      ? {
          org_id: Option.getOrElse(scope, () => user.orgIds[0] ?? null),
          orgs: memberships.map((org) => orgJson(operations, org))
        }
      : {}
  return {
    token,
    user: userJson(operations, state, user),
    ...orgInfo,
    is_new_user: false,
    features: { design_v2: true, api_explorer: false }
  }
}

const projectsJson = (operations: Operations, org: Model.OrgRecord) =>
  [
    { title: "Rooftop array", address: "1 Main Street, Adelaide SA 5000" },
    { title: "Carport canopy", address: "22 Harbour Road, Hobart TAS 7000" },
    { title: "Battery retrofit", address: "300 Queen Street, Brisbane QLD 4000" }
  ].map((project, index) => {
    const id = org.id * 100 + index + 1
    return {
      id,
      url: `${orgUrl(operations, org.id)}projects/${id}/`,
      org_id: org.id,
      ...project,
      is_residential: index !== 1,
      created_date: "2024-03-01T00:00:00Z"
    }
  })

const htmlPage = (status: number) => {
  const title = status === 200 ? "OpenSolar is down for maintenance" : `${status} Bad Gateway`
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1><p>Please try again in a few minutes.</p></body>
</html>
`
}

const bearer = (request: HttpServerRequest.HttpServerRequest) => {
  const credentials = Drf.credentials(request)
  switch (credentials._tag) {
    case "None":
      return Either.left(Drf.notAuthenticated())
    case "Malformed":
      return Either.left(Drf.notAuthenticated(credentials.message))
    case "Bearer":
      return Either.right(credentials.token)
  }
}

const idParam = (name: string) =>
  Effect.map(HttpRouter.params, (params) => {
    const raw = params[name] ?? ""
    return /^\d{1,9}$/.test(raw) ? Option.some(Number(raw)) : Option.none()
  })

const methods = (handlers: Partial<Record<string, Handler>>): Handler =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const handler = handlers[request.method]
    return handler ?? Effect.succeed(Drf.methodNotAllowed(request.method, Object.keys(handlers)))
  })

const faultResponse = <R>(
  fault: Fault,
  normal: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> => {
  switch (fault._tag) {
    case "Status": {
      const headers: Record<string, string> = {}
      if (fault.retryAfter !== undefined) {
        headers["retry-after"] = String(fault.retryAfter)
      }
      if (fault.status === 401) {
        headers["www-authenticate"] = 'Bearer realm="api"'
      }
      const body = fault.body === undefined ? { detail: Drf.defaultDetail(fault.status) } : fault.body
      return Effect.succeed(Drf.json(body, fault.status, headers))
    }
    case "Delay":
      return Effect.zipRight(Effect.interruptible(Effect.sleep(fault.duration)), normal)
    case "ConnectionReset":
      return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return Effect.interrupt
      })
    case "MalformedJson":
      return Effect.succeed(
        HttpServerResponse.text('{"token": "d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002", "user": {"id": 1, "em', {
          contentType: "application/json"
        })
      )
    case "HtmlBody": {
      const status = fault.status ?? 502
      return Effect.succeed(
        HttpServerResponse.text(htmlPage(status), { status, contentType: "text/html; charset=utf-8" })
      )
    }
  }
}

/** Logs the request, and answers with a pending fault instead of the handler when one matches. */
const instrument =
  (operations: Operations, endpoint: Endpoint | "unknown") =>
  <R>(
    handler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const arrivedAt = yield* operations.nowMillis
      const token = Drf.credentialsToken(Drf.credentials(request))
      const arrival = yield* Ref.modify(operations.state, (state) => Model.arrive(state, endpoint, token, arrivedAt))
      const url = new URL(request.url, operations.url)
      const entry = (status: number): RequestLogEntry => ({
        method: request.method,
        path: url.pathname,
        search: url.search,
        endpoint,
        status,
        time: DateTime.unsafeMake(arrivedAt),
        token: Option.map(token, Redacted.make),
        tokenState: arrival.tokenState
      })
      const answer = Option.match(arrival.fault, {
        onNone: () => handler,
        onSome: (fault) => faultResponse(fault, handler)
      })
      return yield* Effect.onExit(answer, (exit) =>
        Ref.update(operations.state, (state) =>
          Model.record(state, arrival.sequence, entry(Exit.isSuccess(exit) ? exit.value.status : 0))
        )
      )
    })

const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  f: (data: Record<string, unknown>) => Effect.Effect<HttpServerResponse.HttpServerResponse>
) => Effect.flatMap(Drf.body(request), Either.match({ onLeft: Effect.succeed, onRight: f }))

const login = (operations: Operations): Handler =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    return yield* readBody(request, (data) =>
      Effect.gen(function* () {
        const fields = {
          username: Drf.charField(data, "username", { required: true, trim: true }),
          password: Drf.charField(data, "password", { required: true, trim: false }),
          token: Drf.charField(data, "token", { required: false, trim: true })
        }
        const errors = Object.entries(fields).flatMap(([name, field]) =>
          Either.isLeft(field) ? [[name, [field.left]] as const] : []
        )
        if (errors.length > 0) {
          return Drf.fieldErrors(Object.fromEntries(errors))
        }
        const value = (field: Either.Either<Option.Option<string>, string>) => Option.flatten(Either.getRight(field))
        const input: Model.LoginInput = {
          username: Option.getOrElse(value(fields.username), () => ""),
          password: Option.getOrElse(value(fields.password), () => ""),
          code: value(fields.token)
        }
        const now = yield* operations.nowMillis
        const freshToken = operations.freshToken()
        const [outcome, state] = yield* Ref.modify(operations.state, (state) => {
          const [outcome, next] = Model.login(state, input, now, freshToken)
          return [[outcome, next] as const, next]
        })
        switch (outcome._tag) {
          case "Throttled":
            return Drf.throttled(outcome.waitSeconds)
          case "InvalidCredentials":
            return Drf.nonFieldError("Unable to log in with provided credentials.")
          case "MfaRequired":
            return Drf.fieldErrors({ token: ["This field is required for accounts with two-factor authentication."] })
          case "InvalidMfaCode":
            return Drf.nonFieldError("Invalid two-factor authentication code.")
          case "LoggedIn":
            return Drf.json(tokenJson(operations, state, outcome.user, outcome.record.token, Option.none()))
        }
      })
    )
  })

const fetchToken = (operations: Operations): Handler =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const token = bearer(request)
    if (Either.isLeft(token)) {
      return token.left
    }
    const now = yield* operations.nowMillis
    const rawOrgId = new URL(request.url, operations.url).searchParams.get("org_id") ?? ""
    if (rawOrgId !== "" && !/^\d{1,9}$/.test(rawOrgId)) {
      const current = yield* Ref.get(operations.state)
      return Model.authenticate(current, token.right, now)._tag === "Rejected"
        ? Drf.invalidToken()
        : Drf.fieldErrors({ org_id: ["A valid integer is required."] })
    }
    const orgId = rawOrgId === "" ? Option.none() : Option.some(Number(rawOrgId))
    const freshToken = operations.freshToken()
    const [outcome, state] = yield* Ref.modify(operations.state, (state) => {
      const [outcome, next] = Model.fetchToken(state, token.right, orgId, now, freshToken)
      return [[outcome, next] as const, next]
    })
    switch (outcome._tag) {
      case "Rejected":
        return Drf.invalidToken()
      case "Forbidden":
        return Drf.permissionDenied()
      case "Issued":
        return Drf.json(tokenJson(operations, state, outcome.user, outcome.record.token, outcome.orgId))
    }
  })

const patchUser = (operations: Operations): Handler =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const token = bearer(request)
    if (Either.isLeft(token)) {
      return token.left
    }
    const userId = yield* idParam("id")
    if (Option.isNone(userId)) {
      return Drf.notFound()
    }
    const now = yield* operations.nowMillis
    const before = Model.authenticate(yield* Ref.get(operations.state), token.right, now)
    if (before._tag === "Rejected") {
      return Drf.invalidToken()
    }
    if (before.user.id !== userId.value) {
      return Drf.permissionDenied()
    }
    return yield* readBody(request, (data) =>
      Effect.gen(function* () {
        const isMachineUser = Drf.booleanField(data, "is_machine_user")
        if (Either.isLeft(isMachineUser)) {
          return Drf.fieldErrors({ is_machine_user: [isMachineUser.left] })
        }
        const outcome = yield* Ref.modify(operations.state, (state) =>
          Model.setMachineUser(state, token.right, userId.value, isMachineUser.right, now)
        )
        switch (outcome._tag) {
          case "Rejected":
            return Drf.invalidToken()
          case "Forbidden":
            return Drf.permissionDenied()
          case "Updated":
            return Drf.json({
              url: userUrl(operations, outcome.user.id),
              email: outcome.user.username,
              is_machine_user: outcome.user.isMachineUser,
              first_name: outcome.user.firstName,
              last_name: outcome.user.lastName
            })
        }
      })
    )
  })

const orgResource = (operations: Operations, render: (org: Model.OrgRecord) => unknown): Handler =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const token = bearer(request)
    if (Either.isLeft(token)) {
      return token.left
    }
    const orgId = yield* idParam("orgId")
    if (Option.isNone(orgId)) {
      return Drf.notFound()
    }
    const now = yield* operations.nowMillis
    const access = Model.orgAccess(yield* Ref.get(operations.state), token.right, orgId.value, now)
    switch (access._tag) {
      case "Rejected":
        return Drf.invalidToken()
      case "Forbidden":
        return Drf.permissionDenied()
      case "PaymentRequired":
        return Drf.apiAccessNotEnabled()
      case "Granted":
        return Drf.json(render(access.org))
    }
  })

const EndpointSchema = Schema.Literal("login", "fetchToken", "machineUser", "org", "projects", "any")

const FaultSchema = Schema.Union(
  Schema.TaggedStruct("Status", {
    status: Schema.Int.pipe(Schema.between(100, 599)),
    body: Schema.optionalWith(Schema.Unknown, { exact: true }),
    retryAfter: Schema.optionalWith(Schema.Union(Schema.NonNegativeInt, Schema.String), { exact: true })
  }),
  Schema.TaggedStruct("Delay", { millis: Schema.NonNegative }),
  Schema.TaggedStruct("ConnectionReset", {}),
  Schema.TaggedStruct("MalformedJson", {}),
  Schema.TaggedStruct("HtmlBody", { status: Schema.optionalWith(Schema.Literal(200, 502), { exact: true }) })
)

const FaultInjectionSchema = Schema.Struct({
  endpoint: EndpointSchema,
  times: Schema.optional(Schema.Int.pipe(Schema.positive())),
  fault: FaultSchema
})

const NewUserSchema = Schema.Struct({
  username: Schema.optional(Schema.NonEmptyTrimmedString),
  email: Schema.optional(Schema.NonEmptyTrimmedString),
  password: Schema.NonEmptyString,
  org_ids: Schema.optional(Schema.Array(Schema.Int.pipe(Schema.positive()))),
  totp_secret: Schema.optional(Schema.String),
  is_machine_user: Schema.optional(Schema.Boolean),
  first_name: Schema.optional(Schema.String),
  last_name: Schema.optional(Schema.String)
})

const NewOrgSchema = Schema.Struct({
  id: Schema.optional(Schema.Int.pipe(Schema.positive())),
  name: Schema.NonEmptyString,
  api_access: Schema.optional(Schema.Boolean)
})

const RevokeSchema = Schema.Union(
  Schema.Struct({ token: Schema.NonEmptyString }),
  Schema.Struct({ username: Schema.NonEmptyString })
)

const AdvanceSchema = Schema.Struct({
  millis: Schema.optional(Schema.NonNegative),
  seconds: Schema.optional(Schema.NonNegative),
  duration: Schema.optional(Schema.String)
})

const ModeSchema = Schema.Struct({ mode: Schema.Literal("rotate", "same", "same-extend") })

const ShapeSchema = Schema.Struct({
  user_shape: Schema.optional(Schema.Literal("object", "url")),
  org_info: Schema.optional(Schema.Literal("top-level", "omitted"))
})

const UsernameSchema = Schema.Struct({ username: Schema.NonEmptyString })

const badRequest = (message: string) => Drf.detail(400, message)

const control = <A, I>(
  schema: Schema.Schema<A, I>,
  f: (input: A) => Effect.Effect<HttpServerResponse.HttpServerResponse, string>
): Handler =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    return yield* readBody(request, (data) =>
      Either.match(Schema.decodeUnknownEither(schema)(data), {
        onLeft: (error) => Effect.succeed(badRequest(ParseResult.TreeFormatter.formatErrorSync(error))),
        onRight: (input) => Effect.catchAll(f(input), (message) => Effect.succeed(badRequest(message)))
      })
    )
  })

const fingerprint = (token: Redacted.Redacted<string>) =>
  createHash("sha256").update(Redacted.value(token)).digest("hex").slice(0, 8)

const logJson = (entry: RequestLogEntry) => ({
  method: entry.method,
  path: entry.path,
  search: entry.search,
  endpoint: entry.endpoint,
  status: entry.status,
  time: DateTime.formatIso(entry.time),
  token_fingerprint: Option.getOrNull(Option.map(entry.token, fingerprint)),
  token_state: entry.tokenState
})

const ok = Drf.json({ ok: true })

const controlRoutes = (operations: Operations) =>
  HttpRouter.empty.pipe(
    HttpRouter.post(
      `${controlPrefix}/users`,
      control(NewUserSchema, (input) => {
        const username = input.username ?? input.email
        if (username === undefined) {
          return Effect.fail("username (or email) is required.")
        }
        return Effect.map(
          operations.addUser({
            username,
            password: input.password,
            ...(input.org_ids !== undefined ? { orgIds: input.org_ids } : {}),
            ...(input.totp_secret !== undefined ? { totpSecret: input.totp_secret } : {}),
            ...(input.is_machine_user !== undefined ? { isMachineUser: input.is_machine_user } : {}),
            ...(input.first_name !== undefined ? { firstName: input.first_name } : {}),
            ...(input.last_name !== undefined ? { lastName: input.last_name } : {})
          }),
          (user) =>
            Drf.json(
              {
                id: user.id,
                username: user.username,
                org_ids: user.orgIds,
                is_machine_user: user.isMachineUser,
                mfa_enabled: user.mfaEnabled
              },
              201
            )
        )
      })
    ),
    HttpRouter.post(
      `${controlPrefix}/orgs`,
      control(NewOrgSchema, (input) =>
        Effect.map(
          operations.addOrg({
            name: input.name,
            ...(input.id !== undefined ? { id: input.id } : {}),
            ...(input.api_access !== undefined ? { apiAccess: input.api_access } : {})
          }),
          (org) => Drf.json({ id: org.id, name: org.name, api_access: org.apiAccess }, 201)
        )
      )
    ),
    HttpRouter.post(
      `${controlPrefix}/tokens`,
      control(UsernameSchema, (input) =>
        Effect.map(operations.issueToken(input.username), (token) => Drf.json({ token }, 201))
      )
    ),
    HttpRouter.post(
      `${controlPrefix}/revoke`,
      control(RevokeSchema, (input) =>
        "token" in input
          ? Effect.as(operations.revokeToken(input.token), Drf.json({ revoked: 1 }))
          : Effect.map(operations.revokeUserTokens(input.username), (revoked) => Drf.json({ revoked }))
      )
    ),
    HttpRouter.post(
      `${controlPrefix}/faults`,
      control(FaultInjectionSchema, (input) => {
        const fault: Fault =
          input.fault._tag === "Delay" ? { _tag: "Delay", duration: Duration.millis(input.fault.millis) } : input.fault
        return Effect.as(
          operations.injectFault({ endpoint: input.endpoint, times: input.times ?? 1, fault }),
          Drf.json({ ok: true }, 201)
        )
      })
    ),
    HttpRouter.del(`${controlPrefix}/faults`, Effect.as(operations.clearFaults, ok)),
    HttpRouter.get(
      `${controlPrefix}/clock`,
      Effect.map(operations.nowMillis, (now) => Drf.json({ now: DateTime.formatIso(DateTime.unsafeMake(now)) }))
    ),
    HttpRouter.post(
      `${controlPrefix}/clock/advance`,
      control(AdvanceSchema, (input) => {
        const duration =
          input.duration !== undefined
            ? Duration.decodeUnknown(input.duration)
            : Option.some(Duration.millis((input.millis ?? 0) + (input.seconds ?? 0) * 1000))
        if (Option.isNone(duration)) {
          return Effect.fail(`"${input.duration}" is not a duration such as "7 days" or "90 seconds".`)
        }
        return operations.advanceClock(duration.value).pipe(
          Effect.zipRight(operations.nowMillis),
          Effect.map((now) => Drf.json({ now: DateTime.formatIso(DateTime.unsafeMake(now)) }))
        )
      })
    ),
    HttpRouter.post(
      `${controlPrefix}/fetch-token-mode`,
      control(ModeSchema, (input) => Effect.as(operations.setFetchTokenMode(input.mode), ok))
    ),
    HttpRouter.post(
      `${controlPrefix}/response-shape`,
      control(ShapeSchema, (input) =>
        Effect.as(
          operations.setResponseShape({
            ...(input.user_shape !== undefined ? { userShape: input.user_shape } : {}),
            ...(input.org_info !== undefined ? { orgInfo: input.org_info } : {})
          }),
          ok
        )
      )
    ),
    HttpRouter.get(
      `${controlPrefix}/totp`,
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const params = new URL(request.url, operations.url).searchParams
        const steps = Number(params.get("steps") ?? "0")
        if (!Number.isInteger(steps)) {
          return badRequest("steps must be an integer.")
        }
        return yield* operations.totpCode(params.get("username") ?? "", steps).pipe(
          Effect.map((code) => Drf.json({ code })),
          Effect.catchAll((message) => Effect.succeed(badRequest(message)))
        )
      })
    ),
    HttpRouter.get(
      `${controlPrefix}/log`,
      Effect.map(operations.requestLog, (log) => Drf.json(log.map(logJson)))
    ),
    HttpRouter.del(`${controlPrefix}/log`, Effect.as(operations.clearLog, ok)),
    HttpRouter.post(`${controlPrefix}/reset`, Effect.as(operations.reset, ok))
  )

/** @internal */
export const make = (operations: Operations): Effect.Effect<HttpApp.Default> =>
  Effect.gen(function* () {
    const api = (endpoint: Endpoint, handlers: Partial<Record<string, Handler>>) =>
      instrument(operations, endpoint)(methods(handlers))
    const router = HttpRouter.empty.pipe(
      HttpRouter.all("/api-token-auth/", api("login", { POST: login(operations) })),
      HttpRouter.all("/api/fetch_token/", api("fetchToken", { GET: fetchToken(operations) })),
      HttpRouter.all("/auth/users/:id/", api("machineUser", { PATCH: patchUser(operations) })),
      HttpRouter.all(
        "/api/orgs/:orgId/",
        api("org", {
          GET: orgResource(operations, (org) => ({ ...orgJson(operations, org), timezone: "Australia/Sydney" }))
        })
      ),
      HttpRouter.all(
        "/api/orgs/:orgId/projects/",
        api("projects", { GET: orgResource(operations, (org) => projectsJson(operations, org)) })
      ),
      HttpRouter.concat(controlRoutes(operations))
    )
    const routed = yield* HttpRouter.toHttpApp(router).pipe(
      HttpRouter.withRouterConfig({ ignoreTrailingSlash: false, caseSensitive: true })
    )
    const notFound = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      request.url.startsWith(controlPrefix)
        ? Effect.succeed(Drf.notFound())
        : instrument(operations, "unknown")(Effect.succeed(Drf.notFound()))
    )
    return routed.pipe(
      Effect.catchTag("RouteNotFound", () => notFound),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.succeed(Drf.detail(500, "A server error occurred."))
      ),
      Effect.withClock(operations.clock)
    )
  })
