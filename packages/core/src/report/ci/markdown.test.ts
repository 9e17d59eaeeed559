import { describe, expect, test } from "vitest";
import type {
  ReportChange,
  ReportComparison,
  ReportExperiment,
  ReportGate,
  ReportMeasure,
  ReportTest,
  TallyReportV1,
} from "../json-report.js";
import { jobSummaryMarkdown, workflowCommands } from "./markdown.js";

// The job summary and the workflow commands are rendered from the JSON report alone: fixtures are
// reports, built with the helpers below.

const FILE = "evals/answers.eval.ts";

const tst = (name: string, status: ReportTest["status"], more: Partial<ReportTest> = {}): ReportTest => ({
  name,
  file: FILE,
  status,
  exampleId: `ex-${name}`,
  runId: `run-${name}`,
  scores: {},
  ...more,
});

const change = (test: string, key: string, before: number, after: number, file = FILE): ReportChange => ({
  test,
  file,
  key,
  before,
  after,
});

function experiment(more: Partial<ReportExperiment> = {}): ReportExperiment {
  return {
    name: "ci-suite:gh-1234-1",
    id: "exp-1",
    url: "https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-1",
    dataset: "ci-suite",
    delivered: { runs: 3, expected: 3, spans: 9, feedback: 7 },
    passRate: 2 / 3,
    scores: { quality: { mean: 0.7, count: 3 }, exact: { mean: 1, count: 1 } },
    baseline: {
      name: "ci-suite:gh-1200-1",
      id: "exp-0",
      url: "https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-0",
      passRate: 1,
      scores: { quality: 0.9 },
    },
    regressions: [change("answers > case 1", "pass", 1, 0), change("answers > case 1", "quality", 1, 0.4)],
    improvements: [],
    tests: [
      tst("answers > case 1", "failed", { scores: { quality: 0.4 } }),
      tst("answers > case 2", "passed", { scores: { quality: 0.8, exact: 1 } }),
      tst("answers > case 3", "passed", { scores: { quality: 0.9 } }),
    ],
    ...more,
  };
}

function report(experiments: ReportExperiment[], gates: ReportGate[] = []): TallyReportV1 {
  return {
    version: 2,
    run: { key: "gh-1234-1", startedAt: "2026-03-01T12:00:00.000Z", endedAt: "2026-03-01T12:03:10.512Z", git: null },
    experiments,
    gates,
  };
}

/** The Markdown table rows (lines starting with `|`) of a rendered summary. */
const rows = (md: string) => md.split("\n").filter((l) => l.startsWith("|"));

/** A table row's cells, split on the `|` not escaped with a backslash. */
const cellsOf = (row: string) =>
  row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());

