import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import { type Backend, BackendError } from "../../packages/core/src/backend/port.js";
import type { ExampleRecord, FeedbackRecord, RunOp } from "../../packages/core/src/wire/types.js";
import { uuid7 } from "../../packages/core/src/wire/ids.js";

// The contract of the Backend port, run against every adapter (test/backend/*.test.ts). What the
// registry, the scheduler, `tally flush` and baselines rely on is written here once; an adapter that
// passes it can replace another.

export interface AdapterUnderTest {
  backend: Backend;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Opens a fresh adapter (over an empty store) for one test. */
  open(): Promise<AdapterUnderTest>;
  /**
   * How each call is made: as it is, or retried while it fails transiently (an adapter behind the
   * fault proxy). Either way, whatever it throws must be a BackendError.
   */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
}

const asIs = <T>(fn: () => Promise<T>) => fn();

/**
 * A BackendError by shape, not by class: an adapter in another package reaches core through core's
 * build while this suite imports its sources, so the same error comes in two copies of the class.
 */
export function isBackendError(e: unknown): e is BackendError {
  return e instanceof Error && e.name === "BackendError" && typeof (e as BackendError).retryable === "boolean";
}

/** `fn` tried again while it fails with a retryable BackendError; anything else fails the test. */
export async function retryingTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      expect(isBackendError(err), `a failing backend call throws a BackendError, not ${String(err)}`).toBe(true);
      if (!(err as BackendError).retryable || attempt >= 40) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function backendConformance(name: string, opts: ConformanceOptions): void {
  const call = opts.call ?? asIs;

  async function withBackend(body: (b: Backend) => Promise<void>): Promise<void> {
    const { backend, close } = await opts.open();
    try {
      await body(backend);
    } finally {
      await close();
    }
  }

  async function experiment(b: Backend, dataset = `ds-${randomUUID()}`) {
    const ds = await call(() => b.ensureDataset(dataset));
    const id = randomUUID();
    const exp = await call(() =>
      b.openExperiment({
        id,
        name: `exp-${id}`,
        datasetId: ds.id,
        description: "conformance",
        metadata: { m: 1 },
        startTime: new Date().toISOString(),
      }),
    );
    return { ds, exp };
  }

  const example = (datasetId: string, n: number, answer = "a"): ExampleRecord => ({
    id: randomUUID(),
    dataset_id: datasetId,
    inputs: { question: `q${n}` },
    outputs: { answer: `${answer}${n}` },
    metadata: { n },
  });

  function rootRun(sessionName: string, exampleId: string | undefined, at = new Date()): { create: RunOp; update: RunOp; id: string } {
    const id = uuid7();
    const stamp = at.toISOString().replace(/[-:.]/g, "").replace("T", "T").slice(0, 22);
    const dotted = `${stamp}Z${id}`;
    return {
      id,
      create: {
        kind: "create",
        run: {
          id,
          trace_id: id,
          dotted_order: dotted,
          name: "test",
          run_type: "chain",
          start_time: at.toISOString(),
          session_name: sessionName,
          reference_example_id: exampleId ?? null,
          inputs: { question: "q" },
        },
      },
      update: {
        kind: "update",
        run: { id, trace_id: id, dotted_order: dotted, end_time: new Date(at.getTime() + 5).toISOString(), outputs: { answer: "out" } },
      },
    };
  }

  describe(`Backend conformance: ${name}`, () => {
    test("ensureDataset creates a dataset once; concurrent callers get the same one", () =>
      withBackend(async (b) => {
        const name = `ds-${randomUUID()}`;
        const all = await Promise.all([1, 2, 3, 4].map(() => call(() => b.ensureDataset(name))));
        expect(new Set(all.map((d) => d.id)).size).toBe(1);
        expect(all[0]!.name).toBe(name);
        expect((await call(() => b.ensureDataset(name))).id).toBe(all[0]!.id);
      }));

    test("openExperiment creates the experiment, and a second open of the same name returns it", () =>
      withBackend(async (b) => {
        const { ds, exp } = await experiment(b);
        expect(exp.datasetId).toBe(ds.id);
        expect(exp.tenantId).toMatch(/\S/);
        expect(Number.isNaN(Date.parse(exp.startTime))).toBe(false);
        const again = await call(() =>
          b.openExperiment({
            id: exp.id,
            name: exp.name,
            datasetId: ds.id,
            description: "x",
            metadata: {},
            startTime: new Date().toISOString(),
          }),
        );
        expect(again.id).toBe(exp.id);
        const url = b.experimentUrl(exp);
        expect(url).toContain(ds.id);
        expect(url).toContain(exp.id);
      }));

    test("upsertExamples writes by id: listed once each, updated in place, with a dataset version", () =>
      withBackend(async (b) => {
        const { ds } = await experiment(b);
        const first = [1, 2, 3].map((n) => example(ds.id, n));
        const v1 = await call(() => b.upsertExamples(ds.id, first));
        expect(typeof v1.asOf === "string" && !Number.isNaN(Date.parse(v1.asOf))).toBe(true);
        const changed = first.map((e, i) => ({ ...e, outputs: { answer: `changed${i}` } }));
        await call(() => b.upsertExamples(ds.id, [...changed, example(ds.id, 4)]));
        const ids = await call(() => b.listExampleIds(ds.id));
        expect(ids.length).toBe(4);
        expect(new Set(ids)).toEqual(new Set([...first.map((e) => e.id), ids.find((id) => !first.some((e) => e.id === id))!]));
      }));

    test("listExampleIds reads every page", () =>
      withBackend(async (b) => {
        const { ds } = await experiment(b);
        const many = Array.from({ length: 230 }, (_, n) => example(ds.id, n));
        await call(() => b.upsertExamples(ds.id, many));
        expect(new Set(await call(() => b.listExampleIds(ds.id)))).toEqual(new Set(many.map((e) => e.id)));
      }));

    test("upsertExamples into a dataset the backend does not have is a permanent BackendError", () =>
      withBackend(async (b) => {
        const missing = randomUUID();
        const err = await call(() => b.upsertExamples(missing, [example(missing, 1)])).catch((e: unknown) => e);
        expect(isBackendError(err)).toBe(true);
        expect((err as BackendError).retryable).toBe(false);
        expect((err as BackendError).status).toBe(404);
      }));

    test("sendRuns stores runs, their updates and feedback; readExperiment gives them back", () =>
      withBackend(async (b) => {
        const { ds, exp } = await experiment(b);
        const [ex] = [example(ds.id, 1)];
        await call(() => b.upsertExamples(ds.id, [ex!]));
        const root = rootRun(exp.name, ex!.id);
        const childId = uuid7();
        const child: RunOp = {
          kind: "create",
          run: {
            id: childId,
            trace_id: root.id,
            parent_run_id: root.id,
            dotted_order: `${root.create.run.dotted_order}.${(root.create.run.dotted_order as string).split("Z")[0]}Z${childId}`,
            name: "llm",
            run_type: "llm",
            start_time: root.create.run.start_time,
            end_time: root.update.run.end_time,
            session_name: exp.name,
            inputs: { prompt: "p" },
            outputs: { text: "t" },
          },
        };
        const fb: FeedbackRecord = { id: uuid7(), run_id: root.id, trace_id: root.id, key: "quality", score: 0.75, session_id: exp.id };
        const delivered = await call(() => b.sendRuns({ ops: [root.create, child], feedback: [] }));
        expect(delivered.notes).toEqual([]);
        await call(() => b.sendRuns({ ops: [root.update], feedback: [fb] }));

        const read = await call(() => b.readExperiment(exp.id));
        expect(read.experiment.id).toBe(exp.id);
        expect(read.experiment.datasetId).toBe(ds.id);
        const byId = new Map(read.runs.map((r) => [r.id, r]));
        expect([...byId.keys()].sort()).toEqual([root.id, childId].sort());
        expect(byId.get(root.id)!.outputs).toEqual({ answer: "out" });
        expect(byId.get(root.id)!.reference_example_id).toBe(ex!.id);
        expect(byId.get(childId)!.parent_run_id).toBe(root.id);
        expect(read.feedback.map((f) => [f.id, f.key, f.score, f.run_id])).toEqual([[fb.id, "quality", 0.75, root.id]]);
        // What a comparison reads: the roots alone, with their feedback.
        const roots = await call(() => b.readExperiment(exp.id, { rootsOnly: true }));
        expect(roots.runs.map((r) => r.id)).toEqual([root.id]);
        expect(roots.runs[0]!.outputs).toEqual({ answer: "out" });
        expect(roots.feedback.map((f) => f.id)).toEqual([fb.id]);
      }));

    test("sendRuns is idempotent: a batch sent twice (a lost answer) leaves one copy of each run and feedback", () =>
      withBackend(async (b) => {
        const { exp } = await experiment(b);
        const runs = [1, 2, 3].map(() => rootRun(exp.name, undefined));
        const fb: FeedbackRecord = { id: uuid7(), run_id: runs[0]!.id, key: "k", score: 1, session_id: exp.id };
        const batch = { ops: runs.flatMap((r) => [r.create, r.update]), feedback: [fb] };
        await call(() => b.sendRuns(batch));
        await call(() => b.sendRuns(batch));
        const read = await call(() => b.readExperiment(exp.id));
        expect(read.runs.map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
        expect(read.feedback.map((f) => f.id)).toEqual([fb.id]);
      }));

    test("readExperiment reads every page of runs and feedback", () =>
      withBackend(async (b) => {
        const { exp } = await experiment(b);
        const runs = Array.from({ length: 240 }, () => rootRun(exp.name, undefined));
        const feedback = runs
          .slice(0, 130)
          .map((r): FeedbackRecord => ({ id: uuid7(), run_id: r.id, key: "k", score: 1, session_id: exp.id }));
        for (let i = 0; i < runs.length; i += 80) {
          const part = runs.slice(i, i + 80);
          await call(() => b.sendRuns({ ops: part.map((r) => r.create), feedback: [] }));
        }
        await call(() => b.sendRuns({ ops: [], feedback }));
        const read = await call(() => b.readExperiment(exp.id));
        expect(read.runs.length).toBe(240);
        expect(new Set(read.runs.map((r) => r.id)).size).toBe(240);
        expect(read.feedback.length).toBe(130);
      }));

    test("closeExperiment sets the end time and metadata; listExperiments lists the dataset's experiments newest first", () =>
      withBackend(async (b) => {
        const dataset = `ds-${randomUUID()}`;
        const older = await experiment(b, dataset);
        await new Promise((r) => setTimeout(r, 5));
        const newer = await experiment(b, dataset);
        const endTime = new Date().toISOString();
        await call(() =>
          b.closeExperiment({
            id: newer.exp.id,
            datasetId: newer.ds.id,
            endTime,
            metadata: { tally_run_key: "rk", commit: "abc" },
            datasetVersion: endTime,
            gitCommit: "abc",
          }),
        );
        const list = await call(() => b.listExperiments(newer.ds.id));
        expect(list.map((e) => e.id)).toEqual([newer.exp.id, older.exp.id]);
        expect(Date.parse(list[0]!.endTime!)).toBe(Date.parse(endTime));
        expect(list[0]!.metadata).toMatchObject({ tally_run_key: "rk", commit: "abc", dataset_version: endTime });
        expect(list[1]!.endTime).toBeUndefined();
        // Another dataset's experiments are not listed.
        const other = await experiment(b);
        expect((await call(() => b.listExperiments(newer.ds.id))).map((e) => e.id)).not.toContain(other.exp.id);
      }));

    test("listDatasets by id or name; updateDatasetMetadata sets keys and keeps the others (where approvals live)", () =>
      withBackend(async (b) => {
        const a = await call(() => b.ensureDataset(`ds-${randomUUID()}`));
        const other = await call(() => b.ensureDataset(`ds-${randomUUID()}`));
        const byId = await call(() => b.listDatasets({ ids: [a.id] }));
        expect(byId.map((d) => [d.id, d.name])).toEqual([[a.id, a.name]]);
        // What ensureDataset created it with (LangSmith's extra.metadata) is its metadata.
        expect(byId[0]!.metadata).toEqual({ __ls_runner: "tally" });
        expect((await call(() => b.listDatasets({ name: other.name }))).map((d) => d.id)).toEqual([other.id]);
        expect(new Set((await call(() => b.listDatasets({ ids: [a.id], name: other.name }))).map((d) => d.id))).toEqual(
          new Set([a.id, other.id]),
        );
        expect(await call(() => b.listDatasets({ name: `missing-${randomUUID()}` }))).toEqual([]);
        const all = (await call(() => b.listDatasets())).map((d) => d.id);
        expect(all).toEqual(expect.arrayContaining([a.id, other.id]));

        const approval = { id: randomUUID(), name: "exp-1", approvedAt: new Date().toISOString() };
        const updated = await call(() => b.updateDatasetMetadata(a.id, { tally_approved_baseline: approval }));
        expect(updated).toEqual({ id: a.id, name: a.name, metadata: { __ls_runner: "tally", tally_approved_baseline: approval } });
        const next = { ...approval, id: randomUUID(), name: "exp-2" };
        await call(() => b.updateDatasetMetadata(a.id, { tally_approved_baseline: next, extra_key: 1 }));
        expect((await call(() => b.listDatasets({ ids: [a.id] })))[0]!.metadata).toEqual({
          __ls_runner: "tally",
          tally_approved_baseline: next,
          extra_key: 1,
        });
        await call(() => b.updateDatasetMetadata(a.id, { extra_key: null }));
        expect((await call(() => b.listDatasets({ name: a.name })))[0]!.metadata).toEqual({
          __ls_runner: "tally",
          tally_approved_baseline: next,
        });
        // The other dataset is untouched; a dataset that does not exist is a permanent 404.
        expect((await call(() => b.listDatasets({ ids: [other.id] })))[0]!.metadata).toEqual({ __ls_runner: "tally" });
        const missing = await call(() => b.updateDatasetMetadata(randomUUID(), { k: 1 })).catch((e: unknown) => e);
        expect(isBackendError(missing), String(missing)).toBe(true);
        expect([(missing as BackendError).status, (missing as BackendError).retryable]).toEqual([404, false]);
      }));

    test("findExperiments finds an experiment of any dataset by its name or its id", () =>
      withBackend(async (b) => {
        const { ds, exp } = await experiment(b);
        await experiment(b);
        for (const spec of [exp.name, exp.id]) {
          const found = await call(() => b.findExperiments(spec));
          expect(found.map((e) => [e.id, e.name, e.datasetId])).toEqual([[exp.id, exp.name, ds.id]]);
        }
        expect(await call(() => b.findExperiments(`exp-${randomUUID()}`))).toEqual([]);
        expect(await call(() => b.findExperiments(randomUUID()))).toEqual([]);
      }));

    test("forward answers a worker's own requests (reads, /info) like the backend does", () =>
      withBackend(async (b) => {
        const { ds } = await experiment(b);
        // A proxy's 5xx is an answer, not a throw: it counts as transient here like any other.
        const forward = (path: string) =>
          call(async () => {
            const r = await b.forward({ method: "GET", path, headers: {} });
            if (r.status >= 500 || r.status === 429) throw new BackendError(`GET ${path}: ${r.status}`, r.status, undefined, true);
            return r;
          });
        const info = await forward("/info");
        expect(info.status).toBe(200);
        expect(JSON.parse(Buffer.from(info.body).toString("utf8"))).toHaveProperty("version");
        const found = await forward(`/datasets?name=${encodeURIComponent(ds.name)}`);
        expect(found.status).toBe(200);
        expect((JSON.parse(Buffer.from(found.body).toString("utf8")) as Array<{ id: string }>).map((d) => d.id)).toEqual([ds.id]);
        const missing = await forward(`/datasets/${randomUUID()}`);
        expect(missing.status).toBe(404);
      }));
  });
}
