import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { Ledger } from "../ledger/ledger.js";
import { ExperimentRegistry } from "../registry/registry.js";
import { startServer } from "../server/index.js";
import { Spool } from "../spool/spool.js";
import { createUpstream } from "../upstream/http.js";
import { Sender } from "../upstream/sender.js";
import { uuid7 } from "../wire/ids.js";
import { startCollector } from "./server.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup() {
  const backend = await startServer();
  const upstream = createUpstream({ apiUrl: backend.url, apiKey: "real-secret-key" });
  const ledger = new Ledger();
  const registry = new ExperimentRegistry({ upstream, webUrl: "http://x", metadata: {}, retryForMs: 5000 });
  const spool = Spool.create(mkdtempSync(join(tmpdir(), "collector-")), { pid: 1, runKey: "r", startedAt: "", backend: "x" });
  const sender = new Sender({ spool, upstream, registry, ledger });
  const collector = await startCollector({ token: "run-token", spool, sender, ledger, registry, upstream });
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
  expect((await fetch(collector.url + "/info")).status).toBe(401);
  expect((await post(collector.url, "/runs/batch", { post: [] }, "wrong")).status).toBe(401);
  expect((await fetch(collector.url + "/info", { headers: { "x-api-key": "run-token" } })).status).toBe(200);
});

test("a run is in the spool before the worker gets its answer", async () => {
  const { collector, spool, ledger } = await setup();
  const id = uuid7();
  const res = await post(collector.url, "/runs/batch", { post: [{ id, trace_id: id, dotted_order: `20261121T000000000000Z${id}`, name: "r", run_type: "chain", session_name: "p", start_time: "2026-11-21T00:00:00Z" }] });
  expect(res.status).toBe(202);
  expect(Spool.open(spool.dir).all().some((r) => r.t === "run" && r.op.run.id === id)).toBe(true);
  expect(ledger.runs.get(id)?.received).toBe(1);
});

test("malformed requests get a 4xx with a message and the collector keeps serving", async () => {
  const { collector } = await setup();
  const bad = await fetch(collector.url + "/runs/batch", { method: "POST", headers: { "x-api-key": "run-token" }, body: "{not json" });
  expect(bad.status).toBeGreaterThanOrEqual(400);
  expect(bad.status).toBeLessThan(500);
  expect((await bad.json()).detail).toMatch(/tally collector/);
  const noId = await post(collector.url, "/feedback", { key: "k" });
  expect(noId.status).toBe(422);
  const mp = await fetch(collector.url + "/runs/multipart", { method: "POST", headers: { "x-api-key": "run-token", "content-type": "multipart/form-data; boundary=x" }, body: "garbage" });
  expect(mp.status).toBeGreaterThanOrEqual(400);
  expect((await fetch(collector.url + "/info", { headers: { "x-api-key": "run-token" } })).status).toBe(200);
});

test("everything else is passed through to the backend with the real key, which never reaches the worker", async () => {
  const { collector, backend } = await setup();
  await backend.store.datasets.create({ name: "read-me" });
  const res = await fetch(collector.url + "/datasets?name=read-me", { headers: { "x-api-key": "run-token" } });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(JSON.parse(text)[0].name).toBe("read-me");
  expect(text).not.toContain("real-secret-key");
});
