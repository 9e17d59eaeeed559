import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { exampleId, experimentIdentity } from "../identity/experiment.js";
import { objectHash } from "../identity/example-hash.js";
import { Ledger } from "../ledger/ledger.js";
import { startServer, type ServerOptions } from "../../../store/src/index.js";
import { Spool } from "../spool/spool.js";
import { uuid7 } from "../wire/ids.js";
import { RestBackend } from "../backend/langsmith/rest-backend.js";
import { ExperimentRegistry } from "./registry.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";

// The scheduler with the REST adapter, against the real embedded server over HTTP.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup(apiUrl?: string, opts: { server?: ServerOptions; sender?: Partial<SchedulerOptions> } = {}) {
  const server = await startServer(opts.server);
  closers.push(() => server.close());
  const backend = new RestBackend({ apiUrl: apiUrl ?? server.url, apiKey: "k" });
  const ledger = new Ledger();
  const registry = new ExperimentRegistry({ backend, metadata: { m: 1 }, retryForMs: 5_000 });
  const spool = Spool.create(mkdtempSync(join(tmpdir(), "sender-")), { pid: 1, runKey: "r", startedAt: "", backend: "x" });
  const sender = new Scheduler({ spool, backend, registry, ledger, ...opts.sender });
  return { server, sender, spool, ledger, registry };
}

interface Seen {
  path: string;
  encoding: string | undefined;
  body: Buffer;
  status: number;
}

/**
 * A proxy in front of `target` that records every request; `intercept` may answer one itself
 * (a status) instead of forwarding it.
 */
async function recordingProxy(target: string, intercept: (seen: Omit<Seen, "status">) => number | undefined = () => undefined) {
  const seen: Seen[] = [];
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const entry = { path: req.url ?? "", encoding: req.headers["content-encoding"], body };
    const status = intercept(entry);
    if (status !== undefined) {
      seen.push({ ...entry, status });
      res.writeHead(status, status === 429 ? { "retry-after": "0.2" } : {});
      return res.end("refused by the test proxy");
    }
    const up = await fetch(target + req.url, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: chunks.length ? body : undefined,
    });
    seen.push({ ...entry, status: up.status });
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await up.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => proxy.close(() => r())));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, seen };
}

/**
 * A proxy in front of `target`: `answer` may answer a request itself (it has been read whole) and
 * return true, or hold it a while; every other request is forwarded.
 */
async function proxyTo(target: string, answer: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>): Promise<string> {
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (await answer(req, res)) return;
    const up = await fetch(target + req.url, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await up.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => proxy.close(() => r())));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
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
        test: {
          runId,
          dataset,
          experiment,
          name: "t1",
          inputs,
          referenceOutputs,
          inputsHash: objectHash(inputs),
          outputsHash: objectHash(referenceOutputs),
        },
      },
      {
        t: "run" as const,
        op: {
          kind: "create" as const,
          run: {
            id: runId,
            trace_id: runId,
            dotted_order: `20261121T000000000000Z${runId}`,
            name: "t1",
            run_type: "chain",
            session_name: experiment.name,
            reference_example_id: runId,
            start_time: "2026-11-21T00:00:00Z",
            end_time: "2026-11-21T00:00:01Z",
            inputs,
            outputs: { a: "HI" },
          },
        },
      },
      {
        t: "run" as const,
        op: {
          kind: "create" as const,
          run: {
            id: childId,
            trace_id: runId,
            parent_run_id: runId,
            dotted_order: `20261121T000000000000Z${runId}.20261121T000000100000Z${childId}`,
            name: "child",
            run_type: "llm",
            session_name: experiment.name,
            start_time: "2026-11-21T00:00:00.1Z",
            end_time: "2026-11-21T00:00:00.9Z",
          },
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
  const session = server.store.sessions.get(root.session_id!, false)!;
  expect(session.name).toBe(rec.experiment.name);
  expect(session.reference_dataset_id).toBe(ds.id);
  const fb = server.store.feedback.list({ runs: [rec.runId] });
  expect(fb[0]?.session_id).toBe(session.id);
  expect(spool.pending()).toHaveLength(0);
  expect(ledger.runs.get(rec.runId)?.delivered).toBe(1);
});

