/**
 * A lock that processes share through the file system: a lock file created only when absent, naming its owner
 * (process, host and a random id) and a lease the owner renews while it holds the lock.
 *
 * A waiter tries again after short pauses on the `Clock`. A lock is stale, and taken over, when its owner was a
 * process on this host that has ended, when by this host's clock its lease has not been renewed for a whole lease,
 * or when the file has not changed for a whole lease (an owner that died before writing it, or a clock far off).
 * A lock file is removed only by its owner or by the one waiter that takes it over. A waiter never waits for good:
 * after the wait timeout it goes on without the lock, and so does anyone who cannot create the file at all.
 *
 * @internal
 */
import { randomUUID } from "node:crypto"
import * as Os from "node:os"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { Clock, Duration, Effect, Either, Exit, Fiber, Option, Random, Ref, Schema, Scope } from "effect"

/** @internal */
export interface Settings {
  /** A lease not renewed for this long is stale; the owner renews it every third of this. */
  readonly leaseTtl: Duration.Duration
  /** How long a waiter waits for the lock before going on without it. */
  readonly waitTimeout: Duration.Duration
  /** The longest pause between two tries. */
  readonly maxPause: Duration.Duration
}

/**
 * What a lock file holds: the owning process, its host, an id unique to this holding, and when the lock was
 * taken and last renewed, in epoch milliseconds.
 *
 * @internal
 */
export const LockOwner = Schema.Struct({
  pid: Schema.Int.pipe(Schema.positive()),
  hostname: Schema.String,
  id: Schema.String,
  acquiredAt: Schema.Number,
  renewedAt: Schema.Number
})

/** @internal */
export type LockOwner = typeof LockOwner.Type

/**
 * Runs effects while holding lock files.
 *
 * @internal
 */
export interface FileLock {
  readonly withLock: (
    lockPath: string,
    settings: Settings
  ) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

interface Held {
  readonly path: string
  readonly owner: LockOwner
  readonly file: FileSystem.File
  readonly scope: Scope.CloseableScope
}

type Attempt =
  | { readonly _tag: "Created"; readonly held: Held }
  | { readonly _tag: "Exists" }
  | { readonly _tag: "Failed"; readonly reason: string }

/** A lock file as one waiter has seen it: its text, and since when it has been unchanged. */
interface Sighting {
  readonly text: string
  readonly since: number
}

interface Look {
  readonly text: string
  /** Why the lock is stale; `undefined` while it is not. */
  readonly stale: string | undefined
}

const hostname = Os.hostname()

// Renewals rewrite the record in place, padded to one length: a reader never finds the end of a longer record
// after a shorter one.
const recordLength = 512

// Stands for a lock file that exists but cannot be read.
const unreadable = "\u0000unreadable"

// Renewals are timed on the wall clock: a renewal sleeping on a test clock would let a program that drives that
// clock jump it ahead while a refresh's request is still in flight. The lease itself is read from the `Clock`.
const wallClock = Clock.make()

const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(LockOwner))

const encoder = new TextEncoder()

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const isReason = (error: { readonly _tag: string; readonly reason?: unknown }, reason: string): boolean =>
  error._tag === "SystemError" && error.reason === reason

const sight = (previous: Sighting | undefined, text: string, now: number): Sighting =>
  previous !== undefined && previous.text === text ? previous : { text, since: now }

const staleness = (sighting: Sighting, now: number, leaseTtlMillis: number): string | undefined => {
  const owner = decodeOwner(sighting.text)
  if (Option.isSome(owner)) {
    const { pid, renewedAt } = owner.value
    if (owner.value.hostname === hostname && !isRunning(pid)) {
      return `its owner, process ${pid} on this host, has ended`
    }
    if (now - renewedAt > leaseTtlMillis) {
      return `its owner has not renewed it for ${Duration.format(Duration.millis(now - renewedAt))}`
    }
  }
  if (now - sighting.since > leaseTtlMillis) {
    return `it has not changed for ${Duration.format(Duration.millis(now - sighting.since))}`
  }
  return undefined
}

