#!/usr/bin/env node
import { main } from "@tally/core/cli";
process.exitCode = await main(process.argv.slice(2));
