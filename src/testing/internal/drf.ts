/**
 * Request parsing and error bodies the way Django REST framework produces them.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/** @internal */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

/** @internal */
export const detail = (status: number, message: string, headers: Record<string, string> = {}) =>
  json({ detail: message }, status, headers)

/** @internal */
export const notFound = () => detail(404, "Not found.")

/** @internal */
export const methodNotAllowed = (method: string, allowed: ReadonlyArray<string>) =>
  detail(405, `Method "${method}" not allowed.`, { allow: allowed.join(", ") })

/** @internal */
export const notAuthenticated = (message = "Authentication credentials were not provided.") =>
  detail(401, message, { "www-authenticate": 'Bearer realm="api"' })

/** @internal */
export const invalidToken = () => notAuthenticated("Invalid token.")

/** @internal */
export const permissionDenied = () => detail(403, "You do not have permission to perform this action.")

/** @internal */
export const apiAccessNotEnabled = () => detail(402, "API Access is not enabled for this organisation.")

/** @internal */
export const throttled = (waitSeconds: number) =>
  detail(429, `Request was throttled. Expected available in ${waitSeconds} second${waitSeconds === 1 ? "" : "s"}.`, {
    "retry-after": String(waitSeconds)
  })

/** @internal */
export const fieldErrors = (errors: Record<string, ReadonlyArray<string>>) => json(errors, 400)

/** @internal */
export const nonFieldError = (message: string) => fieldErrors({ non_field_errors: [message] })

const reasonPhrases: Record<number, string> = {
  400: "Bad request.",
  401: "Invalid token.",
  402: "API Access is not enabled for this organisation.",
  403: "You do not have permission to perform this action.",
  404: "Not found.",
  408: "Request timeout.",
  409: "Conflict.",
  429: "Request was throttled.",
  500: "A server error occurred.",
  502: "Bad gateway.",
  503: "Service temporarily unavailable, try again later.",
  504: "Gateway timeout."
}

/** @internal */
export const defaultDetail = (status: number): string => reasonPhrases[status] ?? `Error ${status}.`

/**
 * The bearer credentials of a request, following DRF's `TokenAuthentication` with the keyword `Bearer`.
 *
 * @internal
 */
export type Credentials =
  | { readonly _tag: "None" }
  | { readonly _tag: "Malformed"; readonly message: string }
  | { readonly _tag: "Bearer"; readonly token: string }

/** @internal */
export const credentials = (request: HttpServerRequest.HttpServerRequest): Credentials => {
  const header = request.headers.authorization
  if (header === undefined) {
    return { _tag: "None" }
  }
  const parts = header.trim().split(/\s+/)
  if (parts[0]?.toLowerCase() !== "bearer") {
    return { _tag: "None" }
  }
  if (parts.length === 1) {
    return { _tag: "Malformed", message: "Invalid token header. No credentials provided." }
  }
  if (parts.length > 2) {
    return { _tag: "Malformed", message: "Invalid token header. Token string should not contain spaces." }
  }
  return { _tag: "Bearer", token: parts[1]! }
}

/** @internal */
export const credentialsToken = (credentials: Credentials): Option.Option<string> =>
  credentials._tag === "Bearer" ? Option.some(credentials.token) : Option.none()

const pythonType = (value: unknown): string => {
  if (value === null) return "NoneType"
  if (Array.isArray(value)) return "list"
  switch (typeof value) {
    case "string":
      return "str"
    case "boolean":
      return "bool"
    case "number":
      return Number.isInteger(value) ? "int" : "float"
    default:
      return "dict"
  }
}

const acceptedMediaTypes = '"application/json" or "application/x-www-form-urlencoded"'

// Only the position is kept from the parser's message: V8 quotes the text around the error, which may be a password.
const parseErrorPosition = (error: unknown): string => {
  const match = error instanceof Error ? /\bposition (\d+)\b/.exec(error.message) : null
  return match === null ? "" : ` (char ${match[1]})`
}

/**
 * Reads a request body as DRF's default parsers would: JSON or a URL-encoded form; an empty body is an empty
 * form; any other media type, and JSON that does not parse, is a 400 that never quotes the body.
 *
 * @internal
 */
export const body = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<Either.Either<Record<string, unknown>, HttpServerResponse.HttpServerResponse>> =>
  Effect.gen(function* () {
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    if (text.length === 0) {
      return Either.right({})
    }

    const contentType = request.headers["content-type"] ?? ""
    const mediaType = contentType.split(";")[0]!.trim().toLowerCase()
    if (mediaType === "application/x-www-form-urlencoded") {
      return Either.right(Object.fromEntries(new URLSearchParams(text)))
    }
    if (mediaType !== "application/json") {
      const named = mediaType === "" ? "No media type" : `Unsupported media type "${mediaType}"`
      return Either.left(detail(400, `${named} in request. Send the body as ${acceptedMediaTypes}.`))
    }

    const parsed = Either.try(() => JSON.parse(text) as unknown)
    if (Either.isLeft(parsed)) {
      return Either.left(detail(400, `JSON parse error - Expecting valid JSON${parseErrorPosition(parsed.left)}.`))
    }
    const value = parsed.right
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return Either.left(nonFieldError(`Invalid data. Expected a dictionary, but got ${pythonType(value)}.`))
    }
    return Either.right(value as Record<string, unknown>)
  })

/**
 * A DRF `CharField`: numbers become strings, anything else that is not a string is an error.
 *
 * @internal
 */
export const charField = (
  data: Record<string, unknown>,
  name: string,
  options: { readonly required: boolean; readonly trim: boolean }
): Either.Either<Option.Option<string>, string> => {
  if (!(name in data) || data[name] === undefined) {
    return options.required ? Either.left("This field is required.") : Either.right(Option.none())
  }
  const raw = data[name]
  if (raw === null) {
    return options.required ? Either.left("This field may not be null.") : Either.right(Option.none())
  }
  if (typeof raw !== "string" && typeof raw !== "number") {
    return Either.left("Not a valid string.")
  }
  const value = options.trim ? String(raw).trim() : String(raw)
  if (value === "" && options.required) {
    return Either.left("This field may not be blank.")
  }
  return Either.right(Option.some(value))
}

const truthy = new Set<unknown>([true, 1, "1", "true", "True", "TRUE", "yes", "Yes", "on", "On", "y", "Y"])
const falsy = new Set<unknown>([false, 0, "0", "false", "False", "FALSE", "no", "No", "off", "Off", "n", "N"])

/**
 * A DRF `BooleanField`, optional as in a partial update.
 *
 * @internal
 */
export const booleanField = (
  data: Record<string, unknown>,
  name: string
): Either.Either<Option.Option<boolean>, string> => {
  if (!(name in data) || data[name] === undefined) {
    return Either.right(Option.none())
  }
  const raw = data[name]
  if (raw === null) {
    return Either.left("This field may not be null.")
  }
  if (truthy.has(raw)) {
    return Either.right(Option.some(true))
  }
  if (falsy.has(raw)) {
    return Either.right(Option.some(false))
  }
  return Either.left("Must be a valid boolean.")
}
