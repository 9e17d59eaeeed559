// Live updates: `tally ui` started before a run sees it arrive (another connection writes the file,
// as another process would), the experiment page carries its nonce'd polling script while the run
// records, and `/experiments/:id/live` tells the script what changed and when the run has ended.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuid4 } from "@tally/core/wire";
import { LOCAL_TENANT_ID } from "../db/db.js";
import { type RunningServer, startServer } from "../server/app.js";
import { type RunningUi, startUi } from "./index.js";
import type { LiveState } from "./live.js";

let dir: string;
let srv: RunningServer;
let ui: RunningUi;
let client: Client;
let datasetId: string;
let exampleId: string;

async function get(path: string) {
  const res = await fetch(`${ui.url}${path}`, { redirect: "manual" });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function live(id: string): Promise<{ status: number; type: string | null; body: LiveState }> {
  const res = await fetch(`${ui.url}/experiments/${id}/live`);
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as LiveState };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tally-ui-live-"));
  const dbPath = join(dir, "tally.db");
  // The recording server and the viewer share the file, each with its own connection, from the start.
  srv = await startServer({ dbPath });
  client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const dataset = await client.createDataset("live-qa");
  datasetId = dataset.id;
  const examples = await client.createExamples({ datasetId, inputs: [{ q: "1 + 1?" }], outputs: [{ a: "2" }] });
  exampleId = examples[0]!.id;
  ui = await startUi({ dbPath, port: 0 });
});

afterAll(async () => {
  await ui?.close();
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a run recorded while tally ui is open", () => {
  let experiment: string;
  const versions: string[] = [];

  it("shows the new experiment without a restart, live while it records", async () => {
    const project = await client.createProject({ projectName: "live-qa:rk-1", referenceDatasetId: datasetId });
    experiment = project.id;
    const ds = await get(`/datasets/${datasetId}`);
    expect(ds.text).toContain(`href="/experiments/${experiment}"`);
    expect((await get("/")).text).toContain("live-qa:rk-1");

    const page = await get(`/experiments/${experiment}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).not.toMatch(/connect-src[^;]*(\*|http)/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    // Two scripts (the layout's and the live one), both carrying this response's nonce, nothing else.
    expect(page.text.match(/<script/g)).toHaveLength(2);
    expect(page.text.match(new RegExp(`<script nonce="${nonce.replace(/[+/=]/g, "\\$&")}">`, "g"))).toHaveLength(2);
    expect(page.text).toContain(`<span id="live-status" class="chip running" data-live="/experiments/${experiment}/live"`);
    expect(page.text).toMatch(/>running<\/span>/); // the no-JavaScript view
    const rootVersion = /<div id="live-root" data-version="([^"]+)">/.exec(page.text)?.[1];
    expect(rootVersion).toBeDefined();

    const first = await live(experiment);
    expect(first.status).toBe(200);
    expect(first.type).toBe("application/json");
    expect(first.body).toMatchObject({ runs: 0, pending: 0, feedback: 0, ended: false, endTime: null });
    // The page was rendered at the state the endpoint answers: nothing to fetch yet.
    expect(first.body.version).toBe(rootVersion);
    versions.push(first.body.version);
  });

  it("moves on as runs and feedback arrive", async () => {
    const root = new RunTree({
      name: "adds",
      run_type: "chain",
      inputs: { q: "1 + 1?" },
      project_name: "live-qa:rk-1",
      reference_example_id: exampleId,
      client,
    });
    await root.postRun();
    await client.awaitPendingTraceBatches();
    const started = await live(experiment);
    expect(started.body).toMatchObject({ runs: 1, pending: 1, ended: false });
    expect(started.body.version).not.toBe(versions.at(-1));
    expect(started.body.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    versions.push(started.body.version);

    await root.end({ a: "2" });
    await root.patchRun();
    await client.awaitPendingTraceBatches();
    const finished = await live(experiment);
    expect(finished.body).toMatchObject({ runs: 1, pending: 0, ended: false });
    expect(finished.body.version).not.toBe(versions.at(-1));
    versions.push(finished.body.version);

    await client.createFeedback(root.id, "pass", { score: true, sessionId: experiment });
    const scored = await live(experiment);
    expect(scored.body).toMatchObject({ runs: 1, feedback: 1, ended: false });
    expect(scored.body.version).not.toBe(versions.at(-1));
    versions.push(scored.body.version);
    // Unchanged state, unchanged version: the page is not fetched again for nothing.
    expect((await live(experiment)).body.version).toBe(scored.body.version);

    const page = await get(`/experiments/${experiment}`);
    expect(page.text).toContain(`href="/runs/${root.id}"`);
    expect(page.text).toContain("✓ pass");
    expect(page.text).toContain('id="live-status"');
  });

  it("says when the run has ended, and the page stops being live", async () => {
    await client.updateProject(experiment, { endTime: new Date().toISOString() });
    const ended = await live(experiment);
    expect(ended.body.ended).toBe(true);
    expect(ended.body.endTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(ended.body.version).not.toBe(versions.at(-1));
    const page = await get(`/experiments/${experiment}`);
    expect(page.text).not.toContain('id="live-status"');
    expect(page.text.match(/<script/g)).toHaveLength(1);
    expect(page.text).toContain('<div id="live-root">'); // what the last swap reads
    expect(page.text).not.toMatch(/chip running/);
    // The link Tally prints shows the same page, live too while running.
    const printed = await get(`/o/${LOCAL_TENANT_ID}/datasets/${datasetId}/compare?selectedSessions=${experiment}`);
    expect(printed.text).toContain("<h1>live-qa:rk-1");
  });

  it("is live on the link Tally prints too, while the next run records", async () => {
    const next = await client.createProject({ projectName: "live-qa:rk-2", referenceDatasetId: datasetId });
    const printed = await get(`/o/${LOCAL_TENANT_ID}/datasets/${datasetId}/compare?selectedSessions=${next.id}`);
    expect(printed.status).toBe(200);
    expect(printed.text).toContain(`data-live="/experiments/${next.id}/live"`);
    expect(printed.text.match(/<script nonce=/g)).toHaveLength(2);
    // And it has a previous experiment now: the first one, which ended.
    expect(printed.text).toContain(`id="compare-previous" href="/datasets/${datasetId}/compare?selectedSessions=${experiment},${next.id}"`);
    expect((await get(`/datasets/${datasetId}`)).text).toContain("live-qa:rk-2");
  });
});

describe("the live endpoint", () => {
  it("answers 404 JSON for unknown ids", async () => {
    const res = await live(uuid4());
    expect(res.status).toBe(404);
    expect(res.type).toBe("application/json");
    expect(res.body).toMatchObject({ error: "not_found" });
    const odd = await fetch(`${ui.url}/experiments/${encodeURIComponent("<x>")}/live`);
    expect(odd.status).toBe(404);
    expect(await odd.text()).not.toContain("<x>");
  });

  it("keeps the loopback-only rule", async () => {
    const http = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${ui.url}/experiments/${uuid4()}/live`, { headers: { host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it("is not served for writes", async () => {
    expect((await fetch(`${ui.url}/experiments/${uuid4()}/live`, { method: "POST" })).status).toBe(405);
  });
});
