/**
 * The simulator's state and its transitions, as pure functions from a state to an outcome and a new state, so
 * that a `Ref.modify` makes every request atomic.
 *
 * @internal
 */
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import { Secret, TOTP } from "otpauth"
import type {
  Endpoint,
  Fault,
  FaultTarget,
  FetchTokenMode,
  OrgInfo,
  RequestLogEntry,
  SimulatorOrg,
  SimulatorUser,
  TokenState,
  UserShape
} from "../Simulator.js"
import * as seed from "./seed.js"

/** @internal */
export interface UserRecord {
  readonly id: number
  readonly username: string
  readonly password: string
  readonly firstName: string
  readonly lastName: string
  readonly orgIds: ReadonlyArray<number>
  readonly totpSecret: Option.Option<string>
  readonly isMachineUser: boolean
}

/** @internal */
export interface OrgRecord {
  readonly id: number
  readonly name: string
  readonly apiAccess: boolean
}

/** @internal */
export interface TokenRecord {
  readonly token: string
  readonly userId: number
  readonly issuedAt: number
  readonly expiresAt: number
  readonly revoked: boolean
}

/** @internal */
export interface PendingFault {
  readonly target: FaultTarget
  readonly remaining: number
  readonly fault: Fault
}

/** @internal */
export interface Settings {
  readonly tokenLifetimeMillis: number
  readonly loginRateLimit: number
  readonly fetchTokenMode: FetchTokenMode
  readonly userShape: UserShape
  readonly orgInfo: OrgInfo
}

/** @internal */
export interface State {
  readonly settings: Settings
  readonly users: HashMap.HashMap<number, UserRecord>
  readonly orgs: HashMap.HashMap<number, OrgRecord>
  readonly tokens: HashMap.HashMap<string, TokenRecord>
  readonly loginAttempts: HashMap.HashMap<string, ReadonlyArray<number>>
  readonly usedTotpSteps: HashMap.HashMap<number, HashSet.HashSet<number>>
  readonly faults: ReadonlyArray<PendingFault>
  readonly log: ReadonlyArray<{ readonly sequence: number; readonly entry: RequestLogEntry }>
  readonly clockOffsetMillis: number
  readonly nextSequence: number
}

const throttleWindowMillis = 60_000
const totpPeriodSeconds = 30

/** @internal */
export const empty = (settings: Settings): State => ({
  settings,
  users: HashMap.empty(),
  orgs: HashMap.empty(),
  tokens: HashMap.empty(),
  loginAttempts: HashMap.empty(),
  usedTotpSteps: HashMap.empty(),
  faults: [],
  log: [],
  clockOffsetMillis: 0,
  nextSequence: 0
})

/** @internal */
export const seeded = (settings: Settings, now: number): State => {
  const users = Object.values(seed.accounts).map(
    (account): UserRecord => ({
      id: account.id,
      username: account.username,
      password: account.password,
      firstName: account.firstName,
      lastName: account.lastName,
      orgIds: account.orgIds,
      totpSecret: "totpSecret" in account ? Option.some(account.totpSecret) : Option.none(),
      isMachineUser: "token" in account
    })
  )
  const withAccounts: State = {
    ...empty(settings),
    orgs: HashMap.fromIterable(Object.values(seed.orgs).map((org) => [org.id, { ...org }] as const)),
    users: HashMap.fromIterable(users.map((user) => [user.id, user] as const))
  }
  const machine = seed.accounts.machine
  return putToken(withAccounts, {
    token: machine.token,
    userId: machine.id,
    issuedAt: now,
    expiresAt: now + settings.tokenLifetimeMillis,
    revoked: false
  })
}

const normalize = (username: string): string => username.trim().toLowerCase()

const putToken = (state: State, record: TokenRecord): State => ({
  ...state,
  tokens: HashMap.set(state.tokens, record.token, record)
})

/** @internal */
export const findUser = (state: State, username: string): Option.Option<UserRecord> => {
  const wanted = normalize(username)
  return Option.fromNullable(Array.from(HashMap.values(state.users)).find((user) => user.username === wanted))
}

