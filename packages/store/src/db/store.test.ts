import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunOp, uuid4, uuid7 } from "@tally/core/wire";
import { Store } from "./store.js";
import { StoreError } from "./db.js";

let store: Store;
beforeEach(() => {
  store = new Store(":memory:");
});
afterEach(() => store.close());

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.status;
    throw err;
  }
  return undefined;
}

describe("datasets", () => {
  it("creates with a client id, refuses duplicate names, reads by id and name", () => {
    const id = uuid4();
    const ds = store.datasets.create({ id, name: "qa", description: "d", extra: { metadata: { team: "x" } } });
    expect(ds).toMatchObject({ id, name: "qa", description: "d", data_type: "kv", metadata: { team: "x" }, example_count: 0 });
    expect(statusOf(() => store.datasets.create({ name: "qa" }))).toBe(409);
    expect(statusOf(() => store.datasets.create({ id, name: "other" }))).toBe(409);
    expect(statusOf(() => store.datasets.create({ name: "" }))).toBe(422);
    expect(store.datasets.getByName("qa")?.id).toBe(id);
    expect(store.datasets.list({ name: "qa" })).toHaveLength(1);
    expect(store.datasets.list({ nameContains: "Q" })).toHaveLength(1);
    expect(store.datasets.list({ metadata: { team: "y" } })).toHaveLength(0);
  });

  it("tags versions and lists them", () => {
    const ds = store.datasets.create({ name: "v" });
    const asOf = "2024-05-01T00:00:00Z";
    expect(store.datasets.setTag(ds.id, "git:commit:abc", asOf)).toEqual({
      as_of: "2024-05-01T00:00:00.000000Z",
      tags: ["git:commit:abc"],
    });
    expect(store.datasets.version(ds.id, { tag: "git:commit:abc" }).as_of).toBe("2024-05-01T00:00:00.000000Z");
    expect(store.datasets.versions(ds.id).map((v) => v.tags)).toEqual([["latest"], ["git:commit:abc"]]);
    expect(statusOf(() => store.datasets.setTag(ds.id, "t", "not a time"))).toBe(422);
    expect(statusOf(() => store.datasets.setTag(uuid4(), "t", asOf))).toBe(404);
  });
});

