import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startServer } from "../../packages/store/dist/index.js";
import { withReads } from "../support/reads.ts";
import { MATRIX, runJest, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// A worker killed mid-file (SIGKILL, as the OOM killer does) never acks its file. What it sent before
// is delivered, the other files' runs all land, and the end of the run names the file with the
// tests its worker never reported and their count, which count as expected and not delivered.
// Vitest's forks pool (a thread's kill would take the main process with it) and Jest's workers.

type Runner = "vitest" | "jest";

let server: Awaited<ReturnType<typeof startServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const KILLED_AT = 2;
const CASES = 6;
const title = (i: number) => `case k-${i}`;

/** The killed file: the 3rd of its tests kills its worker, after the two before it were sent. */
function killedFile(): string {
  const tests = Array.from({ length: CASES }, (_, i) => {
    // The SDK batches runs for 250 ms before it sends them: the wait lets the runs before go out,
    // since what a worker had not sent dies with it (and is named as never reported).
    const body =
      i === KILLED_AT
        ? `await new Promise((r) => setTimeout(r, 600)); process.kill(process.pid, "SIGKILL");`
        : `return { answer: await app("k${i}") };`;
    return `  ls.test(${JSON.stringify(title(i))}, { inputs: { q: "k${i}" } }, async () => { ${body} });`;
  });
  return `ls.describe("killed", () => {\n${tests.join("\n")}\n});`;
}

const RUNS: Record<Runner, { pkg: string; ext: string; full: (t: string) => string; run: typeof runVitest; args: string[] }> = {
  vitest: { pkg: "vitest4", ext: "mjs", full: (t) => t, run: runVitest, args: [] },
  // Jest names a test with its describe titles; workerIdleMemoryLimit keeps Jest off "in band".
  jest: { pkg: "jest30", ext: "ts", full: (t) => `killed ${t}`, run: runJest, args: ["--maxWorkers=2"] },
};

describe.each(["vitest", "jest"] as const)("%s: a worker killed mid-file", (runner) => {
  test("what it sent is delivered, the other files land, and the tests it never reported are named with their count", async () => {
    const r = RUNS[runner];
    server = await startServer({});
    const backend = withReads(server.url, async () => {});
    const suite = generateSuite(join(MATRIX, r.pkg, ".suites", "worker-killed"), {
      flavour: "tally",
      runner,
      files: 2,
      tests: 3,
      dataset: "healthy",
      testOptions: `pool: "forks",`,
      jestOptions: `workerIdleMemoryLimit: "1GB",`,
    });
    writeTallyTestFile(suite, runner, "killed", killedFile());
    const res = await r.run(r.pkg, suite.dir, r.args, { LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: server.url });
    const out = res.stdout + res.stderr;
    expect(res.code, out).not.toBe(0);

    // The other files' runs all landed.
    expect(out).toContain(`tally: ${suite.expectedRuns}/${suite.expectedRuns} runs`);
    const roots = async (dataset: string) => {
      const [ds] = await backend.datasets(dataset);
      const [exp] = await backend.experimentsOf(ds!.id);
      return (await backend.runsOf(exp!.id)).filter((x) => !x.parent_run_id);
    };
    expect((await roots("healthy")).map((x) => x.name).sort()).toEqual(
      Array.from({ length: 2 }, (_, f) => Array.from({ length: 3 }, (_, t) => `case ${f}-${t}`)).flat(),
    );

    // The tests before the kill were delivered, with their whole trace.
    const killed = await roots("killed");
    const before = Array.from({ length: KILLED_AT }, (_, i) => title(i));
    expect(
      killed
        .filter((x) => x.end_time)
        .map((x) => x.name)
        .sort(),
    ).toEqual(before);
    // Counted in the run's summary: delivered of the file's tests; the rest expected, not delivered.
    expect(out).toMatch(new RegExp(`tally: ${KILLED_AT}/${CASES} runs · \\d+ spans · \\d+ feedback delivered to "killed:`));

    // The killed test itself is named missing (its run started) or as never reported (it had not been
    // sent); the tests after it never reported, named on the file's one line with their count.
    const file = `evals/killed.test.${r.ext}`;
    const after = Array.from({ length: CASES - KILLED_AT - 1 }, (_, i) => r.full(title(KILLED_AT + 1 + i)));
    const started = killed.some((x) => x.name === title(KILLED_AT));
    const unreported = started ? after : [r.full(title(KILLED_AT)), ...after];
    const line = out.split("\n").find((l) => l.includes(`tally: worker for ${file} died before reporting:`));
    expect(line, out).toBe(
      `tally: worker for ${file} died before reporting: ${unreported.length} tests (${unreported.slice(0, 3).join(", ")}${unreported.length > 3 ? ", …" : ""})`,
    );
    if (started) expect(out).toMatch(new RegExp(`missing run: ${file} > .*${title(KILLED_AT)}: its run was started but never ended`));
    // The file's one line stands for the old one.
    expect(out).not.toContain(`${file}: the worker stopped before its final flush acknowledged`);
  });
});
