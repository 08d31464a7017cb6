/**
 * Where grants are kept between runs and shared between processes: in memory, in a file, in a
 * `KeyValueStore`, or in Redis for a fleet.
 *
 * @since 0.1.0
 */
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { Context, Effect, Layer, Option, Predicate, Ref, Schema } from "effect"
import * as AuthError from "./AuthError.js"
import * as internal from "./internal/tokenStore.js"
import type * as TokenGrant from "./TokenGrant.js"

/**
 * A store failed to read or write. Token stores are a cache: callers log this and carry on.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("effect-opensolar-auth/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.Literal("load", "save", "remove", "lock"),
    reason: Schema.String
  }
) {
  override get message(): string {
    return `The token store could not ${this.operation}: ${this.reason}`
  }
}

/**
 * What a stored grant is filed under: the API, the user and the organisation, so accounts never mix.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreKey {
  readonly baseUrl: string
  readonly subject: string
  readonly orgId?: number | undefined
}

/**
 * The text form of a {@link StoreKey}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyToString = (key: StoreKey): string =>
  `${key.baseUrl.replace(/\/+$/, "")}|${key.subject.toLowerCase()}|${key.orgId ?? "-"}`

/**
 * A place to keep grants.
 *
 * `exclusive` runs a refresh so that, across everything sharing the store, one refresh for a key runs at a
 * time; a refresh must load the store first and use a grant another holder saved meanwhile. Stores used by
 * one process make it the identity.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly load: (key: StoreKey) => Effect.Effect<Option.Option<TokenGrant.TokenGrant>, TokenStoreError>
  readonly save: (key: StoreKey, grant: TokenGrant.TokenGrant) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: StoreKey) => Effect.Effect<void, TokenStoreError>
  readonly exclusive: <A, E, R>(key: StoreKey, refresh: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * The token store as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("effect-opensolar-auth/TokenStore")<TokenStore, Service>() {}

/**
 * Makes a store that keeps grants in memory, for the life of the process. Refreshes for one key run one at a
 * time, so `TokenRef`s sharing it refresh once between them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.gen(function* () {
  const grants = yield* Ref.make<ReadonlyMap<string, TokenGrant.TokenGrant>>(new Map())
  const lock = internal.makeKeyedLock()

  return {
    load: (key) => Effect.map(Ref.get(grants), (stored) => Option.fromNullable(stored.get(keyToString(key)))),
    save: (key, grant) => Ref.update(grants, (stored) => new Map(stored).set(keyToString(key), grant)),
    remove: (key) =>
      Ref.update(grants, (stored) => {
        const next = new Map(stored)
        next.delete(keyToString(key))
        return next
      }),
    exclusive: (key, refresh) => lock.withLock(keyToString(key), refresh)
  }
})

/**
 * A store in memory: the default, when nothing needs to outlive the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)

/**
 * Options of {@link layerKeyValueStore}.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyValueStoreOptions {
  /** Put before every key, to keep grants apart from other entries. @default "effect-opensolar-auth/grant/" */
  readonly prefix?: string | undefined
}

/**
 * Makes a store over the `KeyValueStore` in context. Each grant is one entry, JSON with a format version;
 * an entry this version cannot read fails `load` with a {@link TokenStoreError} and is replaced on the next
 * save. Refreshes for one key run one at a time within the process. Fails with a `ConfigurationError` naming
 * the option when the options are not an object or the prefix is not a text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyValueStore = (
  options: KeyValueStoreOptions = {}
): Effect.Effect<Service, AuthError.ConfigurationError, KeyValueStore.KeyValueStore> =>
  Effect.gen(function* () {
    const prefix = yield* prefixOf(options)
    const store = yield* KeyValueStore.KeyValueStore
    const lock = internal.makeKeyedLock()
    const entry = (key: StoreKey) => prefix + keyToString(key)
    const failure = (operation: TokenStoreError["operation"]) => (error: { readonly message: string }) =>
      new TokenStoreError({ operation, reason: error.message })

    const load = (key: StoreKey) =>
      store.get(entry(key)).pipe(
        Effect.mapError(failure("load")),
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (text) =>
              Schema.decode(internal.StoredGrant)(text).pipe(
                Effect.map(({ grant }) => Option.some(grant)),
                // The parse error may quote the stored token, so it is not passed on.
                Effect.mapError(
                  () =>
                    new TokenStoreError({
                      operation: "load",
                      reason: `the entry ${entry(key)} is not a grant this version reads; the next save replaces it`
                    })
                )
              )
          })
        )
      )

    const save = (key: StoreKey, grant: TokenGrant.TokenGrant) =>
      Schema.encode(internal.StoredGrant)({ version: 1, grant }).pipe(
        Effect.mapError(() => new TokenStoreError({ operation: "save", reason: "the grant could not be encoded" })),
        Effect.flatMap((text) => Effect.mapError(store.set(entry(key), text), failure("save")))
      )

    return {
      load,
      save,
      remove: (key) => Effect.mapError(store.remove(entry(key)), failure("remove")),
      exclusive: (key, refresh) => lock.withLock(keyToString(key), refresh)
    }
  })

const prefixOf = (options: unknown): Effect.Effect<string, AuthError.ConfigurationError> => {
  const misconfigured = (reason: string, option: string) =>
    new AuthError.ConfigurationError({ reason: `TokenStore.makeKeyValueStore: ${reason}`, variables: [option] })

  if (options !== undefined && options !== null && !Predicate.isRecord(options)) {
    return misconfigured('the options must be an object, such as { prefix: "my-app/grant/" }', "options")
  }
  const prefix = options?.prefix ?? "effect-opensolar-auth/grant/"
  if (typeof prefix !== "string") {
    return misconfigured(
      `prefix must be a text, such as "my-app/grant/", or left out; got a value of type ${typeof prefix}`,
      "prefix"
    )
  }
  return Effect.succeed(prefix)
}

/**
 * A store over the platform's `KeyValueStore`: a browser's `localStorage`, a directory of files, or any other
 * implementation. Fails with a `ConfigurationError` as {@link makeKeyValueStore} does.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerKeyValueStore = (
  options: KeyValueStoreOptions = {}
): Layer.Layer<TokenStore, AuthError.ConfigurationError, KeyValueStore.KeyValueStore> =>
  Layer.effect(TokenStore, makeKeyValueStore(options))
