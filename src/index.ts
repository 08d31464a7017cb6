/**
 * OpenSolar API bearer tokens for Effect programs.
 *
 * Compose {@link OpenSolar.layer} (or {@link OpenSolar.layerConfig}) with the platform `HttpClient` you run
 * on, and use {@link OpenSolarClient} for requests or {@link TokenRef} for the bearer token itself.
 *
 * @since 0.1.0
 */

/**
 * Every way obtaining or using an OpenSolar token can fail, as one tagged union.
 *
 * @since 0.1.0
 * @category modules
 */
export * as AuthError from "./AuthError.js"

/**
 * How a token grant is obtained: password, two-factor code, session refresh, machine user, or a fallback.
 *
 * @since 0.1.0
 * @category modules
 */
export * as AuthStrategy from "./AuthStrategy.js"

/**
 * The address of the OpenSolar API, checked so that tokens go to its origin only, over HTTPS or loopback.
 *
 * @since 0.1.0
 * @category modules
 */
export * as BaseUrl from "./BaseUrl.js"

/**
 * The OpenSolar API bearer token: an opaque, redacted, branded string.
 *
 * @since 0.1.0
 * @category modules
 */
export * as BearerToken from "./BearerToken.js"

/**
 * The inputs of a login (username, password, two-factor code, organisation id) as schemas.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Credentials from "./Credentials.js"

/**
 * Where two-factor codes come from: a fixed code, a TOTP secret, an interactive prompt, or any effect.
 *
 * @since 0.1.0
 * @category modules
 */
export * as MfaCodeSource from "./MfaCodeSource.js"

/**
 * Everything wired together in one layer over the platform `HttpClient` the program runs on.
 *
 * @since 0.1.0
 * @category modules
 */
export * as OpenSolar from "./OpenSolar.js"

/**
 * The wire client for OpenSolar's authentication endpoints, with every status mapped to a typed error.
 *
 * @since 0.1.0
 * @category modules
 */
export * as OpenSolarApi from "./OpenSolarApi.js"

/**
 * An `HttpClient` for the OpenSolar API that sends a fresh bearer token on every request.
 *
 * @since 0.1.0
 * @category modules
 */
export * as OpenSolarClient from "./OpenSolarClient.js"

/**
 * The library's settings, read with Effect's `Config` and checked together.
 *
 * @since 0.1.0
 * @category modules
 */
export * as OpenSolarConfig from "./OpenSolarConfig.js"

/**
 * When a failed authentication is tried again: backoff with jitter, for transient errors only.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * A bearer token with when it was issued, when it expires, and whom it belongs to.
 *
 * @since 0.1.0
 * @category modules
 */
export * as TokenGrant from "./TokenGrant.js"

/**
 * The always-fresh bearer token, renewed in the background before it expires.
 *
 * @since 0.1.0
 * @category modules
 */
export * as TokenRef from "./TokenRef.js"

/**
 * Where grants are kept between runs and shared between processes.
 *
 * @since 0.1.0
 * @category modules
 */
export * as TokenStore from "./TokenStore.js"
