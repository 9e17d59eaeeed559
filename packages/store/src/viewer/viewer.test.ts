import { join } from "node:path";
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import { uuid4, uuid7 } from "@tally/core/wire";
import { LOCAL_TENANT_ID } from "../db/db.js";
import { Store } from "../db/store.js";
import type { RunningServer } from "../server/app.js";
import { StoreNotFoundError, startUi } from "./index.js";
import { seededUi } from "./seeded-ui.test.fixture.js";

const XSS = `<script>alert("xss")</script>`;

const ids = {
  dataset: "",
  experiment: "",
  passRoot: "",
  xssRoot: "",
  failRoot: "",
  llmChild: "",
  toolGrandchild: "",
  project: "",
  traceRoot: "",
  bigExperiment: "",
};

/** Records a dataset, an experiment with nested test runs and feedback, and a plain trace, through the real SDK. */
async function seedWithSdk(srv: RunningServer): Promise<void> {
  const client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const dataset = await client.createDataset("capitals-qa", { description: "Capital cities" });
  ids.dataset = dataset.id;
  const examples = await client.createExamples({
    datasetId: dataset.id,
    inputs: [{ question: "Capital of France?" }, { question: XSS }, { question: "Capital of Mars?" }],
    outputs: [{ answer: "Paris" }, { answer: "none" }, { answer: "none" }],
  });
  const project = await client.createProject({
    projectName: "capitals-qa:rk-7f3a",
    referenceDatasetId: dataset.id,
    metadata: { tally_run_key: "rk-7f3a", __ls_runner: "vitest" },
  });
  ids.experiment = project.id;

  const t0 = Date.parse("2025-06-01T10:00:00.000Z");
  const tests = [
    { name: "answers the capital of France", example: examples[0]!, answer: "Paris", pass: true, correctness: 1, error: undefined },
    { name: `escapes ${XSS} in names`, example: examples[1]!, answer: XSS, pass: true, correctness: 0.5, error: undefined },
    {
      name: "refuses Mars",
      example: examples[2]!,
      answer: undefined,
      pass: false,
      correctness: 0,
      error: "AssertionError: expected 'Olympus' to be 'none'",
    },
  ];
  const roots: RunTree[] = [];
  for (const [i, t] of tests.entries()) {
    const start = t0 + i * 10_000;
    const root = new RunTree({
      name: t.name,
      run_type: "chain",
      inputs: t.example.inputs,
      project_name: project.name,
      reference_example_id: t.example.id,
      start_time: start,
      client,
    });
    await root.postRun();
    const llm = root.createChild({
      name: "ChatModel",
      run_type: "llm",
      inputs: { messages: [{ role: "user", content: t.example.inputs.question }] },
      start_time: start + 100,
    });
    await llm.postRun();
    const tool = llm.createChild({ name: "search_tool", run_type: "tool", inputs: { query: "capital" }, start_time: start + 200 });
    await tool.postRun();
    await tool.end({ hits: 3 }, undefined, start + 600);
    await tool.patchRun();
    await llm.end({ content: t.answer ?? "Olympus" }, undefined, start + 1_200);
    await llm.patchRun();
    await root.end(t.answer === undefined ? undefined : { answer: t.answer }, t.error, start + 1_500);
    await root.patchRun();
    roots.push(root);
    if (i === 0) {
      ids.passRoot = root.id;
      ids.llmChild = llm.id;
      ids.toolGrandchild = tool.id;
    }
  }
  ids.xssRoot = roots[1]!.id;
  ids.failRoot = roots[2]!.id;
  await client.awaitPendingTraceBatches();
  for (const [i, t] of tests.entries()) {
    await client.createFeedback(roots[i]!.id, "pass", { score: t.pass, sessionId: project.id });
    await client.createFeedback(roots[i]!.id, "correctness", {
      score: t.correctness,
      comment: i === 1 ? `half right ${XSS}` : undefined,
      sessionId: project.id,
    });
  }

  // A plain trace, outside any experiment.
  const trace = new RunTree({ name: "chat-turn", run_type: "chain", inputs: { text: "hello" }, project_name: "my-app", client });
  await trace.postRun();
  await trace.end({ text: "hi there" });
  await trace.patchRun();
  ids.traceRoot = trace.id;
  await client.awaitPendingTraceBatches();
  ids.project = (await client.readProject({ projectName: "my-app" })).id;

  // A session-level update, as Tally's close does.
  await client.updateProject(project.id, {
    endTime: new Date(t0 + 60_000).toISOString(),
    metadata: {
      tally_run_key: "rk-7f3a",
      __ls_runner: "vitest",
      commit: "0123456789abcdef0123",
      branch: "feature/ui",
      dataset_version: "2025-06-01T09:59:00.000000Z",
    },
  });
}

