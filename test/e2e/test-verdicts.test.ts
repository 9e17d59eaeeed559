import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { validateReport } from "../support/report-schema.ts";
import { MATRIX, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// A test's own verdict over its trials, end to end with real Vitest into the embedded store: six
// cases with 10 trials each (TALLY_TRIALS), run twice. Five pass every trial both times; in the second
// run "collapses" passes only its first trial. Over the six examples the experiment's pass rate falls
// too little to be called a regression, but that one test, judged on its ten trials against the
// baseline's ten, is (Fisher's exact p 0.0001, adjusted for the six tests compared), and only it.

const TRIALS = 10;

test("with 10 trials a collapsed test gets its own 'regressed' verdict; the steady ones stay unchanged", async () => {
  const suite = generateSuite(join(MATRIX, "vitest4", ".suites", "test-verdicts"), {
    flavour: "tally",
    files: 0,
    tests: 0,
    dataset: "trials",
  });
  writeTallyTestFile(
    suite,
    "vitest",
    "trials",
    `const trialOf = {};
ls.describe("trials", () => {
  for (const name of ["steady 1", "steady 2", "steady 3", "steady 4", "steady 5", "collapses"]) {
    ls.test(name, { inputs: { name } }, () => {
      const trial = (trialOf[name] = (trialOf[name] ?? 0) + 1);
      const pass = name !== "collapses" || process.env.BROKEN !== "1" || trial === 1;
      ls.logFeedback({ key: "quality", score: pass ? 0.9 : 0.2 });
      ls.expect(pass).toBe(true);
    });
  }
});`,
  );
  const reportFile = join(suite.dir, "report.json");
  const run = async (broken: boolean) => {
    const r = await runVitest("vitest4", suite.dir, [], {
      BROKEN: broken ? "1" : "0",
      TALLY_TRIALS: String(TRIALS),
      TALLY_REPORT_FILE: reportFile,
    });
    const report = JSON.parse(readFileSync(reportFile, "utf8"));
    return { out: r.stdout + r.stderr, code: r.code, report, experiment: report.experiments[0] };
  };

  const before = await run(false);
  expect(before.code, before.out).toBe(0);
  expect(before.experiment.examples.map((e: { trials: number }) => e.trials)).toEqual(Array(6).fill(TRIALS));

  const after = await run(true);
  expect(after.code, after.out).toBe(1);
  expect(validateReport(after.report)).toEqual([]);
  const c = after.experiment.comparison;
  expect(c.passRate.verdict).toBe("unchanged");
  expect(c.testsCompared).toBe(6);
  const verdicts = Object.fromEntries(after.experiment.examples.map((e: { name: string; verdict: string }) => [e.name, e.verdict]));
  expect(verdicts).toEqual({
    "trials > steady 1": "unchanged",
    "trials > steady 2": "unchanged",
    "trials > steady 3": "unchanged",
    "trials > steady 4": "unchanged",
    "trials > steady 5": "unchanged",
    "trials > collapses": "regressed",
  });
  expect(c.tests).toHaveLength(1);
  const [t] = c.tests;
  expect(t).toMatchObject({ name: "trials > collapses", trials: TRIALS, baselineTrials: TRIALS, verdict: "regressed" });
  // fisher_exact([[1, 9], [10, 0]]).pvalue = 0.00011907597046915932 (SciPy 1.17.1); adjusted for 6 tests.
  expect(t.passRate).toMatchObject({ baseline: 1, current: 0.1, verdict: "regressed" });
  expect(t.passRate.p).toBeCloseTo(0.00011907597046915932, 10);
  expect(t.passRate.pAdjusted).toBeCloseTo(6 * 0.00011907597046915932, 10);
  expect(t.scores.quality).toMatchObject({ method: "Welch's t-test", verdict: "regressed" });
  expect(t.scores.quality.baseline).toBeCloseTo(0.9, 12);
  expect(t.scores.quality.current).toBeCloseTo(0.27, 12);
  expect(after.out).toContain("tally:   tests regressed beyond noise over their trials (1 of 6):");
  // The per-test regression list folds an example's trials (all must pass) and names the test, not its first trial.
  expect(after.experiment.regressions.map((r: { test: string; key: string }) => `${r.test} ${r.key}`)).toEqual([
    "trials > collapses pass",
    "trials > collapses quality",
  ]);
  expect(after.out).toMatch(/tally: {5}trials > collapses \(10 trials, baseline 10\): pass rate 1 → 0\.10 {2}Δ −0\.90 \[/);
});
