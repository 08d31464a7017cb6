import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { NodeHttpClient, NodePath } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import * as Settings from "../src/cli/Settings.js"
import * as MfaCodeSource from "../src/MfaCodeSource.js"
import * as OpenSolar from "../src/OpenSolar.js"
import * as OpenSolarApi from "../src/OpenSolarApi.js"
import * as OpenSolarClient from "../src/OpenSolarClient.js"
import * as TokenRef from "../src/TokenRef.js"
import * as TokenStore from "../src/TokenStore.js"
import { accounts, Simulator, type SimulatorService } from "../src/testing/index.js"

const withSimulator = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(Simulator.layer()), Effect.provide(NodeHttpClient.layerUndici))

// Runs `use` with the services of `stack`, built with the simulator's URL.
const using = <A, E>(
  stack: (sim: SimulatorService) => Layer.Layer<OpenSolar.Services, unknown, never>,
  use: Effect.Effect<A, E, OpenSolar.Services | Simulator>
) => Effect.flatMap(Simulator, (sim) => Effect.provide(use, stack(sim)))

const fetchProjects = Effect.gen(function* () {
  const client = yield* OpenSolarClient.OpenSolarClient
  const response = yield* client.forOrg(1).filterStatusOk.get("projects/")
  return (yield* response.json) as ReadonlyArray<{ readonly id: number }>
})

const resourceTokens = Effect.gen(function* () {
  const sim = yield* Simulator
  const log = yield* sim.requestLog
  return log
    .filter((entry) => entry.endpoint === "projects")
    .map((entry) => Option.getOrThrow(Option.map(entry.token, Redacted.value)))
})

const endpoints = Effect.map(
  Effect.flatMap(Simulator, (sim) => sim.requestLog),
  (log) => log.map((entry) => entry.endpoint)
)

const logins = Effect.map(endpoints, (list) => list.filter((endpoint) => endpoint === "login").length)

