import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { MATRIX, runVitest } from "../support/run-vitest.ts";
import { noisyFile } from "../support/noisy-suite.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// Noise-aware verdicts end to end, on a seeded noisy suite run by real Vitest into the embedded store:
// 80 cases, each passing with probability RATE (its draw fixed by SEED and the case), three runs one
// after the other, each compared with the one before. The same true pass rate with other noise is not
// called a regression; a drop from 0.9 to 0.5 is, and the gate on significant regressions fails that
// run (and only that one) by naming the measure, Δ, its interval and p.

const CASES = 80;

test("the same pass rate with other noise is unchanged; 0.9 → 0.5 is regressed and fails the gate", async () => {
  const suite = generateSuite(join(MATRIX, "vitest4", ".suites", "verdicts"), {
    flavour: "tally",
    files: 0,
    tests: 0,
    dataset: "noisy",
    pluginOptions: "{ gates: { noSignificantRegression: true } }",
  });
  writeTallyTestFile(suite, "vitest", "noisy", noisyFile(CASES));
  const reportFile = join(suite.dir, "report.json");
  const run = async (rate: number, seed: number) => {
    const r = await runVitest("vitest4", suite.dir, [], { RATE: String(rate), SEED: String(seed), TALLY_REPORT_FILE: reportFile });
    const report = JSON.parse(readFileSync(reportFile, "utf8"));
    return {
      out: r.stdout + r.stderr,
      experiment: report.experiments[0],
      gates: report.gates as Array<{ name: string; ok: boolean; message: string }>,
    };
  };
  const first = await run(0.9, 1);
  expect(first.experiment.comparison).toBeNull();
  expect(first.experiment.passRate).toBeGreaterThan(0.8);

  const same = await run(0.9, 2);
  const c2 = same.experiment.comparison;
  expect(c2.passRate.method).toBe("exact McNemar (two-sided)");
  expect(c2.passRate.verdict).toBe("unchanged");
  expect(c2.scores.quality.verdict).toBe("unchanged");
  expect(same.gates.filter((g) => g.name === "noSignificantRegression").every((g) => g.ok)).toBe(true);
  expect(same.out).toMatch(/tally: {3}pass rate 0\.\d+ → 0\.\d+ {2}Δ \S+ \[\S+, \S+\] {2}p (?:< )?\S+ {2}unchanged \(exact McNemar/);

  const dropped = await run(0.5, 3);
  const c3 = dropped.experiment.comparison;
  expect(c3.passRate.verdict).toBe("regressed");
  expect(c3.passRate.p).toBeLessThan(0.05);
  expect(c3.passRate.ci[1]).toBeLessThan(0);
  expect(c3.scores.quality.verdict).toBe("regressed");
  const failed = dropped.gates.filter((g) => g.name === "noSignificantRegression" && !g.ok);
  expect(failed.map((g) => g.message)).toEqual([
    expect.stringMatching(/^pass rate regressed: Δ −0\.\d+ \[−0\.\d+, −0\.\d+\], p /),
    expect.stringMatching(/^quality regressed: Δ −0\.\d+ \[−0\.\d+, −0\.\d+\], p /),
  ]);
  expect(dropped.out).toMatch(/tally: {3}pass rate 0\.\d+ → 0\.\d+ {2}Δ −\S+ \[\S+, \S+\] {2}p (?:< )?\S+ {2}regressed \(exact McNemar/);
});
