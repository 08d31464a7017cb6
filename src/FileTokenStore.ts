/**
 * A token store in a JSON file, for command-line tools and single machines: a restarted program finds its
 * grant and does not log in again.
 *
 * The file holds `{ "version": 1, "grants": { "<base URL>|<user>|<org>": <grant> } }`, so several accounts
 * share it without mixing. The file is readable by its owner only (`0600`), and each save writes a temporary
 * file beside it and renames it over the old one, so a crash never leaves half a file. A file that is missing,
 * unreadable, corrupt or of another version is ignored and replaced on the next save.
 *
 * The default directory belongs to the store, so each save keeps it at `0700` even if it already existed with
 * wider permissions. A directory named by `path` may be shared, such as a home or project directory: it is
 * created `0700` when missing, but an existing one is left as it is.
 *
 * Processes sharing the file take turns through lock files beside it: `<file>.lock` while one of them saves, so
 * no save is lost, and one per account while one of them logs in, so the others wait and use its grant. A lock
 * file names its owner and a lease the owner renews; one whose owner has ended, or that has gone unrenewed for
 * 10 seconds (30 for a login), is taken over. A process waits at most 20 seconds for a save's lock and a minute
 * for a login's before going on without it.
 *
 * Node-specific: the layers run over the platform's `FileSystem` and `Path`, which `layerNode` takes from
 * `@effect/platform-node`.
 *
 * @since 0.1.0
 */
import { createHash, randomUUID } from "node:crypto"
import * as Os from "node:os"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Config, Duration, Effect, Layer, Option, Predicate, Schema } from "effect"
import * as AuthError from "./AuthError.js"
import * as FileLock from "./internal/fileLock.js"
import * as internal from "./internal/tokenStore.js"
import * as TokenGrant from "./TokenGrant.js"
import * as TokenStore from "./TokenStore.js"

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The file. A relative path is taken from the working directory. Its directory is created `0700` when
   * missing; an existing one is not changed, unless it is the default file's. @default {@link defaultPath}
   */
  readonly path?: string | undefined
}

