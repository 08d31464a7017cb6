import { createServer } from "node:http"
import { HttpClientResponse, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Schema } from "effect"
import { OpenSolar, OpenSolarClient } from "effect-opensolar-auth"

const Projects = Schema.Array(Schema.Struct({ title: Schema.String }))

// Every request shares one TokenRef: the first logs in, the others reuse the token, and a background refresh
// renews it before it expires. A request that arrives during a refresh still gets the current token.
const projectTitles = Effect.gen(function* () {
  const client = yield* OpenSolarClient.forOrg(1)
  const response = yield* client.filterStatusOk.get("projects/")
  const projects = yield* HttpClientResponse.schemaBodyJson(Projects)(response)
  return projects.map((project) => project.title)
})

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/projects",
    Effect.matchEffect(projectTitles, {
      onSuccess: (titles) => HttpServerResponse.json(titles),
      // This server's callers learn that OpenSolar failed, not how: the details go to the log.
      onFailure: (error) =>
        Effect.zipRight(
          Effect.logWarning("OpenSolar request failed", error.message),
          HttpServerResponse.json({ error: "OpenSolar is unavailable" }, { status: 502 })
        )
    })
  )
)

const ServerLive = Layer.unwrapEffect(
  Effect.map(Config.integer("PORT").pipe(Config.withDefault(3000)), (port) =>
    NodeHttpServer.layer(createServer, { host: "127.0.0.1", port })
  )
)

const app = router.pipe(
  HttpServer.serve(),
  HttpServer.withLogAddress,
  Layer.provide(ServerLive),
  Layer.provide(OpenSolar.layerConfig),
  Layer.provide(NodeHttpClient.layerUndici)
)

NodeRuntime.runMain(Layer.launch(app))
