/**
 * The pure half of the wire client: response decoding, the mapping of every status and transport failure to a
 * typed error, `Retry-After` parsing and secret-free body excerpts.
 *
 * @internal
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { Duration, Either, Option, Predicate, Redacted, Schema } from "effect"
import * as AuthError from "../AuthError.js"
import * as BearerToken from "../BearerToken.js"
import type { MachineUserResponse, TokenResponse } from "../OpenSolarApi.js"
import { GrantOrg, GrantUser } from "../TokenGrant.js"

/**
 * The operations of the wire client, as named in spans.
 *
 * @internal
 */
export type Operation = "login" | "fetchToken" | "setMachineUser"

/**
 * What the error mapping needs to know about the request that was sent. `secrets` holds every secret the
 * request carried, so that nothing derived from the answer can repeat one.
 *
 * @internal
 */
export interface RequestContext {
  readonly operation: Operation
  readonly method: string
  readonly url: string
  readonly token: Option.Option<BearerToken.BearerToken>
  readonly mfaCodeSent: boolean
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
}

/**
 * A response as read off the wire: status, lower-cased headers and the body as text.
 *
 * @internal
 */
export interface ReceivedResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
}

/**
 * The full URL of a request, without any user name or password.
 *
 * @internal
 */
export const requestUrl = (baseUrl: string, path: string, query: Readonly<Record<string, string>> = {}): string => {
  const url = new URL(`${baseUrl}${path}`)
  url.username = ""
  url.password = ""
  for (const [key, value] of Object.entries(query)) {
    url.searchParams.set(key, value)
  }
  return url.toString()
}

const dayNames = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
const longDayNames = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
const monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const month = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
const time = "(\\d{2}):(\\d{2}):(\\d{2})"

const imfFixdate = new RegExp(`^${dayNames}, (\\d{2}) ${month} (\\d{4}) ${time} GMT$`, "i")
const rfc850Date = new RegExp(`^${longDayNames}, (\\d{2})-${month}-(\\d{2}) ${time} GMT$`, "i")
const asctimeDate = new RegExp(`^${dayNames} ${month} ([ \\d]\\d) ${time} (\\d{4})$`, "i")

const utcMillis = (
  year: number,
  monthName: string,
  day: number,
  hours: number,
  minutes: number,
  seconds: number
): Option.Option<number> => {
  const monthIndex = monthNames.indexOf(monthName.toLowerCase())
  const millis = Date.UTC(year, monthIndex, day, hours, minutes, seconds)
  const date = new Date(millis)
  const consistent =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === monthIndex &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hours &&
    date.getUTCMinutes() === minutes &&
    date.getUTCSeconds() === seconds
  return consistent ? Option.some(millis) : Option.none()
}

/**
 * Reads an HTTP date in any of the three forms HTTP allows (IMF-fixdate, RFC 850, asctime) as epoch milliseconds.
 *
 * @internal
 */
export const parseHttpDate = (text: string): Option.Option<number> => {
  const fixdate = imfFixdate.exec(text)
  if (fixdate !== null) {
    const [, day, monthName, year, hours, minutes, seconds] = fixdate
    return utcMillis(Number(year), monthName!, Number(day), Number(hours), Number(minutes), Number(seconds))
  }
  const rfc850 = rfc850Date.exec(text)
  if (rfc850 !== null) {
    const [, day, monthName, shortYear, hours, minutes, seconds] = rfc850
    // RFC 850 years have two digits; 70-99 are taken as 19xx and the rest as 20xx, like most HTTP stacks do.
    const year = Number(shortYear) < 70 ? 2000 + Number(shortYear) : 1900 + Number(shortYear)
    return utcMillis(year, monthName!, Number(day), Number(hours), Number(minutes), Number(seconds))
  }
  const asctime = asctimeDate.exec(text)
  if (asctime !== null) {
    const [, monthName, day, hours, minutes, seconds, year] = asctime
    return utcMillis(Number(year), monthName!, Number(day!.trim()), Number(hours), Number(minutes), Number(seconds))
  }
  return Option.none()
}

/**
 * Reads a `Retry-After` header: delta-seconds, or an HTTP date taken relative to `nowMillis`. Anything
 * unreadable, and a date already past, gives `None`; the result is never negative.
 *
 * @internal
 */
export const parseRetryAfter = (header: string | undefined, nowMillis: number): Option.Option<Duration.Duration> => {
  if (header === undefined) {
    return Option.none()
  }
  const text = header.trim()
  if (/^\d+$/.test(text)) {
    const seconds = Number(text)
    return Number.isFinite(seconds) ? Option.some(Duration.seconds(seconds)) : Option.none()
  }
  return parseHttpDate(text).pipe(
    Option.map((dateMillis) => dateMillis - nowMillis),
    Option.filter((delta) => delta >= 0),
    Option.map(Duration.millis)
  )
}

