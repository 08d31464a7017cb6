/**
 * Fleet mode: a token store and cross-process single refresh on Redis (needs the `ioredis` package).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as RedisTokenStore from "./RedisTokenStore.js"
