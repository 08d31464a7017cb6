/**
 * The address of the OpenSolar API. Tokens are sent only to this origin, and only over HTTPS unless the
 * host is on the loopback interface (a local simulator or proxy).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The production OpenSolar API.
 *
 * @since 0.1.0
 * @category constants
 */
export const production = "https://api.opensolar.com"

const loopbackHosts = new Set(["localhost", "[::1]", "::1"])

/**
 * Whether a host name is on the loopback interface.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isLoopbackHost = (hostname: string): boolean =>
  loopbackHosts.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname)

const check = (text: string): string | undefined => {
  if (!URL.canParse(text)) {
    // Text with an "@" may hold a password: name the problem without repeating the text.
    const shown = text.includes("@") ? "the base URL" : `"${text}"`
    return `${shown} is not an absolute URL; use the form https://api.opensolar.com`
  }
  const url = new URL(text)
  if (url.username !== "" || url.password !== "") {
    return "the base URL must not contain a user name or password"
  }
  // An empty query or fragment ("https://host?") parses to an empty search, but would still break every path.
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(text)) {
    return "the base URL must not contain a query or fragment"
  }
  if (url.protocol === "https:") {
    return undefined
  }
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) {
    return undefined
  }
  if (url.protocol === "http:") {
    return `plain http is allowed only for loopback hosts; use https://${url.host}`
  }
  return `the base URL must use https, not ${url.protocol.replace(":", "")}`
}

/**
 * A checked base URL, without a trailing slash: `https://host[/prefix]`, or `http://` on loopback.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BaseUrl = Schema.transform(
  Schema.String.pipe(Schema.filter((text) => check(text.trim()), { identifier: "BaseUrlText" })),
  Schema.String.pipe(Schema.brand("OpenSolarBaseUrl")),
  {
    strict: false,
    decode: (text) => text.trim().replace(/\/+$/, ""),
    encode: (url) => url
  }
).annotations({ identifier: "BaseUrl" })

/**
 * A base URL that the `BaseUrl` schema has checked and branded, without a trailing slash.
 *
 * @since 0.1.0
 * @category models
 */
export type BaseUrl = typeof BaseUrl.Type

/**
 * Decodes text into a {@link BaseUrl}, throwing when it is not one. For constants.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (text: string): BaseUrl => Schema.decodeSync(BaseUrl)(text)

/**
 * The origin (`scheme://host[:port]`) of a base URL: the only place the bearer token may be sent.
 *
 * @since 0.1.0
 * @category getters
 */
export const origin = (baseUrl: BaseUrl): string => new URL(baseUrl).origin
