import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuid4, uuid7 } from "@tally/core/wire";
import { type RunningServer, handler, startServer } from "./app.js";
import { Store } from "../db/store.js";

const BOUNDARY = "----LangSmithFormBoundaryapp";

function multipart(parts: [string, unknown, string?][]): Buffer {
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

const MP = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
const JSONH = { "content-type": "application/json" };

let srv: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  srv = await startServer({ logger: (l) => logs.push(l) });
});
afterAll(() => srv.close());

async function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const payload = Buffer.isBuffer(body) ? new Uint8Array(body) : body;
  const res = await fetch(`${srv.url}${path}`, { method, body: payload, headers: { "x-api-key": "secret-key-value", ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Record<string, unknown> & unknown[] };
}

describe("HTTP errors", () => {
  it("answers unknown routes with 404 {detail: 'not found'} and wrong methods with 405", async () => {
    expect(await call("GET", "/nope")).toEqual({ status: 404, json: { detail: "not found" } });
    expect((await call("PUT", "/info")).status).toBe(405);
  });

  it("answers bad JSON with 422 and a clear message", async () => {
    const r = await call("POST", "/datasets", "{not json", JSONH);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(/not valid JSON/);
    expect((await call("POST", "/datasets", "[1]", JSONH)).status).toBe(422);
    expect((await call("POST", "/runs/batch", '{"post": {}}', JSONH)).status).toBe(422);
  });

  it("answers malformed multipart with 422 and a non-multipart body with 415", async () => {
    expect((await call("POST", "/runs/multipart", "garbage", MP)).status).toBe(422);
    expect((await call("POST", "/runs/multipart", "{}", JSONH)).status).toBe(415);
    const badJson = multipart([[`post.${uuid7()}`, Buffer.from("{nope")]]);
    expect((await call("POST", "/runs/multipart", badJson, MP)).json.detail).toMatch(/not valid JSON/);
  });

  it("turns a handler crash into a 500 and keeps serving", async () => {
    const original = srv.store.runs.get.bind(srv.store.runs);
    srv.store.runs.get = () => {
      throw new Error("disk on fire");
    };
    try {
      const r = await call("GET", `/runs/${uuid7()}`);
      expect(r).toEqual({ status: 500, json: { detail: "internal error: disk on fire" } });
    } finally {
      srv.store.runs.get = original;
    }
    expect((await call("GET", "/info")).status).toBe(200);
    expect(srv.stats.errors).toBeGreaterThanOrEqual(1);
  });

  it("never answers 5xx to malformed bodies on any write route", async () => {
    const id = uuid7();
    await call("POST", "/datasets", JSON.stringify({ id, name: `fuzz-${id}` }), JSONH);
    await call("POST", "/sessions", JSON.stringify({ id, name: `fuzz-${id}` }), JSONH);
    const routes = [
      ["POST", "/datasets"],
      ["PATCH", `/datasets/${id}`],
      ["PUT", `/datasets/${id}/tags`],
      ["PUT", `/datasets/${id}/splits`],
      ["POST", "/examples"],
      ["POST", "/examples/bulk"],
      ["PATCH", "/examples/bulk"],
      ["PATCH", `/examples/${id}`],
      ["POST", "/sessions"],
      ["PATCH", `/sessions/${id}`],
      ["POST", "/runs"],
      ["POST", "/runs/batch"],
      ["PATCH", `/runs/${id}`],
      ["POST", "/runs/query"],
      ["POST", "/runs/stats"],
      ["POST", "/feedback"],
      ["PATCH", `/feedback/${id}`],
    ];
    const bodies = [
      "null",
      "[]",
      "1",
      '"s"',
      "{}",
      '{"id":1,"name":{},"key":5}',
      '{"post":[null],"patch":[{}]}',
      '[{"id":"x"}]',
      '{"session":"x","limit":"z","cursor":5,"filter":5}',
      '{"tag":5,"as_of":{},"end_time":"garbage","extra":5}',
      `{"id":"${uuid7()}","name":{"a":1},"start_time":[],"parent_run_id":7,"session_name":5,"session_id":{},"trace_id":3}`,
    ];
    for (const [method, path] of routes) {
      for (const body of bodies) {
        const r = await call(method!, path!, body, JSONH);
        expect(r.status, `${method} ${path} ${body}`).toBeLessThan(500);
      }
    }
    for (const [method, path] of [
      ["POST", "/runs/multipart"],
      ["POST", `/v1/platform/datasets/${id}/examples`],
      ["PATCH", `/v1/platform/datasets/${id}/examples`],
    ]) {
      for (const body of ["", "--b--", "--b\r\n\r\n", '--b\r\nContent-Disposition: form-data; name="x.y.z"\r\n\r\n{}\r\n--b--']) {
        const r = await call(method!, path!, body, { "content-type": "multipart/form-data; boundary=b" });
        expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
    }
  });

  it("404 bodies say 'not found' in lowercase for every resource", async () => {
    for (const path of [
      `/examples/${uuid4()}`,
      `/datasets/${uuid4()}`,
      `/sessions/${uuid4()}`,
      `/runs/${uuid4()}`,
      `/feedback/${uuid4()}`,
      "/examples/not-a-uuid",
    ]) {
      const r = await call("GET", path);
      expect(r.status).toBe(404);
      expect(String(r.json.detail)).toContain("not found");
    }
  });

  it("never logs header values", () => {
    expect(logs.join("\n")).not.toContain("secret-key-value");
    expect(logs.some((l) => /^GET \/nope 404 \d+ms$/.test(l))).toBe(true);
  });
});

describe("ingest over HTTP", () => {
  it("accepts the /api/v1 prefix LANGSMITH_ENDPOINT may carry", async () => {
    expect((await call("GET", "/api/v1/info")).json.version).toBeDefined();
    expect((await call("GET", "/api/info")).status).toBe(200);
  });

  it("ingests a gzip'd multipart batch with a multi-MB payload", async () => {
    const id = uuid7();
    const big = "x".repeat(5 * 1024 * 1024);
    const body = gzipSync(
      multipart([
        [
          `post.${id}`,
          {
            id,
            name: "big",
            run_type: "chain",
            session_name: "big",
            start_time: "2024-01-01T00:00:00Z",
            trace_id: id,
            dotted_order: `20240101T000000000000Z${id}`,
          },
        ],
        [`post.${id}.inputs`, { big }],
        [`attachment.${id}.log`, Buffer.from("hello"), "text/plain"],
      ]),
    );
    const before = srv.stats.gzipRequests;
    expect((await call("POST", "/runs/multipart", body, { ...MP, "content-encoding": "gzip" })).status).toBe(202);
    expect(srv.stats.gzipRequests).toBe(before + 1);
    const run = (await call("GET", `/runs/${id}`)).json as unknown as {
      inputs: { big: string };
      attachments: Record<string, { presigned_url: string }>;
    };
    expect(run.inputs.big.length).toBe(big.length);
    const att = await fetch(run.attachments.log!.presigned_url);
    expect(att.headers.get("content-type")).toBe("text/plain");
    expect(await att.text()).toBe("hello");
  });

  it.each([
    ["zstd", zstdCompressSync],
    ["gzip", gzipSync],
  ] as const)("accepts %s bodies on every kind of body route and counts them", async (enc, compress) => {
    const h = (type: Record<string, string>) => ({ ...type, "content-encoding": enc });
    const z = (v: unknown) => compress(Buffer.from(JSON.stringify(v)));
    const before = { count: srv.stats.byEncoding[enc] ?? 0, wire: srv.stats.bodyBytes.wire, decoded: srv.stats.bodyBytes.decoded };
    const ds = await call("POST", "/datasets", z({ name: `enc-${enc}-${uuid4()}` }), h(JSONH));
    expect(ds.status).toBe(200);
    const dsId = ds.json.id as string;
    const exampleId = uuid4();
    const examples = compress(
      multipart([
        [exampleId, { created_at: "2024-01-01T00:00:00Z" }],
        [`${exampleId}.inputs`, { q: enc }],
      ]),
    );
    expect((await call("POST", `/v1/platform/datasets/${dsId}/examples`, examples, h(MP))).status).toBe(200);
    const session = await call("POST", "/sessions", z({ name: `enc-exp-${enc}-${uuid4()}`, reference_dataset_id: dsId }), h(JSONH));
    const [a, b, c] = [uuid7(), uuid7(), uuid7()];
    const run = (id: string) => ({
      id,
      name: "r",
      run_type: "chain",
      session_id: session.json.id,
      trace_id: id,
      dotted_order: `20240101T000000000000Z${id}`,
      start_time: "2024-01-01T00:00:00Z",
    });
    expect((await call("POST", "/runs", z(run(a)), h(JSONH))).status).toBe(202);
    expect((await call("PATCH", `/runs/${a}`, z({ end_time: "2024-01-01T00:00:01Z", outputs: { ok: 1 } }), h(JSONH))).status).toBe(202);
    expect((await call("POST", "/runs/batch", z({ post: [run(b)] }), h(JSONH))).status).toBe(202);
    const fbPart = uuid7();
    const mp = compress(
      multipart([
        [`post.${c}`, run(c)],
        [`feedback.${fbPart}`, { run_id: c, trace_id: c, key: "via-part", score: 1 }],
      ]),
    );
    expect((await call("POST", "/runs/multipart", mp, h(MP))).status).toBe(202);
    expect((await call("POST", "/feedback", z({ id: uuid7(), run_id: a, key: "via-post", score: 0 }), h(JSONH))).status).toBe(200);

    expect(srv.store.examples.get(exampleId)?.inputs).toEqual({ q: enc });
    expect(srv.store.runs.get(a)?.outputs).toEqual({ ok: 1 });
    expect(srv.store.runs.get(b)).toBeDefined();
    expect(srv.store.feedback.get(fbPart)).toMatchObject({ key: "via-part", run_id: c, session_id: session.json.id });
    expect(srv.store.runs.count({ sessionId: session.json.id as string })).toBe(3);
    expect(srv.stats.byEncoding[enc]).toBe(before.count + 8);
    expect(srv.stats.bodyBytes.decoded - before.decoded).toBeGreaterThan(srv.stats.bodyBytes.wire - before.wire);
  });

  it("stores a multipart feedback part exactly as POST /feedback stores the same feedback", async () => {
    const runId = uuid7();
    const [viaPart, viaPost] = [uuid7(), uuid7()];
    const fb = {
      run_id: runId,
      trace_id: runId,
      key: "same",
      score: 0.5,
      value: "v",
      comment: "c",
      feedback_source: { type: "model", metadata: { m: 1 } },
      feedbackConfig: { type: "continuous" },
    };
    expect(
      (
        await call("POST", "/runs/multipart", zstdCompressSync(multipart([[`feedback.${viaPart}`, fb]])), {
          ...MP,
          "content-encoding": "zstd",
        })
      ).status,
    ).toBe(202);
    expect((await call("POST", "/feedback", JSON.stringify({ ...fb, id: viaPost }), JSONH)).status).toBe(200);
    const strip = ({ id: _id, created_at: _c, modified_at: _m, ...rest }: Record<string, unknown>) => rest;
    expect(strip(srv.store.feedback.get(viaPart)!)).toEqual(strip(srv.store.feedback.get(viaPost)!));
  });

  it("answers 400 for a truncated zstd body and stores nothing of it", async () => {
    const id = uuid7();
    const body = zstdCompressSync(
      multipart([
        [`post.${id}`, { id, name: "cut", session_name: "cut", trace_id: id, dotted_order: `20240101T000000000000Z${id}` }],
        [`post.${id}.inputs`, { pad: "p".repeat(100_000) }],
      ]),
    );
    const r = await call("POST", "/runs/multipart", body.subarray(0, body.length - 5), { ...MP, "content-encoding": "zstd" });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/could not decode zstd request body: the body ends inside/);
    expect(srv.store.runs.get(id)).toBeUndefined();
  });

  it("stays exact under many concurrent writers with overlapping and out-of-order ops", async () => {
    const session = `concurrent-${uuid4()}`;
    const roots = Array.from({ length: 40 }, () => uuid7());
    const requests: Promise<{ status: number }>[] = [];
    for (const id of roots) {
      const run = { id, name: "t", session_name: session, trace_id: id, dotted_order: `20240101T000000000000Z${id}` };
      // patch first, create second, and the create twice (retry), all in flight together
      requests.push(
        call(
          "POST",
          "/runs/multipart",
          multipart([
            [`patch.${id}`, { ...run, end_time: 1704067201000 }],
            [`patch.${id}.outputs`, { ok: true }],
          ]),
          MP,
        ),
      );
      requests.push(
        call(
          "POST",
          "/runs/multipart",
          multipart([
            [`post.${id}`, { ...run, start_time: "2024-01-01T00:00:00Z" }],
            [`post.${id}.inputs`, { i: 1 }],
          ]),
          MP,
        ),
      );
      requests.push(call("POST", "/runs/batch", JSON.stringify({ post: [{ ...run, start_time: "2024-01-01T00:00:00Z" }] }), JSONH));
    }
    const results = await Promise.all(requests);
    expect(results.every((r) => r.status === 202)).toBe(true);
    const sid = srv.store.sessions.list({ name: session })[0]!.id;
    expect(srv.store.runs.count({ sessionId: sid })).toBe(40);
    const page = srv.store.runs.query({ session: [sid], limit: 100 });
    expect(page.runs.every((r) => r.status === "success" && (r.outputs as { ok: boolean }).ok && (r.inputs as { i: number }).i === 1)).toBe(
      true,
    );
  });

  it("answers 413 over the body limit", async () => {
    const small = await startServer({ bodyLimitBytes: 1024 });
    try {
      const res = await fetch(`${small.url}/runs/batch`, {
        method: "POST",
        body: JSON.stringify({ post: [{ id: uuid7(), x: "y".repeat(2000) }] }),
        headers: JSONH,
      });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });
});

describe("options", () => {
  it("advertises zstd and gzip in /info by default, each switchable off", async () => {
    type Flags = { instance_flags: { gzip_body_enabled: boolean; zstd_compression_enabled: boolean } };
    expect(((await call("GET", "/info")).json as unknown as Flags).instance_flags).toMatchObject({
      gzip_body_enabled: true,
      zstd_compression_enabled: true,
    });
    const s = await startServer({ zstd: false });
    try {
      const info = (await (await fetch(`${s.url}/info`)).json()) as Flags;
      expect(info.instance_flags).toMatchObject({ gzip_body_enabled: true, zstd_compression_enabled: false });
      // Not advertised, still accepted: a client may have read /info from elsewhere.
      const res = await fetch(`${s.url}/datasets`, {
        method: "POST",
        body: new Uint8Array(zstdCompressSync(JSON.stringify({ name: "z" }))),
        headers: { ...JSONH, "content-encoding": "zstd" },
      });
      expect(res.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("multipart: false hides /runs/multipart and says so in /info", async () => {
    const s = await startServer({ multipart: false, gzip: false });
    try {
      const info = (await (await fetch(`${s.url}/info`)).json()) as {
        batch_ingest_config: { use_multipart_endpoint: boolean };
        instance_flags: { gzip_body_enabled: boolean };
      };
      expect(info.batch_ingest_config.use_multipart_endpoint).toBe(false);
      expect(info.instance_flags.gzip_body_enabled).toBe(false);
      expect((await fetch(`${s.url}/runs/multipart`, { method: "POST", body: "x", headers: MP })).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("latencyMs delays every response", async () => {
    const s = await startServer({ latencyMs: 150 });
    try {
      const t0 = performance.now();
      await fetch(`${s.url}/nope`);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      await s.close();
    }
  });

  it("handler() mounts on an existing http.Server", async () => {
    const store = new Store();
    const listener = handler(store);
    const server = http.createServer(listener);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/datasets`, {
        method: "POST",
        body: JSON.stringify({ name: "mounted" }),
        headers: JSONH,
      });
      expect(res.status).toBe(200);
      expect(store.datasets.getByName("mounted")).toBeDefined();
      expect(listener.stats.byRoute["POST /datasets"]).toBe(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      store.close();
    }
  });

  it("close() is idempotent and frees the port", async () => {
    const s = await startServer();
    await fetch(`${s.url}/info`); // leaves a keep-alive connection
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(`${s.url}/info`)).rejects.toThrow();
    expect(s.store.isOpen).toBe(false);
  });
});
