import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Headers from "@effect/platform/Headers"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import { Secret, TOTP } from "otpauth"
import { Simulator, type SimulatorOptions } from "../../src/testing/index.js"

export const testLayer = (options?: SimulatorOptions) =>
  Layer.merge(Simulator.layer(options), NodeHttpClient.layerUndici)

export interface Reply {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string
  readonly body: any
}

export interface CallOptions {
  readonly json?: unknown
  readonly text?: string
  readonly contentType?: string
  readonly token?: string | Redacted.Redacted<string>
  readonly authorization?: string
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Sends a request to the simulator and reads the whole answer; transport failures fail the effect. */
export const attempt = (method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", path: string, options: CallOptions = {}) =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(`${sim.url}${path}`)
    if (options.token !== undefined) {
      const token = Redacted.isRedacted(options.token) ? Redacted.value(options.token) : options.token
      request = HttpClientRequest.setHeader(request, "authorization", `Bearer ${token}`)
    }
    if (options.authorization !== undefined) {
      request = HttpClientRequest.setHeader(request, "authorization", options.authorization)
    }
    if (options.json !== undefined) {
      request = HttpClientRequest.bodyUnsafeJson(request, options.json)
    }
    if (options.text !== undefined) {
      request = HttpClientRequest.bodyText(request, options.text, options.contentType)
    }
    const response = yield* client.execute(request)
    const text = yield* response.text
    const reply: Reply = { status: response.status, headers: response.headers, text, body: parse(text) }
    return reply
  })

/** Like `attempt`, with transport failures as defects. */
export const call = (method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", path: string, options: CallOptions = {}) =>
  Effect.orDie(attempt(method, path, options))

export const login = (username: string, password: string, extra: Record<string, unknown> = {}) =>
  call("POST", "/api-token-auth/", { json: { username, password, ...extra } })

export const fetchToken = (token: string | Redacted.Redacted<string>, orgId?: number) =>
  call("GET", orgId === undefined ? "/api/fetch_token/" : `/api/fetch_token/?org_id=${orgId}`, { token })

/** The TOTP code of `secret` at the simulator's time, computed independently of the simulator. */
export const totpAt = (secret: string, steps = 0) =>
  Effect.gen(function* () {
    const sim = yield* Simulator
    const now = DateTime.toEpochMillis(yield* sim.now)
    return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({
      timestamp: now + steps * 30_000
    })
  })

/** Waits, on the real clock, until some fiber sleeps on the `TestClock`. */
export const awaitTestClockSleep = Effect.gen(function* () {
  while (Chunk.isEmpty(yield* TestClock.sleeps())) {
    yield* TestServices.provideLive(Effect.sleep("5 millis"))
  }
})
