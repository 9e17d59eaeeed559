import { describe, expect, test } from "vitest";
import { CRASHES, FAULT_SCENARIOS, runBackendDown, runCrash, runFaultScenario, runMainKilled, runTwoAtOnce, SECRET_KEY, type Outcome, type Runner } from "../support/reliability.ts";

// A fault-injecting proxy between the collector and the project's server, on 30 % of requests:
// every run, span and feedback still arrives, once, and nothing is left in the spool.

const RUNNERS: Runner[] = ["vitest", "jest"];
const faulty = FAULT_SCENARIOS.filter((s) => s.rate > 0);

export function expectComplete(o: Outcome) {
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
      expect(output).toMatch(new RegExp(`the runs of ${down.expected} tests \\(\\d+ records\\) could not be sent yet and are kept in \\S+spool`));
      expect(output).toContain("npx tally flush");
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