/** An experiment with 130 runs, straight through the store (fast), for paging. */
function seedBig(store: Store): void {
  const ds = store.datasets.create({ name: "big-dataset" });
  const session = store.sessions.create({
    name: "big-dataset:rk-big",
    reference_dataset_id: ds.id,
    start_time: "2025-06-02T00:00:00Z",
  }).session;
  ids.bigExperiment = session.id;
  const ops = [];
  for (let i = 0; i < 130; i++) {
    const id = uuid7();
    const start = new Date(Date.parse("2025-06-02T00:00:00Z") + i * 1000).toISOString();
    ops.push({
      kind: "create" as const,
      run: {
        id,
        name: `case ${String(i).padStart(3, "0")}`,
        run_type: "chain",
        session_id: session.id,
        trace_id: id,
        dotted_order: `${start.replace(/[-:.]/g, "").replace("Z", "000Z")}${id}`,
        start_time: start,
        end_time: new Date(Date.parse(start) + 250).toISOString(),
        inputs: { i },
        outputs: { ok: true },
      },
    });
  }
  store.runs.apply(ops);
  for (const op of ops) store.feedback.upsert({ id: uuid4(), run_id: op.run.id, key: "pass", score: true });
}

const seeded = seededUi("tally-ui-", async (srv) => {
  await seedWithSdk(srv);
  seedBig(srv.store);
});
const { get } = seeded;

