// Contract test: the embedded server driven over real HTTP by the real `langsmith` SDK (the
// workspace's, 0.12), through every call the tracing client and the official Vitest/Jest integration make.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Client, __version__ as sdkVersion } from "langsmith";
import { getCurrentRunTree, traceable } from "langsmith/traceable";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, Store, handler, startServer } from "../../packages/store/src/index.js";
import { NAMESPACE_URL, uuid4, uuid5, uuid7 } from "../../packages/core/src/wire/ids.js";

let srv: RunningServer;
let client: Client;

beforeAll(async () => {
  srv = await startServer();
  client = new Client({ apiUrl: srv.url, apiKey: "fake-key" });
});
afterAll(async () => {
  await client.awaitPendingTraceBatches();
  await srv.close();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Nested traceables: a root with two children, the shape of one `ls.test` with user code inside. */
function makeTracedTest(c: Client, projectName: string) {
  const retrieve = traceable(async (q: string) => [`doc for ${q}`], {
    name: "retrieve",
    run_type: "retriever",
    client: c,
    tracingEnabled: true,
  });
  const generate = traceable(async (docs: string[]) => `answer from ${docs.length} docs`, {
    name: "generate",
    run_type: "llm",
    client: c,
    tracingEnabled: true,
  });
  return (exampleId?: string) =>
    traceable(
      async (q: string) => {
        const docs = await retrieve(q);
        return { answer: await generate(docs), runId: getCurrentRunTree().id };
      },
      {
        name: "pipeline",
        client: c,
        tracingEnabled: true,
        project_name: projectName,
        ...(exampleId ? { reference_example_id: exampleId } : {}),
      },
    );
}

describe("datasets and examples", () => {
  let datasetId: string;

  it("creates a dataset, surfaces a duplicate as a 409 conflict, reads it by name and id", async () => {
    const ds = await client.createDataset("contract-ds", { description: "made by the contract test", metadata: { __ls_runner: "vitest" } });
    datasetId = ds.id;
    expect(ds).toMatchObject({ name: "contract-ds", description: "made by the contract test", tenant_id: expect.any(String) });
    await expect(client.createDataset("contract-ds")).rejects.toMatchObject({
      name: "LangSmithConflictError",
      message: expect.stringContaining("409"),
    });
    expect((await client.readDataset({ datasetName: "contract-ds" })).id).toBe(ds.id);
    expect((await client.readDataset({ datasetId: ds.id })).name).toBe("contract-ds");
    expect(await client.hasDataset({ datasetName: "no-such-dataset" })).toBe(false);
    await expect(client.readDataset({ datasetName: "no-such-dataset" })).rejects.toThrow(/not found/);
    expect((await collect(client.listDatasets({ datasetNameContains: "contract" }))).map((d) => d.id)).toEqual([ds.id]);
  });

  it("creates examples in bulk and one by one (multipart), reads and lists them", async () => {
    const created = await client.createExamples([
      { dataset_id: datasetId, inputs: { q: "a" }, outputs: { a: "A" }, split: "train" },
      { dataset_id: datasetId, inputs: { q: "b" }, outputs: { a: "B" }, split: "test", metadata: { hard: true } },
    ]);
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({
      dataset_id: datasetId,
      inputs: { q: "a" },
      outputs: { a: "A" },
      metadata: { dataset_split: ["train"] },
    });
    // The official integration's deterministic ids: uuid5 over the dataset and the input/output hashes.
    const exampleId = uuid5(JSON.stringify({ datasetId, inputsHash: "h1", outputsHash: "h2" }), NAMESPACE_URL);
    const one = await client.createExample({ q: "c" }, { a: "C" }, { datasetId, exampleId, createdAt: new Date("2024-01-01T00:00:00Z") });
    expect(one).toMatchObject({ id: exampleId, inputs: { q: "c" }, created_at: "2024-01-01T00:00:00.000000Z" });
    expect((await client.readExample(exampleId)).outputs).toEqual({ a: "C" });
    // The integration decides "create" from this message.
    await expect(client.readExample(uuid4())).rejects.toThrow(/not found/);
    expect(await collect(client.listExamples({ datasetId }))).toHaveLength(3);
    expect((await collect(client.listExamples({ datasetId, splits: ["test"] }))).map((e) => e.inputs.q)).toEqual(["b"]);
    expect(await collect(client.listExamples({ datasetId, metadata: { hard: true } }))).toHaveLength(1);
    expect(await collect(client.listExamples({ datasetId, limit: 2 }))).toHaveLength(2);
  });

  it("updates an example (multipart PATCH) and bumps modified_at", async () => {
    const [ex] = await collect(client.listExamples({ datasetId, splits: ["train"] }));
    await new Promise((r) => setTimeout(r, 2));
    const res = await client.updateExample(ex!.id, {
      inputs: { q: "a" },
      outputs: { a: "A2" },
      split: "validation",
      dataset_id: datasetId,
    });
    expect(res).toMatchObject({ count: 1, example_ids: [ex!.id] });
    const after = await client.readExample(ex!.id);
    expect(after).toMatchObject({ outputs: { a: "A2" }, metadata: { dataset_split: ["validation"] } });
    expect(after.modified_at! > ex!.modified_at!).toBe(true);
  });

  it("tags a dataset version and resolves it", async () => {
    const ds = await client.readDataset({ datasetId });
    await client.updateDatasetTag({ datasetId, asOf: ds.modified_at, tag: "git:commit:abc123" });
    const version = await client.readDatasetVersion({ datasetId, tag: "git:commit:abc123" });
    expect(new Date(version.as_of).getTime()).toBe(new Date(ds.modified_at).getTime());
  });

  it("updates a dataset's metadata (PATCH replaces it whole) and reads it back by id, name and list", async () => {
    // The SDK types updateDataset as name and description only, but sends every other field it is
    // given: LangSmith's DatasetUpdate takes `metadata` (where `tally baseline approve` writes).
    const update = client.updateDataset.bind(client) as unknown as (p: Record<string, unknown>) => Promise<Record<string, unknown>>;
    const approved = { tally_approved_baseline: { id: uuid4(), name: "exp-1" }, __ls_runner: "vitest" };
    const res = await update({ datasetId, metadata: approved });
    expect(res).toMatchObject({ id: datasetId, name: "contract-ds", description: "made by the contract test" });
    const metadataOf = (d: unknown) => (d as { metadata?: unknown }).metadata;
    expect(metadataOf(await client.readDataset({ datasetId }))).toEqual(approved);
    expect(metadataOf(await client.readDataset({ datasetName: "contract-ds" }))).toEqual(approved);
    expect((await collect(client.listDatasets({ metadata: { __ls_runner: "vitest" } }))).map((d) => d.id)).toEqual([datasetId]);
    // Whole, not merged: the key left out is gone; the name and description stay.
    await update({ datasetId, metadata: { __ls_runner: "vitest" } });
    const after = await client.readDataset({ datasetId });
    expect(metadataOf(after)).toEqual({ __ls_runner: "vitest" });
    expect(after).toMatchObject({ name: "contract-ds", description: "made by the contract test" });
  });
});

describe("experiments (sessions)", () => {
  it("creates, refuses a clash, upserts, reads, updates metadata and end time", async () => {
    const ds = await client.createDataset(`exp-ds-${uuid4()}`);
    const p = await client.createProject({
      projectName: "contract-exp",
      referenceDatasetId: ds.id,
      metadata: { __ls_runner: "vitest", a: 1 },
    });
    expect(p).toMatchObject({ name: "contract-exp", reference_dataset_id: ds.id, extra: { metadata: { a: 1 } } });
    await expect(client.createProject({ projectName: "contract-exp" })).rejects.toMatchObject({ name: "LangSmithConflictError" });
    expect((await client.createProject({ projectName: "contract-exp", upsert: true })).id).toBe(p.id);
    expect((await client.readProject({ projectName: "contract-exp" })).id).toBe(p.id);
    expect(await client.hasProject({ projectName: "nope" })).toBe(false);

    const end = new Date("2030-01-01T00:00:00Z");
    const updated = await client.updateProject(p.id, {
      metadata: { dataset_version: "2024-01-01T00:00:00Z", commit: "abc" },
      endTime: end.toISOString(),
    });
    expect(updated.extra?.metadata).toEqual({ __ls_runner: "vitest", a: 1, dataset_version: "2024-01-01T00:00:00Z", commit: "abc" });
    const read = await client.readProject({ projectId: p.id, includeStats: true });
    expect(new Date(read.end_time as unknown as string).getTime()).toBe(end.getTime());
    expect(read.run_count).toBe(0);
    expect((await collect(client.listProjects({ referenceDatasetId: ds.id }))).map((x) => x.id)).toEqual([p.id]);
    expect(await client.getDatasetUrl({ datasetId: ds.id })).toContain(ds.id); // resolves the tenant via GET /sessions?limit=1
  });
});

describe("tracing", () => {
  it("ingests nested traceables via /runs/multipart with zstd, with correct links and no duplicates", async () => {
    const ds = await client.createDataset(`trace-ds-${uuid4()}`);
    const [ex] = await client.createExamples([{ dataset_id: ds.id, inputs: { q: "x" }, outputs: { a: "y" } }]);
    const exp = await client.createProject({ projectName: `trace-exp-${uuid4()}`, referenceDatasetId: ds.id });
    const test = makeTracedTest(client, exp.name!);
    const before = {
      zstd: srv.stats.byEncoding.zstd ?? 0,
      gzip: srv.stats.gzipRequests,
      multipart: srv.stats.byRoute["POST /runs/multipart"] ?? 0,
    };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => test(ex!.id)(`q${i}`)));
    await client.awaitPendingTraceBatches();

    // langsmith ≥ 0.12 with default settings compresses queued runs with zstd when /info offers it.
    const multipart = srv.stats.byRoute["POST /runs/multipart"]! - before.multipart;
    expect(multipart).toBeGreaterThan(0);
    expect((srv.stats.byEncoding.zstd ?? 0) - before.zstd).toBe(multipart);
    expect(srv.stats.gzipRequests - before.gzip).toBe(0);

    const runs = await collect(client.listRuns({ projectId: exp.id }));
    expect(runs).toHaveLength(36);
    expect(new Set(runs.map((r) => r.id)).size).toBe(36);
    const roots = runs.filter((r) => !r.parent_run_id);
    expect(roots.map((r) => r.id).sort()).toEqual(results.map((r) => r.runId).sort());
    for (const r of runs) {
      expect(r.end_time, `${r.name} ended`).toBeTruthy();
      expect(r.status).toBe("success");
      expect(r.trace_id).toBe(r.parent_run_id ? runs.find((x) => x.id === r.parent_run_id)!.trace_id : r.id);
    }
    expect(roots.every((r) => r.reference_example_id === ex!.id && r.name === "pipeline")).toBe(true);
    expect(await collect(client.listRuns({ projectId: exp.id, isRoot: true }))).toHaveLength(12);
    expect(await collect(client.listRuns({ projectId: exp.id, runType: "llm" }))).toHaveLength(12);
    expect(await collect(client.listRuns({ projectId: exp.id, filter: 'eq(name, "retrieve")' }))).toHaveLength(12);
    expect(await collect(client.listRuns({ projectName: exp.name, limit: 5 }))).toHaveLength(5);

    const root = await client.readRun(roots[0]!.id, { loadChildRuns: true });
    expect(root.child_runs!.map((c) => c.name).sort()).toEqual(["generate", "retrieve"]);
    expect(root.outputs).toMatchObject({ answer: "answer from 1 docs" });
    expect(root.inputs).toBeDefined();
    expect(root.extra?.runtime?.sdk).toBe("langsmith-js");

    const stats = await client.readProject({ projectId: exp.id, includeStats: true });
    expect(stats.run_count).toBe(12);
    expect(stats.last_run_start_time).toBeTruthy();
  });

  it("gets gzip from the same client where /info offers gzip but not zstd (LangSmith before zstd)", async () => {
    const s = await startServer({ zstd: false });
    const c = new Client({ apiUrl: s.url, apiKey: "fake-key" });
    try {
      await Promise.all(Array.from({ length: 4 }, (_, i) => makeTracedTest(c, "gzip-project")()(`q${i}`)));
      await c.awaitPendingTraceBatches();
      const multipart = s.stats.byRoute["POST /runs/multipart"]!;
      expect(multipart).toBeGreaterThan(0);
      expect(s.stats.byEncoding).toMatchObject({ gzip: multipart });
      expect(s.stats.byEncoding.zstd).toBeUndefined();
      expect(s.store.runs.count()).toBe(12);
    } finally {
      await s.close();
    }
  });

  it("falls back to /runs/batch when the server has no multipart endpoint", async () => {
    // /info still advertises multipart, so the SDK tries it, gets 404, and switches to /runs/batch.
    // No compression flag: langsmith ≥ 0.11 resends a plain batch after the 404, but drops a batch it
    // had compressed (it only switches later runs over), so with gzip on the first 15 runs would be lost.
    const store = new Store();
    const inner = handler(store, { multipart: false });
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith("/info")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            version: "0.11.0",
            instance_flags: { dataset_examples_multipart_enabled: true, gzip_body_enabled: false },
            batch_ingest_config: { use_multipart_endpoint: true },
          }),
        );
      } else inner(req, res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const c = new Client({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: "fake-key" });
    try {
      const test = makeTracedTest(c, "batch-project");
      await Promise.all(Array.from({ length: 5 }, (_, i) => test()(`q${i}`)));
      await c.awaitPendingTraceBatches();
      await Promise.all(Array.from({ length: 5 }, (_, i) => test()(`r${i}`)));
      await c.awaitPendingTraceBatches();
      expect(inner.stats.byRoute["POST /runs/multipart"]).toBeGreaterThanOrEqual(1);
      expect(inner.stats.byRoute["POST /runs/batch"]).toBeGreaterThanOrEqual(1);
      const sessionId = store.sessions.list({ name: "batch-project" })[0]!.id;
      expect(store.runs.count({ sessionId })).toBe(30);
      expect(store.runs.count({ sessionId, rootOnly: true })).toBe(10);
      expect(store.runs.query({ session: [sessionId], limit: 100 }).runs.every((r) => r.status === "success")).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      store.close();
    }
  });

  it("uses /runs/batch directly when /info says multipart is off", async () => {
    const s = await startServer({ multipart: false });
    const c = new Client({ apiUrl: s.url, apiKey: "fake-key" });
    try {
      await makeTracedTest(c, "batch-direct")()("q");
      await c.awaitPendingTraceBatches();
      expect(s.stats.byRoute["POST /runs/multipart"]).toBeUndefined();
      expect(s.stats.byRoute["POST /runs/batch"]).toBeGreaterThanOrEqual(1);
      expect(s.store.runs.count()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it("accepts unbatched createRun/updateRun (POST /runs, PATCH /runs/:id)", async () => {
    const c = new Client({ apiUrl: srv.url, apiKey: "fake-key", autoBatchTracing: false });
    const id = uuid7();
    const before = { post: srv.stats.byRoute["POST /runs"] ?? 0, patch: srv.stats.byRoute["PATCH /runs/:id"] ?? 0 };
    await c.createRun({ id, name: "manual", run_type: "tool", inputs: { x: 1 }, project_name: "manual-project", start_time: Date.now() });
    await c.updateRun(id, { end_time: Date.now(), outputs: { y: 2 } });
    expect(srv.stats.byRoute["POST /runs"]! - before.post).toBe(1);
    expect(srv.stats.byRoute["PATCH /runs/:id"]! - before.patch).toBe(1);
    const run = await client.readRun(id);
    expect(run).toMatchObject({ name: "manual", inputs: { x: 1 }, outputs: { y: 2 }, status: "success", trace_id: id });
    expect(run.end_time).toBeTruthy();
    expect((await client.readProject({ projectName: "manual-project" })).id).toBe(run.session_id);
  });

  it("keeps counts exact with many clients tracing into one experiment at once", async () => {
    const exp = await client.createProject({ projectName: `shared-${uuid4()}` });
    const clients = Array.from({ length: 6 }, () => new Client({ apiUrl: srv.url, apiKey: "fake-key" }));
    await Promise.all(
      clients.map(async (c) => {
        const test = makeTracedTest(c, exp.name!);
        await Promise.all(Array.from({ length: 10 }, (_, i) => test()(`q${i}`)));
        await c.awaitPendingTraceBatches();
      }),
    );
    expect(srv.store.runs.count({ sessionId: exp.id })).toBe(180);
    expect(srv.store.runs.count({ sessionId: exp.id, rootOnly: true })).toBe(60);
  });
});

describe("feedback", () => {
  it("creates feedback, logs evaluator feedback, lists and reads it, and rolls it into stats", async () => {
    const exp = await client.createProject({ projectName: `fb-${uuid4()}` });
    const { runId } = await makeTracedTest(client, exp.name!)()("q");
    // Feedback may land before its run: post it before flushing the trace.
    const fb = await client.createFeedback(runId, "correctness", { score: 0.8, comment: "close", sessionId: exp.id });
    await client.awaitPendingTraceBatches();
    const run = await client.readRun(runId);
    const [result] = await client.logEvaluationFeedback({ evaluatorResponse: { key: "pass", score: true }, run, projectId: exp.id });
    expect(result).toMatchObject({ key: "pass", score: true });
    // It names the run's trace, so langsmith ≥ 0.11.1 queues it with the runs rather than POSTing it.
    await client.awaitPendingTraceBatches();

    const listed = await collect(client.listFeedback({ runIds: [runId] }));
    expect(listed.map((f) => f.key).sort()).toEqual(["correctness", "pass"]);
    expect(listed.find((f) => f.key === "pass")).toMatchObject({ score: true, feedback_source: { type: "model" }, trace_id: runId });
    expect(await client.readFeedback(fb.id)).toMatchObject({ id: fb.id, run_id: runId, score: 0.8, comment: "close" });
    expect(await collect(client.listFeedback({ runIds: [runId], feedbackKeys: ["pass"] }))).toHaveLength(1);

    // Retrying the same POST (same id) must not duplicate.
    await client.createFeedback(runId, "correctness", { score: 0.9, feedbackId: fb.id, sessionId: exp.id });
    expect(await collect(client.listFeedback({ runIds: [runId] }))).toHaveLength(2);

    const stats = await client.readProject({ projectId: exp.id, includeStats: true });
    expect(stats.feedback_stats).toMatchObject({ correctness: { n: 1, avg: 0.9 }, pass: { n: 1, avg: 1 } });
    expect((await client.readRun(runId)).feedback_stats).toMatchObject({ correctness: { n: 1 } });
  });

  it("stores createFeedback that langsmith ≥ 0.11.1 batches into a zstd /runs/multipart body", async () => {
    expect(Number(sdkVersion.split(".")[1]), `langsmith ${sdkVersion}`).toBeGreaterThanOrEqual(12);
    const exp = await client.createProject({ projectName: `fb-mp-${uuid4()}` });
    const before = {
      post: srv.stats.byRoute["POST /feedback"] ?? 0,
      multipart: srv.stats.byRoute["POST /runs/multipart"] ?? 0,
      zstd: srv.stats.byEncoding.zstd ?? 0,
    };
    const { runId } = await makeTracedTest(client, exp.name!)()("q");
    // With the run and its trace named, the SDK queues the feedback with the runs instead of POSTing it.
    const fb = await client.createFeedback(runId, "helpfulness", {
      score: 0.7,
      comment: "batched",
      traceId: runId,
      sessionId: exp.id,
      value: "ok",
    });
    await client.awaitPendingTraceBatches();

    expect(srv.stats.byRoute["POST /feedback"] ?? 0).toBe(before.post);
    expect(srv.stats.byRoute["POST /runs/multipart"]! - before.multipart).toBeGreaterThan(0);
    expect((srv.stats.byEncoding.zstd ?? 0) - before.zstd).toBe(srv.stats.byRoute["POST /runs/multipart"]! - before.multipart);
    expect(await client.readFeedback(fb.id)).toMatchObject({
      id: fb.id,
      run_id: runId,
      trace_id: runId,
      session_id: exp.id,
      key: "helpfulness",
      score: 0.7,
      value: "ok",
      comment: "batched",
      feedback_source: { type: "api" },
    });
    expect((await collect(client.listFeedback({ runIds: [runId] }))).map((f) => f.id)).toEqual([fb.id]);
    expect((await client.readProject({ projectId: exp.id, includeStats: true })).feedback_stats).toMatchObject({
      helpfulness: { n: 1, avg: 0.7 },
    });
  });
});
