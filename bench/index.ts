/**
 * `npm run bench [-- --quick] [-- --json]`: runs every benchmark and prints the report. With `--json` the
 * report goes to standard output as JSON and the table to standard error. Exits with status 1 when a figure
 * is marked as failed. What each figure means is in bench/README.md.
 */
import { formatTable } from "./harness.js"
import { full, machineFacts, quick, runSuite } from "./suite.js"

const usage = "Usage: npm run bench [-- --quick] [-- --json]"

const main = async (args: ReadonlyArray<string>): Promise<number> => {
  if (args.includes("--help")) {
    console.log(usage)
    return 0
  }
  const unknown = args.filter((arg) => arg !== "--quick" && arg !== "--json")
  if (unknown.length > 0) {
    console.error(`Unknown option ${unknown.join(" ")}. ${usage}`)
    return 2
  }
  const configuration = args.includes("--quick") ? quick : full
  const json = args.includes("--json")

  const machine = machineFacts()
  console.error(`node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}); ${configuration.name} configuration`)
  const report = await runSuite(configuration, (message) => console.error(`  ${message}`))

  const table = formatTable(report)
  if (json) {
    console.error(table)
    console.log(JSON.stringify({ ...report, ok: report.figures.every((figure) => figure.ok) }, null, 2))
  } else {
    console.log(table)
  }
  return report.figures.every((figure) => figure.ok) ? 0 : 1
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
