/** @internal */
export const accounts = {
  example: {
    id: 1,
    username: "arnie@illbeback.com",
    password: "gettothechopper",
    firstName: "Arnie",
    lastName: "Example",
    orgIds: [1]
  },
  mfa: {
    id: 2,
    username: "sarah@cyberdyne.example",
    password: "nolatefate",
    firstName: "Sarah",
    lastName: "Connor",
    orgIds: [1],
    totpSecret: "JBSWY3DPEHPK3PXP"
  },
  machine: {
    id: 3,
    username: "t800@skynet.example",
    password: "hastalavista",
    firstName: "T",
    lastName: "800",
    orgIds: [1],
    token: "s_f3usddiarsvrmpcezvi4yl3gqpm57scd"
  },
  multiOrg: {
    id: 4,
    username: "john@resistance.example",
    password: "judgmentday",
    firstName: "John",
    lastName: "Connor",
    orgIds: [1, 2]
  },
  noApiAccess: {
    id: 5,
    username: "miles@dyson.example",
    password: "neuralnet",
    firstName: "Miles",
    lastName: "Dyson",
    orgIds: [3]
  }
} as const

/** @internal */
export const orgs = {
  main: { id: 1, name: "Cyberdyne Solar", apiAccess: true },
  second: { id: 2, name: "Resistance Renewables", apiAccess: true },
  noApiAccess: { id: 3, name: "Dyson Rooftops", apiAccess: false }
} as const