/**
 * The file's format: a version, and each grant in its JSON form under its store key. Entries are checked one
 * by one, so an entry this version cannot read does not hide the others.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenFile = Schema.Struct({
  version: Schema.Literal(1),
  grants: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

/**
 * The default file: `$XDG_CONFIG_HOME/opensolar-auth/tokens.json`, or `~/.config/opensolar-auth/tokens.json`
 * when `XDG_CONFIG_HOME` is unset or not an absolute path.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPath: Effect.Effect<string, never, Path.Path> = Effect.gen(function* () {
  const path = yield* Path.Path
  const configHome = yield* setting("XDG_CONFIG_HOME")
  const home = yield* setting("HOME")
  const base = Option.getOrElse(
    Option.filter(configHome, (directory) => path.isAbsolute(directory)),
    () =>
      path.join(
        Option.getOrElse(home, () => Os.homedir()),
        ".config"
      )
  )
  return path.join(base, "opensolar-auth", "tokens.json")
})

const setting = (name: string) =>
  Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

// Every store on the same file in this process writes through one lock, and refreshes one key at a time, so the
// lock files only ever order processes.
const fileLocks = internal.makeKeyedLock()
const refreshLocks = internal.makeKeyedLock()

// Across processes: a save holds its lock for milliseconds; a login may wait on the network or on someone typing
// a code, and its owner renews its lease meanwhile.
const saveLock: FileLock.Settings = {
  leaseTtl: Duration.seconds(10),
  waitTimeout: Duration.seconds(20),
  maxPause: Duration.millis(50)
}
const refreshLock: FileLock.Settings = {
  leaseTtl: Duration.seconds(30),
  waitTimeout: Duration.minutes(1),
  maxPause: Duration.millis(250)
}

const decodeFile = Schema.decodeUnknown(Schema.parseJson(TokenFile))
const decodeGrant = Schema.decodeUnknown(TokenGrant.TokenGrant)
const encodeGrant = Schema.encode(TokenGrant.TokenGrant)

const misconfigured = (reason: string, option: string) =>
  new AuthError.ConfigurationError({ reason: `FileTokenStore: ${reason}`, variables: [option] })

const checkOptions = (options: unknown): Effect.Effect<Options, AuthError.ConfigurationError> => {
  if (options === undefined || options === null) {
    return Effect.succeed({})
  }
  if (!Predicate.isRecord(options)) {
    return misconfigured(`the options must be an object, such as { path: "tokens.json" }`, "options")
  }
  if (options.path !== undefined && (typeof options.path !== "string" || options.path.trim() === "")) {
    return misconfigured(
      `path must be a text naming the token file, such as "tokens.json", or left out for the default file; ` +
        `got ${typeof options.path === "string" ? "an empty text" : `a value of type ${typeof options.path}`}`,
      "path"
    )
  }
  return Effect.succeed(options)
}

/**
 * Makes a store over the file at `options.path`. Fails with a `ConfigurationError` naming the option when the
 * options are not an object or the path is not a text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  input: Options = {}
): Effect.Effect<TokenStore.Service, AuthError.ConfigurationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const options = yield* checkOptions(input)
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const ownFile = path.resolve(yield* defaultPath)
    const file = options.path === undefined ? ownFile : path.resolve(options.path)
    const directory = path.dirname(file)
    const locks = FileLock.make(fs, path)
    const withSaveLock = locks.withLock(`${file}.lock`, saveLock)
    const refreshLockPath = (key: TokenStore.StoreKey) =>
      `${file}.refresh-${createHash("sha256").update(TokenStore.keyToString(key)).digest("hex").slice(0, 16)}.lock`

    const ignore = (why: string) =>
      Effect.as(
        Effect.logDebug(`FileTokenStore: ignoring ${file}: ${why}; the next save replaces it`),
        Option.none<typeof TokenFile.Type>()
      )

    // Parse errors are not passed on: they may quote a stored token.
    const read: Effect.Effect<Option.Option<typeof TokenFile.Type>> = fs.readFileString(file).pipe(
      Effect.flatMap((text) =>
        decodeFile(text).pipe(
          Effect.map(Option.some),
          Effect.catchAll(() => ignore("it is not a version 1 token file"))
        )
      ),
      Effect.catchAll((error) =>
        error._tag === "SystemError" && error.reason === "NotFound" ? Effect.succeedNone : ignore(error.message)
      )
    )

    // The file is private whatever its directory; a directory that cannot be narrowed does not stop a save.
    const keepDirectoryPrivate = fs.stat(directory).pipe(
      Effect.flatMap((info) => ((info.mode & 0o777) === 0o700 ? Effect.void : fs.chmod(directory, 0o700))),
      Effect.catchAll((error) =>
        Effect.logDebug(`FileTokenStore: could not make ${directory} private to its owner: ${error.message}`)
      )
    )
    // The default file's directory belongs to the store alone, however the file was named.
    const ownsDirectory = file === ownFile

    const write = (contents: typeof TokenFile.Type) =>
      Effect.gen(function* () {
        yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 })
        if (ownsDirectory) {
          yield* keepDirectoryPrivate
        }
        const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${randomUUID()}.tmp`)
        yield* Effect.gen(function* () {
          yield* fs.writeFileString(temporary, `${JSON.stringify(contents, null, 2)}\n`, { flag: "wx", mode: 0o600 })
          yield* fs.chmod(temporary, 0o600)
          yield* fs.rename(temporary, file)
        }).pipe(Effect.tapError(() => Effect.ignore(fs.remove(temporary))))
      })

    const modify = (
      operation: "save" | "remove",
      f: (grants: Readonly<Record<string, unknown>>) => Record<string, unknown>
    ): Effect.Effect<void, TokenStore.TokenStoreError> =>
      fileLocks.withLock(
        file,
        Effect.gen(function* () {
          const current = yield* read
          const grants = Option.match(current, { onNone: () => ({}), onSome: (contents) => contents.grants })
          yield* write({ version: 1, grants: f(grants) })
        }).pipe(
          withSaveLock,
          Effect.mapError((error) => new TokenStore.TokenStoreError({ operation, reason: `${file}: ${error.message}` }))
        )
      )

    const load = (key: TokenStore.StoreKey) =>
      Effect.gen(function* () {
        const contents = yield* read
        const entry = Option.flatMap(contents, ({ grants }) => Option.fromNullable(grants[TokenStore.keyToString(key)]))
        if (Option.isNone(entry)) {
          return Option.none()
        }
        return yield* decodeGrant(entry.value).pipe(
          Effect.map(Option.some),
          Effect.catchAll(() =>
            Effect.as(
              Effect.logDebug(`FileTokenStore: ignoring the unreadable entry for ${TokenStore.keyToString(key)}`),
              Option.none()
            )
          )
        )
      })

    const save = (key: TokenStore.StoreKey, grant: TokenGrant.TokenGrant) =>
      encodeGrant(grant).pipe(
        Effect.mapError(
          () => new TokenStore.TokenStoreError({ operation: "save", reason: "the grant could not be encoded" })
        ),
        Effect.flatMap((encoded) => modify("save", (grants) => ({ ...grants, [TokenStore.keyToString(key)]: encoded })))
      )

    const remove = (key: TokenStore.StoreKey) =>
      modify("remove", (grants) => {
        const { [TokenStore.keyToString(key)]: _removed, ...rest } = grants
        return rest
      })

    const exclusive = <A, E, R>(key: TokenStore.StoreKey, refresh: Effect.Effect<A, E, R>) =>
      refreshLocks.withLock(
        `${file}\u0000${TokenStore.keyToString(key)}`,
        locks.withLock(refreshLockPath(key), refreshLock)(refresh)
      )

    return { load, save, remove, exclusive } satisfies TokenStore.Service
  })

/**
 * A store in a file, over the platform's `FileSystem` and `Path`. Fails with a `ConfigurationError` as
 * {@link make} does.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(TokenStore.TokenStore, make(options))

/**
 * A store in a file, on Node's file system. Fails with a `ConfigurationError` as {@link make} does.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { TokenRef } from "effect-opensolar-auth"
 * import { FileTokenStore } from "effect-opensolar-auth/node"
 *
 * const Tokens = TokenRef.layer({
 *   storeKey: { baseUrl: "https://api.opensolar.com", subject: "arnie@illbeback.com" }
 * }).pipe(Layer.provide(FileTokenStore.layerNode()))
 * ```
 */
export const layerNode = (options: Options = {}): Layer.Layer<TokenStore.TokenStore, AuthError.ConfigurationError> =>
  layer(options).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
