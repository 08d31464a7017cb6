#!/usr/bin/env node
/**
 * The `opensolar-auth` executable.
 *
 * @since 0.1.0
 */
import * as Cli from "./Cli.js"

Cli.main(process.argv)
