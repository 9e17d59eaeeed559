import { describe, expect, test } from "vitest";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";
import {
  CRASHES,
  FAULT_SCENARIOS,
  runBackendDown,
  runCrash,
  runFaultScenario,
  runMainKilled,
  runSuite,
  runTwoAtOnce,
  SECRET_KEY,
  startBackendServer,
  suiteDir,
  type Outcome,
  type Runner,
} from "../support/reliability.ts";

// A fault-injecting proxy between the collector and the project's server, on 30 % of requests:
// every run, span and feedback still arrives, once, and nothing is left in the spool.

const RUNNERS: Runner[] = ["vitest", "jest"];
const faulty = FAULT_SCENARIOS.filter((s) => s.rate > 0);

function expectComplete(o: Outcome) {
  const output = o.result.stdout + o.result.stderr;
  expect(o.result.code, output.slice(-3000)).toBe(0);
  expect(o.delivery).toEqual({
    experiments: 1,
    runs: o.expected,
    duplicateRows: 0,
    spans: o.expected * 4,
    feedback: o.expected * 2,
    linked: o.expected,
  });
  expect(output).toContain(`${o.expected}/${o.expected} runs`);
  expect(o.spoolLeft, "the spool was emptied").toBe(0);
  expect(o.keyInFiles, "the API key is in no file Tally wrote").toEqual([]);
  expect(output.includes(SECRET_KEY), "the API key is not in the output").toBe(false);
}

describe.each(RUNNERS)("%s", (runner) => {
  test.each(faulty.map((s) => [s.id, s] as const))("%s: every run, span and feedback arrives exactly once", async (_id, s) => {
    const o = await runFaultScenario(s, runner);
    expect(o.injected, "faults were injected").toBeGreaterThan(0);
    expectComplete(o);
  });
});

