import type { BoundFile, BoundTest, RunBinding } from "@tally/core" with { "resolution-mode": "import" };
import { relative } from "node:path";

// Pure: the run's binding from what Jest reports (per file, per test). Jest has no task meta: which
// run each test recorded is in its file's ack, which the run joins by full name ("acks").

export interface JestAssertion {
  fullName: string;
  status: string;
  duration?: number | null;
  /** Attempts, with jest.retryTimes: each attempt was its own run. */
  invocations?: number;
  /** Properties Tally puts on the result for jest-junit (see junit-properties.ts). */
  tallyProperties?: Record<string, string>;
}

export interface JestFileResult {
  testFilePath: string;
  testResults: JestAssertion[];
  testExecError?: { message?: string } | null;
}

export function bindingOf(rootDir: string, files: readonly JestFileResult[]): RunBinding {
  return { trackedFrom: "acks", files: files.map((f) => boundFile(rootDir, f)) };
}

/** The binding of a run no reporter saw (`--reporters` without Tally's): the acks are all there is. */
export const ACKS_ONLY: RunBinding = { trackedFrom: "acks", files: [] };

function boundFile(rootDir: string, f: JestFileResult): BoundFile {
  return {
    path: f.testFilePath,
    name: relative(rootDir, f.testFilePath) || f.testFilePath,
    // Which tests are tracked only the ack says: a file that ran anything (or failed to) owes one.
    expectsAck: f.testResults.length > 0 || !!f.testExecError,
    tests: f.testResults.map(boundTest),
  };
}

function boundTest(r: JestAssertion): BoundTest {
  return {
    name: r.fullName,
    state: stateOf(r.status),
    durationMs: r.duration ?? undefined,
    attempts: r.invocations,
    // Jest awaits its reporters in turn: set in Tally's onRunComplete, the property is on the result
    // when jest-junit (listed after it) writes the file.
    setProperty: (name, value) => void (r.tallyProperties = { ...r.tallyProperties, [name]: value }),
  };
}

/** The properties Tally put on a test's result, as jest-junit hands it to junit-properties.ts. */
export function propertiesOf(testCase: unknown): Record<string, string> {
  if (typeof testCase !== "object" || testCase === null || !("tallyProperties" in testCase)) return {};
  const props = testCase.tallyProperties;
  if (typeof props !== "object" || props === null) return {};
  return Object.fromEntries(Object.entries(props).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function stateOf(status: string): BoundTest["state"] {
  if (status === "passed" || status === "failed") return status;
  return "skipped";
}