describe("examples", () => {
  it("upserts by id, keeps created_at, bumps modified_at and the dataset's", () => {
    const ds = store.datasets.create({ name: "ex" });
    const id = uuid4();
    const first = store.examples.upsert([
      { id, dataset_id: ds.id, inputs: { q: 1 }, outputs: { a: 1 }, created_at: "2024-01-01T00:00:00Z" },
    ]);
    expect(first.example_ids).toEqual([id]);
    const a = store.examples.get(id)!;
    expect(a).toMatchObject({
      inputs: { q: 1 },
      outputs: { a: 1 },
      metadata: { dataset_split: ["base"] },
      created_at: "2024-01-01T00:00:00.000000Z",
    });
    const second = store.examples.upsert([{ id, dataset_id: ds.id, inputs: { q: 2 }, split: "test" }]);
    const b = store.examples.get(id)!;
    expect(b.inputs).toEqual({ q: 2 });
    expect(b.outputs).toBeNull();
    expect(b.metadata).toEqual({ dataset_split: ["test"] });
    expect(b.created_at).toBe(a.created_at);
    expect(b.modified_at > a.modified_at).toBe(true);
    expect(second.as_of).toBe(b.modified_at);
    expect(store.datasets.get(ds.id)!.modified_at).toBe(b.modified_at);
    expect(store.datasets.get(ds.id)!.example_count).toBe(1);
  });

  it("updates partially and keeps the split unless it changes", () => {
    const ds = store.datasets.create({ name: "ex2" });
    const id = uuid4();
    store.examples.upsert([{ id, dataset_id: ds.id, inputs: { q: 1 }, outputs: { a: 1 }, split: ["s1"], metadata: { m: 1 } }]);
    store.examples.update([{ id, dataset_id: ds.id, metadata: { m: 2 } }]);
    expect(store.examples.get(id)).toMatchObject({ inputs: { q: 1 }, outputs: { a: 1 }, metadata: { m: 2, dataset_split: ["s1"] } });
    store.examples.update([{ id, dataset_id: ds.id, split: "s2", outputs: null }]);
    expect(store.examples.get(id)).toMatchObject({ outputs: null, metadata: { m: 2, dataset_split: ["s2"] } });
    expect(statusOf(() => store.examples.update([{ id: uuid4(), dataset_id: ds.id }]))).toBe(404);
  });

  it("requires the dataset, lists with filters and pages", () => {
    expect(statusOf(() => store.examples.upsert([{ id: uuid4(), dataset_id: uuid4(), inputs: {} }]))).toBe(404);
    const ds = store.datasets.create({ name: "ex3" });
    const ids = Array.from({ length: 5 }, () => uuid4());
    store.examples.upsert(
      ids.map((id, i) => ({ id, dataset_id: ds.id, inputs: { i }, split: i % 2 ? "odd" : "even", metadata: { i, tag: { deep: i } } })),
    );
    expect(store.examples.list({ datasetId: ds.id })).toHaveLength(5);
    expect(store.examples.list({ datasetId: ds.id, splits: ["odd"] }).map((e) => e.inputs.i)).toEqual([1, 3]);
    expect(store.examples.list({ datasetId: ds.id, metadata: { i: 2 } })).toHaveLength(1);
    expect(store.examples.list({ datasetId: ds.id, metadata: { tag: { deep: 3 } } })).toHaveLength(1);
    expect(store.examples.list({ datasetId: ds.id, ids: ids.slice(0, 2) })).toHaveLength(2);
    expect(store.examples.list({ datasetId: ds.id, limit: 2, offset: 4 })).toHaveLength(1);
    expect(store.datasets.splits(ds.id)).toEqual(["even", "odd"]);
    expect(store.examples.setSplit(ds.id, "picked", [ids[0]!], false)).toEqual([ids[0]]);
    expect(store.examples.get(ids[0]!)!.metadata!.dataset_split).toEqual(["even", "picked"]);
    expect(store.examples.delete([ids[0]!, uuid4()])).toBe(1);
  });

  it("stores attachments and applies attachment operations", () => {
    const ds = store.datasets.create({ name: "att" });
    const id = uuid4();
    const data = Buffer.from("png!");
    store.examples.upsert([
      {
        id,
        dataset_id: ds.id,
        inputs: {},
        attachments: [
          { name: "a", contentType: "image/png", data },
          { name: "b", contentType: "text/plain", data },
        ],
      },
    ]);
    expect(Object.keys(store.examples.get(id, "http://h")!.attachment_urls!)).toEqual(["attachment.a", "attachment.b"]);
    expect(store.examples.get(id, "http://h")!.attachment_urls!["attachment.a"]!.presigned_url).toBe(
      `http://h/attachments/example/${id}/a`,
    );
    store.examples.update([{ id, dataset_id: ds.id, attachments_operations: { retain: ["a"], rename: { b: "c" } } }]);
    expect(store.attachments.list("example", id).map((a) => a.name)).toEqual(["a", "c"]);
    expect(Buffer.from(store.attachments.get("example", id, "c")!.data).toString()).toBe("png!");
  });
});

describe("sessions", () => {
  it("creates, conflicts, upserts by name and merges metadata on update", () => {
    const id = uuid4();
    const s = store.sessions.create({ id, name: "exp", extra: { metadata: { a: 1 } } }).session;
    expect(s).toMatchObject({ id, name: "exp", end_time: null, extra: { metadata: { a: 1 } } });
    expect(statusOf(() => store.sessions.create({ name: "exp" }))).toBe(409);
    expect(store.sessions.create({ name: "exp" }, { upsert: true })).toMatchObject({ created: false, session: { id } });
    const u = store.sessions.update(id, { name: null, description: null, extra: { metadata: { b: 2 } }, end_time: "2024-01-01T00:00:00Z" });
    expect(u).toMatchObject({ name: "exp", extra: { metadata: { a: 1, b: 2 } }, end_time: "2024-01-01T00:00:00.000000Z" });
    // null end_time means "unchanged", not "clear"
    expect(store.sessions.update(id, { end_time: null }).end_time).toBe("2024-01-01T00:00:00.000000Z");
    store.sessions.create({ name: "other" });
    expect(statusOf(() => store.sessions.update(id, { name: "other" }))).toBe(409);
    expect(store.sessions.update(id, { name: "renamed" }).name).toBe("renamed");
    expect(store.sessions.ensureByName("renamed")).toBe(id);
  });

  it("lists by dataset, name and metadata", () => {
    const ds = store.datasets.create({ name: "d" });
    store.sessions.create({ name: "e1", reference_dataset_id: ds.id, extra: { metadata: { run: "1" } } });
    store.sessions.create({ name: "e2", reference_dataset_id: ds.id, extra: { metadata: { run: "2" } } });
    store.sessions.create({ name: "tracing" });
    expect(
      store.sessions
        .list({ referenceDatasets: [ds.id] })
        .map((s) => s.name)
        .sort(),
    ).toEqual(["e1", "e2"]);
    expect(store.sessions.list({ referenceFree: true }).map((s) => s.name)).toEqual(["tracing"]);
    expect(store.sessions.list({ metadata: { run: "2" } }).map((s) => s.name)).toEqual(["e2"]);
    expect(store.datasets.get(ds.id)!.session_count).toBe(2);
  });
});

