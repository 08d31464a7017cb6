/**
 * `npm start`: the guided tour, exactly as `opensolar-auth demo` gives it.
 */
import * as Cli from "../src/cli/Cli.js"

Cli.main([...process.argv.slice(0, 2), "demo", ...process.argv.slice(2)])
