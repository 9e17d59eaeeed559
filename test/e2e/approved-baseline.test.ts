import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import type { TallyReportV1 } from "../../packages/core/src/report/json-report.ts";
import { validateReport } from "../support/report-schema.ts";
import { MATRIX, REPO, runNode, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// Approved baselines end to end, on the embedded store: real Vitest runs a generated suite three
// times into one dataset, the real `tally` command approves the first run, and the third run, with
// TALLY_BASELINE=approved, is compared with that one and not with the run just before it. Run 1 ran
// a case the others dropped, run 3 one that is new: both are counted and named on the terminal and
// in the JSON report. Run 2 asked for the approved baseline before there was one: said, not failed.

const TALLY = join(REPO, "packages", "store", "bin", "tally.mjs");
const DATASET = "approved-suite";

test("baseline: approved compares with the experiment `tally baseline approve` chose; one-sided examples are listed", async () => {
  const suite = generateSuite(join(MATRIX, "vitest4", ".suites", "approved-baseline"), {
    flavour: "tally",
    files: 0,
    tests: 0,
    dataset: DATASET,
  });
  writeTallyTestFile(
    suite,
    "vitest",
    "approved",
    `ls.describe("${DATASET}", () => {
  const cases = ["1", "2", "3", "4"];
  if (process.env.OLD_CASE === "1") cases.push("old");
  if (process.env.NEW_CASE === "1") cases.push("new");
  for (const c of cases) {
    ls.test(\`case \${c}\`, { inputs: { case: c }, referenceOutputs: { ok: true } }, async ({ inputs }) => {
      await app(String(inputs.case));
      ls.logFeedback({ key: "quality", score: Number(process.env.QUALITY) });
    });
  }
});`,
  );
  const reportFile = join(suite.dir, "report.json");
  const run = async (env: Record<string, string>) => {
    const r = await runVitest("vitest4", suite.dir, [], { TALLY_REPORT_FILE: reportFile, ...env });
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as TallyReportV1;
    expect(validateReport(report)).toEqual([]);
    return { code: r.code, out: r.stdout + r.stderr, exp: report.experiments[0]!, report };
  };

  const first = await run({ QUALITY: "1", OLD_CASE: "1" });
  expect(first.code, first.out).toBe(0);
  expect(first.exp.tests).toHaveLength(5);

  // Nothing approved yet: no comparison (not the previous run), a note naming the dataset and the
  // command, and the run passes (no gate needs a comparison).
  const second = await run({ QUALITY: "0.2", TALLY_BASELINE: "approved" });
  expect(second.code, second.out).toBe(0);
  expect(second.exp.baseline).toBeNull();
  const approveHint = `tally baseline approve <experiment> --dataset "${DATASET}"`;
  expect(second.exp.baselineNote).toBe(`dataset "${DATASET}" has no approved baseline to compare with; approve one with: ${approveHint}`);
  expect(second.out).toContain(`tally: "${second.exp.name}" not compared: dataset "${DATASET}" has no approved baseline`);
  expect(second.report.gates.filter((g) => !g.ok)).toEqual([]);

  const approve = await runNode([TALLY, "baseline", "approve", first.exp.name], suite.dir, {}, 60_000);
  expect(approve.code, approve.stdout + approve.stderr).toBe(0);
  expect(approve.stdout).toContain(`"${first.exp.name}" is now the approved baseline of dataset "${DATASET}"`);
  const shown = await runNode([TALLY, "baseline", "show"], suite.dir, {}, 60_000);
  expect(shown.stdout).toContain(`${DATASET}: "${first.exp.name}" (${first.exp.id}`);

  const third = await run({ QUALITY: "0.9", NEW_CASE: "1", TALLY_BASELINE: "approved" });
  expect(third.code, third.out).toBe(0);
  // The approved run, not the one just before (whose quality was 0.2).
  expect(third.exp.baseline).toMatchObject({ name: first.exp.name, id: first.exp.id, passRate: 1, scores: { quality: 1 } });
  expect(third.exp.baselineNote).toBeUndefined();
  expect(third.out).toContain(`tally: "${third.exp.name}" vs baseline "${first.exp.name}"`);
  expect(third.out).not.toContain(second.exp.name);

  // Run 1's "old" case is only in the baseline, run 3's "new" one only in this run: left out of the
  // statistics (4 paired examples), counted and named, in the JSON report and on the terminal.
  const exampleOf = (exp: typeof first.exp, name: string) => exp.tests.find((t) => t.name === `${DATASET} > case ${name}`)!.exampleId!;
  const oldId = exampleOf(first.exp, "old");
  const newId = exampleOf(third.exp, "new");
  expect(third.exp.comparison!.unmatched).toEqual({
    baselineOnly: [oldId],
    currentOnly: [newId],
    baselineOnlyCount: 1,
    currentOnlyCount: 1,
  });
  expect(third.exp.comparison!.passRate!.n).toBe(4);
  expect(third.out).toContain("tally:   not compared (examples one side ran): 1 only in the baseline, 1 only in this run");
  expect(third.out).toContain(`tally:     only in this run: "${DATASET} > case new"`);
  expect(third.out).toContain(`tally:     only in the baseline: example ${oldId}`);
});