test("progress counts a record in flight once", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  // A proxy that holds every run batch until the test ends: its records stay in flight.
  const held: Array<() => void> = [];
  const proxyUrl = await proxyTo(server.url, (req, res) => {
    if (!req.url?.startsWith("/runs/multipart")) return false;
    held.push(() => res.destroy());
    return true;
  });
  const { sender, spool } = await setup(proxyUrl);
  const rec = testRecords("in-flight-ds");
  sender.push(spool.append(rec.records));
  const ticks: number[] = [];
  try {
    await sender.drain(Date.now() + 1_500, (p) => ticks.push(p.pending));
    expect(held.length, "a run batch was in flight").toBeGreaterThan(0);
    // The test record is done once its example is sent; the two runs and the feedback are in flight.
    expect(ticks.at(-1)).toBe(3);
    expect(Math.max(...ticks)).toBeLessThanOrEqual(rec.records.length);
  } finally {
    sender.stop();
    for (const release of held) release();
  }
});

test("retries through 503s and Retry-After until the backend accepts", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  let failures = 0;
  // A proxy that refuses the first three ingest requests.
  const proxyUrl = await proxyTo(server.url, (req, res) => {
    if (!req.url?.startsWith("/runs/multipart") || failures >= 3) return false;
    failures++;
    res.writeHead(failures === 2 ? 429 : 503, failures === 2 ? { "retry-after": "0.2" } : {});
    res.end("busy");
    return true;
  });
  const { sender, spool } = await setup(proxyUrl);
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

/** Three tests' records of one dataset: with `maxBatchOps: 2` they take several run batches. */
function threeTests(dataset: string) {
  const recs = [testRecords(dataset), testRecords(dataset), testRecords(dataset)];
  return { recs, all: recs.flatMap((r) => r.records) };
}

test.each([
  ["zstd", {}],
  ["gzip", { zstd: false }],
  ["identity", { zstd: false, gzip: false }],
] as const)("compresses run batches with the best encoding /info advertises (%s), read once", async (encoding, serverOpts) => {
  const { server, sender, spool } = await setup(undefined, { server: serverOpts, sender: { maxBatchOps: 2 } });
  const { recs, all } = threeTests(`enc-${encoding}`);
  sender.push(spool.append(all));
  const p = await sender.drain(Date.now() + 10_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });

  const multipart = server.stats.byRoute["POST /runs/multipart"]!;
  expect(multipart).toBeGreaterThanOrEqual(2);
  expect(server.stats.byRoute["GET /info"]).toBe(1);
  if (encoding !== "identity") expect(server.stats.byEncoding[encoding]).toBe(multipart);
  // Examples and the experiment's close always go plain (LangSmith compresses run ingest only).
  expect(p.wire.byEncoding[encoding]).toBe(encoding === "identity" ? p.wire.requests : multipart);
  expect(p.wire.requests).toBeGreaterThan(multipart);
  if (encoding === "identity") expect(p.wire.wireBytes).toBe(p.wire.rawBytes);
  else expect(p.wire.wireBytes).toBeLessThan(p.wire.rawBytes);
  // Every body the sender counted, the server received: the same bytes on the wire.
  expect(p.wire.wireBytes).toBeLessThanOrEqual(server.stats.bodyBytes.wire);
  for (const r of recs) {
    expect(server.store.runs.get(r.runId)?.reference_example_id).toBeTruthy();
    expect(server.store.runs.get(r.childId)).toBeDefined();
    expect(server.store.feedback.list({ runs: [r.runId] })).toHaveLength(1);
  }
});

