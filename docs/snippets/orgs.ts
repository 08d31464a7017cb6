import { HttpClientResponse } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option, Schema } from "effect"
import { OpenSolar, OpenSolarClient, TokenRef } from "effect-opensolar-auth"

const Projects = Schema.Array(Schema.Struct({ id: Schema.Number, title: Schema.String }))

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get

  // What the login answered about the user's organisations.
  const grant = Option.getOrThrow(yield* tokens.current)
  for (const org of grant.orgs) {
    console.log(`member of ${org.id}: ${org.name ?? "(no name)"}`)
  }

  // One client per organisation; the token is the same.
  for (const org of grant.orgs) {
    const client = yield* OpenSolarClient.forOrg(org.id)
    const projects = yield* client.filterStatusOk
      .get("projects/")
      .pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Projects)))
    console.log(`org ${org.id}: ${projects.map((project) => project.id).join(", ")}`)
  }

  // Session refreshes are scoped to OPENSOLAR_ORG_ID, here 2.
  const refreshed = yield* tokens.refresh
  const scoped = Option.getOrThrow(refreshed.org)
  console.log(`after a refresh: org ${scoped.id}, ${refreshed.orgs.length} organisation(s) listed`)
})

program.pipe(Effect.provide(OpenSolar.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))), NodeRuntime.runMain)
