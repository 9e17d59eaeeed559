import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  reportAjv as ajv,
  validateReport,
  validateReportSchema as validate,
  validateReportSchemaV1 as validateV1,
} from "../../../../test/support/report-schema.js";
import { isTallyReport, type TallyReport, type TallyReportV2 } from "./json-report.js";

// The schemas shipped in the package (schema/report.v2.json, and v1's for older reports) against the
// TypeScript type: a report typed as TallyReportV2 validates, and reports that are broken in the ways
// a consumer would trip over do not.

function report(): TallyReportV2 {
  return {
    version: 2,
    run: {
      key: "gh-1234-1",
      startedAt: "2026-03-01T12:00:00.000Z",
      endedAt: "2026-03-01T12:03:10.512Z",
      git: { commit: "3f1c2a9d0b7e", branch: "feature/faster", dirty: false },
    },
    experiments: [
      {
        name: "ci-suite:gh-1234-1",
        id: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0001",
        url: "https://smith.langchain.com/o/t1/datasets/d1/compare?selectedSessions=0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0001",
        dataset: "ci-suite",
        delivered: { runs: 3, expected: 3, spans: 9, feedback: 7 },
        passRate: 2 / 3,
        passRateCi: [0.2077, 0.9385],
        scores: { quality: { mean: 0.7, count: 3, ci: [0.4, 0.9] }, exact: { mean: 1, count: 1, ci: [1, 1] } },
        trials: 1,
        examples: [
          { exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0101", name: "answers > case 1", trials: 1, passRate: 0, passRateCi: [0, 0.7935] },
          { exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0102", name: "answers > case 2", trials: 1, passRate: 1, passRateCi: [0.2065, 1] },
          { exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0103", name: "answers > case 3", trials: 1, passRate: 1, passRateCi: [0.2065, 1] },
          { exampleId: null, name: "answers > later", trials: 0, passRate: null, passRateCi: null },
        ],
        baseline: {
          name: "ci-suite:gh-1200-1",
          id: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0009",
          url: "https://smith.langchain.com/o/t1/datasets/d1/compare?selectedSessions=0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0009",
          passRate: 1,
          scores: { quality: 0.9 },
        },
        comparison: {
          method: { passRate: "exact McNemar (two-sided)", scores: "paired bootstrap (percentile), sign-flip permutation p" },
          alpha: 0.05,
          passRate: {
            method: "exact McNemar (two-sided)",
            n: 3,
            baseline: 1,
            current: 2 / 3,
            delta: -1 / 3,
            ci: [-1, 0],
            p: 1,
            verdict: "unchanged",
          },
          scores: {
            quality: {
              method: "paired bootstrap (percentile), sign-flip permutation p",
              n: 3,
              baseline: 0.9,
              current: 0.7,
              delta: -0.2,
              ci: [-0.6, 0],
              p: 0.5,
              verdict: "unchanged",
            },
          },
          unmatched: { baselineOnly: ["0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0104"], currentOnly: [], baselineOnlyCount: 1, currentOnlyCount: 0 },
        },
        regressions: [
          { test: "answers > case 1", file: "evals/answers.eval.ts", key: "pass", before: 1, after: 0 },
          { test: "answers > case 1", file: "evals/answers.eval.ts", key: "quality", before: 1, after: 0.4 },
        ],
        improvements: [],
        tests: [
          {
            name: "answers > case 1",
            file: "evals/answers.eval.ts",
            status: "failed",
            exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0101",
            runId: "019b7ca9-8c88-7ebb-82a9-9985cbfc8801",
            scores: { quality: 0.4 },
          },
          {
            name: "answers > case 2",
            file: "evals/answers.eval.ts",
            status: "passed",
            exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0102",
            runId: "019b7ca9-8c88-7ebb-82a9-9985cbfc8802",
            scores: { quality: 0.8, exact: 1 },
          },
          {
            name: "answers > case 3",
            file: "evals/answers.eval.ts",
            status: "passed",
            exampleId: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0103",
            runId: "019b7ca9-8c88-7ebb-82a9-9985cbfc8803",
            scores: { quality: 0.9 },
            cache: { hit: 2, miss: 0, recorded: 1 },
          },
          { name: "answers > later", file: "evals/answers.eval.ts", status: "skipped", exampleId: null, runId: null, scores: {} },
        ],
      },
      {
        name: "local-suite:gh-1234-1",
        id: null,
        url: null,
        dataset: "local-suite",
        delivered: { runs: 0, expected: 1, spans: 0, feedback: 0 },
        passRate: null,
        passRateCi: null,
        scores: {},
        trials: 0,
        examples: [{ exampleId: null, name: "todo", trials: 0, passRate: null, passRateCi: null }],
        baseline: null,
        comparison: null,
        regressions: [],
        improvements: [],
        tests: [{ name: "todo", file: "evals/b.eval.ts", status: "pending", exampleId: null, runId: null, scores: {} }],
      },
    ],
    gates: [
      { name: "passRate", ok: false, message: "pass rate 0.67 < 0.90 (ci-suite:gh-1234-1)" },
      { name: "maxRegressions", ok: false, message: "2 regressions > 0 (ci-suite:gh-1234-1)" },
    ],
  };
}

const DELETE = Symbol("delete");
type Path = Array<string | number>;

/** A copy of the report with the value at `path` replaced or deleted (which may break its type: that is the point). */
function broken(path: Path, value: unknown): unknown {
  const copy = structuredClone(report()) as unknown as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === DELETE) delete at[last];
  else at[last] = value;
  return copy;
}

/** A report of Tally before version 2: the same without what version 2 added. */
function reportV1(): TallyReport {
  const r = structuredClone(report()) as TallyReport;
  r.version = 1;
  for (const e of r.experiments) {
    delete e.passRateCi;
    delete e.trials;
    delete e.passAtK;
    delete e.passHatK;
    delete e.examples;
    delete e.comparison;
    delete e.comparisonNote;
    for (const s of Object.values(e.scores)) delete s.ci;
  }
  return r;
}

/** The first experiment of report() with trials: two examples run three times each. */
function withTrials(): TallyReportV2 {
  const r = report();
  const e = r.experiments[0]!;
  e.trials = 3;
  e.passAtK = 1;
  e.passHatK = 0.5;
  e.examples = [
    { exampleId: "ex-1", name: "answers > case 1", trials: 3, passRate: 2 / 3, passRateCi: [0.2077, 0.9385], passAtK: 1, passHatK: 0 },
    { exampleId: "ex-2", name: "answers > case 2", trials: 3, passRate: 1, passRateCi: [0.4385, 1], passAtK: 1, passHatK: 1 },
  ];
  return r;
}

describe("the JSON report, version 2", () => {
  test("a realistic report validates against the shipped schema, also through JSON", () => {
    expect(validate(report()), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(JSON.parse(JSON.stringify(report())))).toBe(true);
    expect(validate(broken(["run", "git"], null)), ajv.errorsText(validate.errors)).toBe(true);
    const plainBaseline = broken(["experiments", 0, "baseline"], { name: "b", id: "i", url: null });
    expect(validate(plainBaseline), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(withTrials()), ajv.errorsText(validate.errors)).toBe(true);
    // A merge of several shards: no comparison, and a note that says why; a report without the field.
    const merged = broken(["experiments", 0, "comparison"], null) as TallyReportV2;
    merged.experiments[0]!.comparisonNote = "not recomputed for a merge of several shards";
    expect(validate(merged), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(broken(["experiments", 0, "comparison"], DELETE)), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(broken(["experiments", 0, "comparison", "passRate"], null)), ajv.errorsText(validate.errors)).toBe(true);
  });

  test("a version 1 report still validates against the version 1 schema, not against version 2's", () => {
    expect(validateV1(reportV1()), ajv.errorsText(validateV1.errors)).toBe(true);
    expect(validateReport(reportV1())).toEqual([]);
    expect(validate(reportV1())).toBe(false);
    // A version 2 report is no version 1 report: its version, and v1's schema allows no added field.
    expect(validateV1(report())).toBe(false);
  });

  test.each([
    ["another version", ["version"], 3, "/version"],
    ["an interval of one end", ["experiments", 0, "passRateCi"], [0.2], "/experiments/0/passRateCi"],
    ["a pass rate interval beyond 1", ["experiments", 0, "passRateCi"], [0.5, 1.2], "/experiments/0/passRateCi"],
    ["a score without its interval", ["experiments", 0, "scores", "quality", "ci"], DELETE, "/experiments/0/scores/quality"],
    ["no trials", ["experiments", 0, "trials"], DELETE, "/experiments/0"],
    ["fractional trials", ["experiments", 0, "trials"], 1.5, "/experiments/0/trials"],
    ["an example without its name", ["experiments", 0, "examples", 0, "name"], DELETE, "/experiments/0/examples/0"],
    ["an example's pass@k over 1", ["experiments", 0, "examples", 0, "passAtK"], 2, "/experiments/0/examples/0/passAtK"],
    ["no run key", ["run", "key"], DELETE, "/run"],
    ["a start that is no time", ["run", "startedAt"], "yesterday", "/run/startedAt"],
    ["a pass rate over 1", ["experiments", 0, "passRate"], 1.5, "/experiments/0/passRate"],
    ["a delivered count as text", ["experiments", 0, "delivered", "runs"], "3", "/experiments/0/delivered/runs"],
    ["a score without its count", ["experiments", 0, "scores", "quality", "count"], DELETE, "/experiments/0/scores/quality"],
    ["an unknown test status", ["experiments", 0, "tests", 0, "status"], "flaky", "/experiments/0/tests/0/status"],
    ["a regression without its key", ["experiments", 0, "regressions", 0, "key"], DELETE, "/experiments/0/regressions/0"],
    ["a baseline without a name", ["experiments", 0, "baseline", "name"], DELETE, "/experiments/0/baseline"],
    ["a gate whose verdict is text", ["gates", 0, "ok"], "false", "/gates/0/ok"],
    ["a misspelt field", ["experiments", 0, "passrate"], 1, "/experiments/0"],
    ["experiments as an object", ["experiments"], {}, "/experiments"],
    ["cache counts without misses", ["experiments", 0, "tests", 2, "cache", "miss"], DELETE, "/experiments/0/tests/2/cache"],
    [
      "a verdict of another word",
      ["experiments", 0, "comparison", "passRate", "verdict"],
      "worse",
      "/experiments/0/comparison/passRate/verdict",
    ],
    [
      "a measure without its p",
      ["experiments", 0, "comparison", "scores", "quality", "p"],
      DELETE,
      "/experiments/0/comparison/scores/quality",
    ],
    ["a comparison without its alpha", ["experiments", 0, "comparison", "alpha"], DELETE, "/experiments/0/comparison"],
    [
      "unmatched ids without their count",
      ["experiments", 0, "comparison", "unmatched", "baselineOnlyCount"],
      DELETE,
      "/experiments/0/comparison/unmatched",
    ],
    [
      "a negative count of unmatched",
      ["experiments", 0, "comparison", "unmatched", "currentOnlyCount"],
      -1,
      "/experiments/0/comparison/unmatched/currentOnlyCount",
    ],
    ["a negative cache count", ["experiments", 0, "tests", 2, "cache", "hit"], -1, "/experiments/0/tests/2/cache/hit"],
  ] as Array<[string, Path, unknown, string]>)("%s fails validation, pointing at it", (_what, at, value, path) => {
    expect(validate(broken(at, value))).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain(path);
  });

  test("isTallyReport tells a report (of version 1 or 2) from other JSON", () => {
    expect(isTallyReport(report())).toBe(true);
    expect(isTallyReport(reportV1())).toBe(true);
    expect(isTallyReport(JSON.parse(JSON.stringify(report())))).toBe(true);
    for (const other of [
      null,
      [],
      "report",
      { version: 1 },
      { testResults: [], numFailedTests: 0 }, // a Jest JSON report
      broken(["version"], 3),
      broken(["run"], DELETE),
      broken(["run", "key"], 7),
      broken(["gates"], DELETE),
      broken(["experiments"], [{ name: "x" }]),
      broken(["experiments", 1, "tests"], DELETE),
    ]) {
      expect(isTallyReport(other), JSON.stringify(other)?.slice(0, 60)).toBe(false);
    }
  });

  test("the package exports the schema files, version 1's still", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      exports: Record<string, unknown>;
      files: string[];
    };
    expect(pkg.files).toContain("schema");
    for (const v of [1, 2]) {
      expect(pkg.exports[`./schema/report.v${v}.json`]).toBe(`./schema/report.v${v}.json`);
      const schema = JSON.parse(readFileSync(new URL(`../../schema/report.v${v}.json`, import.meta.url), "utf8")) as {
        $schema: string;
        properties: { version: { const: number } };
      };
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(schema.properties.version.const).toBe(v);
    }
  });
});