test("a run batch that failed is resent with the very bytes it was compressed to once", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  let refusals = 0;
  const proxy = await recordingProxy(server.url, (r) =>
    r.path.startsWith("/runs/multipart") && refusals++ < 4 ? [503, 429][refusals % 2] : undefined,
  );
  const { sender, spool } = await setup(proxy.url, { sender: { maxBatchOps: 2 } });
  const { recs, all } = threeTests("same-bytes-ds");
  sender.push(spool.append(all));
  const p = await sender.drain(Date.now() + 30_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });

  const ingest = proxy.seen.filter((s) => s.path.startsWith("/runs/multipart"));
  const refused = ingest.filter((s) => s.status >= 400);
  const accepted = ingest.filter((s) => s.status === 202);
  expect(refused).toHaveLength(4);
  expect(ingest.every((s) => s.encoding === "zstd")).toBe(true);
  for (const r of refused)
    expect(
      accepted.some((a) => a.body.equals(r.body)),
      "a refused body comes back byte for byte",
    ).toBe(true);
  // Each batch is counted every time it went out, so the retries show in the bytes too.
  expect(p.wire.byEncoding.zstd).toBe(ingest.length);
  for (const r of recs) expect(server.store.runs.get(r.runId)).toBeDefined();
  expect(server.store.runs.count()).toBe(6);
});

test("an advertised encoding the backend then refuses with 415 falls back to the next one, losing nothing", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  // A proxy in front of the backend that cannot decode zstd, although the backend advertises it.
  const proxy = await recordingProxy(server.url, (r) => (r.encoding === "zstd" ? 415 : undefined));
  const { sender, spool } = await setup(proxy.url, { sender: { maxBatchOps: 2 } });
  const { recs, all } = threeTests("refused-enc-ds");
  sender.push(spool.append(all));
  const p = await sender.drain(Date.now() + 10_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });
  const ingest = proxy.seen.filter((s) => s.path.startsWith("/runs/multipart"));
  expect(ingest.filter((s) => s.encoding === "zstd").length).toBeGreaterThanOrEqual(1);
  expect(ingest.filter((s) => s.status === 202).every((s) => s.encoding === "gzip")).toBe(true);
  // Once refused, zstd is not tried again by batches encoded afterwards.
  const lastZstd = ingest.map((s) => s.encoding).lastIndexOf("zstd");
  expect(ingest.slice(lastZstd + 1).every((s) => s.encoding === "gzip")).toBe(true);
  for (const r of recs) expect(server.store.feedback.list({ runs: [r.runId] })).toHaveLength(1);
});

/** A port nothing listens on: every connection is refused. */
async function refusedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