const t = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();

function trace(session: string, rootId = uuid7(), children = 2, error?: string): RunOp[] {
  const ops: RunOp[] = [
    {
      kind: "create",
      run: {
        id: rootId,
        name: "root",
        run_type: "chain",
        session_name: session,
        start_time: t(0),
        trace_id: rootId,
        dotted_order: `20240101T000000000000Z${rootId}`,
        inputs: { q: 1 },
      },
    },
  ];
  for (let i = 0; i < children; i++) {
    const id = uuid7();
    const dotted = `20240101T000000000000Z${rootId}.2024010${i}T000000000000Z${id}`;
    ops.push({
      kind: "create",
      run: {
        id,
        name: `child${i}`,
        run_type: "llm",
        session_name: session,
        parent_run_id: rootId,
        trace_id: rootId,
        start_time: t(1 + i),
        dotted_order: dotted,
      },
    });
    ops.push({ kind: "update", run: { id, end_time: t(2 + i), outputs: { o: i }, trace_id: rootId, dotted_order: dotted } });
  }
  ops.push({ kind: "update", run: { id: rootId, end_time: t(10), outputs: { r: 1 }, ...(error ? { error } : {}) } });
  return ops;
}

describe("runs", () => {
  it("ingests traces into auto-created sessions, with links and no duplicates", () => {
    const ops = trace("proj");
    expect(store.runs.apply(ops)).toEqual({ created: 3, updated: 3 });
    // The same batch again (an SDK retry) changes nothing.
    store.runs.apply(ops);
    const session = store.sessions.list({ name: "proj" })[0]!;
    expect(store.runs.count({ sessionId: session.id })).toBe(3);
    const root = store.runs.get(ops[0]!.run.id)!;
    expect(root).toMatchObject({
      status: "success",
      parent_run_id: null,
      session_id: session.id,
      outputs: { r: 1 },
      inputs: { q: 1 },
      end_time: "2024-01-01T00:00:10.000000Z",
    });
    expect(root.child_run_ids).toHaveLength(2);
    const child = store.runs.get(root.child_run_ids![0]!)!;
    expect(child).toMatchObject({ parent_run_id: root.id, trace_id: root.id, status: "success", parent_run_ids: [root.id] });
    expect(store.sessions.get(session.id, true)).toMatchObject({ run_count: 1, latency_p50: 10, error_rate: 0 });
  });

  it("merges a patch that arrives before its create", () => {
    const id = uuid7();
    store.runs.apply([{ kind: "update", run: { id, end_time: t(5), outputs: { done: true } } }]);
    expect(store.runs.get(id)).toMatchObject({ status: "success", session_id: null });
    store.runs.apply([{ kind: "create", run: { id, name: "late", start_time: t(0), session_name: "p", inputs: { x: 1 } } }]);
    const run = store.runs.get(id)!;
    expect(run).toMatchObject({
      name: "late",
      outputs: { done: true },
      inputs: { x: 1 },
      end_time: "2024-01-01T00:00:05.000000Z",
      trace_id: id,
    });
    expect(run.session_id).toBe(store.sessions.list({ name: "p" })[0]!.id);
    expect(run.dotted_order).toBe(`20240101T000000000000Z${id}`);
    expect(store.runs.count()).toBe(1);
  });

  it("files runs without a project under 'default' and fills trace fields for children", () => {
    const root = uuid7();
    const child = uuid7();
    store.runs.apply([
      { kind: "create", run: { id: root, name: "r", start_time: t(0) } },
      { kind: "create", run: { id: child, name: "c", start_time: t(1), parent_run_id: root } },
    ]);
    expect(store.sessions.list({ name: "default" })).toHaveLength(1);
    expect(store.runs.get(child)).toMatchObject({
      trace_id: root,
      dotted_order: `20240101T000000000000Z${root}.20240101T000001000000Z${child}`,
    });
  });

  it("queries with filters, ordering and cursors", () => {
    for (let i = 0; i < 7; i++) store.runs.apply(trace("q", uuid7(), 1, i === 3 ? "boom" : undefined));
    const session = store.sessions.list({ name: "q" })[0]!.id;
    expect(store.runs.query({ session: [session] }).runs).toHaveLength(14);
    expect(store.runs.query({ session: [session], is_root: true }).runs).toHaveLength(7);
    expect(store.runs.query({ session: [session], error: true }).runs).toHaveLength(1);
    expect(store.runs.query({ session: [session], run_type: "llm" }).runs).toHaveLength(7);
    expect(store.runs.query({ session: [session], filter: 'eq(name, "root")' }).runs).toHaveLength(7);
    const ignored = store.runs.query({ session: [session], filter: 'eq(feedback_key, "x")' });
    expect(ignored.runs).toHaveLength(14);
    expect(ignored.ignored_filter).toMatch(/feedback_key/);

    for (const filter of [undefined, 'eq(run_type, "chain")']) {
      const seen: string[] = [];
      let cursor: string | null | undefined;
      do {
        const page = store.runs.query({ session: [session], limit: 3, cursor, filter, order: "asc" });
        expect(page.runs.length).toBeLessThanOrEqual(3);
        seen.push(...page.runs.map((r) => r.id));
        cursor = page.cursors.next;
      } while (cursor);
      expect(new Set(seen).size).toBe(filter ? 7 : 14);
      expect(seen.length).toBe(new Set(seen).size);
    }
    expect(statusOf(() => store.runs.query({ cursor: "garbage" }))).toBe(422);
    expect(store.runs.stats({ session: [session], is_root: true })).toMatchObject({ run_count: 7, error_rate: 1 / 7 });
  });
});

