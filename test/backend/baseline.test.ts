import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { RestBackend } from "../../packages/core/src/backend/langsmith/rest-backend.js";
import type { Backend } from "../../packages/core/src/backend/port.js";
import { resolveBaseline } from "../../packages/core/src/compare/baseline.js";
import { compareOutcomes } from "../../packages/core/src/compare/diff.js";
import { outcomesOf } from "../../packages/core/src/compare/outcomes.js";
import { uuid7 } from "../../packages/core/src/wire/ids.js";
import type { FeedbackRecord, RunOp } from "../../packages/core/src/wire/types.js";
import { openLocalBackend, startServer } from "../../packages/store/src/index.js";

// Baselines through the Backend port against both adapters: the REST one (LangSmith's API, here the
// project's own server over HTTP) and the embedded store in-process. Two finished experiments and a
// current one are recorded as a run records them; then the baseline is resolved every way and the
// current experiment, read back, is compared with it.

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-baseline-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Adapter {
  backend: Backend;
  close(): Promise<void>;
}

const adapters: Array<[string, () => Promise<Adapter>]> = [
  [
    "LangSmith REST adapter on the project's server",
    async () => {
      const server = await startServer({ dbPath: join(tempDir(), "backend.db") });
      const backend = new RestBackend({ apiUrl: server.url, apiKey: "k" });
      return {
        backend,
        close: async () => {
          await backend.close();
          await server.close();
        },
      };
    },
  ],
  [
    "embedded store in-process",
    async () => {
      const backend = await openLocalBackend(tempDir());
      return { backend, close: () => backend.close() };
    },
  ],
];

