import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { startServer } from "../../packages/store/src/index.js";
import { MATRIX, runJest, runVitest, type ProcessResult } from "../support/run-vitest.js";
import { generateSuite } from "../support/suite.js";

// With LANGSMITH_TEST_TRACKING=false, `ls.test` is the runner's own test: the bodies run with their
// inputs and the ls helpers work, but no run is started (no collector, no local store, so no
// node:sqlite: what Node 20 lacks) and no worker loads langsmith. What is loaded is seen by probes
// that log every load of `langsmith` or `node:sqlite`: a Node module hook (`--import` through
// NODE_OPTIONS: the main process, Vitest's workers) and a Jest resolver (Jest's workers load modules
// through their own registry). Each probe is shown to see the loads in a tracked run.

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const NODE_PROBE = `import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (resolved.url === "node:sqlite" || /[\\\\/]node_modules[\\\\/]langsmith[\\\\/]/.test(resolved.url)) {
      appendFileSync(process.env.PROBE_LOG, "node " + (process.send ? "child " : "main ") + resolved.url + "\\n");
    }
    return resolved;
  },
});
`;

const JEST_PROBE = `const { appendFileSync } = require("node:fs");
module.exports = (path, options) => {
  const resolved = options.defaultResolver(path, options);
  if (/[\\\\/]node_modules[\\\\/]langsmith[\\\\/]/.test(resolved)) appendFileSync(process.env.PROBE_LOG, "jest " + resolved + "\\n");
  return resolved;
};
`;

/** Two tests: one uses every ls helper and passes; one fails unless its body got other inputs. */
const TESTS = `let evaluated = 0;
const exact = ls.wrapEvaluator(({ outputs, referenceOutputs }) => {
  evaluated++;
  return { key: "exact", score: outputs.a === referenceOutputs.a ? 1 : 0 };
});

ls.describe("tracking-off", () => {
  ls.test("uses every helper", { inputs: { q: 1 }, referenceOutputs: { a: 2 } }, async ({ inputs, referenceOutputs, testMetadata }) => {
    ls.expect(inputs).toEqual({ q: 1 });
    ls.expect(referenceOutputs).toEqual({ a: 2 });
    ls.expect(testMetadata.testTrackingEnabled).toBe(false);
    ls.logOutputs({ a: 2 });
    ls.logFeedback({ key: "seen", score: 1 });
    await ls.expect({ a: 2 }).evaluatedBy(exact).toBe(1);
    ls.expect(await exact({ inputs, referenceOutputs, outputs: { a: 3 } })).toEqual({ key: "exact", score: 0 });
    ls.expect(evaluated).toBe(2);
    await ls.expect("abc").toBeRelativeCloseTo("abd", { threshold: 0.5 });
  });
  ls.test("checks its inputs", { inputs: { q: 3 } }, ({ inputs }) => {
    if (inputs.q !== 4) throw new Error("the body ran with q=" + inputs.q);
  });
});
`;

interface Probed {
  dir: string;
  log: string;
  env: Record<string, string>;
}

/** A suite of TESTS (no app, so nothing but Tally could load langsmith), with both probes. */
function probedSuite(name: string, runner: "vitest" | "jest"): Probed {
  const pkg = runner === "jest" ? "jest30" : "vitest4";
  const dir = join(MATRIX, pkg, ".suites", name);
  generateSuite(dir, {
    flavour: "tally",
    runner,
    files: 0,
    ...(runner === "jest" ? { jestOptions: `resolver: "<rootDir>/probe-resolver.cjs",` } : {}),
  });
  writeFileSync(join(dir, "probe.mjs"), NODE_PROBE);
  writeFileSync(join(dir, "probe-resolver.cjs"), JEST_PROBE);
  const ext = runner === "jest" ? "test.ts" : "test.mjs";
  const head =
    runner === "jest" ? `// @ts-nocheck\nimport * as ls from "@tally/jest-preset";` : `import * as ls from "@tally/vitest-plugin";`;
  writeFileSync(join(dir, "evals", `off.${ext}`), `${head}\n\n${TESTS}`);
  const log = join(dir, "probe.log");
  writeFileSync(log, "");
  return { dir, log, env: { NODE_OPTIONS: `--import=${pathToFileURL(join(dir, "probe.mjs")).href}`, PROBE_LOG: log } };
}

function run(runner: "vitest" | "jest", p: Probed, env: Record<string, string>): Promise<ProcessResult> {
  return runner === "jest" ? runJest("jest30", p.dir, [], { ...p.env, ...env }) : runVitest("vitest4", p.dir, [], { ...p.env, ...env });
}

const loads = (p: Probed) => readFileSync(p.log, "utf8").trim().split("\n").filter(Boolean);

describe.each(["vitest", "jest"] as const)("LANGSMITH_TEST_TRACKING=false on %s", (runner) => {
  test("the tests run as the runner's own: nothing started, recorded, sent or loaded", async () => {
    server = await startServer();
    const p = probedSuite(`tracking-off-probed-${runner}`, runner);
    const r = await run(runner, p, { LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: server.url, LANGSMITH_TEST_TRACKING: "false" });
    const out = r.stdout + r.stderr;
    // The bodies ran with their inputs: one passes, the other fails on the inputs it was given.
    expect(r.code, out).toBe(1);
    expect(out).toContain("the body ran with q=3");
    expect(out).toMatch(runner === "jest" ? /Tests: +1 failed, 1 passed, 2 total/ : /Tests +1 failed \| 1 passed \(2\)/);
    // Nothing of Tally's: no run, no warning, no delivery line.
    expect(out).not.toMatch(/tally:/i);
    expect(server.stats.requests, "requests that reached the server").toBe(0);
    expect(existsSync(join(p.dir, ".tally", "tally.db")), "the local store").toBe(false);
    expect(existsSync(join(p.dir, ".tally", "spool")), "the spool").toBe(false);
    expect(loads(p), "langsmith or node:sqlite loaded").toEqual([]);
  });

  test("the model-call cache asked for says once that it does not run, and the rest stays off", async () => {
    const p = probedSuite(`tracking-off-cache-${runner}`, runner);
    const r = await run(runner, p, { LANGSMITH_TEST_TRACKING: "false", TALLY_CACHE: "replay" });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    const lines = out.split("\n").filter((l) => /tally:/i.test(l));
    expect(lines).toEqual([
      "tally: TALLY_CACHE=replay has no effect with LANGSMITH_TEST_TRACKING=false (the cache runs in Tally's worker runtime, which tracking off does not start): model calls go to the provider",
    ]);
    expect(loads(p), "langsmith or node:sqlite loaded").toEqual([]);
  });

  test("the probes see what a tracked run loads (local store: node:sqlite; workers: langsmith)", async () => {
    const p = probedSuite(`tracking-on-probed-${runner}`, runner);
    const r = await run(runner, p, {});
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    expect(out).toContain("tally: 2/2 runs");
    const seen = loads(p);
    expect(
      seen.some((l) => l.endsWith(" node:sqlite")),
      seen.join("\n"),
    ).toBe(true);
    // Vitest's workers load langsmith natively (the Node hook); Jest's through its registry.
    const worker =
      runner === "jest" ? /^jest .*[\\/]node_modules[\\/]langsmith[\\/]/ : /^node child .*[\\/]node_modules[\\/]langsmith[\\/]/;
    expect(
      seen.some((l) => worker.test(l)),
      seen.join("\n"),
    ).toBe(true);
  });
});