describe.each(RUNNERS)("%s", (runner) => {
  test.each(["tally flush", "next run"] as const)(
    "backend down for the whole run: the end says what waits and how to send it; then %s sends it once",
    async (then) => {
      const { down, after, thenOutput } = await runBackendDown(runner, then);
      const output = down.result.stdout + down.result.stderr;
      expect(down.delivery.runs, output.slice(-3000)).toBe(0);
      // One line per reason, not one per test: what waits, why, and how to send it. (The proxy drops
      // connections: "connection dropped"; nothing listening would read "connection refused".)
      const n = down.expected;
      expect(output).toMatch(
        new RegExp(
          `tally: backend unreachable \\([a-z ]+\\): ${n} runs, ${n * 4} spans, ${n * 2} feedback kept in the spool — run \`npx tally flush\``,
        ),
      );
      expect(output).toMatch(/tally: {3}spool: \S+spool/);
      expect(output).toMatch(
        new RegExp(
          `tally: {3}${n} missing runs: not sent yet, kept in the spool \\(backend unreachable \\([a-z ]+\\)\\): .* and ${n - 3} more`,
        ),
      );
      expect(output).not.toContain("missing run:");
      expect(down.spoolLeft).toBe(1);
      expect(down.keyInFiles, "the API key is in no file Tally wrote").toEqual([]);
      expect(output.includes(SECRET_KEY)).toBe(false);

      expect(after.result.code, thenOutput.slice(-3000)).toBe(0);
      if (then === "tally flush") expect(thenOutput).toMatch(/tally flush: sent \d+ records/);
      else expect(thenOutput).toMatch(/also delivered the \d+ records an earlier run left in/);
      const runs = then === "next run" ? 2 : 1;
      expect(after.delivery).toEqual({
        experiments: runs,
        runs: runs * after.expected,
        duplicateRows: 0,
        spans: runs * after.expected * 4,
        feedback: runs * after.expected * 2,
        linked: runs * after.expected,
      });
      expect(after.resent, "no run was accepted twice").toBe(0);
      expect(after.spoolLeft, "the spool was emptied").toBe(0);
    },
  );

  test("kill -9 of the main process mid-run: tally flush delivers everything acknowledged", async () => {
    const o = await runMainKilled(runner);
    expect(o.acknowledged.length, "runs were acknowledged before the kill").toBeGreaterThanOrEqual(20);
    expect(o.deliveredAfterFlush, o.flushOutput).toEqual(o.acknowledged);
    expect(o.spoolLeft).toBe(0);
  });

  test("two runs at the same time in one project keep their own experiments", async () => {
    const o = await runTwoAtOnce(runner);
    for (const r of o.results) expect(r.code, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    for (const r of o.results) expect(r.stdout + r.stderr).toContain(`${o.expectedPerRun}/${o.expectedPerRun} runs`);
    expect(o.runsPerExperiment).toEqual([o.expectedPerRun, o.expectedPerRun]);
    expect(o.duplicateRows).toBe(0);
  });
});

describe.each(RUNNERS)("%s: a worker that crashes mid-file", (runner) => {
  test.each(CRASHES.map((c) => [c.id, c] as const))("%s: what it sent is delivered; every run missing is named", async (_id, c) => {
    const o = await runCrash(c, runner);
    const output = o.result.stdout + o.result.stderr;
    expect(o.result.code, "the run fails").not.toBe(0);
    expect(o.ran.length, output.slice(-3000)).toBeGreaterThan(0);
    expect(o.healthyDelivered, "every test of the healthy files that ran has its run").toBe(o.healthyRan);
    expect(o.namedMissing, "each test whose run is missing is named, with why").toEqual(o.missing);
    expect(o.delivery.duplicateRows).toBe(0);
    expect(output).toMatch(/tally: \d+\/\d+ runs/);
  });
});

describe.each(RUNNERS)("%s", (runner) => {
  test("bad inputs: every test is recorded and each conversion is named with its test", async () => {
    const backend = await startBackendServer();
    try {
      const suite = generateSuite(suiteDir("bad-inputs", runner), { flavour: "tally", runner, files: 1, tests: 1, dataset: "bad-inputs" });
      const body = BAD_INPUTS.map(
        ([name, value]) => `  ls.test(${JSON.stringify(name)}, { inputs: ${value} }, async ({ inputs }) => ({ echoed: inputs }));`,
      ).join("\n");
      writeTallyTestFile(
        suite,
        runner,
        "bad",
        `ls.describe("bad-inputs", () => {\n${body}\n  ls.test("non-UUID id", { id: "case-1", inputs: { q: 1 } }, async () => ({ ok: true }));\n});`,
      );
      const r = await runSuite(runner, suite, backend.url);
      const out = r.stdout + r.stderr;
      const total = BAD_INPUTS.length + 1 + 1; // + the non-UUID id + the generated file's one test
      expect(r.code, out.slice(-4000)).toBe(0);
      expect(out).toContain(`tally: ${total}/${total} runs`);
      for (const [name, what] of NAMED_CONVERSIONS) {
        expect(out).toMatch(new RegExp(`tally: ls\\.test "[^"]*${name}": (inputs|outputs): [^\\n]*${what.replace(/[.()]/g, "\\$&")}`));
      }
      const [ds] = await backend.datasets("bad-inputs");
      const examples = await backend.examplesOf(ds!.id);
      // The two key orders are one example; everything else its own.
      expect(examples).toHaveLength(total - 1);
    } finally {
      await backend.close();
    }
  });
});

// Values JSON cannot hold, as test inputs (source text); each test returns them as its outputs.
const BAD_INPUTS: Array<[string, string]> = [
  ["circular", `(() => { const o = { a: 1 }; o.self = o; return o; })()`],
  ["bigint", `{ n: 10n }`],
  ["symbol and function", `{ s: Symbol("s"), f: () => 1 }`],
  ["undefined", `{ u: undefined, v: 1 }`],
  ["map and set", `{ m: new Map([["k", 1]]), s: new Set([1]) }`],
  ["date, buffer, error", `{ d: new Date(0), b: Buffer.from("hi"), e: new Error("boom") }`],
  ["lone surrogate", `{ s: "a\\uD800b" }`],
  ["50 MB string", `{ s: "x".repeat(50 * 1024 * 1024) }`],
  ["10000 keys", `Object.fromEntries(Array.from({ length: 10000 }, (_, i) => ["k" + i, i]))`],
  ["deep", `(() => { let v = 1; for (let i = 0; i < 5000; i++) v = { x: v }; return v; })()`],
  ["key order a", `{ a: 1, b: 2 }`],
  ["key order b", `{ b: 2, a: 1 }`],
];

/** Tests whose conversion must be printed with the test's name, and a word of the message. */
const NAMED_CONVERSIONS: Array<[string, string]> = [
  ["circular", "circular reference"],
  ["bigint", "BigInt"],
  ["symbol and function", "Symbol"],
  ["map and set", "Map"],
  ["date, buffer, error", "binary"],
  ["lone surrogate", "lone UTF-16 surrogates"],
  ["50 MB string", "a string of 50.0 M characters cut"],
  ["deep", "nesting deeper than 100 levels cut"],
  ["non-UUID id", 'example id "case-1" is not a UUID'],
];
