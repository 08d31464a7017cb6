import { HttpClientResponse } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

// Only the fields this program uses; the API sends more.
const Projects = Schema.Array(Schema.Struct({ id: Schema.Number, title: Schema.String }))

const program = Effect.gen(function* () {
  const client = yield* OpenSolarClient.OpenSolarClient
  const response = yield* client.filterStatusOk.get("/api/orgs/1/projects/")
  const projects = yield* HttpClientResponse.schemaBodyJson(Projects)(response)

  for (const project of projects) {
    console.log(`${project.id}  ${project.title}`)
  }
})

// Reads OPENSOLAR_USERNAME, OPENSOLAR_PASSWORD and the other OPENSOLAR_* variables from the environment.
const OpenSolarLive = OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