describe("jobSummaryMarkdown", () => {
  test("a heading, then the experiment linked to its URL, with what was delivered and the baseline linked", () => {
    const md = jobSummaryMarkdown(report([experiment()]));
    const lines = md.split("\n");
    expect(lines[0]).toBe("## Tally");
    expect(lines).toContain("### [ci-suite:gh-1234-1](https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-1)");
    expect(lines).toContain(
      "Dataset `ci-suite` · delivered **3/3** runs · 9 spans · 7 feedback · compared with " +
        "[ci-suite:gh-1200-1](https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-0)",
    );
    expect(md.endsWith("\n")).toBe(true);
  });

  test("an experiment without a URL is named in code; a partial delivery reads N/M", () => {
    const md = jobSummaryMarkdown(report([experiment({ url: null, delivered: { runs: 2, expected: 5, spans: 1, feedback: 0 } })]));
    expect(md).toContain("### `ci-suite:gh-1234-1`\n");
    expect(md).toContain("delivered **2/5** runs · 1 spans · 0 feedback");
    expect(md).not.toContain("](null)");
  });

  test("the measures table: pass rate, then each key in order with its mean and count", () => {
    const md = jobSummaryMarkdown(report([experiment({ baseline: null })]));
    const i = md.indexOf("| measure | mean | n |");
    expect(i).toBeGreaterThan(-1);
    expect(md.slice(i).split("\n").slice(0, 5)).toEqual([
      "| measure | mean | n |",
      "| --- | --- | --- |",
      "| pass rate | 0.667 | 3 |",
      "| exact | 1 | 1 |",
      "| quality | 0.700 | 3 |",
    ]);
  });

  test("with a baseline, the measures table has its means and the Δ; a key it lacks gets dashes", () => {
    const md = jobSummaryMarkdown(
      report([experiment({ baseline: { name: "base", id: "exp-0", url: null, passRate: 1, scores: { quality: 0.9 } } })]),
    );
    const i = md.indexOf("| measure | mean | baseline | Δ | n |");
    expect(i).toBeGreaterThan(-1);
    expect(md.slice(i).split("\n").slice(0, 5)).toEqual([
      "| measure | mean | baseline | Δ | n |",
      "| --- | --- | --- | --- | --- |",
      "| pass rate | 0.667 | 1 | −0.333 | 3 |",
      "| exact | 1 | — | — | 1 |",
      "| quality | 0.700 | 0.900 | −0.200 | 3 |",
    ]);
  });

  test("a version 2 report: each mean with its 95 % interval, and with trials a line of pass@k and pass^k", () => {
    const spread: Partial<ReportExperiment> = {
      passRateCi: [0.2077, 0.9385],
      scores: { quality: { mean: 0.7, count: 3, ci: [0.4, 0.9] }, exact: { mean: 1, count: 1, ci: [1, 1] } },
      trials: 3,
      passAtK: 0.95,
      passHatK: 0.61,
    };
    const md = jobSummaryMarkdown(report([experiment({ ...spread, baseline: null })]));
    const i = md.indexOf("| measure | mean | n |");
    expect(md.slice(i).split("\n").slice(0, 7)).toEqual([
      "| measure | mean | n |",
      "| --- | --- | --- |",
      "| pass rate | 0.667 [0.208, 0.939] | 3 |",
      "| exact | 1 [1, 1] | 1 |",
      "| quality | 0.700 [0.400, 0.900] | 3 |",
      "",
      "[low, high]: 95 % intervals (Wilson for the pass rate, a bootstrap over examples for scores). Trials per example: 3 · pass@3 0.950 · pass^3 0.610.",
    ]);
    // With a baseline too; one trial: no pass@k; no pass rate: no interval.
    const based = jobSummaryMarkdown(report([experiment({ ...spread, trials: 1, passAtK: undefined, passHatK: undefined })]));
    expect(based).toContain("| pass rate | 0.667 [0.208, 0.939] | 1 | −0.333 | 3 |");
    expect(based).toContain("| quality | 0.700 [0.400, 0.900] | 0.900 | −0.200 | 3 |");
    expect(based).not.toContain("pass@");
    const none = jobSummaryMarkdown(report([experiment({ passRate: null, passRateCi: null, scores: {}, trials: 0, baseline: null })]));
    expect(none).toContain("| pass rate | — | 3 |");
  });

  test("a version 1 report (no intervals): the means alone, no note", () => {
    const md = jobSummaryMarkdown({ ...report([experiment({ baseline: null })]), version: 1 });
    expect(md).toContain("| quality | 0.700 | 3 |");
    expect(md).not.toContain("95 %");
  });

  test("a pass rate of no test is a dash", () => {
    const md = jobSummaryMarkdown(
      report([
        experiment({ passRate: null, scores: {}, baseline: null, tests: [tst("todo", "pending", { runId: null, exampleId: null })] }),
      ]),
    );
    expect(md).toContain("| pass rate | — | 0 |");
  });

  test("the pass rate's n counts the tests it is a rate of (passed and failed), not the skipped ones", () => {
    const tests = [tst("a", "passed"), tst("b", "failed"), tst("c", "skipped", { runId: null }), tst("d", "pending", { runId: null })];
    const md = jobSummaryMarkdown(report([experiment({ passRate: 0.5, scores: {}, tests, baseline: null })]));
    expect(md).toContain("| pass rate | 0.500 | 2 |");
  });

  test("the regressions table: test, file, key, before, after and a signed Δ", () => {
    const md = jobSummaryMarkdown(
      report([
        experiment({
          regressions: [
            change("answers > case 1", "pass", 1, 0),
            change("answers > case 1", "quality", 1, 0.4),
            change("x", "tone", 0.5, 0.45),
          ],
        }),
      ]),
    );
    expect(md).toContain("**Regressions (3)**");
    const i = md.indexOf("| test | file | key | before | after | Δ |");
    expect(i).toBeGreaterThan(-1);
    expect(md.slice(i).split("\n").slice(0, 5)).toEqual([
      "| test | file | key | before | after | Δ |",
      "| --- | --- | --- | --- | --- | --- |",
      `| answers > case 1 | ${FILE} | pass | 1 | 0 | −1 |`,
      `| answers > case 1 | ${FILE} | quality | 1 | 0.400 | −0.600 |`,
      `| x | ${FILE} | tone | 0.500 | 0.450 | −0.050 |`,
    ]);
    expect(md).not.toContain("No regressions.");
  });

  test("a baseline without regressions says so; improvements are counted", () => {
    const md = jobSummaryMarkdown(
      report([experiment({ regressions: [], improvements: [change("a", "quality", 0.5, 0.9), change("b", "pass", 0, 1)] })]),
    );
    expect(md).toContain("No regressions.");
    expect(md).toContain("Improvements: 2.");
    expect(md).not.toContain("**Regressions");
  });

  test("more than 50 regressions: the first 50 rows, then how many more", () => {
    const regressions = Array.from({ length: 53 }, (_, i) => change(`case ${i}`, "quality", 1, 0.5));
    const md = jobSummaryMarkdown(report([experiment({ regressions })]));
    expect(md).toContain("**Regressions (53)**");
    const regressionRows = rows(md).filter((r) => r.startsWith("| case "));
    expect(regressionRows).toHaveLength(50);
    expect(regressionRows[0]).toContain("| case 0 |");
    expect(regressionRows.at(-1)).toContain("| case 49 |");
    expect(md).not.toContain("| case 50 |");
    expect(md).toContain("… and 3 more (see the JSON report).");
  });

  test("exactly 50 regressions are all listed, without a remainder line", () => {
    const regressions = Array.from({ length: 50 }, (_, i) => change(`case ${i}`, "quality", 1, 0.5));
    const md = jobSummaryMarkdown(report([experiment({ regressions })]));
    expect(rows(md).filter((r) => r.startsWith("| case "))).toHaveLength(50);
    expect(md).not.toContain("more (see the JSON report)");
  });

  test("failed tests are listed with their file; passed ones are not", () => {
    const md = jobSummaryMarkdown(
      report([
        experiment({
          tests: [
            tst("answers > case 1", "failed"),
            tst("answers > case 2", "passed"),
            tst("tone > rude", "failed", { file: "evals/tone.eval.ts" }),
          ],
        }),
      ]),
    );
    expect(md).toContain(`**Failed (2)**\n\n- ${FILE} › answers > case 1\n- evals/tone.eval.ts › tone > rude\n`);
    expect(md).not.toContain("› answers > case 2");
  });

  test("no failed tests, no failed section", () => {
    const md = jobSummaryMarkdown(report([experiment({ tests: [tst("a", "passed"), tst("b", "skipped")] })]));
    expect(md).not.toContain("**Failed");
  });

  test("the gates, passing ✅ and failing ❌, with their messages", () => {
    const md = jobSummaryMarkdown(
      report(
        [experiment()],
        [
          { name: "passRate", ok: false, message: "pass rate 0.67 < 0.90 (ci-suite:gh-1234-1)" },
          { name: "scores.quality", ok: true, message: "mean quality 0.7 ≥ 0.5 (ci-suite:gh-1234-1)" },
        ],
      ),
    );
    expect(md).toContain(
      "### Gates\n\n- ❌ pass rate 0.67 &lt; 0.90 (ci-suite:gh-1234-1)\n- ✅ mean quality 0.7 ≥ 0.5 (ci-suite:gh-1234-1)\n",
    );
  });

  test("no gates, no gates section", () => {
    expect(jobSummaryMarkdown(report([experiment()]))).not.toContain("### Gates");
  });

  test("the noise-aware comparison: a table of its measures with the terminal's columns, and the unmatched counted", () => {
    const m = (
      baseline: number,
      current: number,
      ci: [number, number],
      p: number,
      verdict: ReportMeasure["verdict"],
      method: string,
    ): ReportMeasure => ({
      method,
      n: 12,
      baseline,
      current,
      delta: current - baseline,
      ci,
      p,
      verdict,
    });
    const comparison: ReportComparison = {
      method: { passRate: "exact McNemar (two-sided)", scores: "paired bootstrap (percentile), sign-flip permutation p" },
      alpha: 0.05,
      passRate: m(1, 2 / 3, [-0.58, -0.08], 0.031, "regressed", "exact McNemar (two-sided)"),
      scores: { quality: m(0.9, 0.95, [-0.01, 0.1], 0.2, "unchanged", "paired bootstrap (percentile), sign-flip permutation p") },
      unmatched: { baselineOnly: ["ex-9"], currentOnly: [], baselineOnlyCount: 1, currentOnlyCount: 0 },
    };
    const md = jobSummaryMarkdown(report([experiment({ baseline: { name: "base", id: "exp-0", url: null }, comparison })]));
    const i = md.indexOf("| measure | baseline | current | Δ | 95 % interval | p | verdict | method | n |");
    expect(i).toBeGreaterThan(-1);
    expect(md.slice(i).split("\n").slice(0, 6)).toEqual([
      "| measure | baseline | current | Δ | 95 % interval | p | verdict | method | n |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      "| pass rate | 1 | 0.667 | −0.333 | [−0.580, −0.080] | 0.031 | 🔴 regressed | exact McNemar | 12 |",
      "| quality | 0.900 | 0.950 | +0.050 | [−0.010, 0.100] | 0.200 | unchanged | paired bootstrap | 12 |",
      "",
      "Paired over the examples both experiments ran; a verdict needs p < 0.05 and an interval that excludes 0. Examples not compared (run by one side only): baseline 1, this run 0.",
    ]);
    const merged = jobSummaryMarkdown(
      report([experiment({ baseline: { name: "base", id: "exp-0", url: null }, comparison: null, comparisonNote: "not recomputed" })]),
    );
    expect(merged).not.toContain("| verdict |");
    expect(merged).toContain("No paired comparison: not recomputed.");
  });

  test("without a baseline: 'no baseline', and neither a regressions table nor 'No regressions.'", () => {
    const md = jobSummaryMarkdown(report([experiment({ baseline: null, regressions: [], improvements: [] })]));
    expect(md).toContain("delivered **3/3** runs · 9 spans · 7 feedback · no baseline\n");
    expect(md).not.toContain("compared with");
    expect(md).not.toContain("No regressions.");
    expect(md).not.toContain("| test | file | key |");
  });

  test("one section per experiment, in the report's order", () => {
    const md = jobSummaryMarkdown(
      report([experiment(), experiment({ name: "local-suite:gh-1234-1", url: null, dataset: "local-suite", baseline: null })]),
    );
    const first = md.indexOf("### [ci-suite:gh-1234-1]");
    const second = md.indexOf("### `local-suite:gh-1234-1`");
    expect(first).toBeGreaterThan(-1);
    expect(second).toBeGreaterThan(first);
    expect(md.match(/\| measure \| mean \| (baseline \| Δ \| )?n \|/g)).toHaveLength(2);
  });

  test("a `|`, a newline or a `<` in a cell cannot break its table row", () => {
    const md = jobSummaryMarkdown(
      report([
        experiment({
          scores: { "a|b": { mean: 0.5, count: 1 } },
          regressions: [change("says <b>hi</b> | bye\nthen more", "tone|x", 1, 0.5, "evals/a|b.eval.ts")],
        }),
      ]),
    );
    const regression = rows(md).find((r) => r.includes("says"))!;
    expect(regression).toBe("| says &lt;b>hi&lt;/b> \\| bye then more | evals/a\\|b.eval.ts | tone\\|x | 1 | 0.500 | −0.500 |");
    expect(cellsOf(regression)).toHaveLength(6);
    expect(cellsOf(rows(md).find((r) => r.includes("a\\|b"))!)).toEqual(["a\\|b", "0.500", "—", "—", "1"]);
    expect(md).not.toContain("<b>");
  });

  test("a CRLF in a cell is one space; a backslash before a `|` cannot unescape it", () => {
    const md = jobSummaryMarkdown(report([experiment({ regressions: [change("one\r\ntwo \\| three", "q", 1, 0)] })]));
    const regression = rows(md).find((r) => r.includes("one"))!;
    expect(regression).toBe(`| one two \\\\\\| three | ${FILE} | q | 1 | 0 | −1 |`);
    expect(cellsOf(regression)).toHaveLength(6);
  });

  test("a lone CR in a cell (a line ending in Markdown too) cannot break its table row", () => {
    const md = jobSummaryMarkdown(report([experiment({ regressions: [change("one\rtwo", "q", 1, 0)] })]));
    expect(md).not.toContain("\r");
    expect(rows(md).find((r) => r.includes("one"))).toBe(`| one two | ${FILE} | q | 1 | 0 | −1 |`);
  });

  test("the failed list and the gates escape their text too", () => {
    const md = jobSummaryMarkdown(
      report(
        [experiment({ tests: [tst("multi\nline <x>", "failed")] })],
        [{ name: "passRate", ok: false, message: "pass rate <0.5\nbad" }],
      ),
    );
    expect(md).toContain(`- ${FILE} › multi line &lt;x>\n`);
    expect(md).toContain("- ❌ pass rate &lt;0.5 bad\n");
  });
});