const excerptLength = 80

// A value the body itself labels as a token: `"token": "…"`, `access_token=…`, `Authorization: Bearer …`.
const labelledToken = /(?:\b\w*token["']?\s*[:=]\s*["']?|\b(?:bearer|token)\s+)([^\s"'<>&;,]{8,})/gi

const tokenLikeRun = /[A-Za-z0-9_.~+/=-]{16,}/g

/**
 * A short sample of a body that is safe to show: each secret of the request and each value the body labels as a
 * token (eight characters or more) removed wherever it occurs, white space collapsed, every run of 16 or more
 * token-like characters (letters, digits, `_-.~+/=`) replaced by "…" (so no token can appear, whatever its
 * source), cut to about 80 characters. `undefined` when nothing remains.
 *
 * @internal
 */
export const excerpt = (body: string, secrets: ReadonlyArray<Redacted.Redacted<string>> = []): string | undefined => {
  const carried = Array.from(body.matchAll(labelledToken), (match) => match[1]!)
  // Longest first, so that removing a shorter value never leaves the rest of a longer one behind.
  const values = [...secrets.map(Redacted.value), ...carried].sort((left, right) => right.length - left.length)
  let text = body
  for (const value of values) {
    // Removing one occurrence can join its neighbours into another, so repeat until none is left.
    while (value.length > 0 && text.includes(value)) {
      text = text.split(value).join("…")
      if (value.length === 1) {
        break
      }
    }
  }
  text = text
    .replace(/[\s\p{Cc}]+/gu, " ")
    .trim()
    .replace(tokenLikeRun, "…")
  if (text === "") {
    return undefined
  }
  return text.length > excerptLength ? `${text.slice(0, excerptLength - 1)}…` : text
}

type JsonParse =
  | { readonly _tag: "Json"; readonly value: unknown }
  | { readonly _tag: "NotJson"; readonly looksLikeJson: boolean }

