import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { packAll, readFromTarball, type Packed } from "../../scripts/packages.ts";
import { startBackend, type Backend } from "../support/backend.js";
import { expectDelivered, openLocalStore } from "../support/checks.js";
import { createPackedProject, run, userEnv, type PackedProject } from "../support/packed-project.js";
import { REPO, type ProcessResult } from "../support/run-vitest.js";
import { generateSuite, type GeneratedSuite, writeTallyTestFile } from "../support/suite.js";
import { startOpenAiStandin } from "../support/model-standins.ts";

// The packages as a user gets them: packed with `pnpm pack` (prepack builds them), installed with
// plain npm into fresh projects outside the repository together with the registry's langsmith and
// runner, then a parallel eval suite run with `npx vitest run` / `npx jest` against the project's
// LangSmith-compatible server (and, on Vitest, in local mode).

const LANGSMITH = "langsmith@0.12.0";
const VITEST = ["vitest@5.1.2"];
// The README's Jest set-up: TypeScript tests through babel-jest.
const JEST = [
  "jest@30.5.2",
  "babel-jest@30.5.2",
  "@babel/core@7.29.13",
  "@babel/preset-typescript@7.29.7",
  "@babel/plugin-transform-modules-commonjs@7.29.14",
];
/** What npm prints when peer dependencies do not fit (a user would have to reach for --legacy-peer-deps). */
const PEER_TROUBLE = /ERESOLVE|peer dep|peerDependenc|conflicting peer|could not resolve/i;

const packDir = mkdtempSync(join(tmpdir(), "tally-packed-tarballs-"));
let packed: Record<string, Packed>;
let vitestProject: Promise<PackedProject>;
let jestProject: Promise<PackedProject>;
const projects: string[] = [];

beforeAll(() => {
  packed = Object.fromEntries(packAll(packDir).map((p) => [p.spec.name, p]));
  const tarball = (name: string) => packed[name]!.tarball;
  // Both installs at once: npm mostly waits on the cache and the disk.
  // Every Tally package from its tarball: npm cannot fetch an unpublished @tally/* from the registry.
  const tally = ["@tally/core", "@tally/store"].map(tarball);
  vitestProject = createPackedProject("vitest", [...tally, tarball("@tally/vitest-plugin"), LANGSMITH, ...VITEST]);
  jestProject = createPackedProject("jest", [...tally, tarball("@tally/jest-preset"), LANGSMITH, ...JEST]);
  void vitestProject.then(
    (p) => projects.push(p.dir),
    () => {},
  );
  void jestProject.then(
    (p) => projects.push(p.dir),
    () => {},
  );
}, 120_000);

let backend: Backend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});
afterAll(async () => {
  await Promise.allSettled([vitestProject, jestProject]);
  for (const dir of [packDir, ...projects]) rmSync(dir, { recursive: true, force: true });
});

function expectCleanInstall(project: PackedProject, names: string[]): void {
  const out = project.install.stdout + project.install.stderr;
  expect(project.install.code, out).toBe(0);
  expect(out, "npm reported no peer dependency trouble").not.toMatch(PEER_TROUBLE);
  for (const name of names) {
    // A real copy in the project's node_modules, not a link back into the workspace.
    expect(realpathSync(join(project.dir, "node_modules", name)).startsWith(realpathSync(project.dir)), name).toBe(true);
  }
}

/** A run of the 4 × 5 suite against the server: clean exit, every run delivered, the key never shown. */
async function expectRemoteRun(r: ProcessResult, suite: GeneratedSuite): Promise<void> {
  const out = r.stdout + r.stderr;
  expect(r.code, out).toBe(0);
  expect(out).not.toMatch(/^npm (warn|error)/m);
  expect(out).toContain("tally: 20/20 runs · 80 spans · 40 feedback delivered");
  await expectDelivered(backend!, suite);
  expect(out, "the key never shows up in output").not.toContain("fake-key");
}

/**
 * The model-call cache from an npm install (its interceptor is loaded outside the runner's module
 * registry, from node_modules): a run records two calls to a stand-in provider, and a run in replay
 * mode answers them with the provider stopped.
 */
async function expectCacheRoundTrip(project: PackedProject, runner: "vitest" | "jest", command: string[]): Promise<void> {
  const standin = await startOpenAiStandin();
  try {
    const suite = generateSuite(join(project.dir, "cache"), {
      flavour: "tally",
      runner,
      files: 0,
      tests: 0,
      dataset: `packed-cache-${runner}`,
    });
    const call = (q: string) =>
      `(await (await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", { method: "POST", headers: { authorization: "Bearer sk-x", "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "${q}" }] }) })).json()).choices[0].message.content`;
    writeTallyTestFile(
      suite,
      runner,
      "calls",
      `ls.describe("packed-cache", () => {
  ls.test("one", { inputs: { q: 1 } }, async () => ({ answer: ${call("one")} }));
  ls.test("two", { inputs: { q: 2 } }, async () => ({ answer: ${call("two")} }));
});`,
    );
    const env = (mode: string) => userEnv({ OPENAI_BASE_URL: standin.url, TALLY_CACHE: mode });
    const recorded = await run("npx", command, suite.dir, env("auto"));
    expect(recorded.code, recorded.stdout + recorded.stderr).toBe(0);
    expect(recorded.stdout + recorded.stderr).toContain("model calls: 0 from the cache, 2 recorded, 0 missed");
    expect(standin.requests).toHaveLength(2);
    await standin.close();
    const replayed = await run("npx", command, suite.dir, env("replay"));
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    expect(replayed.stdout + replayed.stderr).toContain("model calls: 2 from the cache, 0 recorded, 0 missed");
  } finally {
    await standin.close();
  }
}