describe("workflowCommands", () => {
  test("one notice per experiment (name and URL), errors for failing gates only, a warning per regression with its file", () => {
    const r = report(
      [
        experiment({ regressions: [change("answers > case 1", "pass", 1, 0), change("answers > case 1", "quality", 1, 0.4)] }),
        experiment({ name: "local-suite:gh-1234-1", url: null, baseline: null, regressions: [] }),
      ],
      [
        { name: "passRate", ok: false, message: "pass rate 0.67 < 0.90 (ci-suite:gh-1234-1)" },
        { name: "scores.quality", ok: true, message: "mean quality 0.7 ≥ 0.5 (ci-suite:gh-1234-1)" },
        { name: "maxRegressions", ok: false, message: "2 regressions > 0 (ci-suite:gh-1234-1)" },
      ],
    );
    expect(workflowCommands(r)).toEqual([
      "::notice title=Tally experiment::ci-suite:gh-1234-1 https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-1",
      "::notice title=Tally experiment::local-suite:gh-1234-1",
      "::error title=Tally gate::pass rate 0.67 < 0.90 (ci-suite:gh-1234-1)",
      "::error title=Tally gate::2 regressions > 0 (ci-suite:gh-1234-1)",
      `::warning file=${FILE},title=Tally regression::answers > case 1: pass 1 → 0 (ci-suite:gh-1234-1)`,
      `::warning file=${FILE},title=Tally regression::answers > case 1: quality 1 → 0.400 (ci-suite:gh-1234-1)`,
    ]);
  });

  test("all gates passing: no error", () => {
    const r = report([experiment({ regressions: [] })], [{ name: "passRate", ok: true, message: "pass rate 1.00 ≥ 0.90 (x)" }]);
    const commands = workflowCommands(r);
    expect(commands.filter((c) => c.startsWith("::error"))).toEqual([]);
    expect(commands).toHaveLength(1);
  });

  test("a regression with its test's line points the annotation at that line", () => {
    const commands = workflowCommands(report([experiment({ regressions: [{ ...change("a", "pass", 1, 0), line: 12 }] })]));
    expect(commands.at(-1)).toMatch(/^::warning file=[^,]+,line=12,title=Tally regression::a: pass 1 → 0/);
  });

  test("a regression without a file has no file property", () => {
    const commands = workflowCommands(report([experiment({ regressions: [change("gone", "pass", 1, 0, "")] })]));
    expect(commands.at(-1)).toBe("::warning title=Tally regression::gone: pass 1 → 0 (ci-suite:gh-1234-1)");
  });

  test("%, CR and LF are escaped in the message; : and , too in properties", () => {
    const r = report(
      [
        experiment({
          name: "50% run\r\nnext",
          url: null,
          regressions: [change("100% sure\nreally", "pass", 1, 0, "C:\\evals\\a,b.eval.ts")],
        }),
      ],
      [{ name: "passRate", ok: false, message: "pass rate 50%\nlow" }],
    );
    const commands = workflowCommands(r);
    expect(commands).toEqual([
      "::notice title=Tally experiment::50%25 run%0D%0Anext",
      "::error title=Tally gate::pass rate 50%25%0Alow",
      "::warning file=C%3A\\evals\\a%2Cb.eval.ts,title=Tally regression::100%25 sure%0Areally: pass 1 → 0 (50%25 run%0D%0Anext)",
    ]);
    for (const c of commands) expect(c).not.toMatch(/[\r\n]/);
  });

  test("a literal %0A in the data stays a literal (the % is escaped first)", () => {
    const [notice] = workflowCommands(report([experiment({ name: "a%0Ab", url: null, regressions: [] })]));
    expect(notice).toBe("::notice title=Tally experiment::a%250Ab");
  });

  test("no experiments and no gates: no commands", () => {
    expect(workflowCommands(report([]))).toEqual([]);
  });
});