const parseJson = (response: ReceivedResponse): JsonParse => {
  try {
    return { _tag: "Json", value: JSON.parse(response.body) }
  } catch {
    const contentType = response.headers["content-type"] ?? ""
    const looksLikeJson = /json/i.test(contentType) || /^\s*[[{"]/.test(response.body)
    return { _tag: "NotJson", looksLikeJson }
  }
}

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const TokenField = Schema.Struct({ token: BearerToken.BearerToken })

const PositiveInt = Schema.Int.pipe(Schema.positive())

const Identifier = Schema.Union(
  PositiveInt,
  Schema.compose(Schema.String.pipe(Schema.pattern(/^\d{1,15}$/)), Schema.NumberFromString).pipe(
    Schema.compose(PositiveInt)
  )
)

const UserFields = Schema.Struct({
  id: Schema.optional(Schema.Unknown),
  email: Schema.optional(Schema.Unknown),
  is_machine_user: Schema.optional(Schema.Unknown),
  url: Schema.optional(Schema.Unknown)
})

const OrgFields = Schema.Struct({
  id: Schema.optional(Schema.Unknown),
  name: Schema.optional(Schema.Unknown),
  url: Schema.optional(Schema.Unknown)
})

const read = <A, I>(schema: Schema.Schema<A, I>, value: unknown): Option.Option<A> =>
  Schema.decodeUnknownOption(schema)(value)

const isRecord = Schema.is(JsonObject)

const idFromUrl = (url: string, collection: string): Option.Option<number> => {
  const match = new RegExp(`/${collection}/(\\d{1,15})/?(?:[?#].*)?$`).exec(url)
  return match === null ? Option.none() : read(PositiveInt, Number(match[1]))
}

const decodeUser = (value: unknown): GrantUser => {
  if (typeof value === "string") {
    return new GrantUser(
      Option.match(idFromUrl(value, "users"), {
        onNone: () => ({ url: value }),
        onSome: (id) => ({ id, url: value })
      })
    )
  }
  return Option.match(read(UserFields, value), {
    onNone: () => new GrantUser({}),
    onSome: (fields) => {
      const url = read(Schema.String, fields.url)
      const id = Option.orElse(read(Identifier, fields.id), () =>
        Option.flatMap(url, (text) => idFromUrl(text, "users"))
      )
      return new GrantUser({
        ...Option.match(id, { onNone: () => ({}), onSome: (id) => ({ id }) }),
        ...Option.match(read(Schema.String, fields.email), { onNone: () => ({}), onSome: (email) => ({ email }) }),
        ...Option.match(url, { onNone: () => ({}), onSome: (url) => ({ url }) }),
        ...Option.match(read(Schema.Boolean, fields.is_machine_user), {
          onNone: () => ({}),
          onSome: (isMachineUser) => ({ isMachineUser })
        })
      })
    }
  })
}

const decodeOrg = (value: unknown): Option.Option<GrantOrg> => {
  if (typeof value === "string") {
    return Option.map(
      Option.orElse(read(Identifier, value), () => idFromUrl(value, "orgs")),
      (id) => new GrantOrg({ id })
    )
  }
  if (typeof value === "number") {
    return Option.map(read(PositiveInt, value), (id) => new GrantOrg({ id }))
  }
  return Option.flatMap(read(OrgFields, value), (fields) => {
    const id = Option.orElse(read(Identifier, fields.id), () =>
      Option.flatMap(read(Schema.String, fields.url), (url) => idFromUrl(url, "orgs"))
    )
    return Option.map(id, (id) =>
      Option.match(read(Schema.String, fields.name), {
        onNone: () => new GrantOrg({ id }),
        onSome: (name) => new GrantOrg({ id, name })
      })
    )
  })
}

const decodeOrgs = (value: unknown): ReadonlyArray<GrantOrg> =>
  Array.isArray(value) ? value.flatMap((entry) => Option.toArray(decodeOrg(entry))) : []

const withoutToken = (record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
  const { token: _token, ...fields } = record
  return fields
}

/**
 * Decodes the JSON of a login or a session refresh. Any object with a usable `token` decodes, whatever else it
 * holds: `user` is read as an object or a URL, the organisation from `org_id`, `org` or `orgs`, and what cannot
 * be read is left out. Fails with the reason the answer is unusable.
 *
 * @internal
 */
export const decodeTokenResponse = (json: unknown): Either.Either<TokenResponse, string> => {
  if (!isRecord(json)) {
    return Either.left("JSON that is not an object")
  }
  return Either.match(Schema.decodeUnknownEither(TokenField)(json), {
    onLeft: () => Either.left("a JSON object without a usable token"),
    onRight: ({ token }) => {
      const orgs = decodeOrgs(json.orgs)
      const named = (org: GrantOrg): GrantOrg =>
        org.name !== undefined ? org : (orgs.find((candidate) => candidate.id === org.id) ?? org)
      const org = Option.firstSomeOf([decodeOrg(json.org_id), decodeOrg(json.org)]).pipe(
        Option.map(named),
        // A user with a single organisation has no choice to make: that organisation is the one in scope.
        Option.orElse(() => (orgs.length === 1 ? Option.some(orgs[0]!) : Option.none()))
      )
      return Either.right({ token, user: decodeUser(json.user), org, orgs, fields: withoutToken(json) })
    }
  })
}

/**
 * Decodes the JSON of `PATCH /auth/users/{id}/`, which must say whether the user now is a machine user.
 *
 * @internal
 */
export const decodeMachineUserResponse = (json: unknown): Either.Either<MachineUserResponse, string> => {
  if (!isRecord(json)) {
    return Either.left("JSON that is not an object")
  }
  return Option.match(read(Schema.Boolean, json.is_machine_user), {
    onNone: () => Either.left("a JSON object without a boolean is_machine_user"),
    onSome: (isMachineUser) =>
      Either.right({
        url: read(Schema.String, json.url),
        email: read(Schema.String, json.email),
        isMachineUser,
        fields: withoutToken(json)
      })
  })
}

const mfaWords = /\b(?:2fa|mfa|otp|totp|two[- ]?factor|two[- ]?step|one[- ]?time|authenticator)\b/i

const tokenWord = /\btoken\b/i

const textOf = (value: unknown): string => {
  if (typeof value === "string") {
    return value
  }
  if (Array.isArray(value)) {
    return value.map(textOf).join(" ")
  }
  if (Predicate.isRecord(value)) {
    return Object.values(value).map(textOf).join(" ")
  }
  return ""
}

const requestFields = (context: RequestContext) => ({ method: context.method, url: context.url })

const unexpected = (
  context: RequestContext,
  response: ReceivedResponse,
  reason: string
): AuthError.UnexpectedResponse => {
  const parsed = parseJson(response)
  // A JSON body, even a malformed one, may hold a token: only bodies that are plainly not JSON are sampled.
  const sample =
    parsed._tag === "NotJson" && !parsed.looksLikeJson ? excerpt(response.body, context.secrets) : undefined
  return new AuthError.UnexpectedResponse({
    ...requestFields(context),
    status: response.status,
    reason,
    ...(sample === undefined ? {} : { excerpt: sample })
  })
}

const codeRefused = (context: RequestContext): AuthError.MfaRequired | AuthError.InvalidMfaCode =>
  context.mfaCodeSent
    ? new AuthError.InvalidMfaCode(requestFields(context))
    : new AuthError.MfaRequired(requestFields(context))

const badRequest = (context: RequestContext, response: ReceivedResponse): AuthError.ApiError => {
  if (context.operation !== "login") {
    return unexpected(context, response, "400 Bad Request, which this request should never cause")
  }
  const parsed = parseJson(response)
  const body = parsed._tag === "Json" ? parsed.value : response.body
  const record = Predicate.isRecord(body) ? body : {}
  const namesTokenField = "token" in record
  const nonFieldText = textOf(record.non_field_errors)
  const speaksOfCode =
    namesTokenField || mfaWords.test(textOf(body)) || ("non_field_errors" in record && tokenWord.test(nonFieldText))
  return speaksOfCode ? codeRefused(context) : new AuthError.InvalidCredentials(requestFields(context))
}

/**
 * The typed error for a response whose status is not a success. Every status maps here and nowhere else.
 *
 * @internal
 */
export const errorFromStatus = (
  context: RequestContext,
  response: ReceivedResponse,
  nowMillis: number
): AuthError.ApiError => {
  const status = response.status
  if (status === 400) {
    return badRequest(context, response)
  }
  if (status === 401) {
    return new AuthError.TokenRejected({
      ...requestFields(context),
      ...Option.match(context.token, {
        onNone: () => ({}),
        onSome: (token) => ({ fingerprint: BearerToken.fingerprint(token) })
      })
    })
  }
  if (status === 402) {
    return new AuthError.ApiAccessNotEnabled(requestFields(context))
  }
  if (status === 403) {
    return new AuthError.Forbidden(requestFields(context))
  }
  if (status === 429) {
    return new AuthError.RateLimited({
      ...requestFields(context),
      ...Option.match(parseRetryAfter(response.headers["retry-after"], nowMillis), {
        onNone: () => ({}),
        onSome: (wait) => ({ retryAfterMillis: Duration.toMillis(wait) })
      })
    })
  }
  if (status >= 500 && status <= 599) {
    return new AuthError.ServerError({ ...requestFields(context), status })
  }
  return unexpected(context, response, `status ${status}, which this client does not handle`)
}

/**
 * Interprets a response: a success is decoded with `decode`, anything else becomes its typed error.
 *
 * @internal
 */
export const interpret = <A>(
  context: RequestContext,
  response: ReceivedResponse,
  nowMillis: number,
  decode: (json: unknown) => Either.Either<A, string>
): Either.Either<A, AuthError.ApiError> => {
  if (response.status < 200 || response.status > 299) {
    return Either.left(errorFromStatus(context, response, nowMillis))
  }
  const parsed = parseJson(response)
  if (parsed._tag === "NotJson") {
    return Either.left(
      unexpected(context, response, parsed.looksLikeJson ? "malformed JSON" : "a body that is not JSON")
    )
  }
  return Either.mapLeft(decode(parsed.value), (reason) => unexpected(context, response, reason))
}

const transportCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "the response body stalled",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not match its name"
}

const describeCause = (cause: unknown, secrets: ReadonlyArray<Redacted.Redacted<string>>): string | undefined => {
  let current = cause
  for (let depth = 0; depth < 5 && Predicate.isObject(current); depth++) {
    if (Predicate.hasProperty(current, "code") && typeof current.code === "string") {
      const known = transportCodes[current.code]
      if (known !== undefined) {
        return known
      }
    }
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string") {
    return excerpt(cause.message, secrets)
  }
  return undefined
}

/**
 * The typed error for a request that failed below HTTP: the transport, or reading the response body.
 *
 * @internal
 */
export const errorFromHttpClient = (
  context: RequestContext,
  error: HttpClientError.HttpClientError
): AuthError.ApiError => {
  if (error._tag === "ResponseError") {
    return new AuthError.UnexpectedResponse({
      ...requestFields(context),
      status: error.response.status,
      reason: "a body that could not be read"
    })
  }
  const description =
    error.reason === "InvalidUrl"
      ? "the request URL is invalid"
      : error.reason === "Encode"
        ? "the request body could not be encoded"
        : (describeCause(error.cause, context.secrets) ?? "the connection failed")
  return new AuthError.TransportError({ ...requestFields(context), description })
}
