import { Schema } from "effect"
import { AuthStrategy, BearerToken } from "effect-opensolar-auth"

// The Nearmap imagery token, for Nearmap's tile and imagery APIs only.
const nearmapToken = Schema.decodeSync(BearerToken.NearmapImageryToken)("nm-imagery-0f3a9c")

// An OpenSolar token, obtained by logging in with the OpenSolar password (or a machine user's token).
const openSolarToken = BearerToken.unsafeMake("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")

AuthStrategy.machineUser(openSolarToken)

// @ts-expect-error A Nearmap imagery token is not an OpenSolar bearer token: this line does not compile.
AuthStrategy.machineUser(nearmapToken)

// @ts-expect-error Neither is a plain string.
AuthStrategy.machineUser("d7e1b00845ae0d9d3fdfc8c0cbf2300766d94002")

console.log(`the Nearmap token prints as ${nearmapToken}`)
