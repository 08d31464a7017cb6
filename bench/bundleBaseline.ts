/**
 * The bundle-size baseline: the least a program needs to call the OpenSolar API on `effect` and
 * `@effect/platform`'s `HttpClient` alone — log in once, decode the token, send it as a bearer header. It
 * has none of the library's refresh, retries, MFA, persistence or error mapping; it is only bundled, never run.
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"

const TokenAnswer = Schema.Struct({ token: Schema.String })

export const authenticatedClient = (baseUrl: string, username: string, password: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient

    const answer = yield* HttpClientRequest.post(`${baseUrl}/api-token-auth/`).pipe(
      HttpClientRequest.bodyUnsafeJson({ username, password: Redacted.value(password) }),
      client.execute,
      Effect.flatMap(HttpClientResponse.schemaBodyJson(TokenAnswer))
    )

    return client.pipe(
      HttpClient.filterStatusOk,
      HttpClient.mapRequest(HttpClientRequest.prependUrl(baseUrl)),
      HttpClient.mapRequest(HttpClientRequest.bearerToken(answer.token))
    )
  })
