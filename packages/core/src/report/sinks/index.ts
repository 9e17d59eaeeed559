import { gatesSink } from "./gates.js";
import { githubSink } from "./github.js";
import { jsonReportSink } from "./json-file.js";
import { junitPropertySink } from "./junit-property.js";
import type { RunSink } from "./sink.js";
import { terminalSink } from "./terminal.js";

export { runSinks, type RunSink, type SinkContext, type SinkResult, type Terminal } from "./sink.js";
export { junitPropertySink, JUNIT_PROPERTY } from "./junit-property.js";
export { terminalSink } from "./terminal.js";
export { comparisonLines } from "./comparison.js";
export { githubSink } from "./github.js";
export { jsonReportSink } from "./json-file.js";
export { gatesSink } from "./gates.js";

/**
 * What every run's end goes to, in order. The JUnit links come first: Jest awaits its reporters in
 * turn, so they are on the results before jest-junit (listed after Tally's reporter) writes. The gates
 * come last: their verdict is the last thing the terminal shows.
 */
export const SINKS: readonly RunSink[] = [junitPropertySink, terminalSink, jsonReportSink, githubSink, gatesSink];
