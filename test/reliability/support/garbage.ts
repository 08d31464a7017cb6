/**
 * Arbitraries for input that should never have been given: random and awkward text (unicode, control characters,
 * lone surrogates, a megabyte of it), numbers at and beyond their edges, values of any type at all, and what the
 * library's own schemas describe, in their decoded and their encoded form, whether they accept it or not.
 */
import { Arbitrary, FastCheck as fc, Schema } from "effect"

const awkwardText = [
  "",
  " ",
  "\t\n",
  "\u0000",
  "\u200b",
  "\ud800",
  "é",
  "💥",
  "NaN",
  "Infinity",
  "-Infinity",
  "-1",
  "0",
  "1.5",
  "1e309",
  "0x1f",
  "٣",
  "null",
  "undefined",
  "{}",
  "[]",
  "__proto__",
  "constructor",
  "%00",
  "../../etc/passwd",
  "https://",
  "https://user:secret@api.opensolar.com",
  "http://evil.example",
  "javascript:alert(1)",
  "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0",
  "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP"
]

/** Text of every kind, up to a megabyte. */
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme-composite" }),
  fc.constantFrom(...awkwardText),
  fc.integer({ min: 3, max: 6 }).map((exponent) => "x".repeat(10 ** exponent))
)

/** Numbers, including NaN, the infinities, -0 and the edges of what is representable. */
export const number: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53,
    -(2 ** 53),
    // Past the largest date: 8.64e15 milliseconds after the epoch.
    8.64e15 + 1,
    1e30
  )
)

/** Anything at all. */
export const anything: fc.Arbitrary<unknown> = fc.oneof(
  text,
  number,
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.anything()
)

/**
 * The encoded form of what `schema` describes: of values it accepts (encoded by the schema itself) and of values
 * of the same shape that its refinements refuse.
 */
export const encoded = <A, I>(schema: Schema.Schema<A, I>): fc.Arbitrary<I> =>
  fc.oneof(Arbitrary.make(schema).map(Schema.encodeSync(schema)), Arbitrary.make(Schema.encodedSchema(schema)))

/** What `schema` describes, decoded or encoded, accepted or refused, and anything at all. */
export const described = <A, I>(schema: Schema.Schema<A, I>): fc.Arbitrary<unknown> =>
  fc.oneof(Arbitrary.make(schema), encoded(schema), anything)

/** Values of the `DurationInput` type and values that only look like one. */
export const durationLike: fc.Arbitrary<unknown> = fc.oneof(
  anything,
  described(Schema.Duration),
  number.map((amount) => `${amount} millis`),
  number.map((amount) => `${amount} days`),
  fc.tuple(number, number),
  text.map((amount) => `${amount} seconds`)
)

/** Absent about two times in three, otherwise `value`: with several options, each run has some valid ones. */
export const optional = <A>(value: fc.Arbitrary<A>): fc.Arbitrary<A | undefined> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value })