describe("startUi", () => {
  it("listens on loopback and reports its URL", () => {
    expect(seeded.ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("rejects a missing store with a clear error", async () => {
    const missing = join(seeded.dir, "nope", "tally.db");
    const err = await startUi({ dbPath: missing, port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreNotFoundError);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toMatch(/LANGSMITH_API_KEY/);
  });

  it("`tally ui` explains a missing store and exits 1", async () => {
    const { main } = await import("../cli/main.js");
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(["ui", "--dir", join(seeded.dir, "empty"), "--port", "0"])).toBe(1);
    } finally {
      process.stderr.write = original;
    }
    expect(written.join("")).toContain(`tally ui: no local Tally store at ${join(seeded.dir, "empty", "tally.db")}`);
  });

  it("serves an already open store without closing it", async () => {
    const store = new Store(":memory:");
    const other = await startUi({ store, port: 0 });
    const res = await fetch(`${other.url}/`);
    expect(await res.text()).toContain("No experiments yet");
    await other.close();
    expect(store.isOpen).toBe(true);
    store.close();
  });
});

describe("home", () => {
  it("lists datasets with their experiments, run counts, pass rates and feedback averages", async () => {
    const { status, text, headers } = await get("/");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(text).toContain("capitals-qa");
    expect(text).toContain("capitals-qa:rk-7f3a");
    expect(text).toContain(`href="/experiments/${ids.experiment}"`);
    expect(text).toContain("66.7%"); // 2 of 3 passed
    expect(text).toContain(">correctness<");
    expect(text).toContain(">0.50<"); // mean of 1, 0.5, 0
    expect(text).toContain("big-dataset");
    // Most recent experiment first: capitals-qa's started now, big-dataset's in 2025.
    expect(text.indexOf(">capitals-qa</a></h2>")).toBeGreaterThan(0);
    expect(text.indexOf(">capitals-qa</a></h2>")).toBeLessThan(text.indexOf(">big-dataset</a></h2>"));
    expect(text).toContain("1 tracing project");
  });

  it("sends a CSP that only lets its own nonce'd script run", async () => {
    const { headers, text } = await get("/");
    const csp = headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(text).toContain(`<script nonce="${nonce}">`);
    expect(text.match(/<script/g)).toHaveLength(1);
    expect(text).not.toMatch(/<link rel="stylesheet"|src="http/);
  });
});

describe("experiment page", () => {
  it("is served at the link Tally prints, with metadata, statuses, scores and averages", async () => {
    const { status, text } = await get(`/o/${LOCAL_TENANT_ID}/datasets/${ids.dataset}/compare?selectedSessions=${ids.experiment}`);
    expect(status).toBe(200);
    expect(text).toContain("<h1>capitals-qa:rk-7f3a");
    expect(text).toContain("rk-7f3a");
    expect(text).toContain("01234567"); // short commit
    expect(text).toContain("feature/ui");
    expect(text).toContain("Dataset version");
    expect(text).toContain(`datetime="2025-06-01T09:59:00.000000Z"`);
    expect(text).toContain("answers the capital of France");
    expect(text).toContain("refuses Mars");
    expect(text).toContain("✓ pass");
    expect(text).toContain("✗ fail");
    expect(text).toContain("AssertionError: expected &#39;Olympus&#39; to be &#39;none&#39;");
    expect(text).toContain(`href="/runs/${ids.passRoot}"`);
    expect(text).toContain("1.50 s"); // latency of each test
    expect(text).toContain("Capital of France?"); // inputs preview
    expect(text).toContain("2 of 3 passed");
    expect(text).toMatch(/Average <span class="muted small">\(all 3 runs\)/);
    // tests in the order they ran
    expect(text.indexOf("answers the capital")).toBeLessThan(text.indexOf("refuses Mars"));
  });

  it("escapes user data everywhere (names, inputs, outputs, comments)", async () => {
    const { text } = await get(`/experiments/${ids.experiment}`);
    expect(text).not.toContain(XSS);
    expect(text).not.toContain("<script>alert");
    expect(text).toContain("escapes &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; in names");
    expect(text).toContain("half right &lt;script&gt;"); // the comment, as a tooltip
  });

  it("filters by status and by name", async () => {
    const failed = await get(`/experiments/${ids.experiment}?status=failed`);
    expect(failed.text).toContain("refuses Mars");
    expect(failed.text).not.toContain("answers the capital of France");
    const passed = await get(`/experiments/${ids.experiment}?status=passed`);
    expect(passed.text).toContain("answers the capital of France");
    expect(passed.text).not.toContain(">refuses Mars<");
    const searched = await get(`/experiments/${ids.experiment}?q=MARS`);
    expect(searched.text).toContain(">refuses Mars<");
    expect(searched.text).not.toContain(">answers the capital of France<");
  });

  it("pages through large experiments", async () => {
    const first = await get(`/experiments/${ids.bigExperiment}`);
    expect(first.text).toContain("case 000");
    expect(first.text).toContain("case 099");
    expect(first.text).not.toContain("case 100");
    expect(first.text).toContain("1–100 of 130 runs");
    expect(first.text).toContain(`href="/experiments/${ids.bigExperiment}?page=2"`);
    const second = await get(`/experiments/${ids.bigExperiment}?page=2`);
    expect(second.text).toContain("case 129");
    expect(second.text).not.toContain("case 099");
    expect(second.text).toContain("101–130 of 130 runs");
    expect(second.text).toContain("100%");
  });

  it("answers 404 for unknown experiments and a redirect for a compare link without one", async () => {
    expect((await get(`/experiments/${uuid4()}`)).status).toBe(404);
    expect((await get(`/o/${LOCAL_TENANT_ID}/datasets/${ids.dataset}/compare?selectedSessions=${uuid4()}`)).status).toBe(404);
    const r = await get(`/o/${LOCAL_TENANT_ID}/datasets/${ids.dataset}/compare`);
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe(`/datasets/${ids.dataset}`);
  });
});

describe("dataset page", () => {
  it("lists the dataset's experiments", async () => {
    const { status, text } = await get(`/datasets/${ids.dataset}`);
    expect(status).toBe(200);
    expect(text).toContain("Capital cities");
    expect(text).toContain("capitals-qa:rk-7f3a");
    expect((await get(`/datasets/${uuid4()}`)).status).toBe(404);
  });
});

describe("trace page", () => {
  it("shows the nested runs, inputs/outputs, reference outputs and feedback", async () => {
    const { status, text } = await get(`/runs/${ids.passRoot}`);
    expect(status).toBe(200);
    expect(text).toContain("answers the capital of France");
    expect(text).toContain(`id="run-${ids.llmChild}"`);
    expect(text).toContain(`id="run-${ids.toolGrandchild}"`);
    expect(text).toContain(">ChatModel<");
    expect(text).toContain(">search_tool<");
    expect(text).toContain("type-llm");
    expect(text).toContain("type-tool");
    // nesting: the tool run sits inside the llm run's <details>
    const llmAt = text.indexOf(`id="run-${ids.llmChild}"`);
    const toolAt = text.indexOf(`id="run-${ids.toolGrandchild}"`);
    expect(llmAt).toBeGreaterThan(0);
    expect(toolAt).toBeGreaterThan(llmAt);
    expect(text).toContain("Reference outputs");
    expect(text).toContain('<span class="j-key">&quot;answer&quot;</span>: <span class="j-str">&quot;Paris&quot;</span>');
    expect(text).toContain("<h2>Feedback</h2>");
    expect(text).toContain(">correctness<");
    expect(text).toContain(">true<"); // pass: true
    expect(text).toContain("capitals-qa:rk-7f3a"); // breadcrumb to the experiment
    expect(text).toContain("400 ms"); // the tool's latency
  });

  it("escapes inputs and outputs in the trace", async () => {
    const { text } = await get(`/runs/${ids.xssRoot}`);
    expect(text).not.toContain("<script>alert");
    expect(text).toContain("&lt;script&gt;alert(\\&quot;xss\\&quot;)&lt;/script&gt;");
  });

  it("shows errors of failed runs", async () => {
    const { text } = await get(`/runs/${ids.failRoot}`);
    expect(text).toContain("✗ fail");
    expect(text).toContain('<pre class="json error">AssertionError: expected &#39;Olympus&#39; to be &#39;none&#39;</pre>');
  });

  it("sends a child run to its trace, opened at the child", async () => {
    const r = await get(`/runs/${ids.toolGrandchild}`);
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe(`/runs/${ids.passRoot}#run-${ids.toolGrandchild}`);
  });

  it("accepts LangSmith's run links", async () => {
    const r = await get(`/o/${LOCAL_TENANT_ID}/projects/p/${ids.project}/r/${ids.traceRoot}?trace_id=${ids.traceRoot}`);
    expect(r.status).toBe(200);
    expect(r.text).toContain("chat-turn");
  });

  it("answers 404 for unknown runs", async () => {
    const r = await get(`/runs/${uuid4()}`);
    expect(r.status).toBe(404);
    expect(r.text).toContain("No run with id");
  });
});

describe("tracing projects", () => {
  it("lists projects that are not experiments, and their traces", async () => {
    const list = await get("/projects");
    expect(list.status).toBe(200);
    expect(list.text).toContain("my-app");
    expect(list.text).not.toContain("capitals-qa:rk-7f3a");
    const one = await get(`/projects/${ids.project}`);
    expect(one.status).toBe(200);
    expect(one.text).toContain("chat-turn");
    expect(one.text).toContain("hello");
    expect(one.text).toContain("hi there");
    expect(one.text).toContain(`href="/runs/${ids.traceRoot}"`);
  });
});

describe("HTTP", () => {
  it("answers unknown paths with 404, writes with 405, and HEAD without a body", async () => {
    expect((await get("/nope")).status).toBe(404);
    expect((await get("/runs/%E0%A4%A")).status).toBe(404);
    expect((await get("/", { method: "POST" })).status).toBe(405);
    const head = await get(`/experiments/${ids.experiment}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
  });

  it("refuses foreign Host names (DNS rebinding)", async () => {
    const http = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${seeded.ui.url}/`, { headers: { host: "evil.example:4317" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});
