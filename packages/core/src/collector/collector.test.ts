import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { afterEach, expect, test } from "vitest";
import { Ledger } from "../ledger/ledger.js";
import { ExperimentRegistry } from "../delivery/registry.js";
import { startServer } from "../../../store/src/index.js";
import { Spool } from "../spool/spool.js";
import { RestBackend } from "../backend/langsmith/rest-backend.js";
import { Scheduler } from "../delivery/scheduler.js";
import { uuid7 } from "../wire/ids.js";
import { startCollector } from "./server.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup() {
  const backend = await startServer();
  const to = new RestBackend({ apiUrl: backend.url, apiKey: "real-secret-key" });
  const ledger = new Ledger();
  const registry = new ExperimentRegistry({ backend: to, metadata: {}, retryForMs: 5000 });
  const spool = Spool.create(mkdtempSync(join(tmpdir(), "collector-")), { pid: 1, runKey: "r", startedAt: "", backend: "x" });
  const sender = new Scheduler({ spool, backend: to, registry, ledger });
  const collector = await startCollector({ token: "run-token", spool, sender, ledger, backend: to });
  closers.push(async () => {
    sender.stop();
    await collector.close();
    await backend.close();
  });
  return { collector, spool, ledger, backend, sender };
}

const post = (url: string, path: string, body: unknown, token = "run-token") =>
  fetch(url + path, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json" }, body: JSON.stringify(body) });

test("binds loopback and refuses requests without the run's token", async () => {
  const { collector } = await setup();
  expect(new URL(collector.url).hostname).toBe("127.0.0.1");
  expect((await fetch(`${collector.url}/info`)).status).toBe(401);
  expect((await post(collector.url, "/runs/batch", { post: [] }, "wrong")).status).toBe(401);
  expect((await fetch(`${collector.url}/info`, { headers: { "x-api-key": "run-token" } })).status).toBe(200);
});

test("a run is in the spool before the worker gets its answer", async () => {
  const { collector, spool, ledger } = await setup();
  const id = uuid7();
  const res = await post(collector.url, "/runs/batch", {
    post: [
      {
        id,
        trace_id: id,
        dotted_order: `20261121T000000000000Z${id}`,
        name: "r",
        run_type: "chain",
        session_name: "p",
        start_time: "2026-11-21T00:00:00Z",
      },
    ],
  });
  expect(res.status).toBe(202);
  expect(
    Spool.open(spool.dir)
      .all()
      .some((r) => r.t === "run" && r.op.run.id === id),
  ).toBe(true);
  expect(ledger.runs.get(id)?.received).toBe(1);
});

const run = (id: string, name = "r") => ({
  id,
  trace_id: id,
  dotted_order: `20261121T000000000000Z${id}`,
  name,
  run_type: "chain",
  session_name: "p",
  start_time: "2026-11-21T00:00:00Z",
});

/** A /runs/batch body of one run, with enough text that a cut lands inside the compressed data. */
function batchBody(): Buffer {
  return Buffer.from(JSON.stringify({ post: [{ ...run(uuid7()), inputs: { text: "lorem ipsum ".repeat(2000) } }] }));
}

/** All but the last 4 bytes (a gzip trailer, or the end of zstd's last block). */
const truncated = (buf: Buffer) => new Uint8Array(buf.subarray(0, buf.length - 4));

const BOUNDARY = "----LangSmithFormBoundarycollector";

/** A /runs/multipart body as langsmith 0.11+ sends it: a run's parts, then a `feedback.<id>` part. */
function feedbackMultipart(fb: Record<string, unknown> = {}, runId = uuid7(), feedbackId = uuid7()) {
  const parts: Array<[string, unknown]> = [
    [`post.${runId}`, run(runId, "with-feedback")],
    [`post.${runId}.inputs`, { q: "how long do I have to return a grinder?" }],
    [`feedback.${feedbackId}`, { id: feedbackId, run_id: runId, trace_id: runId, key: "correctness", score: 0.5, comment: "part", ...fb }],
  ];
  const body = multipartOf(parts.map(([name, value]) => [name, "application/json", Buffer.from(JSON.stringify(value))]));
  return { body, contentType: `multipart/form-data; boundary=${BOUNDARY}`, runId, feedbackId };
}

/** A multipart body of [name, content type, bytes] parts, framed as the SDK frames them. */
function multipartOf(parts: Array<[string, string, Buffer]>): Buffer {
  const chunks = parts.flatMap(([name, type, data]) => [
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: ${type}; length=${data.length}\r\n\r\n`),
    data,
    Buffer.from("\r\n"),
  ]);
  return Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

// Each is something a worker (or anything else holding the token) could send by mistake.
const MALFORMED: Array<[string, string, string, BodyInit, Record<string, string>?]> = [
  ["not JSON", "POST", "/runs/batch", "{not json"],
  ["a batch that is not an object", "POST", "/runs/batch", "null"],
  ["a batch whose post is not a list", "POST", "/runs/batch", JSON.stringify({ post: "x" })],
  ["a run that is not an object", "POST", "/runs", "[1, 2]"],
  ["a run without an id", "POST", "/runs", JSON.stringify({ name: "r" })],
  ["a run patch that is not an object", "PATCH", `/runs/${"0".repeat(8)}-0000-7000-8000-${"0".repeat(12)}`, "42"],
  ["feedback without a key", "POST", "/feedback", JSON.stringify({ id: "f" })],
  ["feedback that is null", "POST", "/feedback", "null"],
  ["multipart without parts", "POST", "/runs/multipart", "garbage", { "content-type": "multipart/form-data; boundary=x" }],
  ["multipart without a boundary", "POST", "/runs/multipart", "garbage", { "content-type": "multipart/form-data" }],
  ["a body that claims gzip", "POST", "/runs/batch", "not gzip", { "content-encoding": "gzip" }],
  ["a body that claims zstd", "POST", "/runs/batch", "not zstd", { "content-encoding": "zstd" }],
  ["a truncated zstd batch", "POST", "/runs/batch", truncated(zstdCompressSync(batchBody())), { "content-encoding": "zstd" }],
  [
    "a zstd batch with bytes after its frame",
    "POST",
    "/runs/batch",
    new Uint8Array(Buffer.concat([zstdCompressSync(batchBody()), Buffer.from("tail")])),
    { "content-encoding": "zstd" },
  ],
  ["a truncated gzip batch", "POST", "/runs/batch", truncated(gzipSync(batchBody())), { "content-encoding": "gzip" }],
  [
    "a truncated zstd multipart",
    "POST",
    "/runs/multipart",
    truncated(zstdCompressSync(feedbackMultipart().body)),
    { "content-encoding": "zstd", "content-type": feedbackMultipart().contentType },
  ],
  [
    "a zstd multipart whose feedback part has no key",
    "POST",
    "/runs/multipart",
    new Uint8Array(zstdCompressSync(feedbackMultipart({ key: undefined }).body)),
    { "content-encoding": "zstd", "content-type": feedbackMultipart().contentType },
  ],
  ["an unknown encoding", "POST", "/runs/batch", "{}", { "content-encoding": "br2" }],
  ["example hints that are not a list", "POST", "/_tally/examples", JSON.stringify({ dataset: "d" })],
  [
    "an example hint without its hashes",
    "POST",
    "/_tally/examples",
    JSON.stringify([{ dataset: "d", experiment: { name: "e", id: "x" }, inputs: {} }]),
  ],
  ["an ack that is not an object", "POST", "/_tally/ack", "[]"],
  ["an ack without a file", "POST", "/_tally/ack", JSON.stringify({ tests: [] })],
  ["an unknown collector route", "POST", "/_tally/nope", "{}"],
];

const sendMalformed = (url: string, [, method, path, body, headers = {}]: (typeof MALFORMED)[number]) =>
  fetch(url + path, { method, headers: { "x-api-key": "run-token", "content-type": "application/json", ...headers }, body });

test.each(MALFORMED)("malformed request (%s) gets a 4xx that says what is wrong", async (...row) => {
  const { collector, spool } = await setup();
  const res = await sendMalformed(collector.url, row);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(((await res.json()) as { detail: string }).detail).toMatch(/^tally collector: \S/);
  expect(Spool.open(spool.dir).all(), "nothing malformed reaches the spool").toEqual([]);
});

test("after malformed requests the collector still takes runs, and the sender still delivers them", async () => {
  const { collector, backend, sender } = await setup();
  for (const row of MALFORMED) await sendMalformed(collector.url, row);
  const id = uuid7();
  const run = {
    id,
    trace_id: id,
    dotted_order: `20261121T000000000000Z${id}`,
    name: "good",
    run_type: "chain",
    session_name: "p",
    start_time: "2026-11-21T00:00:00Z",
  };
  expect((await post(collector.url, "/runs/batch", { post: [run] })).status).toBe(202);
  const progress = await sender.drain(Date.now() + 10_000);
  expect(progress).toMatchObject({ pending: 0, rejected: 0 });
  expect(backend.store.runs.get(id)?.name).toBe("good");
});

test.each([
  ["zstd", zstdCompressSync],
  ["gzip", gzipSync],
] as const)(
  "a %s multipart body with a feedback part is spooled as feedback and delivered like POST /feedback",
  async (encoding, compress) => {
    const { collector, spool, ledger, backend, sender } = await setup();
    const mp = feedbackMultipart();
    const res = await fetch(`${collector.url}/runs/multipart`, {
      method: "POST",
      headers: { "x-api-key": "run-token", "content-type": mp.contentType, "content-encoding": encoding },
      body: new Uint8Array(compress(mp.body)),
    });
    expect(res.status).toBe(202);
    const spooled = Spool.open(spool.dir).all();
    expect(spooled.filter((r) => r.t === "feedback").map((r) => r.t === "feedback" && r.feedback)).toEqual([
      { id: mp.feedbackId, run_id: mp.runId, trace_id: mp.runId, key: "correctness", score: 0.5, comment: "part" },
    ]);
    expect(spooled.some((r) => r.t === "run" && r.op.run.id === mp.runId)).toBe(true);
    expect(ledger.feedback.get(mp.feedbackId)).toMatchObject({ key: "correctness", delivered: false });

    expect(await sender.drain(Date.now() + 10_000)).toMatchObject({ pending: 0, rejected: 0 });
    expect(ledger.feedback.get(mp.feedbackId)?.delivered).toBe(true);
    expect(backend.store.feedback.get(mp.feedbackId)).toMatchObject({ run_id: mp.runId, key: "correctness", score: 0.5, comment: "part" });
    expect(backend.store.runs.get(mp.runId)?.inputs).toEqual({ q: "how long do I have to return a grinder?" });
  },
);

test("a run's attachments are spooled with it and delivered in its multipart body, byte for byte", async () => {
  const { collector, spool, backend, sender } = await setup();
  const runId = uuid7();
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10, 0x80]);
  const body = multipartOf([
    [`post.${runId}`, "application/json", Buffer.from(JSON.stringify(run(runId, "with-attachments")))],
    [`attachment.${runId}.chart.png`, "image/png", png],
    [`attachment.${runId}.notes`, "text/plain", Buffer.from("grinder returns: 30 days")],
  ]);
  const headers = { "x-api-key": "run-token", "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
  expect((await fetch(`${collector.url}/runs/multipart`, { method: "POST", headers, body: new Uint8Array(body) })).status).toBe(202);
  const spooled = Spool.open(spool.dir)
    .all()
    .find((r) => r.t === "run" && r.op.run.id === runId);
  expect(spooled?.t === "run" && spooled.op.attachments?.map((a) => a.name)).toEqual(["chart.png", "notes"]);

  expect(await sender.drain(Date.now() + 10_000)).toMatchObject({ pending: 0, rejected: 0 });
  const stored = backend.store.attachments.get("run", runId, "chart.png");
  expect(stored?.mime_type).toBe("image/png");
  expect(Buffer.from(stored!.data).equals(png)).toBe(true);
  expect(Buffer.from(backend.store.attachments.get("run", runId, "notes")!.data).toString()).toBe("grinder returns: 30 days");
});

test("an attachment without its run in the body is refused, naming it, and nothing is spooled", async () => {
  const { collector, spool, ledger } = await setup();
  const runId = uuid7();
  const body = multipartOf([[`attachment.${runId}.lonely.txt`, "text/plain", Buffer.from("x")]]);
  const headers = { "x-api-key": "run-token", "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
  const res = await fetch(`${collector.url}/runs/multipart`, { method: "POST", headers, body: new Uint8Array(body) });
  expect(res.status).toBe(422);
  expect(((await res.json()) as { detail: string }).detail).toContain(`"lonely.txt" of run ${runId}`);
  expect(Spool.open(spool.dir).all()).toHaveLength(0);
  expect(ledger.problems.join("\n")).toContain("lonely.txt");
});

test("keeps telling workers not to compress: on loopback it costs more CPU than it saves", async () => {
  const { collector } = await setup();
  const info = (await (await fetch(`${collector.url}/info`, { headers: { "x-api-key": "run-token" } })).json()) as {
    instance_flags: Record<string, unknown>;
  };
  expect(info.instance_flags).toMatchObject({ gzip_body_enabled: false, zstd_compression_enabled: false });
});

test("everything else is passed through to the backend with the real key, which never reaches the worker", async () => {
  const { collector, backend } = await setup();
  await backend.store.datasets.create({ name: "read-me" });
  const res = await fetch(`${collector.url}/datasets?name=read-me`, { headers: { "x-api-key": "run-token" } });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(JSON.parse(text)[0].name).toBe("read-me");
  expect(text).not.toContain("real-secret-key");
});

test("the tests a hint says declare its example go to the ledger (to name them if their worker dies), not the spool", async () => {
  const { collector, spool, ledger } = await setup();
  const hint = {
    dataset: "d",
    experiment: { name: "d:run", id: "00000000-0000-4000-8000-000000000001" },
    inputs: { q: 1 },
    inputsHash: "h1",
    outputsHash: "h2",
  };
  const declared = { file: "/p/evals/a.test.ts", tests: ["d case, run 1", "d case, run 2"] };
  expect((await post(collector.url, "/_tally/examples", [{ ...hint, declared }])).status).toBe(202);
  expect(ledger.declared).toEqual(declared.tests.map((name) => ({ file: declared.file, name, dataset: "d", experimentName: "d:run" })));
  expect(
    Spool.open(spool.dir)
      .all()
      .map(({ seq: _, ...body }) => body),
  ).toEqual([{ t: "example", example: hint }]);
  const bad = await post(collector.url, "/_tally/examples", [{ ...hint, declared: { file: "/p/a.test.ts", tests: "one" } }]);
  expect(bad.status).toBe(422);
});
