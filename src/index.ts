/**
 * OpenSolar API bearer tokens for Effect programs.
 *
 * Compose {@link OpenSolar.layer} (or {@link OpenSolar.layerConfig}) with the platform `HttpClient` you run
 * on, and use {@link OpenSolarClient} for requests or {@link TokenRef} for the bearer token itself.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as AuthError from "./AuthError.js"

/**
 * @since 0.1.0
 */
export * as AuthStrategy from "./AuthStrategy.js"

/**
 * @since 0.1.0
 */
export * as BaseUrl from "./BaseUrl.js"

/**
 * @since 0.1.0
 */
export * as BearerToken from "./BearerToken.js"

/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"

/**
 * @since 0.1.0
 */
export * as MfaCodeSource from "./MfaCodeSource.js"

/**
 * @since 0.1.0
 */
export * as OpenSolar from "./OpenSolar.js"

/**
 * @since 0.1.0
 */
export * as OpenSolarApi from "./OpenSolarApi.js"

/**
 * @since 0.1.0
 */
export * as OpenSolarClient from "./OpenSolarClient.js"

/**
 * @since 0.1.0
 */
export * as OpenSolarConfig from "./OpenSolarConfig.js"

/**
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * @since 0.1.0
 */
export * as TokenGrant from "./TokenGrant.js"

/**
 * @since 0.1.0
 */
export * as TokenRef from "./TokenRef.js"

/**
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"
