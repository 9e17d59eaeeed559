import { describe, expect, it } from "vitest";
import { ClientTracker } from "./client-tracker.js";
import type { LangsmithModules } from "./langsmith-types.js";

// A stand-in for langsmith's Client: only the methods the tracker wraps, recording which ingest
// path each batch took.
function fakeModules() {
  const calls: string[] = [];
  class Client {
    apiUrl = "https://api.smith.langchain.com";
    apiKey = "user-key";
    async batchIngestRuns(_batch?: unknown) {
      calls.push("batch");
    }
    async multipartIngestRuns() {
      calls.push("multipart");
    }
    async createFeedback() {
      calls.push("feedback");
    }
  }
  return { calls, mods: { Client } as unknown as LangsmithModules, Client };
}

const run = (extra: object = {}) => ({ id: "r1", trace_id: "r1", dotted_order: "x", ...extra });

describe("ClientTracker", () => {
  it("sends JSON batches as they are, and batches with attachments through multipart", async () => {
    const { calls, mods, Client } = fakeModules();
    new ClientTracker("http://127.0.0.1:1", "token").install(mods);
    const client = new Client();
    await client.batchIngestRuns({ runCreates: [run()], runUpdates: [run({ attachments: {} })] } as never);
    await client.batchIngestRuns({
      runCreates: [run()],
      runUpdates: [run({ attachments: { pic: ["image/png", new Uint8Array([1])] } })],
    } as never);
    expect(calls).toEqual(["batch", "multipart"]);
  });

  it("points every client it sees at the collector and waits for its calls in flush()", async () => {
    const { mods, Client } = fakeModules();
    const tracker = new ClientTracker("http://127.0.0.1:1", "token");
    tracker.install(mods);
    const client = new Client();
    let settled = false;
    void tracker.track(new Promise((r) => setTimeout(r, 20)).then(() => (settled = true)));
    await client.createFeedback();
    expect(client.apiUrl).toBe("http://127.0.0.1:1");
    expect(client.apiKey).toBe("token");
    expect(await tracker.flush(Date.now() + 5_000)).toEqual([]);
    expect(settled).toBe(true);
  });
});

describe("the loopback transport (real langsmith Client)", () => {
  it("hands a client pointed at the collector its /info, and posts the SDK's batch body over node:http", async () => {
    const { createServer } = await import("node:http");
    const langsmith = await import("langsmith");
    const seen: Array<{ method?: string; url?: string; key?: unknown; body: string }> = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      seen.push({ method: req.method, url: req.url, key: req.headers["x-api-key"], body: Buffer.concat(chunks).toString() });
      res.writeHead(202, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const tracker = new ClientTracker(url, "run-token");
      tracker.install({ Client: langsmith.Client } as unknown as LangsmithModules);
      const client = new langsmith.Client({ apiUrl: url, apiKey: "run-token", manualFlushMode: true });
      const id = "0190f0e6-0000-7000-8000-000000000001";
      const now = new Date().toISOString();
      await client.batchIngestRuns({
        runCreates: [
          {
            id,
            trace_id: id,
            dotted_order: `20260101T000000000000Z${id}`,
            name: "t",
            run_type: "chain",
            inputs: { q: 1 },
            start_time: now,
          } as never,
        ],
      });
      // The batch went to the collector as the SDK serialised it; /info was never asked for.
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["POST /runs/batch"]);
      expect(seen[0]!.key).toBe("run-token");
      expect(JSON.parse(seen[0]!.body).post[0]).toMatchObject({ id, inputs: { q: 1 } });
      await client.flush();
      expect(seen.some((s) => s.url === "/info")).toBe(false);
    } finally {
      server.close();
    }
  });

  it("answers a collector error as an error the SDK's caller sees", async () => {
    const { postToCollector, CollectorError } = await import("./loopback.js");
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => res.writeHead(422).end("every run needs an id"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await expect(postToCollector(url, "t", "/runs/batch", "{}")).rejects.toThrow(/answered 422 to \/runs\/batch: every run needs an id/);
      await expect(postToCollector(url, "t", "/runs/batch", "{}")).rejects.toBeInstanceOf(CollectorError);
    } finally {
      server.close();
    }
    await expect(postToCollector(url, "t", "/x", "{}")).rejects.toThrow(/collector unreachable for \/x/);
  });
});