/** @internal */
export const userView = (user: UserRecord): SimulatorUser => ({
  id: user.id,
  username: user.username,
  orgIds: user.orgIds,
  isMachineUser: user.isMachineUser,
  mfaEnabled: Option.isSome(user.totpSecret)
})

/** @internal */
export const userOrgs = (state: State, user: UserRecord): ReadonlyArray<OrgRecord> =>
  user.orgIds.flatMap((id) => Option.toArray(HashMap.get(state.orgs, id)))

/** @internal */
export const tokenState = (state: State, token: Option.Option<string>, now: number): TokenState => {
  if (Option.isNone(token)) {
    return "none"
  }
  const record = HashMap.get(state.tokens, token.value)
  if (Option.isNone(record)) {
    return "unknown"
  }
  if (record.value.revoked) {
    return "revoked"
  }
  const owner = HashMap.get(state.users, record.value.userId)
  if (Option.isNone(owner)) {
    return "revoked"
  }
  return owner.value.isMachineUser || now < record.value.expiresAt ? "valid" : "expired"
}

/** @internal */
export type Authentication =
  | { readonly _tag: "Rejected" }
  | { readonly _tag: "Authenticated"; readonly user: UserRecord; readonly record: TokenRecord }

/** @internal */
export const authenticate = (state: State, token: string, now: number): Authentication => {
  if (tokenState(state, Option.some(token), now) !== "valid") {
    return { _tag: "Rejected" }
  }
  const record = HashMap.unsafeGet(state.tokens, token)
  return { _tag: "Authenticated", user: HashMap.unsafeGet(state.users, record.userId), record }
}

/** @internal */
export const issue = (state: State, user: UserRecord, token: string, now: number): [TokenRecord, State] => {
  const record: TokenRecord = {
    token,
    userId: user.id,
    issuedAt: now,
    expiresAt: now + state.settings.tokenLifetimeMillis,
    revoked: false
  }
  return [record, putToken(state, record)]
}

/** @internal */
export const revokeToken = (state: State, token: string): State =>
  Option.match(HashMap.get(state.tokens, token), {
    onNone: () => state,
    onSome: (record) => putToken(state, { ...record, revoked: true })
  })

/** @internal */
export const revokeUserTokens = (state: State, userId: number, now: number): [number, State] => {
  const active = Array.from(HashMap.values(state.tokens)).filter(
    (record) => record.userId === userId && tokenState(state, Option.some(record.token), now) === "valid"
  )
  const owned = Array.from(HashMap.values(state.tokens)).filter((record) => record.userId === userId)
  return [active.length, owned.reduce((next, record) => revokeToken(next, record.token), state)]
}

/** @internal */
export interface LoginInput {
  readonly username: string
  readonly password: string
  readonly code: Option.Option<string>
}

/** @internal */
export type LoginOutcome =
  | { readonly _tag: "Throttled"; readonly waitSeconds: number }
  | { readonly _tag: "InvalidCredentials" }
  | { readonly _tag: "MfaRequired" }
  | { readonly _tag: "InvalidMfaCode" }
  | { readonly _tag: "LoggedIn"; readonly user: UserRecord; readonly record: TokenRecord }

/** @internal */
export const login = (state: State, input: LoginInput, now: number, freshToken: string): [LoginOutcome, State] => {
  const key = normalize(input.username)
  const recent = Option.getOrElse(HashMap.get(state.loginAttempts, key), () => []).filter(
    (at) => at > now - throttleWindowMillis
  )
  if (recent.length >= state.settings.loginRateLimit) {
    const oldest = Math.min(...recent)
    const waitSeconds = Math.max(1, Math.ceil((oldest + throttleWindowMillis - now) / 1000))
    return [{ _tag: "Throttled", waitSeconds }, state]
  }
  const counted: State = { ...state, loginAttempts: HashMap.set(state.loginAttempts, key, [...recent, now]) }
  const user = findUser(counted, input.username)
  if (Option.isNone(user) || user.value.password !== input.password) {
    return [{ _tag: "InvalidCredentials" }, counted]
  }
  const [secondFactor, verified] = checkSecondFactor(counted, user.value, input.code, now)
  if (secondFactor._tag !== "Accepted") {
    return [secondFactor, verified]
  }
  const [record, next] = issue(verified, user.value, freshToken, now)
  return [{ _tag: "LoggedIn", user: user.value, record }, next]
}

