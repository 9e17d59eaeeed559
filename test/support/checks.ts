import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { startServer } from "../../packages/store/src/index.js";
import { withReads } from "./reads.js";
import type { Backend, Run } from "./backend.js";
import type { GeneratedSuite } from "./suite.js";

// The delivery assertions every end-to-end case makes, from what the backend holds over HTTP.

export interface DeliveryExpectations {
  /** Root runs beyond one per test (retried attempts are recorded too). */
  extraAttempts?: number;
  failing?: number;
}

export async function expectDelivered(backend: Backend, suite: GeneratedSuite, opts: DeliveryExpectations = {}) {
  const [ds] = await backend.datasets(suite.dataset);
  expect(ds, `dataset "${suite.dataset}" exists`).toBeDefined();
  const experiments = await backend.experimentsOf(ds!.id);
  expect(
    experiments.map((e) => e.name),
    "exactly one experiment for the dataset",
  ).toHaveLength(1);
  const exp = experiments[0]!;
  expect(exp.end_time, "the experiment was closed").toBeTruthy();
  expect(exp.extra?.metadata?.dataset_version, "dataset_version set").toBeTruthy();
  // The suites live inside this repository's checkout, so the close carries its git metadata.
  expect(exp.extra?.metadata?.commit, "git commit in the experiment metadata").toMatch(/^[0-9a-f]{40}$/);

  const runs = await backend.runsOf(exp.id);
  const roots = runs.filter((r) => !r.parent_run_id);
  expect(roots.length, "one root run per test (plus retried attempts)").toBe(suite.expectedRuns + (opts.extraAttempts ?? 0));
  expect(new Set(roots.map((r) => r.id)).size, "no duplicate runs").toBe(roots.length);

  const examples = new Set((await backend.examplesOf(ds!.id)).map((e) => e.id));
  for (const r of roots) {
    expect(r.reference_example_id, `${r.name} has reference_example_id`).toBeTruthy();
    expect(examples.has(r.reference_example_id!), `${r.name}'s example exists in the dataset`).toBe(true);
    expect(r.end_time, `${r.name} finished`).toBeTruthy();
  }
  const childrenByTrace = groupBy(
    runs.filter((r) => r.parent_run_id),
    (r) => r.trace_id,
  );
  for (const r of roots) {
    const kids = childrenByTrace.get(r.id) ?? [];
    expect(kids.length, `${r.name} has its ${suite.expectedSpansPerRun} spans`).toBe(suite.expectedSpansPerRun);
    for (const k of kids) expect(k.end_time, `${r.name} > ${k.name} finished`).toBeTruthy();
  }

  const feedback = await backend.feedbackFor(roots.map((r) => r.id));
  const byRun = groupBy(feedback, (f) => f.run_id);
  for (const r of roots) {
    const keys = (byRun.get(r.id) ?? []).map((f) => f.key).sort();
    expect(keys, `${r.name} has pass + correctness feedback`).toEqual(["correctness", "pass"]);
  }
  const failed = roots.filter((r) => r.error);
  if (opts.failing !== undefined) {
    expect(failed.length, "failed runs (failing tests + failed first attempts)").toBe(opts.failing + (opts.extraAttempts ?? 0));
    for (const r of failed.filter((r) => r.name.startsWith("failing"))) {
      expect(r.outputs, `${r.name} kept the outputs logged before it failed`).toMatchObject({ note: "logged before the failure" });
      const pass = (byRun.get(r.id) ?? []).find((f) => f.key === "pass");
      expect(pass?.score, `${r.name} pass=false`).toBe(false);
    }
  }
  return { experiment: exp, roots, runs, feedback };
}

/** Plain `test()` + `traceable` runs land in the default tracing project. */
export async function expectPlainTraces(backend: Backend, count: number) {
  const session = await backend.sessionByName("default");
  expect(session, "the default tracing project exists").toBeDefined();
  const runs: Run[] = await backend.runsOf(session!.id);
  const roots = runs.filter((r) => !r.parent_run_id && r.name === "app");
  expect(roots.length, "plain traceable root runs delivered").toBe(count);
  for (const r of roots) {
    const kids = runs.filter((k) => k.trace_id === r.id && k.parent_run_id);
    expect(kids.length, "each plain trace has its 3 child spans").toBe(3);
  }
}

/** The embedded store a local-mode run wrote under `<dir>/.tally/`, served so the reads can check it. */
export async function openLocalStore(dir: string): Promise<Backend> {
  const server = await startServer({ dbPath: join(dir, ".tally", "tally.db") });
  return withReads(server.url, () => server.close());
}

/** A JUnit report with `cases` test cases, each carrying the experiment URL as a `langsmith` property. */
export function expectJunitLinks(file: string, cases: number) {
  const xml = readFileSync(file, "utf8");
  const links =
    xml.match(/<property name="langsmith" value="http:\/\/127\.0\.0\.1:\d+\/o\/[^"]+compare\?selectedSessions=[0-9a-f-]+"/g) ?? [];
  expect(xml.match(/<testcase /g) ?? []).toHaveLength(cases);
  expect(links).toHaveLength(cases);
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), i]);
  return m;
}
