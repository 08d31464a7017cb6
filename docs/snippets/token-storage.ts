import * as fs from "node:fs/promises"
import * as path from "node:path"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AuthStrategy, OpenSolarApi, OpenSolarClient, OpenSolarConfig, TokenRef } from "effect-opensolar-auth"
import { FileTokenStore } from "effect-opensolar-auth/node"

// The stack of OpenSolar.layerConfig, with the grant kept in a file instead of memory.
const OpenSolarLive = Layer.unwrapEffect(
  Effect.map(OpenSolarConfig.load, (settings) => {
    const subject = settings.credentials._tag === "Password" ? settings.credentials.username : "machine-user"
    // Filed under the API and the user, as the opensolar-auth command files its logins: they share them.
    const storeKey = { baseUrl: settings.baseUrl, subject }
    return OpenSolarClient.layer({ baseUrl: settings.baseUrl }).pipe(
      Layer.provideMerge(TokenRef.layer({ storeKey, lifetime: settings.lifetime })),
      Layer.provide(FileTokenStore.layerNode()),
      Layer.provide(AuthStrategy.layerConfig),
      Layer.provide(OpenSolarApi.layer({ baseUrl: settings.baseUrl }))
    )
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const tokens = yield* TokenRef.TokenRef
  yield* tokens.get

  // What is on disk: a versioned JSON file, readable by its owner only.
  const file = yield* FileTokenStore.defaultPath.pipe(Effect.provide(NodeContext.layer))
  const mode = async (target: string) => ((await fs.stat(target)).mode & 0o777).toString(8)
  console.log(`${path.basename(path.dirname(file))}/ ${yield* Effect.promise(() => mode(path.dirname(file)))}`)
  console.log(`${path.basename(file)} ${yield* Effect.promise(() => mode(file))}`)

  const contents = JSON.parse(yield* Effect.promise(() => fs.readFile(file, "utf8")))
  console.log(`version ${contents.version}, grants filed under: ${Object.keys(contents.grants).join(", ")}`)
})

program.pipe(Effect.provide(OpenSolarLive), NodeRuntime.runMain)
