import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { TallyReportV1 } from "../../packages/core/src/report/json-report.js";
import { startBackend, type Backend } from "../support/backend.js";
import { validateReport } from "../support/report-schema.js";
import { MATRIX, REPO, runJest, runNode, runVitest } from "../support/run-vitest.js";
import { generateSuite, writeTallyTestFile } from "../support/suite.js";

// CI reports end to end: a real runner records a suite twice into one dataset; the second run's
// quality falls and one case starts failing. Its JSON report (checked against the shipped schema),
// the GitHub job summary and workflow commands, the terminal's comparison and the gates' exit code
// are what a CI job sees. Vitest against the project's server over REST, Jest on the embedded store.

let backend: Backend | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await backend?.close();
  backend = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tally-ci-"));
  dirs.push(d);
  return d;
}

const CASES = 4;

/** Four cases scored by `QUALITY`; the case numbered `FAIL_CASE` throws. */
function qualitySuite(runner: "vitest" | "jest", pkg: string, name: string, pluginOptions?: string, files = 0) {
  const suite = generateSuite(join(MATRIX, pkg, ".suites", name), {
    flavour: "tally",
    runner,
    files,
    tests: 3,
    dataset: "ci-suite",
    ...(pluginOptions
      ? runner === "jest"
        ? { jestOptions: `reporters: ["default", ["@tally/jest-preset/reporter", ${pluginOptions}]],` }
        : { pluginOptions }
      : {}),
  });
  writeTallyTestFile(
    suite,
    runner,
    "quality",
    `ls.describe("ci-suite", () => {
  for (let i = 1; i <= ${CASES}; i++) {
    ls.test(\`case \${i}\`, { inputs: { case: i }, referenceOutputs: { ok: true } }, async ({ inputs }) => {
      await app(String(inputs.case));
      ls.logFeedback({ key: "quality", score: Number(process.env.QUALITY ?? "1") });
      if (process.env.FAIL_CASE === String(inputs.case)) throw new Error("case " + inputs.case + " fails now");
    });
  }
});`,
  );
  return suite;
}

const readReport = (file: string) => JSON.parse(readFileSync(file, "utf8")) as TallyReportV1;

