/**
 * The OpenSolar API bearer token: an opaque, redacted, branded string.
 *
 * A token is accepted in any shape the API has been seen to issue (40 hexadecimal characters, `s_` followed
 * by base-32 characters, or anything else): it must only be non-empty and free of white space. The brand
 * makes the compiler refuse a plain string, or a Nearmap imagery token, where an OpenSolar token is expected.
 *
 * @since 0.1.0
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js"
import { type Brand, type Either, type ParseResult, Redacted, Schema } from "effect"

/**
 * The plain text of a token: non-empty and without white space.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BearerTokenText = Schema.String.pipe(
  Schema.filter((text) => text.length > 0 && !/\s/.test(text), {
    identifier: "BearerTokenText",
    message: () => "a bearer token must be a non-empty string without white space"
  }),
  Schema.brand("OpenSolarBearerToken")
)

/**
 * The brand carried by the plain text of an OpenSolar bearer token.
 *
 * @since 0.1.0
 * @category models
 */
export type BearerTokenText = typeof BearerTokenText.Type

/**
 * An OpenSolar API bearer token, redacted so that it prints as `<redacted>` everywhere.
 *
 * @since 0.1.0
 * @category models
 */
export type BearerToken = Redacted.Redacted<BearerTokenText>

/**
 * Decodes a plain string into a redacted bearer token, and encodes it back to the string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BearerToken: Schema.Schema<BearerToken, string> = Schema.Redacted(BearerTokenText)

/**
 * Makes a bearer token from text, failing with a parse error that names the rule when the text is not a token.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromString = (text: string): Either.Either<BearerToken, ParseResult.ParseError> =>
  Schema.decodeEither(BearerToken)(text)

/**
 * Makes a bearer token from text, throwing when it is not one. For constants in tests and examples.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (text: string): BearerToken => Schema.decodeSync(BearerToken)(text)

/**
 * The token's text, for the moment it is written into an `Authorization` header.
 *
 * @since 0.1.0
 * @category getters
 */
export const value = (token: BearerToken): string => Redacted.value(token)

/**
 * Whether two tokens hold the same text.
 *
 * @since 0.1.0
 * @category predicates
 */
export const equals = (self: BearerToken, that: BearerToken): boolean => Redacted.value(self) === Redacted.value(that)

/**
 * A short, stable name for a token that is safe to log: `tok_` followed by 8 hexadecimal characters of its
 * SHA-256 digest. It tells two tokens apart without revealing either.
 *
 * @since 0.1.0
 * @category getters
 */
export const fingerprint = (token: BearerToken | Redacted.Redacted<string>): string =>
  `tok_${bytesToHex(sha256(utf8ToBytes(Redacted.value(token)))).slice(0, 8)}`

/**
 * A Nearmap imagery token. It authorises Nearmap tile requests only and is never an OpenSolar bearer token:
 * its brand differs, so passing one where a {@link BearerToken} is expected does not compile.
 *
 * @since 0.1.0
 * @category models
 */
export type NearmapImageryToken = Redacted.Redacted<string & Brand.Brand<"NearmapImageryToken">>

/**
 * Decodes a plain string into a redacted Nearmap imagery token.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NearmapImageryToken: Schema.Schema<NearmapImageryToken, string> = Schema.Redacted(
  Schema.NonEmptyTrimmedString.pipe(Schema.brand("NearmapImageryToken"))
)
