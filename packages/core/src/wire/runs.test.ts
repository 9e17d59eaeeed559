import { describe, expect, it } from "vitest";
import type { RunOp, RunRecord } from "./types.js";
import { MultipartError, RunPayloadError, coalesceRunOps, flattenRunCreate, mergeRun, parseRunsBatch, parseRunsMultipart } from "./runs.js";

const BOUNDARY = "----LangSmithFormBoundarytest";
const CT = `multipart/form-data; boundary=${BOUNDARY}`;

/** Builds a body the way the SDK's _createMultipartStream does. */
function body(parts: [name: string, value: unknown, type?: string][]): Buffer {
  const chunks: Buffer[] = [];
  for (const [name, value, type] of parts) {
    const data = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: ${type ?? "application/json"}; length=${data.length}\r\n\r\n`,
      ),
      data,
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const A = "01a1fb93-7cf2-7000-8000-000000000001";
const B = "01a1fb93-7cf2-7000-8000-000000000002";

describe("parseRunsMultipart", () => {
  it("reassembles creates and patches from main and field parts", () => {
    const parsed = parseRunsMultipart(
      body([
        [`post.${A}`, { id: A, name: "root", run_type: "chain", trace_id: A, dotted_order: `x${A}`, child_runs: [] }],
        [`post.${A}.inputs`, { q: 1 }],
        [`post.${A}.extra`, { metadata: { k: "v" } }],
        [`patch.${B}`, { id: B, trace_id: A, dotted_order: "y", end_time: 1700000000000 }],
        [`patch.${B}.outputs`, { a: 2 }],
        [`patch.${B}.error`, "boom"],
      ]),
      CT,
    );
    expect(parsed.ops).toEqual<RunOp[]>([
      {
        kind: "create",
        run: {
          id: A,
          name: "root",
          run_type: "chain",
          trace_id: A,
          dotted_order: `x${A}`,
          inputs: { q: 1 },
          extra: { metadata: { k: "v" } },
        },
      },
      { kind: "update", run: { id: B, trace_id: A, dotted_order: "y", end_time: 1700000000000, outputs: { a: 2 }, error: "boom" } },
    ]);
    expect(parsed.warnings).toEqual([]);
  });

  it("keeps field parts that arrive before their main part", () => {
    const parsed = parseRunsMultipart(
      body([
        [`post.${A}.outputs`, { o: 1 }],
        [`post.${A}`, { id: A, name: "n" }],
      ]),
      CT,
    );
    expect(parsed.ops).toEqual([{ kind: "create", run: { id: A, name: "n", outputs: { o: 1 } } }]);
  });

  it("returns attachments and feedback parts separately", () => {
    const fbId = "01a1fb93-7cf2-7000-8000-0000000000f1";
    const parsed = parseRunsMultipart(
      body([
        [`post.${A}`, { id: A }],
        [`attachment.${A}.image`, Buffer.from([1, 2, 3]), "image/png"],
        [`feedback.${fbId}`, { run_id: A, key: "correct", score: 1 }],
        ["mystery", { x: 1 }],
      ]),
      CT,
    );
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]).toMatchObject({ runId: A, name: "image", contentType: "image/png" });
    expect([...parsed.attachments[0]!.data]).toEqual([1, 2, 3]);
    expect(parsed.feedback).toEqual([{ id: fbId, run_id: A, key: "correct", score: 1 }]);
    expect(parsed.warnings).toEqual(['skipped unknown part "mystery"']);
  });

  it("rejects malformed input with typed errors", () => {
    expect(() => parseRunsMultipart(Buffer.from("junk"), CT)).toThrow(MultipartError);
    expect(() => parseRunsMultipart(body([[`post.${A}`, [1, 2]]]), CT)).toThrow(RunPayloadError);
    expect(() => parseRunsMultipart(body([[`post.${A}`, { id: B }]]), CT)).toThrow(/does not match/);
    expect(() => parseRunsMultipart(body([[`feedback.${A}`, { run_id: A }]]), CT)).toThrow(/no key/);
    expect(() => parseRunsMultipart(body([["post.not-a-uuid", { name: "x" }]]), CT)).toThrow(/must be a uuid/);
    expect(() => parseRunsMultipart(body([["patch.nope.outputs", {}]]), CT)).toThrow(/must be a uuid/);
    expect(parseRunsMultipart(body([["attachment.nope.file", Buffer.from("x"), "text/plain"]]), CT).warnings[0]).toMatch(/not a uuid/);
  });

  it("drops the attachments key that JSON paths mangle", () => {
    const parsed = parseRunsMultipart(body([[`post.${A}`, { id: A, attachments: { f: { 0: 1 } } }]]), CT);
    expect(parsed.ops[0]!.run).toEqual({ id: A });
  });
});

describe("parseRunsBatch", () => {
  it("turns post/patch lists into ops and flattens nested child_runs", () => {
    const ops = parseRunsBatch({
      post: [{ id: A, name: "root", child_runs: [{ id: B, name: "child", child_runs: [] }] }],
      patch: [{ id: A, end_time: "2024-01-01T00:00:00Z" }],
    });
    expect(ops).toEqual([
      { kind: "create", run: { id: A, name: "root" } },
      { kind: "create", run: { id: B, name: "child", parent_run_id: A } },
      { kind: "update", run: { id: A, end_time: "2024-01-01T00:00:00Z" } },
    ]);
  });

  it("accepts missing lists and rejects wrong shapes", () => {
    expect(parseRunsBatch({ post: [{ id: A }] })).toHaveLength(1);
    expect(parseRunsBatch({})).toEqual([]);
    expect(() => parseRunsBatch([])).toThrow(RunPayloadError);
    expect(() => parseRunsBatch({ post: {} })).toThrow(/must be an array/);
    expect(() => parseRunsBatch({ post: [{ name: "no id" }] })).toThrow(/no id/);
  });

  it("flattenRunCreate keeps an explicit parent", () => {
    expect(flattenRunCreate({ id: B, parent_run_id: "p" }, A)[0]!.parent_run_id).toBe("p");
  });
});

describe("mergeRun", () => {
  const create: RunRecord = {
    id: A,
    name: "root",
    start_time: "2024-01-01T00:00:00.000001Z",
    inputs: { q: 1 },
    extra: { metadata: { a: 1, shared: "create" }, runtime: { sdk: "js" } },
  };
  const update: RunRecord = { id: A, end_time: 1704067200500, outputs: { r: 2 }, extra: { metadata: { b: 2, shared: "update" } } };

  it("applies an update over a create", () => {
    expect(mergeRun(create, { kind: "update", run: update })).toEqual({
      id: A,
      name: "root",
      start_time: "2024-01-01T00:00:00.000001Z",
      inputs: { q: 1 },
      end_time: 1704067200500,
      outputs: { r: 2 },
      extra: { metadata: { a: 1, b: 2, shared: "update" }, runtime: { sdk: "js" } },
    });
  });

  it("gives the same result when the patch arrives first", () => {
    const first = mergeRun(undefined, { kind: "update", run: update });
    expect(mergeRun(first, { kind: "create", run: create })).toEqual(mergeRun(create, { kind: "update", run: update }));
  });

  it("never lets a retried create roll back a finished run", () => {
    const done = mergeRun(create, { kind: "update", run: update });
    const again = mergeRun(done, { kind: "create", run: { ...create, end_time: null, outputs: undefined } });
    expect(again).toEqual(done);
  });

  it("does not erase values with null or undefined", () => {
    const merged = mergeRun(create, { kind: "update", run: { id: A, name: undefined, inputs: null, parent_run_id: null } as RunRecord });
    expect(merged.name).toBe("root");
    expect(merged.inputs).toEqual({ q: 1 });
  });

  it("coalesceRunOps folds ops per id into one, a create if any was", () => {
    const out = coalesceRunOps([
      { kind: "update", run: update },
      { kind: "create", run: { id: B, name: "other" } },
      { kind: "create", run: create },
    ]);
    expect(out.map((o) => [o.kind, o.run.id])).toEqual([
      ["create", A],
      ["create", B],
    ]);
    expect(out[0]!.run.outputs).toEqual({ r: 2 });
    expect(out[0]!.run.inputs).toEqual({ q: 1 });
  });
});
