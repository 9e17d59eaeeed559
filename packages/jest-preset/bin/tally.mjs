#!/usr/bin/env node
import { main } from "@tally/store/cli";
process.exitCode = await main(process.argv.slice(2));
