/**
 * Node.js-specific parts of the library: the file token store.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as FileTokenStore from "./FileTokenStore.js"
