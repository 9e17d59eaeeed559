import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
// The store reaches core through core's build, as every package does (so does a user's install):
// its errors are the build's BackendError.
import { BackendError } from "../../packages/core/dist/index.js";
import { RestBackend } from "../../packages/core/src/backend/langsmith/rest-backend.js";
import type { RunOp } from "../../packages/core/src/wire/types.js";
import { LOCAL_TENANT_ID, type LocalBackend, openLocalBackend, startServer, Store } from "../../packages/store/src/index.js";
import { backendConformance } from "./conformance.js";

// The embedded store's adapter, in-process: the conformance suite, then what is its own (errors as
// BackendError, forward through the server's routes, the viewer's links) and a side-by-side check
// that a call stores exactly what the same call through the REST adapter and the server stores.

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-local-backend-"));
  dirs.push(dir);
  return dir;
}
/** What `call` failed with (and a test failure when it did not fail). */
function failure(call: Promise<unknown>): Promise<BackendError> {
  return call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e as BackendError,
  );
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

backendConformance("local store (in-process)", {
  async open() {
    const backend = await openLocalBackend(tempDir());
    return { backend, close: () => backend.close() };
  },
});

describe("the local backend", () => {
  test("is the store file under the folder, named for messages and spools, with links into tally ui", async () => {
    const dir = tempDir();
    const b = await openLocalBackend(dir);
    try {
      expect(b.kind).toBe("local");
      expect(b.spoolKey).toBe("local");
      expect(b.label).toBe(`local store ${join(dir, "tally.db")}`);
      expect(b.experimentUrl({ tenantId: LOCAL_TENANT_ID, datasetId: "d1", id: "e1" })).toBe(
        `http://localhost:4317/o/${LOCAL_TENANT_ID}/datasets/d1/compare?selectedSessions=e1`,
      );
      expect(b.wireStats()).toEqual({ requests: 0, rawBytes: 0, wireBytes: 0, byEncoding: {} });
      const ds = await b.ensureDataset("on-disk");
      await b.close();
      await b.close(); // idempotent
      const store = new Store(join(dir, "tally.db"));
      expect(store.datasets.get(ds.id)?.name).toBe("on-disk");
      store.close();
    } finally {
      await b.close();
    }
  });

  test("refusals are permanent BackendErrors with the server's status; a busy store is retryable", async () => {
    const b = (await openLocalBackend(tempDir())) as LocalBackend;
    try {
      const ds = await b.ensureDataset("errors");
      const bad: RunOp = { kind: "create", run: { id: "not-a-uuid", name: "x" } };
      const refused = await failure(b.sendRuns({ ops: [bad], feedback: [] }));
      expect(refused).toBeInstanceOf(BackendError);
      expect([refused.status, refused.retryable]).toEqual([422, false]);
      const missing = await failure(b.readExperiment(ds.id));
      expect([missing.status, missing.retryable]).toEqual([404, false]);
      const noSession = await failure(
        b.closeExperiment({
          id: ds.id,
          datasetId: ds.id,
          endTime: new Date().toISOString(),
          metadata: {},
          datasetVersion: new Date().toISOString(),
        }),
      );
      expect([noSession.status, noSession.retryable]).toEqual([404, false]);

      // What node:sqlite throws when another process holds the write lock past the busy timeout.
      const store = (b as unknown as { store: Store }).store;
      const list = store.datasets.list;
      store.datasets.list = () => {
        throw Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 5 });
      };
      const busy = await failure(b.ensureDataset("errors"));
      store.datasets.list = list;
      expect(busy).toBeInstanceOf(BackendError);
      expect([busy.status, busy.retryable]).toEqual([503, true]);
      expect((await b.ensureDataset("errors")).id).toBe(ds.id);
    } finally {
      await b.close();
    }
    const closed = await failure(b.ensureDataset("late"));
    expect(closed).toBeInstanceOf(BackendError);
    expect(closed.retryable).toBe(false);
  });

  test("forward answers through the server's routes in-process, without a port", async () => {
    const b = await openLocalBackend(tempDir());
    try {
      const ds = await b.ensureDataset("forwarded");
      const json = (r: { body: Uint8Array }) => JSON.parse(Buffer.from(r.body).toString("utf8")) as unknown;
      const info = await b.forward({ method: "GET", path: "/info", headers: {} });
      expect(info.status).toBe(200);
      expect(info.headers["content-type"]).toBe("application/json");
      // Nothing is compressed in-process.
      expect(json(info)).toMatchObject({ instance_flags: { gzip_body_enabled: false, zstd_compression_enabled: false } });
      const byName = await b.forward({ method: "GET", path: `/api/v1/datasets?name=forwarded`, headers: {} });
      expect((json(byName) as Array<{ id: string }>).map((d) => d.id)).toEqual([ds.id]);
      const created = await b.forward({
        method: "POST",
        path: "/examples",
        headers: { "Content-Type": "application/json" },
        body: Buffer.from(JSON.stringify({ dataset_id: ds.id, inputs: { q: 1 } })),
      });
      expect(created.status).toBe(200);
      expect(await b.listExampleIds(ds.id)).toEqual([(json(created) as { id: string }).id]);
      const wrong = await b.forward({ method: "PUT", path: "/info", headers: {} });
      expect(wrong.status).toBe(405);

      // An example with an attachment, uploaded and read back through a proxy that names itself:
      // the attachment's URL points at the proxy, which forwards it here again.
      const exampleId = "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0010";
      const boundary = "b0undary";
      const part = (name: string, type: string, data: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: ${type}\r\n\r\n${data}\r\n`;
      const upload = await b.forward({
        method: "POST",
        path: `/v1/platform/datasets/${ds.id}/examples`,
        headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
        body: Buffer.from(
          `${part(exampleId, "application/json", "{}")}${part(`${exampleId}.inputs`, "application/json", '{"q":2}')}${part(`${exampleId}.attachment.note`, "text/plain", "hello")}--${boundary}--\r\n`,
        ),
      });
      expect(upload.status).toBe(200);
      const read = await b.forward({ method: "GET", path: `/examples/${exampleId}`, headers: { "x-forwarded-host": "127.0.0.1:9999" } });
      const url = (json(read) as { attachment_urls: Record<string, { presigned_url: string }> }).attachment_urls["attachment.note"]!
        .presigned_url;
      expect(url).toBe(`http://127.0.0.1:9999/attachments/example/${exampleId}/note`);
      const bytes = await b.forward({ method: "GET", path: new URL(url).pathname, headers: {} });
      expect([bytes.status, bytes.headers["content-type"], Buffer.from(bytes.body).toString()]).toEqual([200, "text/plain", "hello"]);
    } finally {
      await b.close();
    }
  });

  test("stores what the REST adapter stores through the server for the same calls", async () => {
    const local = await openLocalBackend(tempDir());
    const server = await startServer();
    const rest = new RestBackend({ apiUrl: server.url, apiKey: "k" });
    try {
      const results = [];
      const stores = [(local as unknown as { store: Store }).store, server.store];
      for (const [i, b] of [local, rest].entries()) {
        const ds = await b.ensureDataset("parity");
        const exp = await b.openExperiment({
          id: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0001",
          name: "parity:rk",
          datasetId: ds.id,
          description: "d",
          metadata: { m: 1, gone: undefined },
          startTime: "2026-01-02T03:04:05.678Z",
        });
        const exampleId = "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0002";
        await b.upsertExamples(ds.id, [
          {
            id: exampleId,
            dataset_id: "ignored",
            inputs: { q: 1 },
            outputs: null,
            metadata: { k: "v" },
            split: "train",
            created_at: "2026-01-02T00:00:00Z",
          },
        ]);
        const runId = "019b7ca9-8c88-7ebb-82a9-9985cbfc88db";
        const dotted = `20260102T030405000000Z${runId}`;
        await b.sendRuns({
          ops: [
            {
              kind: "create",
              run: {
                id: runId,
                trace_id: runId,
                dotted_order: dotted,
                name: "t",
                run_type: "chain",
                start_time: "2026-01-02T03:04:05Z",
                session_name: exp.name,
                reference_example_id: exampleId,
                inputs: { q: 1 },
              },
              attachments: [{ name: "a", contentType: "text/plain", data: Buffer.from("hi").toString("base64") }],
            },
            {
              kind: "update",
              run: { id: runId, trace_id: runId, dotted_order: dotted, end_time: "2026-01-02T03:04:06Z", outputs: { a: 2 }, error: null },
            },
          ],
          feedback: [{ id: "0b2f6a4e-8d33-4d2a-9a55-3f3d1c0c0003", run_id: runId, key: "pass", score: true, session_id: exp.id }],
        });
        await b.closeExperiment({
          id: exp.id,
          datasetId: ds.id,
          endTime: "2026-01-02T03:05:00Z",
          metadata: { commit: "abc" },
          datasetVersion: "2026-01-02T03:04:59Z",
          gitCommit: "abc",
        });
        const read = await b.readExperiment(exp.id);
        const [example] = (await b.listExampleIds(ds.id)).map((id) => id);
        const experiments = await b.listExperiments(ds.id);
        const { created_at: _c, modified_at: _m, dataset_id: _d, ...stored } = stores[i]!.examples.get(exampleId)!;
        results.push({
          stored,
          exp: { ...exp, id: "-", datasetId: "-" },
          experiments: experiments.map((e) => ({ ...e, id: "-", datasetId: "-" })),
          example,
          runs: read.runs.map(({ session_id: _s, app_path: _a, attachments, ...r }) => ({
            ...r,
            attachments: Object.keys(attachments ?? {}),
          })),
          feedback: read.feedback.map(({ session_id: _s, created_at: _c, modified_at: _m, ...f }) => f),
        });
      }
      expect(results[0]).toEqual(results[1]);
    } finally {
      await local.close();
      await server.close();
    }
  });
});