type SecondFactor =
  | { readonly _tag: "Accepted" }
  | { readonly _tag: "MfaRequired" }
  | { readonly _tag: "InvalidMfaCode" }

const checkSecondFactor = (
  state: State,
  user: UserRecord,
  code: Option.Option<string>,
  now: number
): [SecondFactor, State] => {
  if (Option.isNone(user.totpSecret)) {
    return [{ _tag: "Accepted" }, state]
  }
  if (Option.isNone(code) || code.value === "") {
    return [{ _tag: "MfaRequired" }, state]
  }
  const totp = makeTotp(user.totpSecret.value)
  const delta = totp.validate({ token: code.value, timestamp: now, window: 1 })
  if (delta === null) {
    return [{ _tag: "InvalidMfaCode" }, state]
  }
  const step = totp.counter({ timestamp: now }) + delta
  const used = Option.getOrElse(HashMap.get(state.usedTotpSteps, user.id), () => HashSet.empty<number>())
  if (HashSet.has(used, step)) {
    return [{ _tag: "InvalidMfaCode" }, state]
  }
  const kept = HashSet.add(
    HashSet.filter(used, (usedStep) => usedStep >= step - 2),
    step
  )
  return [{ _tag: "Accepted" }, { ...state, usedTotpSteps: HashMap.set(state.usedTotpSteps, user.id, kept) }]
}

const makeTotp = (secret: string): TOTP =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: totpPeriodSeconds })

/** @internal */
export const totpCode = (secret: string, now: number, steps: number): string =>
  makeTotp(secret).generate({ timestamp: now + steps * totpPeriodSeconds * 1000 })

/** @internal */
export type FetchTokenOutcome =
  | { readonly _tag: "Rejected" }
  | { readonly _tag: "Forbidden" }
  | {
      readonly _tag: "Issued"
      readonly user: UserRecord
      readonly record: TokenRecord
      readonly orgId: Option.Option<number>
    }

/** @internal */
export const fetchToken = (
  state: State,
  token: string,
  orgId: Option.Option<number>,
  now: number,
  freshToken: string
): [FetchTokenOutcome, State] => {
  const auth = authenticate(state, token, now)
  if (auth._tag === "Rejected") {
    return [{ _tag: "Rejected" }, state]
  }
  if (Option.isSome(orgId) && !auth.user.orgIds.includes(orgId.value)) {
    return [{ _tag: "Forbidden" }, state]
  }
  switch (state.settings.fetchTokenMode) {
    case "rotate": {
      const [record, next] = issue(revokeToken(state, token), auth.user, freshToken, now)
      return [{ _tag: "Issued", user: auth.user, record, orgId }, next]
    }
    case "same": {
      return [{ _tag: "Issued", user: auth.user, record: auth.record, orgId }, state]
    }
    case "same-extend": {
      const record = { ...auth.record, expiresAt: now + state.settings.tokenLifetimeMillis }
      return [{ _tag: "Issued", user: auth.user, record, orgId }, putToken(state, record)]
    }
  }
}

/** @internal */
export type SetMachineUserOutcome =
  | { readonly _tag: "Rejected" }
  | { readonly _tag: "Forbidden" }
  | { readonly _tag: "Updated"; readonly user: UserRecord }

/** @internal */
export const setMachineUser = (
  state: State,
  token: string,
  userId: number,
  isMachineUser: Option.Option<boolean>,
  now: number
): [SetMachineUserOutcome, State] => {
  const auth = authenticate(state, token, now)
  if (auth._tag === "Rejected") {
    return [{ _tag: "Rejected" }, state]
  }
  if (auth.user.id !== userId) {
    return [{ _tag: "Forbidden" }, state]
  }
  const user = Option.match(isMachineUser, {
    onNone: () => auth.user,
    onSome: (value) => ({ ...auth.user, isMachineUser: value })
  })
  return [
    { _tag: "Updated", user },
    { ...state, users: HashMap.set(state.users, user.id, user) }
  ]
}

/** @internal */
export type OrgAccess =
  | { readonly _tag: "Rejected" }
  | { readonly _tag: "Forbidden" }
  | { readonly _tag: "PaymentRequired" }
  | { readonly _tag: "Granted"; readonly org: OrgRecord }