describe("CI reports", () => {
  test("Vitest over REST: baseline comparison, regressions, JSON report, job summary, annotations and a failing gate", async () => {
    backend = await startBackend();
    const suite = qualitySuite("vitest", "vitest4", "ci-report", `{ gates: { scores: { quality: 0.95 }, noSignificantRegression: true } }`);
    const out = tempDir();
    const env = (extra: Record<string, string>) => ({ LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: backend!.url, ...extra });

    const first = await runVitest("vitest4", suite.dir, [], env({ QUALITY: "1", TALLY_REPORT_FILE: join(out, "first.json") }));
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const r1 = readReport(join(out, "first.json"));
    expect(validateReport(r1)).toEqual([]);
    expect(r1.experiments[0]!.baseline).toBeNull();
    expect(r1.experiments[0]!.comparison).toBeNull();
    expect(r1.gates.every((g) => g.ok)).toBe(true);

    const summaryFile = join(out, "step-summary.md");
    const second = await runVitest(
      "vitest4",
      suite.dir,
      [],
      env({
        QUALITY: "0.4",
        FAIL_CASE: "2",
        TALLY_REPORT_FILE: join(out, "second.json"),
        GITHUB_ACTIONS: "true",
        GITHUB_STEP_SUMMARY: summaryFile,
      }),
    );
    const text = second.stdout + second.stderr;
    expect(second.code, "a failing gate fails the run").toBe(1);
    const r2 = readReport(join(out, "second.json"));
    expect(validateReport(r2)).toEqual([]);
    const [exp] = r2.experiments;
    expect(exp!.baseline?.name).toBe(r1.experiments[0]!.name);
    expect(exp!.delivered).toMatchObject({ runs: CASES, expected: CASES });
    // Version 2: each mean with its interval (every test scored 0.4: the interval is that value).
    expect(r2.version).toBe(2);
    expect(exp!.scores.quality).toEqual({ mean: 0.4, count: CASES, ci: [0.4, 0.4] });
    expect(exp!.passRate).toBe(0.75);
    expect(exp!.passRateCi).toHaveLength(2);
    expect(exp!.passRateCi![0]).toBeLessThan(0.75);
    expect(exp!.passRateCi![1]).toBeGreaterThan(0.75);
    expect(exp!.trials).toBe(1);
    expect(exp!.examples).toHaveLength(CASES);
    expect(exp!.examples!.every((e) => e.exampleId !== null && e.trials === 1)).toBe(true);
    // The terminal shows the pass rate with its interval, and each mean with its own.
    expect(text).toMatch(/pass 0\.75 \[0\.\d+, 0\.\d+\]/);
    expect(text).toMatch(/average\s+0\.40 \[0\.40, 0\.40\]/);
    expect(exp!.tests.every((t) => typeof t.exampleId === "string")).toBe(true);
    const regressions = exp!.regressions.map((r) => `${r.test}|${r.key}|${r.before}|${r.after}`).sort();
    expect(regressions).toEqual(
      [...Array.from({ length: CASES }, (_, i) => `ci-suite > case ${i + 1}|quality|1|0.4`), "ci-suite > case 2|pass|1|0"].sort(),
    );
    expect(exp!.regressions.every((r) => r.file.endsWith("quality.test.mjs"))).toBe(true);
    // The noise-aware comparison: 4 paired examples. One of 4 fell (McNemar b 1, c 0: p 1); quality
    // fell by 0.6 on each, but 4 examples cannot make it significant (exact sign-flip p 2/16 = 0.125):
    // both unchanged, and the noSignificantRegression gate passes though every score fell.
    expect(exp!.comparison).toMatchObject({
      alpha: 0.05,
      passRate: { n: CASES, baseline: 1, current: 0.75, delta: -0.25, p: 1, verdict: "unchanged" },
      unmatched: { baselineOnly: [], currentOnly: [], baselineOnlyCount: 0, currentOnlyCount: 0 },
    });
    expect(exp!.comparison!.scores.quality).toMatchObject({ n: CASES, baseline: 1, verdict: "unchanged" });
    expect(exp!.comparison!.scores.quality!.delta).toBeCloseTo(-0.6, 12);
    expect(exp!.comparison!.scores.quality!.p).toBeCloseTo(0.125, 12);
    expect(r2.gates.find((g) => g.name === "noSignificantRegression")).toMatchObject({ ok: true });
    expect(r2.gates.filter((g) => !g.ok).map((g) => g.message)).toEqual([`mean quality 0.4 < 0.95 (${exp!.name})`]);

    // The terminal: the comparison and its regressions, and the gate's line.
    expect(text).toContain(`vs baseline "${r1.experiments[0]!.name}"`);
    expect(text).toMatch(/quality 1 → 0\.40 \(Δ −0\.60\)/);
    expect(text).toContain(`regressions (${CASES + 1}):`);
    expect(text).toMatch(/Δ vs baseline\s+−0\.60/);
    expect(text).toContain("pass rate 1 → 0.75  Δ −0.25 [−0.75, 0]  p 1  unchanged (exact McNemar)");
    expect(text).toContain("quality 1 → 0.40  Δ −0.60 [−0.60, −0.60]  p 0.125  unchanged (paired bootstrap)");
    expect(text).toContain(`Tally gate failed: mean quality 0.4 < 0.95 (${exp!.name})`);
    // GitHub: workflow commands on stdout, and the job summary.
    expect(second.stdout).toContain(`::notice title=Tally experiment::${exp!.name} `);
    expect(second.stdout).toContain(`::error title=Tally gate::mean quality 0.4 < 0.95 (${exp!.name})`);
    // The test's line: the ls.test call in the generated file (line 5), where GitHub puts the annotation.
    expect(second.stdout).toMatch(/::warning file=[^,]*quality\.test\.mjs,line=5,title=Tally regression::ci-suite > case 2: pass 1 → 0/);
    const md = readFileSync(summaryFile, "utf8");
    expect(md).toContain(`### [${exp!.name}](`);
    expect(md).toContain(`**Regressions (${CASES + 1})**`);
    expect(md).toContain("| ci-suite > case 2 |");
    expect(md).toContain("❌ mean quality 0.4 &lt; 0.95"); // `<` escaped: the summary is HTML-aware Markdown
    expect(text, "the key never shows up in output").not.toContain("fake-key");

    // Every test passes, the gate does not: the run still fails.
    const third = await runVitest("vitest4", suite.dir, [], env({ QUALITY: "0.5" }));
    expect(third.stdout + third.stderr).toMatch(/Tests\s+4 passed/);
    expect(third.stdout + third.stderr).toContain("Tally gate failed: mean quality 0.5 < 0.95");
    expect(third.code, "a failing gate fails a run whose tests all passed").toBe(1);
  });

  test("Jest on the embedded store: the previous run is the baseline; a regression gate fails the run", async () => {
    const suite = qualitySuite("jest", "jest30", "ci-report", `{ gates: { maxRegressions: 0 }, baseline: "previous" }`);
    rmSync(join(suite.dir, ".tally"), { recursive: true, force: true });
    const out = tempDir();
    const first = await runJest("jest30", suite.dir, [], { QUALITY: "0.9", TALLY_REPORT_FILE: join(out, "first.json") });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(readReport(join(out, "first.json")).experiments[0]!.baseline).toBeNull();

    const second = await runJest("jest30", suite.dir, [], { QUALITY: "0.9", FAIL_CASE: "3", TALLY_REPORT_FILE: join(out, "second.json") });
    const text = second.stdout + second.stderr;
    expect(second.code, text).toBe(1);
    const r2 = readReport(join(out, "second.json"));
    expect(validateReport(r2)).toEqual([]);
    const [exp] = r2.experiments;
    expect(exp!.baseline).not.toBeNull();
    expect(exp!.regressions.map((r) => `${r.test}|${r.key}`)).toEqual(["ci-suite case 3|pass"]);
    expect(text).toContain(`Tally gate failed: 1 regression > 0 (${exp!.name})`);

    // Passing tests and no regression: the gate holds and the run passes.
    const third = await runJest("jest30", suite.dir, [], { QUALITY: "0.9", TALLY_REPORT_FILE: join(out, "third.json") });
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(readReport(join(out, "third.json")).gates.every((g) => g.ok)).toBe(true);

    // Every test passes, but every score fell: regressions, and the gate fails the run on its own.
    const fourth = await runJest("jest30", suite.dir, [], { QUALITY: "0.5" });
    const fourthText = fourth.stdout + fourth.stderr;
    expect(fourthText).toMatch(/Tests:\s+4 passed, 4 total/);
    expect(fourthText).toContain("Tally gate failed: 4 regressions > 0");
    expect(fourth.code, "a failing gate fails a run whose tests all passed").toBe(1);
  });

  test("bad input: an unknown option and a baseline that does not exist are named", async () => {
    const unknown = qualitySuite("vitest", "vitest4", "ci-bad-option", `{ gate: { passRate: 1 } }`);
    const r = await runVitest("vitest4", unknown.dir, [], {});
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`tally: unknown option "gate"`);

    const named = qualitySuite("vitest", "vitest4", "ci-bad-baseline", `{ baseline: "no-such-experiment" }`);
    rmSync(join(named.dir, ".tally"), { recursive: true, force: true });
    const out = tempDir();
    const b = await runVitest("vitest4", named.dir, [], { TALLY_REPORT_FILE: join(out, "r.json") });
    const text = b.stdout + b.stderr;
    expect(b.code, text).toBe(1);
    expect(text).toContain(`no-such-experiment`);
    expect(text).toContain("Tally gate failed: baseline of");
    expect(existsSync(join(out, "r.json"))).toBe(true);
  });

  test("shards: each writes its report, `tally report merge` adds them up and judges the gates", async () => {
    backend = await startBackend();
    // Two generated files (3 tests each) beside the quality file: the shards split the three files.
    const suite = qualitySuite("vitest", "vitest4", "ci-shards", undefined, 2);
    const out = tempDir();
    const env = (i: number) => ({
      LANGSMITH_API_KEY: "fake-key",
      LANGSMITH_ENDPOINT: backend!.url,
      TALLY_RUN_ID: "ci-7",
      TALLY_REPORT_FILE: join(out, `shard-${i}.json`),
    });
    const shards = await Promise.all([1, 2].map((i) => runVitest("vitest4", suite.dir, [`--shard=${i}/2`], env(i))));
    for (const r of shards) expect(r.code, r.stdout + r.stderr).toBe(0);
    const parts = [1, 2].map((i) => readReport(join(out, `shard-${i}.json`)));
    const total = CASES + 2 * 3;
    expect(parts.reduce((n, p) => n + (p.experiments.find((e) => e.dataset === "ci-suite")?.tests.length ?? 0), 0)).toBeLessThanOrEqual(
      total,
    );

    const tally = (args: string[], extra: Record<string, string> = {}) =>
      runNode([join(REPO, "packages", "store", "bin", "tally.mjs"), ...args], out, extra);
    const summaryFile = join(out, "summary.md");
    const merged = await tally(
      ["report", "merge", "--out", "merged.json", "--gates", '{"passRate": 1, "scores": {"quality": 0.5}}', "shard-1.json", "shard-2.json"],
      { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summaryFile },
    );
    expect(merged.code, merged.stdout + merged.stderr).toBe(0);
    const m = readReport(join(out, "merged.json"));
    expect(validateReport(m)).toEqual([]);
    expect(m.version).toBe(2);
    // The merge regroups the shards' tests by example and counts the intervals again over them all.
    for (const e of m.experiments) {
      expect(e.examples!.reduce((n, x) => n + x.trials, 0)).toBe(
        e.tests.filter((t) => t.status === "passed" || t.status === "failed").length,
      );
      if (e.passRate !== null) expect(e.passRateCi).toHaveLength(2);
    }
    const names = m.experiments.map((e) => e.name).sort();
    expect(new Set(names).size, "one experiment per dataset, shared by the shards").toBe(names.length);
    const all = m.experiments.reduce((n, e) => n + e.tests.length, 0);
    expect(all).toBe(total);
    for (const e of m.experiments) expect(e.delivered.runs).toBe(e.delivered.expected);
    expect(m.gates.length).toBeGreaterThan(0);
    expect(m.gates.every((g) => g.ok)).toBe(true);
    expect(merged.stdout).toContain("::notice title=Tally experiment::");
    expect(readFileSync(summaryFile, "utf8")).toContain("## Tally");
    // No baseline in this run's shards (the first run of the suite): no comparison, no note.
    for (const e of m.experiments) expect(e.comparison ?? null).toBeNull();

    const failing = await tally(["report", "merge", "--gates", '{"scores": {"quality": 2}}', "shard-1.json", "shard-2.json"]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/Tally gate failed: mean quality 1 < 2 \(ci-suite:ci-7\)/);

    // Bad input: a file that is not a report, and the reports of two different runs.
    writeFileSync(join(out, "other.json"), JSON.stringify({ numTotalTests: 3 }));
    const notReport = await tally(["report", "merge", "shard-1.json", "other.json"]);
    expect(notReport.code).toBe(2);
    expect(notReport.stdout).toContain("other.json is not a Tally report");
    const otherRun = { ...parts[1]!, run: { ...parts[1]!.run, key: "ci-8" } };
    writeFileSync(join(out, "other-run.json"), JSON.stringify(otherRun));
    const mixed = await tally(["report", "merge", "shard-1.json", "other-run.json"]);
    expect(mixed.code).toBe(2);
    expect(mixed.stdout).toContain("the reports are of different runs: ci-7 (shard-1.json); ci-8 (other-run.json)");
  });
});
