import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { noisyFile } from "../support/noisy-suite.ts";
import { MATRIX, runJest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// The noise-aware verdicts end to end on Jest, as verdicts.test.ts checks them on Vitest: the same
// seeded noisy suite, three runs one after the other into the embedded store, each compared with the
// one before. Under Jest, Tally's options are the reporter entry's (`gates`, `baseline`, `alpha`: the
// preset's globalSetup reads them from there before any reporter exists) and TALLY_TRIALS is the
// environment's. Every run has 2 trials per case, so the pass rate goes through the trials' path (the
// paired permutation test over per-example pass rates) and the report carries pass@2 and pass^2.
// 40 cases × 2 trials (80 tests a run, as many as the Vitest test's) keep the Jest runs short; the
// drop from 0.9 to 0.5 is still far beyond noise at 40 examples (p < 0.001 with these seeds), and the
// same rate with other noise is not called a change.

const CASES = 40;
const TRIALS = 2;
// Not the default (0.05): the comparison's alpha proves the reporter entry's options reached the run.
const ALPHA = 0.04;

interface Measure {
  method: string;
  n: number;
  p: number;
  ci: [number, number];
  verdict: string;
}

test("on Jest with trials: the same pass rate is unchanged; 0.9 → 0.5 is regressed and fails the gate", async () => {
  const options = { gates: { noSignificantRegression: true }, baseline: "previous", alpha: ALPHA };
  const suite = generateSuite(join(MATRIX, "jest30", ".suites", "verdicts"), {
    flavour: "tally",
    runner: "jest",
    files: 0,
    tests: 0,
    dataset: "noisy",
    jestOptions: `reporters: ["default", ["@tally/jest-preset/reporter", ${JSON.stringify(options)}]],`,
  });
  writeTallyTestFile(suite, "jest", "noisy", noisyFile(CASES));
  const reportFile = join(suite.dir, "report.json");
  const run = async (rate: number, seed: number) => {
    const r = await runJest("jest30", suite.dir, [], {
      RATE: String(rate),
      SEED: String(seed),
      TALLY_TRIALS: String(TRIALS),
      TALLY_REPORT_FILE: reportFile,
    });
    const out = r.stdout + r.stderr;
    const report = JSON.parse(readFileSync(reportFile, "utf8"));
    return {
      out,
      code: r.code,
      experiment: report.experiments[0],
      gates: report.gates as Array<{ name: string; ok: boolean; message: string }>,
    };
  };

  const first = await run(0.9, 1);
  expect(first.experiment.comparison, first.out).toBeNull();
  expect(first.experiment.tests).toHaveLength(CASES * TRIALS);
  expect(first.experiment.passRate).toBeGreaterThan(0.8);
  // The trials' spread: one example per case with its 2 trials, pass@2 and pass^2 over them.
  expect(first.experiment.trials).toBe(TRIALS);
  expect(first.experiment.examples).toHaveLength(CASES);
  expect(first.experiment.examples.every((e: { trials: number }) => e.trials === TRIALS)).toBe(true);
  expect(first.experiment.passAtK).toBeGreaterThanOrEqual(first.experiment.passRate);
  expect(first.experiment.passHatK).toBeLessThanOrEqual(first.experiment.passRate);
  expect(first.out).toMatch(/ {2}pass 0\.\d+ \[0\.\d+, 0\.\d+\] · trials 2 · pass@2 \S+ · pass\^2 \S+/);

  const same = await run(0.9, 2);
  const c2 = same.experiment.comparison;
  expect(c2, same.out).not.toBeNull();
  expect(c2.alpha).toBe(ALPHA);
  expect(same.experiment.baseline.name).toBe(first.experiment.name);
  expect(c2.passRate.method).toBe("paired permutation test");
  expect(c2.passRate.n).toBe(CASES);
  expect(c2.passRate.verdict).toBe("unchanged");
  expect(c2.scores.quality.verdict).toBe("unchanged");
  expect(same.gates.filter((g) => g.name === "noSignificantRegression").every((g) => g.ok)).toBe(true);
  expect(same.out).toMatch(/tally: {3}pass rate 0\.\d+ → 0\.\d+ {2}Δ \S+ \[\S+, \S+\] {2}p (?:< )?\S+ {2}unchanged \(paired permutation/);

  const dropped = await run(0.5, 3);
  const c3 = dropped.experiment.comparison;
  expect(dropped.experiment.baseline.name).toBe(same.experiment.name);
  const pass: Measure = c3.passRate;
  expect(pass.method).toBe("paired permutation test");
  expect(pass.verdict).toBe("regressed");
  expect(pass.p).toBeLessThan(ALPHA);
  expect(pass.ci[1]).toBeLessThan(0);
  expect(c3.scores.quality.verdict).toBe("regressed");
  const failed = dropped.gates.filter((g) => g.name === "noSignificantRegression" && !g.ok);
  expect(failed.map((g) => g.message)).toEqual([
    expect.stringMatching(/^pass rate regressed: Δ −0\.\d+ \[−0\.\d+, −0\.\d+\], p /),
    expect.stringMatching(/^quality regressed: Δ −0\.\d+ \[−0\.\d+, −0\.\d+\], p /),
  ]);
  expect(dropped.out).toMatch(
    /tally: {3}pass rate 0\.\d+ → 0\.\d+ {2}Δ −\S+ \[\S+, \S+\] {2}p (?:< )?\S+ {2}regressed \(paired permutation/,
  );
  // The failing gate fails the Jest run (its tests failed too; the gate is named in the output).
  expect(dropped.code).not.toBe(0);
  expect(dropped.out).toContain("pass rate regressed: Δ −");
});