const pauseMillis = (pauses: number, settings: Settings): Effect.Effect<number> =>
  Effect.map(Random.next, (random) => {
    const longest = Math.min(Duration.toMillis(settings.maxPause), 2 ** (pauses + 1))
    return Math.max(1, Math.round(longest * (0.5 + random / 2)))
  })

/**
 * Makes lock files over the given file system; a lock file's directory is created (`0700`) when missing.
 *
 * @internal
 */
export const make = (fs: FileSystem.FileSystem, path: Path.Path): FileLock => {
  const writeOwner = (file: FileSystem.File, owner: LockOwner) => {
    const record = encoder.encode(JSON.stringify(owner).padEnd(recordLength))
    return Effect.zipRight(file.seek(0, "start"), file.writeAll(record))
  }

  const read = (lockPath: string): Effect.Effect<Option.Option<string>> =>
    fs.readFileString(lockPath).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) => (isReason(error, "NotFound") ? Effect.succeedNone : Effect.succeedSome(unreadable)))
    )

  const open = (lockPath: string) =>
    fs.open(lockPath, { flag: "wx", mode: 0o600 }).pipe(
      Effect.catchIf(
        (error) => isReason(error, "NotFound"),
        () =>
          fs
            .makeDirectory(path.dirname(lockPath), { recursive: true, mode: 0o700 })
            .pipe(Effect.zipRight(fs.open(lockPath, { flag: "wx", mode: 0o600 })))
      )
    )

  const create = (lockPath: string): Effect.Effect<Attempt> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const owner: LockOwner = { pid: process.pid, hostname, id: randomUUID(), acquiredAt: now, renewedAt: now }
      const scope = yield* Scope.make()

      const opened = yield* Effect.either(Scope.extend(open(lockPath), scope))
      if (Either.isLeft(opened)) {
        yield* Scope.close(scope, Exit.void)
        return isReason(opened.left, "AlreadyExists")
          ? { _tag: "Exists" }
          : { _tag: "Failed", reason: opened.left.message }
      }

      const written = yield* Effect.either(writeOwner(opened.right, owner))
      if (Either.isLeft(written)) {
        yield* Scope.close(scope, Exit.void)
        yield* Effect.ignore(fs.remove(lockPath))
        return { _tag: "Failed", reason: written.left.message }
      }
      return { _tag: "Created", held: { path: lockPath, owner, file: opened.right, scope } }
    })

  const removeIf = (lockPath: string, expected: (text: string) => boolean): Effect.Effect<boolean> =>
    Effect.flatMap(read(lockPath), (text) =>
      Option.isSome(text) && expected(text.value)
        ? fs.remove(lockPath).pipe(
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          )
        : Effect.succeed(false)
    )

  const ownedBy = (owner: LockOwner) => (text: string) =>
    Option.exists(decodeOwner(text), (current) => current.id === owner.id)

  // Checking the owner first keeps a holder whose lock was taken over from removing its successor's.
  const release = (held: Held): Effect.Effect<void> =>
    Scope.close(held.scope, Exit.void).pipe(Effect.zipRight(removeIf(held.path, ownedBy(held.owner))), Effect.asVoid)

  const renew = (held: Held, settings: Settings): Effect.Effect<void> =>
    Effect.gen(function* () {
      const interval = Duration.millis(Math.max(1, Math.floor(Duration.toMillis(settings.leaseTtl) / 3)))

      while (true) {
        yield* Effect.withClock(Effect.sleep(interval), wallClock)
        const text = yield* read(held.path)
        const takenOver = Option.match(text, {
          onNone: () => true,
          onSome: (current) => current !== unreadable && !ownedBy(held.owner)(current)
        })
        if (takenOver) {
          return yield* Effect.logDebug(
            `Lock file ${held.path} was taken over while still held: another process may now work at the same time`
          )
        }
        const now = yield* Clock.currentTimeMillis
        yield* Effect.ignore(writeOwner(held.file, { ...held.owner, renewedAt: now }))
      }
    })

  const acquire = (lockPath: string, settings: Settings, holding: Ref.Ref<Option.Option<Held>>) =>
    Effect.gen(function* () {
      const leaseTtlMillis = Duration.toMillis(settings.leaseTtl)
      const waitMillis = Duration.toMillis(settings.waitTimeout)
      const guardPath = `${lockPath}.takeover`
      const sightings = new Map<string, Sighting>()

      const look = (target: string): Effect.Effect<Option.Option<Look>> =>
        Effect.gen(function* () {
          const text = yield* read(target)
          if (Option.isNone(text)) {
            sightings.delete(target)
            return Option.none()
          }
          const now = yield* Clock.currentTimeMillis
          const sighting = sight(sightings.get(target), text.value, now)
          sightings.set(target, sighting)
          return Option.some({ text: text.value, stale: staleness(sighting, now, leaseTtlMillis) })
        })

      // Waiters that find the same stale lock take turns through a guard file, and each removes the lock only if
      // it is still the one found stale: otherwise one of them could remove the lock another has just taken.
      const takeOver = (staleText: string): Effect.Effect<boolean> =>
        Effect.gen(function* () {
          const guard = yield* create(guardPath)
          switch (guard._tag) {
            case "Created": {
              const removed = yield* removeIf(lockPath, (text) => text === staleText)
              yield* release(guard.held)
              return removed
            }
            case "Failed":
              return yield* removeIf(lockPath, (text) => text === staleText)
            case "Exists": {
              const seen = yield* look(guardPath)
              if (Option.isSome(seen) && seen.value.stale !== undefined) {
                yield* Effect.logDebug(`Removing the lock file ${guardPath}: ${seen.value.stale}`)
                yield* removeIf(guardPath, (text) => text === seen.value.text)
              }
              return false
            }
          }
        }).pipe(Effect.uninterruptible)

      const startedAt = yield* Clock.currentTimeMillis
      let pauses = 0
      let quickRetries = 0

      while (true) {
        const attempt = yield* create(lockPath).pipe(
          Effect.tap((result) =>
            result._tag === "Created" ? Ref.set(holding, Option.some(result.held)) : Effect.void
          ),
          Effect.uninterruptible
        )
        if (attempt._tag === "Created") {
          return
        }
        if (attempt._tag === "Failed") {
          return yield* Effect.logDebug(
            `Cannot create the lock file ${lockPath} (${attempt.reason}): going on without it`
          )
        }

        const seen = yield* look(lockPath)
        let freed = Option.isNone(seen)
        if (Option.isSome(seen) && seen.value.stale !== undefined) {
          freed = yield* takeOver(seen.value.text)
          if (freed) {
            yield* Effect.logDebug(`Took over the lock file ${lockPath}: ${seen.value.stale}`)
          }
        }
        if (freed && quickRetries < 3) {
          quickRetries += 1
          continue
        }

        const waited = (yield* Clock.currentTimeMillis) - startedAt
        if (waited >= waitMillis) {
          return yield* Effect.logDebug(
            `The lock file ${lockPath} is still held after ${Duration.format(settings.waitTimeout)}: ` +
              "going on without it"
          )
        }
        const pause = yield* pauseMillis(pauses, settings)
        pauses += 1
        quickRetries = 0
        yield* Effect.sleep(Duration.millis(Math.min(pause, waitMillis - waited)))
      }
    })

  const withLock =
    (lockPath: string, settings: Settings) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const holding = yield* Ref.make(Option.none<Held>())
          yield* restore(acquire(lockPath, settings, holding)).pipe(
            Effect.onInterrupt(() =>
              Effect.flatMap(Ref.get(holding), Option.match({ onNone: () => Effect.void, onSome: release }))
            )
          )

          const held = yield* Ref.get(holding)
          if (Option.isNone(held)) {
            return yield* restore(effect)
          }
          const whileRenewing = Effect.flatMap(Effect.fork(renew(held.value, settings)), (renewer) =>
            Effect.ensuring(effect, Fiber.interrupt(renewer))
          )
          return yield* restore(whileRenewing).pipe(Effect.ensuring(release(held.value)))
        })
      )

  return { withLock }
}