test("the tarballs carry real versions of their workspace dependencies", () => {
  const version = (name: string) => (JSON.parse(readFromTarball(packed[name]!.tarball, "package.json")) as { version: string }).version;
  const deps = (name: string) =>
    (JSON.parse(readFromTarball(packed[name]!.tarball, "package.json")) as { dependencies: Record<string, string> }).dependencies;
  expect(deps("@tally/store")["@tally/core"], "@tally/store").toBe(version("@tally/core"));
  for (const name of ["@tally/vitest-plugin", "@tally/jest-preset"]) {
    expect(deps(name), name).toEqual({ "@tally/core": version("@tally/core"), "@tally/store": version("@tally/store") });
  }
});

describe("vitest 5.1 project installed from the tarballs", () => {
  test("npx vitest run: every run delivered to the server", async () => {
    const project = await vitestProject;
    expectCleanInstall(project, ["@tally/core", "@tally/store", "@tally/vitest-plugin"]);
    backend = await startBackend();
    const suite = generateSuite(join(project.dir, "remote"), { flavour: "tally", files: 4, tests: 5, dataset: "packed-vitest" });
    const env = userEnv({ LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: backend.url });
    await expectRemoteRun(await run("npx", ["--no", "--", "vitest", "run", "--maxWorkers=2"], suite.dir, env), suite);
  });

  test("no API key: the local store, and the tally command", async () => {
    const project = await vitestProject;
    const suite = generateSuite(join(project.dir, "local"), { flavour: "tally", files: 3, tests: 5, dataset: "packed-local" });
    const r = await run("npx", ["--no", "--", "vitest", "run"], suite.dir, userEnv());
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).not.toMatch(/^npm (warn|error)/m);
    expect(out).toContain("recording to local store");
    expect(out).toContain("tally: 15/15 runs · 60 spans · 30 feedback delivered");
    backend = await openLocalStore(suite.dir);
    await expectDelivered(backend, suite);
    const help = await run("npx", ["--no", "--", "tally", "help"], suite.dir, userEnv());
    expect(help.code, help.stdout + help.stderr).toBe(0);
    expect(help.stdout).toContain("tally flush");
  });

  test("the model-call cache records and replays", async () => {
    await expectCacheRoundTrip(await vitestProject, "vitest", ["--no", "--", "vitest", "run"]);
  });
});

describe("jest 30.5 project installed from the tarballs", () => {
  test("npx jest: every run delivered to the server", async () => {
    const project = await jestProject;
    expectCleanInstall(project, ["@tally/core", "@tally/store", "@tally/jest-preset"]);
    backend = await startBackend();
    const suite = generateSuite(join(project.dir, "remote"), {
      flavour: "tally",
      runner: "jest",
      files: 4,
      tests: 5,
      dataset: "packed-jest",
    });
    const env = userEnv({ LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: backend.url });
    await expectRemoteRun(await run("npx", ["--no", "--", "jest", "--ci", "--maxWorkers=2"], suite.dir, env), suite);
  });

  test("the model-call cache records and replays", async () => {
    await expectCacheRoundTrip(await jestProject, "jest", ["--no", "--", "jest", "--ci", "--maxWorkers=2"]);
  });

  test("the preset brings the tally command", async () => {
    const project = await jestProject;
    const help = await run("npx", ["--no", "--", "tally", "help"], project.dir, userEnv());
    expect(help.code, help.stdout + help.stderr).toBe(0);
    expect(help.stdout).toContain("tally ui");
  });

  // Jest projects often compile TypeScript with `module: commonjs`, whose resolution (node10) ignores
  // `exports`: the preset's `types`/`typesVersions` and core's `typesVersions` are what it reads. An
  // unresolved import inside the packages' .d.ts files would make `ls.test` untyped (any), which the
  // implicit-any error and the @ts-expect-error below would show. (The repo's TypeScript, on the
  // user's project.)
  test.each(["commonjs", "node16"])("TypeScript with module %s finds the preset's types", async (module) => {
    const project = await jestProject;
    writeFileSync(join(project.dir, `types-${module}.ts`), TYPES_PROBE);
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const args = [
      tsc,
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--module",
      module,
      "--target",
      "es2022",
      "--types",
      "node",
      `types-${module}.ts`,
    ];
    const r = await run(process.execPath, args, project.dir, userEnv());
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

const TYPES_PROBE = `import * as ls from "@tally/jest-preset";
import globalSetup = require("@tally/jest-preset/global-setup");
import Reporter = require("@tally/jest-preset/reporter");
import preset = require("@tally/jest-preset/jest-preset");

const reporters: string[] = preset.reporters;
void globalSetup({}, {});
void new Reporter({}, { dataset: "types" });
ls.describe("types", () => {
  ls.test("typed", { inputs: { q: 1 }, referenceOutputs: { a: 2 } }, async ({ inputs }) => {
    ls.logFeedback({ key: "k", score: 1 });
    return { q: inputs.q, reporters };
  });
});
// @ts-expect-error: not a parameter of ls.test
ls.test("untyped", { nope: 1 }, async () => ({}));
`;
