import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { MATRIX, runJest, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// Tests the run meant to run that never ran to a result count as failed in the experiment's pass rate:
// in the JSON report (with the list of them), the terminal and the passRate gate. A worker killed
// mid-file (Vitest's forks, Jest's workers), and Vitest's --bail (3.2, 4.1, 5.1), which cancels the
// rest of the failing file; a test the user skipped stays out. Jest's --bail is not here: it stops
// between files (the failing file runs to its end), the tests of files it never starts were never
// collected, so nothing can name them, and whether a file in flight finishes before the run ends is
// a race (see reconcile.ts, NeverRunTest).

interface ReportExperiment {
  passRate: number;
  passRateCi: [number, number];
  tests: Array<{ name: string; status: string }>;
  neverRun?: { count: number; tests: Array<{ test: string; file: string; reason: string }> };
}
interface Report {
  experiments: Array<ReportExperiment & { dataset: string }>;
  gates: Array<{ name: string; ok: boolean; message: string }>;
}

const readReport = (file: string): Report => JSON.parse(readFileSync(file, "utf8"));
const count = (e: ReportExperiment, status: string) => e.tests.filter((t) => t.status === status).length;

const KILLED_AT = 2;
const CASES = 6;

/** Two tests that pass, then one that kills its worker (SIGKILL, as the OOM killer does), then three more. */
function killedFile(): string {
  const tests = Array.from({ length: CASES }, (_, i) => {
    // The wait lets the runs before go out (the SDK batches them), as in worker-killed.test.ts.
    const body =
      i === KILLED_AT
        ? `await new Promise((r) => setTimeout(r, 600)); process.kill(process.pid, "SIGKILL");`
        : `return { answer: await app("k${i}") };`;
    return `  ls.test("case k-${i}", { inputs: { q: "k${i}" } }, async () => { ${body} });`;
  });
  return `ls.describe("killed", () => {\n${tests.join("\n")}\n});`;
}

describe.each([
  { runner: "vitest" as const, pkg: "vitest4", run: runVitest, args: [] as string[] },
  // workerIdleMemoryLimit keeps Jest off "in band" (the kill would take the run with it).
  { runner: "jest" as const, pkg: "jest30", run: runJest, args: ["--maxWorkers=2"] },
])("$runner: a worker killed mid-file", ({ runner, pkg, run, args }) => {
  test("its tests without a result count as failed: pass rate = passed / (ran + never run), and the gate sees it", async () => {
    const gates = { passRate: 0.5 };
    const suite = generateSuite(join(MATRIX, pkg, ".suites", "never-run-killed"), {
      flavour: "tally",
      runner,
      files: 0,
      tests: 0,
      dataset: "killed",
      pluginOptions: JSON.stringify({ gates }),
      testOptions: `pool: "forks",`,
      jestOptions: `workerIdleMemoryLimit: "1GB", reporters: ["default", ["@tally/jest-preset/reporter", ${JSON.stringify({ gates })}]],`,
    });
    writeTallyTestFile(suite, runner, "killed", killedFile());
    const reportFile = join(suite.dir, "report.json");
    const r = await run(pkg, suite.dir, args, { TALLY_REPORT_FILE: reportFile });
    const out = r.stdout + r.stderr;
    expect(r.code, out).not.toBe(0);

    const e = readReport(reportFile).experiments[0]!;
    const never = e.neverRun;
    expect(never, out).toBeDefined();
    // Every declared test is counted once: those that ran to a result, and those that never did.
    const passed = count(e, "passed");
    const ran = passed + count(e, "failed");
    expect(ran + never!.count, out).toBe(CASES);
    expect(never!.count).toBe(never!.tests.length);
    expect(never!.count).toBeGreaterThanOrEqual(CASES - KILLED_AT);
    expect(e.passRate).toBe(passed / CASES);
    // The tests after the kill are listed, each with why.
    const names = never!.tests.map((t) => t.test);
    for (let i = KILLED_AT + 1; i < CASES; i++)
      expect(
        names.some((n) => n.endsWith(`case k-${i}`)),
        names.join(", "),
      ).toBe(true);
    for (const t of never!.tests) expect(t.reason).toMatch(/^its worker died/);

    // The terminal says they never ran and count as failed; the gate fails on the lower rate.
    expect(out).toMatch(
      new RegExp(`tally: {3}${never!.count} tests never ran \\(worker died\\) in "killed:[^"]+": counted as failed in the pass rate \\(`),
    );
    expect(out).toContain(`· ${never!.count} never ran`);
    const gate = readReport(reportFile).gates.find((g) => g.name === "passRate")!;
    expect(gate.ok).toBe(false);
    expect(gate.message).toContain(`(${never!.count} never ran, counted as failed)`);
  });
});

const BAIL_FILE = `ls.describe("bail", () => {
  ls.test("b0", { inputs: { q: "b0" } }, async () => ({ answer: await app("b0") }));
  ls.test("b1", { inputs: { q: "b1" } }, async () => { throw new Error("the failure that bails"); });
  ls.test("b2", { inputs: { q: "b2" } }, async () => ({ answer: await app("b2") }));
  ls.test("b3", { inputs: { q: "b3" } }, async () => ({ answer: await app("b3") }));
  ls.test.skip("skipped by the user", { inputs: { q: "s" } }, async () => ({}));
});`;

describe.each(["vitest3", "vitest4", "vitest5"])("%s --bail=1", (pkg) => {
  test("the tests it cancelled count as failed; the test the user skipped does not", async () => {
    const suite = generateSuite(join(MATRIX, pkg, ".suites", "never-run-bail"), { flavour: "tally", files: 0, tests: 0, dataset: "bail" });
    writeTallyTestFile(suite, "vitest", "bail", BAIL_FILE);
    const reportFile = join(suite.dir, "report.json");
    const r = await runVitest(pkg, suite.dir, ["--bail=1"], { TALLY_REPORT_FILE: reportFile });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);

    const e = readReport(reportFile).experiments[0]!;
    // Vitest's worker cancels itself after the failing test: b2 and b3 never start.
    // (Vitest 3.2 names the file by its absolute path, 4 and 5 relative to the root.)
    expect(e.neverRun, out).toEqual({
      count: 2,
      tests: ["bail > b2", "bail > b3"].map((test) => ({
        test,
        file: expect.stringMatching(/(^|\/)evals\/bail\.test\.mjs$/),
        reason: "the run was cancelled before it ran (bail)",
      })),
    });
    // 1 passed of 2 that ran and 2 that never did; the skipped test counts in neither.
    expect(e.passRate).toBe(0.25);
    expect(e.tests.map((t) => [t.name, t.status])).toEqual([
      ["bail > b0", "passed"],
      ["bail > b1", "failed"],
    ]);
    expect(out).toMatch(
      /tally: {3}2 tests never ran \(run cancelled: bail\) in "bail:[^"]+": counted as failed in the pass rate \(bail > b2, bail > b3\)/,
    );
    expect(out).toMatch(/dataset "bail" · 1\/4 passed · 2 never ran/);
    // What ran was delivered: the cancelled tests owe no run.
    expect(out).toMatch(/tally: 2\/2 runs · \d+ spans · \d+ feedback delivered to "bail:/);
  });
});
