import { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

const Org = Schema.Struct({ id: Schema.Number, name: Schema.String })
const Projects = Schema.Array(Schema.Struct({ id: Schema.Number, title: Schema.String }))

const program = Effect.gen(function* () {
  const client = yield* OpenSolarClient.OpenSolarClient

  // A path is resolved against the base URL; the bearer header is added to every request.
  const org = yield* client.filterStatusOk
    .get("/api/orgs/1/")
    .pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Org)))
  console.log(`org ${org.id}: ${org.name}`)

  // `forOrg` resolves relative paths under /api/orgs/{id}/.
  const orgClient = client.forOrg(org.id)
  const projects = yield* orgClient.filterStatusOk
    .execute(HttpClientRequest.get("projects/", { urlParams: { limit: 10 } }))
    .pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Projects)))
  console.log(`${projects.length} projects`)

  // The lenient client hands back every status but 401 as a response; check it yourself.
  const response = yield* client.get("/api/orgs/2/")
  console.log(`org 2 answered ${response.status}`)
  const failure = yield* OpenSolarClient.checkStatus(response).pipe(Effect.flip)
  console.log(`checkStatus: ${failure._tag}`)
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
