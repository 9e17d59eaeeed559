import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { exampleId, experimentIdentity } from "../identity/experiment.js";
import { objectHash } from "../identity/example-hash.js";
import { Ledger } from "../ledger/ledger.js";
import { ExperimentRegistry } from "../registry/registry.js";
import { startServer } from "../server/index.js";
import { Spool } from "../spool/spool.js";
import { uuid7 } from "../wire/ids.js";
import { createUpstream } from "./http.js";
import { Sender } from "./sender.js";

// The sender against the real embedded server over HTTP.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup(apiUrl?: string) {
  const server = await startServer();
  closers.push(() => server.close());
  const upstream = createUpstream({ apiUrl: apiUrl ?? server.url, apiKey: "k" });
  const ledger = new Ledger();
  const registry = new ExperimentRegistry({ upstream, webUrl: "http://x", metadata: { m: 1 }, retryForMs: 5_000 });
  const spool = Spool.create(mkdtempSync(join(tmpdir(), "sender-")), { pid: 1, runKey: "r", startedAt: "", backend: "x" });
  const sender = new Sender({ spool, upstream, registry, ledger });
  return { server, sender, spool, ledger, registry };
}

function testRecords(dataset: string) {
  const experiment = experimentIdentity(dataset, "run-1");
  const runId = uuid7();
  const childId = uuid7();
  const inputs = { q: "hi" };
  const referenceOutputs = { a: "HI" };
  return {
    experiment,
    runId,
    childId,
    inputs,
    referenceOutputs,
    records: [
      {
        t: "test" as const,
        test: { runId, dataset, experiment, name: "t1", inputs, referenceOutputs, inputsHash: objectHash(inputs), outputsHash: objectHash(referenceOutputs) },
      },
      {
        t: "run" as const,
        op: {
          kind: "create" as const,
          run: { id: runId, trace_id: runId, dotted_order: `20261121T000000000000Z${runId}`, name: "t1", run_type: "chain", session_name: experiment.name, reference_example_id: runId, start_time: "2026-11-21T00:00:00Z", end_time: "2026-11-21T00:00:01Z", inputs, outputs: { a: "HI" } },
        },
      },
      {
        t: "run" as const,
        op: {
          kind: "create" as const,
          run: { id: childId, trace_id: runId, parent_run_id: runId, dotted_order: `20261121T000000000000Z${runId}.20261121T000000100000Z${childId}`, name: "child", run_type: "llm", session_name: experiment.name, start_time: "2026-11-21T00:00:00.1Z", end_time: "2026-11-21T00:00:00.9Z" },
        },
      },
      { t: "feedback" as const, feedback: { id: uuid7(), run_id: runId, key: "pass", score: true, session_id: experiment.id } },
    ],
  };
}

test("sends dataset, experiment, example, runs and feedback, with the placeholders swapped", async () => {
  const { server, sender, spool, ledger } = await setup();
  const rec = testRecords("unit-ds");
  for (const r of rec.records) if (r.t === "run") ledger.noteRun(r.op);
  sender.push(spool.append(rec.records));
  const p = await sender.drain(Date.now() + 10_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });

  const ds = server.store.datasets.list({ name: "unit-ds" })[0]!;
  const expectedExample = exampleId(ds.id, objectHash(rec.inputs), objectHash(rec.referenceOutputs));
  const root = server.store.runs.get(rec.runId)!;
  expect(root.reference_example_id).toBe(expectedExample);
  expect(server.store.examples.get(expectedExample)?.inputs).toEqual(rec.inputs);
  expect(server.store.runs.get(rec.childId)?.parent_run_id).toBe(rec.runId);
  const session = server.store.sessions.get(root.session_id)!;
  expect(session.name).toBe(rec.experiment.name);
  expect(session.reference_dataset_id).toBe(ds.id);
  const fb = server.store.feedback.list({ run: [rec.runId] });
  expect(fb[0]?.session_id).toBe(session.id);
  expect(spool.pending()).toHaveLength(0);
  expect(ledger.runs.get(rec.runId)?.delivered).toBe(1);
});

test("retries through 503s and Retry-After until the backend accepts", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  let failures = 0;
  // A proxy that refuses the first three ingest requests.
  const proxy = createServer(async (req, res) => {
    if (req.url?.startsWith("/runs/multipart") && failures < 3) {
      failures++;
      req.resume();
      res.writeHead(failures === 2 ? 429 : 503, failures === 2 ? { "retry-after": "0.2" } : {});
      return res.end("busy");
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const up = await fetch(server.url + req.url, { method: req.method, headers: req.headers as Record<string, string>, body: chunks.length ? Buffer.concat(chunks) : undefined });
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await up.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => proxy.close(() => r())));
  const { sender, spool } = await setup(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
  const rec = testRecords("retry-ds");
  sender.push(spool.append(rec.records));
  const p = await sender.drain(Date.now() + 20_000);
  expect(failures).toBe(3);
  expect(p.pending).toBe(0);
  expect(server.store.runs.get(rec.runId)).toBeDefined();
});

test("a record the backend refuses for good is isolated; its neighbours still land", async () => {
  const { server, sender, spool, ledger } = await setup();
  const rec = testRecords("reject-ds");
  const bad = { t: "run" as const, op: { kind: "create" as const, run: { id: "not-a-uuid", session_name: "x" } } };
  ledger.noteRun(bad.op);
  sender.push(spool.append([...rec.records, bad]));
  const p = await sender.drain(Date.now() + 10_000);
  expect(p.pending).toBe(0);
  expect(p.rejected).toBe(1);
  expect(ledger.runs.get("not-a-uuid")?.error).toMatch(/422/);
  expect(server.store.runs.get(rec.runId)).toBeDefined();
});
