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