/** One test's run as a worker records it: a root run on the example, a child span, and its feedback. */
interface TestRun {
  example: string;
  name: string;
  passed: boolean;
  scores: Record<string, number>;
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const stampOf = (at: Date) => at.toISOString().replace(/[-:.]/g, "").slice(0, 22);

async function record(b: Backend, exp: { id: string; name: string }, at: Date, tests: TestRun[]): Promise<void> {
  const ops: RunOp[] = [];
  const feedback: FeedbackRecord[] = [];
  for (const t of tests) {
    const id = uuid7();
    const childId = uuid7();
    const dotted = `${stampOf(at)}Z${id}`;
    const end = new Date(at.getTime() + 1000).toISOString();
    ops.push(
      {
        kind: "create",
        run: {
          id,
          trace_id: id,
          dotted_order: dotted,
          name: t.name,
          run_type: "chain",
          start_time: at.toISOString(),
          session_name: exp.name,
          reference_example_id: t.example,
          inputs: { q: t.name },
        },
      },
      {
        kind: "create",
        run: {
          id: childId,
          trace_id: id,
          parent_run_id: id,
          dotted_order: `${dotted}.${stampOf(at)}Z${childId}`,
          name: "llm",
          run_type: "llm",
          start_time: at.toISOString(),
          end_time: end,
          session_name: exp.name,
          inputs: {},
          outputs: {},
        },
      },
      {
        kind: "update",
        run: {
          id,
          trace_id: id,
          dotted_order: dotted,
          end_time: end,
          outputs: {},
          error: t.passed ? null : "AssertionError: expected 1 to be 2",
        },
      },
    );
    feedback.push({ id: uuid7(), run_id: id, key: "pass", score: t.passed, session_id: exp.id });
    for (const [key, score] of Object.entries(t.scores)) feedback.push({ id: uuid7(), run_id: id, key, score, session_id: exp.id });
    // Feedback on a span is not the test's.
    feedback.push({ id: uuid7(), run_id: childId, key: "quality", score: 0, session_id: exp.id });
  }
  await b.sendRuns({ ops, feedback });
}

async function openExperiment(b: Backend, datasetId: string, name: string, startedAt: Date) {
  return b.openExperiment({
    id: randomUUID(),
    name,
    datasetId,
    description: "baseline test",
    metadata: {},
    startTime: startedAt.toISOString(),
  });
}

async function close(b: Backend, exp: { id: string; datasetId: string }, branch: string, at: Date) {
  const endTime = at.toISOString();
  await b.closeExperiment({ id: exp.id, datasetId: exp.datasetId, endTime, metadata: { branch, commit: "abc" }, datasetVersion: endTime });
}

describe.each(adapters)("baselines through the port: %s", (_name, open) => {
  test("resolved as previous, by name, by id or not at all; read back and compared", async () => {
    const { backend: b, close: done } = await open();
    try {
      const dataset = `qa-${randomUUID().slice(0, 8)}`;
      const ds = await b.ensureDataset(dataset);
      const [x1, x2, x3] = [randomUUID(), randomUUID(), randomUUID()];
      await b.upsertExamples(
        ds.id,
        [x1, x2, x3].map((id, i) => ({ id, dataset_id: ds.id, inputs: { q: `case ${i + 1}` }, outputs: { a: i } })),
      );

      // On main, the older; on a feature branch, the newer; both finished. Then this run's, still open.
      const onMain = await openExperiment(b, ds.id, `${dataset}:main-run`, minutesAgo(30));
      await record(b, onMain, minutesAgo(30), [
        { example: x1, name: "case 1", passed: true, scores: { quality: 1 } },
        { example: x2, name: "case 2", passed: true, scores: { quality: 0.5 } },
        { example: x3, name: "case 3", passed: false, scores: { quality: 0.2 } },
      ]);
      await close(b, onMain, "main", minutesAgo(29));
      const onFeature = await openExperiment(b, ds.id, `${dataset}:feature-run`, minutesAgo(20));
      await record(b, onFeature, minutesAgo(20), [{ example: x1, name: "case 1", passed: true, scores: { quality: 0.9 } }]);
      await close(b, onFeature, "feature", minutesAgo(19));
      const current = await openExperiment(b, ds.id, `${dataset}:this-run`, minutesAgo(1));
      await record(b, current, minutesAgo(1), [
        // Two repetitions of case 1: one fails, so the example fails.
        { example: x1, name: "case 1", passed: true, scores: { quality: 0.4 } },
        { example: x1, name: "case 1", passed: false, scores: { quality: 0.4 } },
        { example: x2, name: "case 2", passed: true, scores: { quality: 0.9 } },
        { example: x3, name: "case 3", passed: true, scores: { quality: 0.2 } },
      ]);

      const q = (spec: string, defaultBranch?: string) => ({
        datasetId: ds.id,
        datasetName: dataset,
        currentId: current.id,
        spec,
        defaultBranch,
      });
      expect((await resolveBaseline(b, q("previous")))?.id).toBe(onFeature.id);
      expect((await resolveBaseline(b, q("previous", "main")))?.id).toBe(onMain.id);
      expect((await resolveBaseline(b, q("previous", "trunk")))?.id).toBe(onFeature.id);
      const byName = await resolveBaseline(b, q(`${dataset}:main-run`));
      expect(byName).toMatchObject({ id: onMain.id, name: `${dataset}:main-run`, datasetId: ds.id, metadata: { branch: "main" } });
      expect((await resolveBaseline(b, q(onMain.id)))?.name).toBe(`${dataset}:main-run`);
      expect(await resolveBaseline(b, q("none"))).toBeNull();
      await expect(resolveBaseline(b, q(`${dataset}:nope`))).rejects.toThrow(
        `tally: baseline "${dataset}:nope" is not an experiment of dataset "${dataset}" (recent experiments: "${dataset}:feature-run", "${dataset}:main-run")`,
      );

      const baseline = outcomesOf(await b.readExperiment(byName!.id));
      expect(baseline.map((o) => [o.name, o.exampleId, o.passed, o.scores])).toEqual([
        ["case 1", x1, true, { quality: 1 }],
        ["case 2", x2, true, { quality: 0.5 }],
        ["case 3", x3, false, { quality: 0.2 }],
      ]);
      const now = outcomesOf(await b.readExperiment(current.id));
      expect(now.length).toBe(4);
      const c = compareOutcomes(now, baseline, { regressionThreshold: 0 });
      expect(c.regressions).toEqual([
        { exampleId: x1, test: "case 1", key: "pass", before: 1, after: 0 },
        { exampleId: x1, test: "case 1", key: "quality", before: 1, after: 0.4 },
      ]);
      expect(c.improvements).toEqual([
        { exampleId: x2, test: "case 2", key: "quality", before: 0.5, after: 0.9 },
        { exampleId: x3, test: "case 3", key: "pass", before: 0, after: 1 },
      ]);
      expect(c.passRate.before).toBeCloseTo(2 / 3);
      expect(c.passRate.after).toBeCloseTo(2 / 3);
      expect(c.deltas.quality!.before).toBeCloseTo((1 + 0.5 + 0.2) / 3);
      expect(c.deltas.quality!.after).toBeCloseTo((0.4 + 0.9 + 0.2) / 3);
      // A threshold for quality of 0.6 leaves only the failing test.
      expect(compareOutcomes(now, baseline, { regressionThreshold: { quality: 0.6 } }).regressions.map((r) => r.key)).toEqual(["pass"]);
    } finally {
      await done();
    }
  });

  test('"previous" in a dataset with no earlier finished experiment is no comparison', async () => {
    const { backend: b, close: done } = await open();
    try {
      const ds = await b.ensureDataset(`fresh-${randomUUID().slice(0, 8)}`);
      const unfinished = await openExperiment(b, ds.id, "fresh:crashed", minutesAgo(10));
      const current = await openExperiment(b, ds.id, "fresh:this-run", minutesAgo(1));
      expect(await resolveBaseline(b, { datasetId: ds.id, currentId: current.id, spec: "previous" })).toBeNull();
      // Named, an unfinished experiment is still a baseline.
      expect((await resolveBaseline(b, { datasetId: ds.id, currentId: current.id, spec: "fresh:crashed" }))?.id).toBe(unfinished.id);
    } finally {
      await done();
    }
  });
});