describe("jobSummaryMarkdown: each test's own verdict over its trials", () => {
  const comparison: ReportComparison = {
    method: { passRate: "paired permutation test", scores: "paired bootstrap (percentile), sign-flip permutation p" },
    alpha: 0.05,
    passRate: null,
    scores: {},
    unmatched: { baselineOnly: [], currentOnly: [], baselineOnlyCount: 0, currentOnlyCount: 0 },
    testsCompared: 40,
    tests: [
      {
        exampleId: "ex-3",
        name: "refunds | partial",
        trials: 10,
        baselineTrials: 8,
        verdict: "regressed",
        passRate: null,
        scores: {
          quality: {
            method: "Welch's t-test",
            baseline: 0.9,
            current: 0.5,
            delta: -0.4,
            ci: [-0.55, -0.25],
            p: 0.0002,
            pAdjusted: 0.008,
            verdict: "regressed",
          },
        },
      },
    ],
  };

  test("a table of the tests that changed, one row per changed measure, with the adjustment named", () => {
    const md = jobSummaryMarkdown(report([experiment({ baseline: { name: "base", id: "exp-0", url: null }, comparison })]));
    expect(md).toContain("**Tests changed beyond noise (1 of 40)**");
    expect(md).toContain(
      "| refunds \\| partial | quality | 0.900 | 0.500 | −0.400 | [−0.550, −0.250] | < 0.001 (0.008) | 🔴 regressed | 10 vs 8 |",
    );
    expect(md).toContain("p adjusted for the 40 tests compared (Benjamini–Hochberg)");
  });

  test("none changed: one sentence", () => {
    const md = jobSummaryMarkdown(
      report([experiment({ baseline: { name: "base", id: "exp-0", url: null }, comparison: { ...comparison, tests: [] } })]),
    );
    expect(md).toContain("p adjusted for the 40 tests compared (Benjamini–Hochberg). None changed beyond noise.");
    expect(md).not.toContain("Tests changed beyond noise");
  });
});
