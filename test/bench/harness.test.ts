import { describe, expect, it } from "@effect/vitest"
import { alternate, type Figure, formatTable, median, type Report } from "../../bench/harness.js"

const figure = (overrides: Partial<Figure>): Figure => ({
  id: "tokenRef.get",
  title: "TokenRef.get hot path",
  value: 1.25,
  unit: "ratio",
  reading: "time per get ÷ time per bare Ref.get",
  detail: "Median of 7 rounds.",
  ok: true,
  ...overrides
})

const report = (figures: ReadonlyArray<Figure>): Report => ({
  configuration: "quick",
  machine: {
    node: "v20.20.2",
    cpus: 2,
    cpuModel: "Test CPU",
    platform: "linux",
    arch: "x64",
    totalMemoryBytes: 4 * 2 ** 30
  },
  figures,
  results: {}
})

describe("bench harness", () => {
  it("takes the middle value, or the mean of the two middle values", () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it("alternates which side of a round goes first", async () => {
    const order: Array<string> = []
    const rounds = await alternate(
      3,
      async () => {
        order.push("baseline")
        return order.length
      },
      async () => {
        order.push("subject")
        return order.length
      }
    )

    expect(order).toEqual(["baseline", "subject", "subject", "baseline", "baseline", "subject"])
    expect(rounds).toEqual([
      { baseline: 1, subject: 2 },
      { baseline: 4, subject: 3 },
      { baseline: 5, subject: 6 }
    ])
  })

  it("prints the machine first and every figure with its unit", () => {
    const table = formatTable(
      report([
        figure({}),
        figure({ id: "herd.upstreamCalls", title: "Herd: upstream logins", value: 1, unit: "count" }),
        figure({ id: "heap.get", title: "Heap, 10 get", value: 1.0004, unit: "ratio" })
      ])
    )
    const lines = table.split("\n")

    expect(lines[0]).toBe("effect-opensolar-auth benchmarks (quick configuration)")
    expect(lines[1]).toContain("node v20.20.2, 2 CPUs (Test CPU)")
    expect(table).toMatch(/TokenRef\.get hot path +1\.25× +ok/)
    expect(table).toMatch(/Herd: upstream logins +1 +ok/)
    expect(table).toMatch(/Heap, 10 get +1\.00× +ok/)
    expect(lines.at(-1)).toBe("No failures.")
  })

  it("marks a failed figure and names it at the end", () => {
    const table = formatTable(
      report([
        figure({}),
        figure({ id: "herd.upstreamCalls", title: "Herd: upstream logins", value: 3, unit: "count", ok: false })
      ])
    )

    expect(table).toMatch(/Herd: upstream logins +3 +FAIL/)
    expect(table.split("\n").at(-1)).toBe("FAILED: Herd: upstream logins; see the figures marked FAIL.")
  })
})
