// `tally baseline approve | show`, run as the real command (from dist: build first): against the local
// store a run leaves in .tally (found as `tally flush` finds it: --dir, TALLY_DIR or ./.tally), and
// against a LangSmith endpoint when LANGSMITH_API_KEY is set (the project's server over HTTP, what
// arrived read back with the `langsmith` SDK).
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "langsmith";
import { afterEach, describe, expect, test } from "vitest";
import type { Backend } from "../../packages/core/src/backend/port.js";
import { openLocalBackend, startServer } from "../../packages/store/src/index.js";
import { RestBackend } from "../../packages/core/src/backend/langsmith/rest-backend.js";
import { REPO, runNode } from "../support/run-vitest.js";

const TALLY = join(REPO, "packages", "store", "bin", "tally.mjs");
const KEY = "lsv2-secret-key-never-printed";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tally-baseline-cli-"));
  dirs.push(d);
  return d;
}

function tally(args: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  return runNode([TALLY, "baseline", ...args], cwd, { USER: "ana", ...env }, 60_000);
}

/** Finished experiments as runs leave them: `names` of dataset `dataset`, oldest first. */
async function seed(b: Backend, dataset: string, names: string[], finished = true): Promise<{ datasetId: string; ids: string[] }> {
  const ds = await b.ensureDataset(dataset);
  const ids: string[] = [];
  for (const [i, name] of names.entries()) {
    const start = new Date(Date.UTC(2026, 2, 1, 10, i)).toISOString();
    const exp = await b.openExperiment({ id: randomUUID(), name, datasetId: ds.id, description: "", metadata: {}, startTime: start });
    if (finished) await b.closeExperiment({ id: exp.id, datasetId: ds.id, endTime: start, metadata: {}, datasetVersion: start });
    ids.push(exp.id);
  }
  return { datasetId: ds.id, ids };
}

async function approvalIn(dir: string, datasetId: string): Promise<unknown> {
  const b = await openLocalBackend(dir);
  try {
    return (await b.listDatasets({ ids: [datasetId] }))[0]?.metadata.tally_approved_baseline;
  } finally {
    await b.close();
  }
}

describe("tally baseline on the local store", () => {
  test("approve by name (in ./.tally) and by id (TALLY_DIR); a second approval replaces the first; show lists them", async () => {
    const cwd = tempDir();
    const dir = join(cwd, ".tally");
    const b = await openLocalBackend(dir);
    const qa = await seed(b, "qa", ["qa:run-1", "qa:run-2"]);
    await seed(b, "chat", ["chat:run-1"]);
    await b.close();

    const first = await tally(["approve", "qa:run-1"], cwd);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`"qa:run-1" is now the approved baseline of dataset "qa" in local store ${join(dir, "tally.db")}`);
    expect(first.stdout).toContain('baseline: "approved" (or TALLY_BASELINE=approved)');
    expect(await approvalIn(dir, qa.datasetId)).toMatchObject({
      id: qa.ids[0],
      name: "qa:run-1",
      by: "ana",
      approvedAt: expect.any(String),
    });

    const elsewhere = tempDir();
    const second = await tally(["approve", qa.ids[1]!], elsewhere, { TALLY_DIR: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"qa:run-2" is now the approved baseline of dataset "qa" (replacing "qa:run-1")');
    expect(await approvalIn(dir, qa.datasetId)).toMatchObject({ id: qa.ids[1], name: "qa:run-2" });

    const shown = await tally(["show"], cwd);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      new RegExp(`^qa: "qa:run-2" \\(${qa.ids[1]}, approved \\S+ by ana\\)\\n\\(1 other dataset without one\\)\\n$`),
    );
    expect((await tally(["show", "--dataset", "chat"], cwd)).stdout).toBe("chat: no approved baseline\n");
  });

  test("refusals name what is wrong: unknown experiment, wrong dataset, unfinished run, no store, bad usage", async () => {
    const cwd = tempDir();
    const dir = join(cwd, ".tally");
    const b = await openLocalBackend(dir);
    await seed(b, "qa", ["qa:run-1"]);
    await seed(b, "chat", ["chat:open"], false);
    await b.close();

    const unknown = await tally(["approve", "qa:nope"], cwd);
    expect([unknown.code, unknown.stderr]).toEqual([1, 'tally baseline approve: no experiment is named "qa:nope" or has that id\n']);
    const wrong = await tally(["approve", "qa:run-1", "--dataset", "chat"], cwd);
    expect(wrong.stderr).toBe(
      'tally baseline approve: "qa:run-1" is not an experiment of dataset "chat" (recent experiments: "chat:open")\n',
    );
    const open = await tally(["approve", "chat:open"], cwd);
    expect(open.stderr).toContain('experiment "chat:open" has not finished (no end time)');
    const noDataset = await tally(["show", "--dataset", "nope"], cwd);
    expect([noDataset.code, noDataset.stderr]).toEqual([1, 'tally baseline show: there is no dataset named "nope"\n']);

    // No store there: said, and none is created.
    const empty = tempDir();
    const none = await tally(["show"], empty);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no local store at ${join(empty, ".tally", "tally.db")}`);
    expect(existsSync(join(empty, ".tally"))).toBe(false);

    expect((await tally(["approve"], cwd)).code).toBe(2);
    expect((await tally(["frobnicate"], cwd)).code).toBe(2);
    const help = await runNode([TALLY, "--help"], cwd, {}, 60_000);
    expect(help.stdout).toContain("tally baseline approve EXPERIMENT [--dataset NAME]");
  });
});

describe("tally baseline against LangSmith (LANGSMITH_API_KEY set)", () => {
  test("approves through the REST API: the dataset's metadata, read back with the langsmith SDK, keeps its other keys", async () => {
    const server = await startServer({ dbPath: join(tempDir(), "ls.db") });
    try {
      const rest = new RestBackend({ apiUrl: server.url, apiKey: KEY });
      const qa = await seed(rest, "qa", ["qa:run-1", "qa:run-2"]);
      const cwd = tempDir();
      const env = { LANGSMITH_API_KEY: KEY, LANGSMITH_ENDPOINT: server.url };
      const r = await tally(["approve", "qa:run-1"], cwd, env);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`"qa:run-1" is now the approved baseline of dataset "qa" in ${server.url}`);
      expect(r.stdout + r.stderr).not.toContain(KEY);
      // The local store was not touched.
      expect(existsSync(join(cwd, ".tally"))).toBe(false);

      const client = new Client({ apiUrl: server.url, apiKey: KEY });
      const ds = (await client.readDataset({ datasetId: qa.datasetId })) as unknown as { metadata: Record<string, unknown> };
      expect(ds.metadata).toEqual({
        __ls_runner: "tally",
        tally_approved_baseline: { id: qa.ids[0], name: "qa:run-1", approvedAt: expect.any(String), by: "ana" },
      });
      const shown = await tally(["show", "--dataset", "qa"], cwd, env);
      expect(shown.stdout).toMatch(/^qa: "qa:run-1" \(/);
      // TALLY_LOCAL=1 means the local store even with a key: there is none here.
      expect((await tally(["show"], cwd, { ...env, TALLY_LOCAL: "1" })).stderr).toContain("no local store at");
    } finally {
      await server.close();
    }
  });
});