/** @internal */
export const orgAccess = (state: State, token: string, orgId: number, now: number): OrgAccess => {
  const auth = authenticate(state, token, now)
  if (auth._tag === "Rejected") {
    return { _tag: "Rejected" }
  }
  const org = HashMap.get(state.orgs, orgId)
  if (!auth.user.orgIds.includes(orgId) || Option.isNone(org)) {
    return { _tag: "Forbidden" }
  }
  return org.value.apiAccess ? { _tag: "Granted", org: org.value } : { _tag: "PaymentRequired" }
}

/** @internal */
export const addOrg = (
  state: State,
  org: { readonly id?: number; readonly name: string; readonly apiAccess?: boolean }
): [SimulatorOrg, State] => {
  const id = org.id ?? Math.max(0, ...HashMap.keys(state.orgs)) + 1
  const record: OrgRecord = { id, name: org.name, apiAccess: org.apiAccess ?? true }
  return [record, { ...state, orgs: HashMap.set(state.orgs, id, record) }]
}

/** @internal */
export type AddUserOutcome =
  | { readonly _tag: "Duplicate" }
  | { readonly _tag: "InvalidSecret" }
  | { readonly _tag: "Added"; readonly user: UserRecord }

/** @internal */
export const addUser = (
  state: State,
  user: {
    readonly username: string
    readonly password: string
    readonly orgIds?: ReadonlyArray<number>
    readonly totpSecret?: string
    readonly isMachineUser?: boolean
    readonly firstName?: string
    readonly lastName?: string
  }
): [AddUserOutcome, State] => {
  if (Option.isSome(findUser(state, user.username))) {
    return [{ _tag: "Duplicate" }, state]
  }
  if (user.totpSecret !== undefined && !isBase32(user.totpSecret)) {
    return [{ _tag: "InvalidSecret" }, state]
  }
  const orgIds = user.orgIds ?? [1]
  const withOrgs = orgIds.reduce(
    (next, id) => (HashMap.has(next.orgs, id) ? next : addOrg(next, { id, name: `Org ${id}` })[1]),
    state
  )
  const record: UserRecord = {
    id: Math.max(0, ...HashMap.keys(state.users)) + 1,
    username: normalize(user.username),
    password: user.password,
    firstName: user.firstName ?? "",
    lastName: user.lastName ?? "",
    orgIds,
    totpSecret: Option.fromNullable(user.totpSecret),
    isMachineUser: user.isMachineUser ?? false
  }
  return [
    { _tag: "Added", user: record },
    { ...withOrgs, users: HashMap.set(withOrgs.users, record.id, record) }
  ]
}

const isBase32 = (secret: string): boolean => /^[A-Z2-7]+=*$/i.test(secret) && secret.replace(/=+$/, "").length >= 8

/** @internal */
export interface Arrival {
  readonly sequence: number
  readonly tokenState: TokenState
  readonly fault: Option.Option<Fault>
}

/** @internal */
export const arrive = (
  state: State,
  endpoint: Endpoint | "unknown",
  token: Option.Option<string>,
  now: number
): [Arrival, State] => {
  const sequence = state.nextSequence
  const index =
    endpoint === "unknown"
      ? -1
      : state.faults.findIndex((pending) => pending.target === endpoint || pending.target === "any")
  const faults =
    index === -1
      ? state.faults
      : state.faults.flatMap((pending, i) =>
          i !== index ? [pending] : pending.remaining > 1 ? [{ ...pending, remaining: pending.remaining - 1 }] : []
        )
  const fault = index === -1 ? Option.none() : Option.some(state.faults[index]!.fault)
  return [
    { sequence, tokenState: tokenState(state, token, now), fault },
    { ...state, faults, nextSequence: sequence + 1 }
  ]
}

/** @internal */
export const record = (state: State, sequence: number, entry: RequestLogEntry): State => {
  const at = state.log.findIndex((logged) => logged.sequence > sequence)
  const item = { sequence, entry }
  const log = at === -1 ? [...state.log, item] : [...state.log.slice(0, at), item, ...state.log.slice(at)]
  return { ...state, log }
}
