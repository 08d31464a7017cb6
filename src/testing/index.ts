/**
 * The testing entry point: an embedded OpenSolar API simulator.
 *
 * @since 0.1.0
 */
export {
  accounts,
  type Endpoint,
  Fault,
  type FaultInjection,
  type FaultTarget,
  type FetchTokenMode,
  type NewOrg,
  type NewUser,
  type OrgInfo,
  orgs,
  type RequestLogEntry,
  Simulator,
  type SimulatorOptions,
  type SimulatorOrg,
  type SimulatorService,
  type SimulatorUser,
  type TokenState,
  type UserShape
} from "./Simulator.js"
