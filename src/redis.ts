/**
 * Fleet mode: a token store and cross-process single refresh on Redis (needs the `ioredis` package).
 *
 * @since 0.1.0
 */

/**
 * A token store in Redis, shared by a fleet of processes that refresh one at a time.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisTokenStore from "./RedisTokenStore.js"
