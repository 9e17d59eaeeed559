import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { RestBackend } from "../../packages/core/src/backend/langsmith/rest-backend.js";
import { startServer } from "../../packages/store/src/index.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { backendConformance, retryingTransient } from "./conformance.js";

// The LangSmith REST adapter against the project's own LangSmith-compatible server over real HTTP,
// then the same suite through the fault proxy (5xx, 429, dropped connections, lost answers).

async function server() {
  return startServer({ dbPath: join(mkdtempSync(join(tmpdir(), "tally-rest-")), "backend.db") });
}

backendConformance("LangSmith REST", {
  async open() {
    const s = await server();
    return { backend: new RestBackend({ apiUrl: s.url, apiKey: "k" }), close: () => s.close() };
  },
});

let injected = 0;
backendConformance("LangSmith REST through the fault proxy", {
  async open() {
    const s = await server();
    const proxy = await startFaultProxy({ target: s.url, faults: ["500", "503", "429", "drop", "drop-after"], rate: 0.3, seed: 7 });
    return {
      backend: new RestBackend({ apiUrl: proxy.url, apiKey: "k" }),
      close: async () => {
        injected += Object.values(proxy.stats.injected).reduce((n, k) => n + (k ?? 0), 0);
        await proxy.close();
        await s.close();
      },
    };
  },
  call: retryingTransient,
});

test("the fault proxy did get in the way of the suite above", () => {
  expect(injected).toBeGreaterThan(20);
});

test("the REST adapter counts the bodies it sends, and names no key in its errors", async () => {
  const s = await server();
  try {
    const b = new RestBackend({ apiUrl: s.url, apiKey: "secret-key-123" });
    const ds = await b.ensureDataset("wire");
    await b.upsertExamples(ds.id, [{ id: "6b0f1c1e-5b1a-4f5e-9a51-0d7c2f1b2a11", dataset_id: ds.id, inputs: { q: 1 } }]);
    const stats = b.wireStats();
    expect(stats.requests).toBe(1);
    expect(stats.wireBytes).toBeGreaterThan(0);
    const err = await b
      .upsertExamples("00000000-0000-4000-8000-000000000000", [{ id: "6b0f1c1e-5b1a-4f5e-9a51-0d7c2f1b2a12", dataset_id: "x", inputs: {} }])
      .catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/404/);
    expect(String(err)).not.toContain("secret-key-123");
    await b.close();
  } finally {
    await s.close();
  }
});