/** A backend that takes the connection and drops it without an answer, counting the attempts. */
async function droppingBackend() {
  let attempts = 0;
  const server = createServer((req) => {
    attempts++;
    req.socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts: () => attempts };
}

test("a backend that cannot be reached: a few attempts, then one probe now and then; the drain ends at once; the spool keeps it all", async () => {
  const down = await droppingBackend();
  const { sender, spool } = await setup(down.url);
  const tests = Array.from({ length: 40 }, (_, i) => testRecords(`down-ds-${i % 2}`));
  for (const t of tests) sender.push(spool.append(t.records));
  // Workers keep going for a while: the sender must not hammer the backend meanwhile.
  await new Promise((r) => setTimeout(r, 1_500));
  const during = down.attempts();
  expect(during, "attempts while the run goes on").toBeLessThanOrEqual(12);
  expect(sender.circuit.open).toBe(true);

  // Dropped connections may be a flaky network: the end gives it three more probes before it gives up.
  const p = await sender.drain(Date.now() + 30_000, undefined, 10_000);
  expect(down.attempts() - during).toBeLessThanOrEqual(4);
  expect(p.unreachable).toBe("connection dropped");
  expect(p.pending).toBe(tests.length * 4);
  expect(spool.pendingCount()).toBe(tests.length * 4);
});

test("nothing listening (connection refused): the run's end gives up after one more try", async () => {
  const { sender, spool } = await setup(await refusedPort());
  const tests = Array.from({ length: 10 }, () => testRecords("refused-ds"));
  for (const t of tests) sender.push(spool.append(t.records));
  while (!sender.circuit.open) await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  const p = await sender.drain(Date.now() + 30_000, undefined, 10_000);
  expect(Date.now() - started).toBeLessThan(500);
  expect(p.unreachable).toBe("connection refused");
  expect(p.pending).toBe(tests.length * 4);
});

test("the circuit closes when the backend comes back: everything lands", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  let refused = 0;
  const proxyUrl = await proxyTo(server.url, (req) => {
    if (refused >= 8) return false;
    refused++;
    req.socket.destroy();
    return true;
  });
  const { sender, spool } = await setup(proxyUrl);
  const { recs, all } = threeTests("comeback-ds");
  sender.push(spool.append(all));
  // Down for the first attempts (the circuit opens), reachable again before the run ends.
  while (refused < 8) await new Promise((r) => setTimeout(r, 20));
  expect(sender.circuit.open).toBe(true);
  const p = await sender.drain(Date.now() + 20_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0, unreachable: undefined });
  expect(sender.circuit.open).toBe(false);
  for (const r of recs) expect(server.store.runs.get(r.runId)).toBeDefined();
});

test("more records than the window: the rest waits in the spool file and is read back, in order, all delivered", async () => {
  const { server, sender, spool } = await setup(undefined, { sender: { window: 10, maxBatchOps: 4 } });
  const tests = Array.from({ length: 30 }, () => testRecords("window-ds"));
  for (const t of tests) sender.push(spool.append(t.records));
  const held = (sender as unknown as { queue: unknown[] }).queue.length;
  expect(held, "records held in memory").toBeLessThanOrEqual(10);
  expect(sender.progress().pending).toBe(120);
  const p = await sender.drain(Date.now() + 20_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });
  for (const t of tests) {
    const root = server.store.runs.get(t.runId)!;
    expect(root.reference_example_id, "mapped to its example, never the placeholder").not.toBe(t.runId);
    expect(server.store.runs.get(t.childId)).toBeDefined();
    expect(server.store.feedback.list({ runs: [t.runId] })).toHaveLength(1);
  }
  expect(spool.removeIfComplete()).toBe(true);
});

test("examples go upstream while the experiment is still being created (they need only the dataset)", async () => {
  const server = await startServer();
  closers.push(() => server.close());
  const arrivals: Array<{ path: string; at: number }> = [];
  const started = Date.now();
  // A proxy that notes when each request arrives and holds the experiment's creation for 600 ms.
  const proxyUrl = await proxyTo(server.url, async (req) => {
    arrivals.push({ path: `${req.method} ${req.url}`, at: Date.now() - started });
    if (req.method === "POST" && req.url?.startsWith("/sessions")) await new Promise((r) => setTimeout(r, 600));
    return false;
  });
  const { sender, spool } = await setup(proxyUrl);
  const { recs, all } = threeTests("parallel-ds");
  sender.push(spool.append(all));
  const p = await sender.drain(Date.now() + 10_000);
  expect(p).toMatchObject({ pending: 0, rejected: 0 });
  const session = arrivals.find((a) => a.path.startsWith("POST /sessions"))!;
  const examples = arrivals.find((a) => /examples/.test(a.path) && a.path.startsWith("POST"))!;
  expect(examples.at, "the examples did not wait for the experiment").toBeLessThan(session.at + 400);
  const runs = arrivals.find((a) => a.path.startsWith("POST /runs"))!;
  expect(runs.at, "runs still wait for the experiment").toBeGreaterThanOrEqual(session.at + 600);
  for (const r of recs) expect(server.store.runs.get(r.runId)?.reference_example_id).not.toBe(r.runId);
});
