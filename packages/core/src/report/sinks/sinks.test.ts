import { describe, expect, it } from "vitest";
import type { ExperimentSummary, ReportedTest, RunSummary } from "../reconcile.js";
import type { RunEnd } from "../run-end.js";
import { junitPropertySink, runSinks, SINKS, terminalSink, type RunSink } from "./index.js";

const t = (name: string): ReportedTest => ({
  name,
  file: "a.test.ts",
  state: "passed",
  runId: name,
  dataset: "qa",
  experimentName: "qa:1",
});
const experiment = (name: string, tests: ReportedTest[], url?: string): ExperimentSummary => ({
  dataset: "qa",
  name,
  url,
  tests,
  expected: tests.length,
  delivered: tests.length,
  spans: 0,
  feedback: 0,
  missing: [],
});
const summary = (experiments: ExperimentSummary[]): RunSummary => ({
  experiments,
  otherRuns: { delivered: 0, received: 0, byProject: {} },
  waiting: 0,
  waitingTests: 0,
  problems: [],
});

function endOf(s: RunSummary, over: Partial<RunEnd> = {}) {
  const properties: Array<[string, string, string]> = [];
  const end: RunEnd = {
    summary: s,
    where: { local: false, backend: "https://api.example" },
    tables: true,
    setTestProperty: (test, name, value) => void properties.push([test.name, name, value]),
    env: {},
    ...over,
  };
  return { end, properties };
}

function terminal() {
  const lines: string[] = [];
  return { lines, terminal: { log: (l: string) => void lines.push(l), color: false } };
}

describe("the sinks", () => {
  it("junit: the experiment URL as the langsmith property on each of its tests, none without a URL", async () => {
    const a = t("a");
    const b = t("b");
    const { end, properties } = endOf(summary([experiment("qa:1", [a], "https://x/qa-1"), experiment("qa:2", [b])]));
    await runSinks([junitPropertySink], end, terminal().terminal);
    expect(properties).toEqual([["a", "langsmith", "https://x/qa-1"]]);
  });

  it("terminal: the report and the run-end lines, with the tables only when asked", async () => {
    const s = summary([experiment("qa:1", [t("qa > one")])]);
    const spooled = { local: false, backend: "b", spoolDir: "/p/.tally/spool/x" };
    const withTables = terminal();
    await runSinks([terminalSink], endOf(s, { where: spooled }).end, withTables.terminal);
    expect(withTables.lines.join("\n")).toMatch(/one\s+✓ pass/);
    expect(withTables.lines).toContain('tally: 1/1 runs · 0 spans · 0 feedback delivered to "qa:1"');
    expect(withTables.lines.at(-2)).toContain("kept in the spool — run `npx tally flush`");
    expect(withTables.lines.at(-1)).toContain("spool: /p/.tally/spool/x");

    const without = terminal();
    await runSinks([terminalSink], endOf(s, { tables: false }).end, without.terminal);
    expect(without.lines).toEqual(["", 'tally: 1/1 runs · 0 spans · 0 feedback delivered to "qa:1"']);
  });

  it("the default list links JUnit before it prints", async () => {
    const order: string[] = [];
    const { end } = endOf(summary([experiment("qa:1", [t("a")], "https://x")]), { setTestProperty: () => void order.push("property") });
    await runSinks(SINKS, end, { log: () => void order.push("line"), color: false });
    expect(order[0]).toBe("property");
    expect(order).toContain("line");
  });
});

describe("runSinks", () => {
  it("runs the sinks in order and gives the highest exit code any asked for", async () => {
    const seen: string[] = [];
    const sink =
      (name: string, exitCode?: number): RunSink =>
      async () => {
        seen.push(name);
        return exitCode === undefined ? undefined : { exitCode };
      };
    const { end } = endOf(summary([]));
    expect(await runSinks([sink("a", 2), sink("b"), sink("c", 1)], end, terminal().terminal)).toEqual({ exitCode: 2 });
    expect(seen).toEqual(["a", "b", "c"]);
    expect(await runSinks([sink("d")], end, terminal().terminal)).toEqual({});
  });

  it("names a sink that throws and still runs the others", async () => {
    const out = terminal();
    const broken: RunSink = function githubSummary() {
      throw new Error("EACCES: summary file");
    };
    let ran = false;
    await runSinks([broken, () => void (ran = true)], endOf(summary([])).end, out.terminal);
    expect(out.lines).toEqual(["tally: githubSummary failed: EACCES: summary file"]);
    expect(ran).toBe(true);
  });

  it("runs synchronous sinks without yielding (their lines keep their place among other reporters')", () => {
    const out = terminal();
    void runSinks([terminalSink], endOf(summary([experiment("qa:1", [t("a")])])).end, out.terminal);
    expect(out.lines).toContain('tally: 1/1 runs · 0 spans · 0 feedback delivered to "qa:1"');
  });
});
