import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { openLocalStore } from "../support/checks.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import type { Run } from "../support/reads.ts";
import {
  filesContaining,
  runSuite,
  spooledRunLines,
  STALL,
  startBackendServer,
  suiteDir,
  tallyFlush,
  type Reads,
  type Runner,
} from "../support/reliability.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// LANGSMITH_HIDE_INPUTS / LANGSMITH_HIDE_OUTPUTS, and a Client's own `hideOutputs` function, are
// applied by the SDK in the worker, before anything reaches the collector: what they hide is in no
// spool record, local store or backend run. Examples keep their inputs and reference outputs, as
// with the official integration (the SDK hides run data, not the dataset the tests describe).

const RUNNERS: Runner[] = ["vitest", "jest"];
const HIDE = { LANGSMITH_HIDE_INPUTS: "true", LANGSMITH_HIDE_OUTPUTS: "true" };
const TESTS = 3;

// `audit` is a trace of its own (children take their parent's client) through the user's own
// Client, whose hide function redacts instead of emptying.
const BODY = `import { traceable, ROOT } from "langsmith/traceable";
import { Client } from "langsmith";
const own = new Client({ hideOutputs: () => ({ redacted: true }) });
const audit = traceable(async (q) => "FN-SECRET " + q, { name: "audit", client: own, project_name: "hidden-audit" });
const lookup = traceable(async (q) => "LOOKED-UP " + q, { name: "lookup" });
const answer = traceable(async (q) => "OUT-SECRET " + (await lookup(q)), { name: "answer" });
ls.describe("hidden-data", () => {
  for (let i = 0; i < ${TESTS}; i++) {
    ls.test("case " + i, { inputs: { secret: "IN-SECRET " + i }, referenceOutputs: { a: "REF " + i } }, async ({ inputs }) => {
      await audit(ROOT, inputs.secret);
      const a = await answer(inputs.secret);
      ls.logFeedback({ key: "ok", score: 1 });
      return { a };
    });
  }
});`;

function hiddenSuite(runner: Runner, mode: string) {
  const suite = generateSuite(suiteDir(`hidden-${mode}`, runner), {
    flavour: "tally",
    runner,
    files: 1,
    tests: 1,
    dataset: "hidden-other",
  });
  writeTallyTestFile(suite, runner, "hidden", BODY);
  return suite;
}

/** Every run of the "hidden-data" experiment and of the audit project, and the dataset's examples. */
async function hiddenData(backend: Reads) {
  const [ds] = await backend.datasets("hidden-data");
  expect(ds, "the dataset was created").toBeDefined();
  const [experiment] = await backend.experimentsOf(ds!.id);
  const runs: Run[] = experiment ? await backend.runsOf(experiment.id) : [];
  const auditProject = await backend.sessionByName("hidden-audit");
  const audits: Run[] = auditProject ? await backend.runsOf(auditProject.id) : [];
  const examples = (await backend.examplesOf(ds!.id)) as Array<{ id: string; inputs: unknown; outputs: unknown }>;
  return { runs, audits, examples };
}

function expectHidden({ runs, audits, examples }: Awaited<ReturnType<typeof hiddenData>>) {
  const roots = runs.filter((r) => !r.parent_run_id);
  expect(roots).toHaveLength(TESTS);
  expect(runs).toHaveLength(TESTS * 3); // the test, answer, lookup
  const text = JSON.stringify([...runs, ...audits]);
  for (const secret of ["IN-SECRET", "OUT-SECRET", "FN-SECRET", "LOOKED-UP"]) expect(text, `${secret} in a run`).not.toContain(secret);
  for (const r of [...runs, ...audits]) expect(r.inputs ?? {}, r.name).toEqual({});
  expect(audits.map((r) => r.outputs)).toEqual(Array(TESTS).fill({ redacted: true }));
  // The dataset is the tests' own content: kept, and every run still points at its example.
  expect(examples.map((e) => e.inputs).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
    Array.from({ length: TESTS }, (_, i) => ({ secret: `IN-SECRET ${i}` })),
  );
  expect(examples.map((e) => e.outputs)).toContainEqual({ a: "REF 0" });
  const ids = new Set(examples.map((e) => e.id));
  expect(roots.every((r) => r.reference_example_id && ids.has(r.reference_example_id))).toBe(true);
}

describe.each(RUNNERS)("%s with LANGSMITH_HIDE_INPUTS/OUTPUTS", (runner) => {
  test("hidden values are in no spool record and no backend run; `tally flush` sends the rest", async () => {
    const backend = await startBackendServer();
    const proxy = await startFaultProxy({ target: backend.url, faults: [], rate: 0, down: true });
    try {
      const suite = hiddenSuite(runner, "spool");
      const r = await runSuite(runner, suite, proxy.url, { ...HIDE, ...STALL });
      const out = r.stdout + r.stderr;
      expect(out).toContain("npx tally flush");
      // Run records only: the test registrations and examples are the dataset.
      const spooled = spooledRunLines(suite.dir).join("\n");
      expect(spooled, "the runs wait in the spool").toContain('"name":"audit"');
      for (const secret of ["IN-SECRET", "OUT-SECRET", "FN-SECRET", "LOOKED-UP"])
        expect(spooled, `${secret} in a spooled run`).not.toContain(secret);
      // Outputs are nowhere at all under .tally/, inputs only in the dataset's examples.
      expect(filesContaining(join(suite.dir, ".tally"), "OUT-SECRET")).toEqual([]);
      expect(filesContaining(join(suite.dir, ".tally"), "FN-SECRET")).toEqual([]);
      expect(out).not.toMatch(/(IN|OUT|FN)-SECRET|LOOKED-UP/);

      proxy.setDown(false);
      const flushed = await tallyFlush(suite.dir, proxy.url);
      expect(flushed.code, flushed.stdout + flushed.stderr).toBe(0);
      expectHidden(await hiddenData(backend));
    } finally {
      await proxy.close();
      await backend.close();
    }
  });

  test("hidden values are in no run of the local store", async () => {
    const suite = hiddenSuite(runner, "local");
    const r = await runSuite(runner, suite, undefined, HIDE);
    expect(r.code, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    expect(r.stdout + r.stderr).toContain(`${TESTS}/${TESTS} runs`);
    const store = await openLocalStore(suite.dir);
    try {
      expectHidden(await hiddenData(store));
    } finally {
      await store.close();
    }
  });
});