describe("feedback", () => {
  it("upserts by id, accepts feedback before its run, and aggregates stats", () => {
    const runId = uuid7();
    const fbId = uuid7();
    store.feedback.upsert({ id: fbId, run_id: runId, key: "pass", score: true });
    store.feedback.upsert({ id: fbId, run_id: runId, key: "pass", score: false, comment: "retry changed it" });
    store.feedback.upsert({ id: uuid7(), run_id: runId, key: "quality", score: 0.5 });
    store.feedback.upsert({ id: uuid7(), run_id: runId, key: "quality", score: 1 });
    store.feedback.upsert({ id: uuid7(), run_id: runId, key: "label", value: "good" });
    expect(store.feedback.list({ runs: [runId] })).toHaveLength(4);
    expect(store.feedback.get(fbId)).toMatchObject({ score: false, comment: "retry changed it" });
    // The run arrives later: its session's stats pick the feedback up.
    store.runs.apply([{ kind: "create", run: { id: runId, name: "r", session_name: "fb", start_time: t(0), end_time: t(1) } }]);
    const session = store.sessions.list({ name: "fb" })[0]!;
    const stats = store.sessions.get(session.id, true)!.feedback_stats!;
    expect(stats.pass).toMatchObject({ n: 1, avg: 0 });
    expect(stats.quality).toMatchObject({ n: 2, avg: 0.75 });
    expect(stats.label).toMatchObject({ n: 1, avg: null, values: { good: 1 } });
    expect(store.feedback.list({ sessions: [session.id], keys: ["quality"] })).toHaveLength(2);
    expect(store.runs.get(runId)!.feedback_stats!.quality!.n).toBe(2);
    expect(store.feedback.update(fbId, { score: 1 }).score).toBe(1);
    expect(statusOf(() => store.feedback.upsert({ id: uuid7(), key: "" }))).toBe(422);
  });

  it("session-level feedback (no run) counts for the session", () => {
    const s = store.sessions.create({ name: "s" }).session;
    store.feedback.upsert({ id: uuid7(), session_id: s.id, key: "summary", score: 3 });
    expect(store.sessions.get(s.id, true)!.feedback_stats!.summary).toMatchObject({ n: 1, avg: 3 });
  });
});

describe("file-backed store", () => {
  it("persists across reopen and supports two connections on one file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-store-"));
    try {
      const path = join(dir, "nested", "tally.db");
      const a = new Store(path);
      const ds = a.datasets.create({ name: "persisted" });
      const b = new Store(path); // a second process would look like this
      b.runs.apply(trace("shared"));
      expect(a.runs.count()).toBe(3);
      expect(b.datasets.get(ds.id)?.name).toBe("persisted");
      a.close();
      b.close();
      const c = new Store(path);
      expect(c.datasets.list()).toHaveLength(1);
      expect(c.runs.count()).toBe(3);
      c.close();
      c.close(); // idempotent
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
