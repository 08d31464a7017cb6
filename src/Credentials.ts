/**
 * The inputs of a login — username, password, two-factor code, organisation id — as schemas that decode
 * untrusted text into checked, and where secret, redacted values.
 *
 * @since 0.1.0
 */
import { type Redacted, Schema } from "effect"

/**
 * An OpenSolar username: the account's email address, as typed, without surrounding white space.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Username = Schema.String.pipe(
  Schema.filter((text) => text.length > 0 && text.trim() === text && text.length <= 254, {
    identifier: "Username",
    message: () => "a username must be a non-empty email address without surrounding white space"
  }),
  Schema.brand("OpenSolarUsername")
)

/**
 * A username that the `Username` schema has checked and branded.
 *
 * @since 0.1.0
 * @category models
 */
export type Username = typeof Username.Type

/**
 * An OpenSolar password, redacted from the moment it is decoded.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Password: Schema.Schema<Redacted.Redacted<string>, string> = Schema.Redacted(
  Schema.String.pipe(
    Schema.filter((text) => text.length > 0, {
      identifier: "Password",
      message: () => "a password must not be empty"
    })
  )
)

/**
 * A password as the `Password` schema decodes it: redacted.
 *
 * @since 0.1.0
 * @category models
 */
export type Password = Redacted.Redacted<string>

/**
 * A two-factor code as an authenticator app shows it: 4 to 10 digits, redacted.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MfaCode: Schema.Schema<Redacted.Redacted<string>, string> = Schema.Redacted(
  Schema.String.pipe(
    Schema.filter((text) => /^[0-9]{4,10}$/.test(text), {
      identifier: "MfaCode",
      // Overriding also covers a code given as a number, which loses leading zeros.
      message: () => ({ message: "a two-factor code must be 4 to 10 digits", override: true })
    })
  )
)

/**
 * A two-factor code as the `MfaCode` schema decodes it: 4 to 10 digits, redacted.
 *
 * @since 0.1.0
 * @category models
 */
export type MfaCode = Redacted.Redacted<string>

/**
 * An OpenSolar organisation id: a positive integer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrgId = Schema.Int.annotations({
  message: () => ({ message: "an organisation id must be a positive integer", override: true })
}).pipe(
  Schema.positive({ message: () => "an organisation id must be a positive integer" }),
  Schema.brand("OpenSolarOrgId")
)

/**
 * An organisation id that the `OrgId` schema has checked and branded.
 *
 * @since 0.1.0
 * @category models
 */
export type OrgId = typeof OrgId.Type

/**
 * An organisation id written as text, as in an environment variable or a flag.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrgIdFromString = Schema.compose(
  Schema.NumberFromString.annotations({ message: () => "an organisation id must be a positive integer" }),
  OrgId
)

/**
 * A username and password.
 *
 * @since 0.1.0
 * @category models
 */
export class Credentials extends Schema.Class<Credentials>("effect-opensolar-auth/Credentials")({
  username: Username,
  password: Password
}) {}