const withConfig = (variables: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

// One run of a program: a fresh stack, built for one request and torn down, as a process that starts and exits.
const runOnce = <E>(stack: Layer.Layer<OpenSolar.Services, E, never>) => Effect.provide(fetchProjects, stack)

describe("OpenSolar", () => {
  describe("layer", () => {
    it.effect("gives the client, the token and the wire client from a username and password", () =>
      withSimulator(
        using(
          (sim) =>
            Layer.provide(
              OpenSolar.layer({
                baseUrl: sim.url,
                username: accounts.example.username,
                password: accounts.example.password
              }),
              NodeHttpClient.layerUndici
            ),
          Effect.gen(function* () {
            const sim = yield* Simulator
            const projects = yield* fetchProjects
            const grant = yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.current)
            const api = yield* OpenSolarApi.OpenSolarApi

            expect(projects.length).toBeGreaterThan(0)
            expect(Option.isSome(grant)).toBe(true)
            expect(api.baseUrl).toBe(sim.url)
            expect(yield* resourceTokens).toEqual([Redacted.value(Option.getOrThrow(grant).token)])
            expect((yield* endpoints).filter((endpoint) => endpoint === "login")).toHaveLength(1)
          })
        )
      )
    )

    it.effect("logs in with a two-factor code from the given source", () =>
      withSimulator(
        using(
          (sim) =>
            Layer.provide(
              OpenSolar.layer({
                baseUrl: sim.url,
                username: accounts.mfa.username,
                password: Redacted.make(accounts.mfa.password),
                mfa: MfaCodeSource.totp(accounts.mfa.totpSecret)
              }),
              NodeHttpClient.layerUndici
            ),
          Effect.gen(function* () {
            const projects = yield* fetchProjects

            expect(projects.length).toBeGreaterThan(0)
          })
        )
      )
    )

    it.effect("sends a machine user's token as it is, without logging in", () =>
      withSimulator(
        using(
          (sim) =>
            Layer.provide(
              OpenSolar.layer({ baseUrl: sim.url, token: accounts.machine.token }),
              NodeHttpClient.layerUndici
            ),
          Effect.gen(function* () {
            yield* fetchProjects

            expect(yield* resourceTokens).toEqual([accounts.machine.token])
            expect(yield* endpoints).toEqual(["projects"])
          })
        )
      )
    )

    it.effect("fails with a ConfigurationError naming the options to fix", () =>
      Effect.gen(function* () {
        const build = (options: OpenSolar.Options) =>
          Effect.flip(Layer.build(Layer.provide(OpenSolar.layer(options), NodeHttpClient.layerUndici)))

        const errors = yield* Effect.scoped(
          Effect.all([
            build({}),
            build({ token: "abc", username: accounts.example.username, password: "x" }),
            build({ username: accounts.example.username }),
            build({ password: "x" }),
            build({ token: "has white space" }),
            build({ username: " padded@example.com ", password: "x" }),
            build({ username: accounts.example.username, password: "x", orgId: 0 }),
            build({ username: accounts.example.username, password: "x", baseUrl: "http://api.opensolar.com" })
          ])
        )

        expect(errors.map((error) => error._tag)).toEqual(Array(8).fill("ConfigurationError"))
        expect(errors.map((error) => error.variables)).toEqual([
          ["username", "password", "token"],
          ["token", "username", "password"],
          ["password"],
          ["username"],
          ["token"],
          ["username"],
          ["orgId"],
          ["baseUrl"]
        ])
        expect(errors.map((error) => error.message).join("\n")).not.toContain("has white space")
      })
    )
  })

  describe("store", () => {
    const { example, machine } = accounts

    it.effect("a restarted program finds its grant in the store and does not log in again", () =>
      withSimulator(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const store = Layer.succeed(TokenStore.TokenStore, yield* TokenStore.makeMemory)
          const program = OpenSolar.layer({
            baseUrl: sim.url,
            username: example.username,
            password: example.password,
            store
          }).pipe(Layer.provide(NodeHttpClient.layerUndici))

          yield* runOnce(program)
          yield* runOnce(program)
          yield* runOnce(program)

          const tokens = yield* resourceTokens
          expect(yield* logins).toBe(1)
          expect(tokens).toHaveLength(3)
          expect(new Set(tokens).size).toBe(1)
        })
      )
    )

    it.effect("keeps grants in memory by default, so a restarted program logs in again", () =>
      withSimulator(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const program = OpenSolar.layer({
            baseUrl: sim.url,
            username: example.username,
            password: example.password
          }).pipe(Layer.provide(NodeHttpClient.layerUndici))

          yield* runOnce(program)
          yield* runOnce(program)

          expect(yield* logins).toBe(2)
        })
      )
    )

    it.scoped("files grants under the key opensolar-auth uses, whatever the organisation", () =>
      withSimulator(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const keyValues = yield* Layer.build(KeyValueStore.layerMemory)
          const store = TokenStore.layerKeyValueStore().pipe(Layer.provide(Layer.succeedContext(keyValues)))
          const variables = {
            OPENSOLAR_BASE_URL: `${sim.url}/`,
            OPENSOLAR_USERNAME: example.username.toUpperCase(),
            OPENSOLAR_PASSWORD: example.password,
            OPENSOLAR_ORG_ID: "1"
          }
          const fromEnvironment = OpenSolar.layerConfigWith({ store }).pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provide(withConfig(variables))
          )
          const fromOptions = OpenSolar.layer({
            baseUrl: sim.url,
            username: example.username,
            password: example.password,
            store
          }).pipe(Layer.provide(NodeHttpClient.layerUndici))

          yield* runOnce(fromEnvironment)
          yield* runOnce(fromOptions)

          const cli = yield* Settings.resolve({
            baseUrl: Option.none(),
            org: Option.none(),
            username: Option.none(),
            store: Option.none(),
            json: false,
            verbose: false
          }).pipe(Effect.provide(NodePath.layer), Effect.provide(withConfig(variables)))
          const commandKey = Settings.storeKey(cli, Option.getOrThrow(cli.username))
          const stored = yield* Effect.flatMap(TokenStore.TokenStore, (tokens) => tokens.load(commandKey)).pipe(
            Effect.provide(store)
          )
          expect(yield* logins).toBe(1)
          expect(Option.map(stored, (grant) => Redacted.value(grant.token))).toEqual(
            Option.some((yield* resourceTokens)[0])
          )
          expect(TokenStore.keyToString(commandKey)).toBe(`${sim.url}|${example.username}|-`)
        })
      )
    )

    it.effect("refuses a store that is not a layer with a ConfigurationError naming store", () =>
      Effect.gen(function* () {
        const store = 0 as unknown as Layer.Layer<TokenStore.TokenStore>

        const error = yield* Effect.flip(
          Layer.build(OpenSolar.layerConfigWith({ store })).pipe(
            Effect.provide(NodeHttpClient.layerUndici),
            Effect.scoped
          )
        )

        expect(error.variables).toEqual(["store"])
        expect(error.message).toContain("store must be a Layer providing a TokenStore")
      })
    )

    it.effect("never stores a machine user's token, nor builds the store for it", () =>
      withSimulator(
        Effect.gen(function* () {
          const sim = yield* Simulator
          const store = Layer.effect(TokenStore.TokenStore, Effect.dieMessage("the store was built"))

          yield* runOnce(
            OpenSolar.layer({ baseUrl: sim.url, token: machine.token, store }).pipe(
              Layer.provide(NodeHttpClient.layerUndici)
            )
          )
          yield* runOnce(
            OpenSolar.layerConfigWith({ store }).pipe(
              Layer.provide(NodeHttpClient.layerUndici),
              Layer.provide(withConfig({ OPENSOLAR_BASE_URL: sim.url, OPENSOLAR_TOKEN: machine.token }))
            )
          )

          expect(yield* resourceTokens).toEqual([machine.token, machine.token])
          expect(yield* endpoints).toEqual(["projects", "projects"])
        })
      )
    )
  })

  describe("layerConfig", () => {
    const fromVariables = (variables: Record<string, string>) =>
      Layer.provide(OpenSolar.layerConfig, NodeHttpClient.layerUndici).pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))))
      )

    it.effect("reads the base URL, username, password and organisation from the environment", () =>
      withSimulator(
        using(
          (sim) =>
            fromVariables({
              OPENSOLAR_BASE_URL: sim.url,
              OPENSOLAR_USERNAME: accounts.example.username,
              OPENSOLAR_PASSWORD: accounts.example.password,
              OPENSOLAR_ORG_ID: "1",
              OPENSOLAR_TOKEN_LIFETIME: "7 days"
            }),
          Effect.gen(function* () {
            const sim = yield* Simulator
            const projects = yield* fetchProjects
            const grant = Option.getOrThrow(yield* Effect.flatMap(TokenRef.TokenRef, (tokenRef) => tokenRef.current))

            expect(projects.length).toBeGreaterThan(0)
            expect((yield* OpenSolarApi.OpenSolarApi).baseUrl).toBe(sim.url)
            expect(grant.user.id).toBe(accounts.example.id)
            expect(yield* resourceTokens).toEqual([Redacted.value(grant.token)])
          })
        )
      )
    )

    it.effect("reads a TOTP secret for an account with two-factor authentication", () =>
      withSimulator(
        using(
          (sim) =>
            fromVariables({
              OPENSOLAR_BASE_URL: sim.url,
              OPENSOLAR_USERNAME: accounts.mfa.username,
              OPENSOLAR_PASSWORD: accounts.mfa.password,
              OPENSOLAR_TOTP_SECRET: accounts.mfa.totpSecret
            }),
          Effect.gen(function* () {
            const projects = yield* fetchProjects

            expect(projects.length).toBeGreaterThan(0)
          })
        )
      )
    )

    it.effect("reads a machine user's token", () =>
      withSimulator(
        using(
          (sim) => fromVariables({ OPENSOLAR_BASE_URL: sim.url, OPENSOLAR_TOKEN: accounts.machine.token }),
          Effect.gen(function* () {
            yield* fetchProjects

            expect(yield* resourceTokens).toEqual([accounts.machine.token])
          })
        )
      )
    )

    it.effect("fails with one ConfigurationError naming the missing variables", () =>
      Effect.gen(function* () {
        const error = yield* Effect.scoped(Effect.flip(Layer.build(fromVariables({}))))

        expect(error._tag).toBe("ConfigurationError")
        expect(error.variables).toEqual(expect.arrayContaining(["OPENSOLAR_USERNAME", "OPENSOLAR_PASSWORD"]))
      })
    )
  })
})
