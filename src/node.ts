/**
 * Node.js-specific parts of the library: the file token store.
 *
 * @since 0.1.0
 */

/**
 * A token store in a JSON file, readable by its owner only, for command-line tools and single machines.
 *
 * @since 0.1.0
 * @category modules
 */
export * as FileTokenStore from "./FileTokenStore.js"
