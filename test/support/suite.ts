import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// Generates a realistic eval suite into a folder: N files × M tests, each test calling a small
// traced "app" (app → retrieve, generate → format: 4 child spans) and logging a correctness score.
// The same suite runs under Tally, under the official `langsmith/vitest`, or untracked (baseline).
// The app imports `traceable` from langsmith as a user's app does, in every flavour: whether it
// records anything is up to the environment (the benchmark's baseline runs with tracing off).

export type SuiteFlavour = "tally" | "official" | "baseline";

export interface SuiteSpec {
  flavour: SuiteFlavour;
  /** Default vitest. Jest suites are TypeScript (`.test.ts` through babel-jest) with `preset: "@tally/jest-preset"`. */
  runner?: "vitest" | "jest";
  /** Extra Jest config entries, as source text (e.g. `workerThreads: true,`). */
  jestOptions?: string;
  files?: number;
  tests?: number;
  dataset?: string;
  /** Extra plugin options, as source text (e.g. `{ dataset: "x" }`). */
  pluginOptions?: string;
  /** Vitest `test` options, as source text (pool, isolate, ...). */
  testOptions?: string;
  /** Adds a file of plain `test()` + `traceable` (no ls.test). */
  plainTraceableTests?: number;
  /** Adds a file with `ls.test.concurrent` tests. */
  concurrentTests?: number;
  /** Adds a file with tests that fail after logging outputs and feedback. */
  failingTests?: number;
  /** Adds a file with tests that fail on their first attempt and pass on retry. */
  flakyTests?: number;
  /** Simulated work per traced step, ms. */
  stepMs?: number;
  /**
   * The app's `generate` step calls a model: an OpenAI-style chat completion at OPENAI_BASE_URL (a
   * stand-in), with the test's question, through fetch, as a user's app would.
   */
  modelCalls?: boolean;
}

export interface GeneratedSuite {
  dir: string;
  /** ls.test runs the suite should produce (one per tracked test). */
  expectedRuns: number;
  expectedSpansPerRun: number;
  dataset: string;
  plainRuns: number;
}

const importFor: Record<"vitest" | "jest", Record<SuiteFlavour, string>> = {
  vitest: {
    tally: `import * as ls from "@tally/vitest-plugin";`,
    official: `import * as ls from "langsmith/vitest";`,
    baseline: `import * as ls from "../baseline-ls.mjs";`,
  },
  jest: {
    tally: `import * as ls from "@tally/jest-preset";`,
    official: `import * as ls from "langsmith/jest";`,
    baseline: `import * as ls from "../baseline-ls";`,
  },
};

export function generateSuite(dir: string, spec: SuiteSpec): GeneratedSuite {
  const files = spec.files ?? 8;
  const tests = spec.tests ?? 10;
  const dataset = spec.dataset ?? "tally-e2e";
  const stepMs = spec.stepMs ?? 1;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "evals"), { recursive: true });

  const runner = spec.runner ?? "vitest";
  const ext = runner === "jest" ? "test.ts" : "test.mjs";
  const source = (body: string, retry = false) => fileSource(runner, spec.flavour, dataset, body, retry);
  if (runner === "jest") writeJestProject(dir, spec);
  else writeVitestProject(dir, spec);
  writeFileSync(join(dir, runner === "jest" ? "app.ts" : "app.mjs"), APP(stepMs, spec.modelCalls ?? false));
  if (spec.flavour === "baseline") writeFileSync(join(dir, runner === "jest" ? "baseline-ls.ts" : "baseline-ls.mjs"), BASELINE_LS[runner]);

  for (let f = 0; f < files; f++) {
    const body = Array.from({ length: tests }, (_, t) => testSource(`q${f}-${t}`, `case ${f}-${t}`, "ls.test")).join("\n");
    writeFileSync(join(dir, "evals", `file-${String(f).padStart(2, "0")}.${ext}`), source(body));
  }
  let expectedRuns = files * tests;
  if (spec.concurrentTests) {
    const body = Array.from({ length: spec.concurrentTests }, (_, t) => testSource(`c-${t}`, `concurrent ${t}`, "ls.test.concurrent")).join(
      "\n",
    );
    writeFileSync(join(dir, "evals", `concurrent.${ext}`), source(body));
    expectedRuns += spec.concurrentTests;
  }
  if (spec.failingTests) {
    const body = Array.from(
      { length: spec.failingTests },
      (_, t) => `  ls.test("failing ${t}", { inputs: { q: "fail-${t}" }, referenceOutputs: { a: "never" } }, async ({ inputs }) => {
    const answer = await app(inputs.q);
    ls.logOutputs({ answer, note: "logged before the failure" });
    ls.logFeedback({ key: "correctness", score: 0 });
    throw new Error("deliberate failure ${t}");
  });`,
    ).join("\n");
    writeFileSync(join(dir, "evals", `failing.${ext}`), source(body, true));
    expectedRuns += spec.failingTests;
  }
  if (spec.flakyTests) {
    const body = Array.from(
      { length: spec.flakyTests },
      (_, t) => `  ls.test("flaky ${t}", { inputs: { q: "flaky-${t}" }, referenceOutputs: { a: "ok" } }, async ({ inputs }) => {
    globalThis.__attempts ??= {};
    const n = (globalThis.__attempts[${t}] = (globalThis.__attempts[${t}] ?? 0) + 1);
    const answer = await app(inputs.q);
    ls.logFeedback({ key: "correctness", score: n > 1 ? 1 : 0 });
    if (n === 1) throw new Error("first attempt fails");
    return { answer };
  }, 60000);`,
    ).join("\n");
    // Vitest: needs `retry: 1` in testOptions. Jest: the file calls jest.retryTimes(1).
    writeFileSync(join(dir, "evals", `flaky.${ext}`), source(body, true));
    expectedRuns += spec.flakyTests;
  }
  if (spec.plainTraceableTests) {
    writeFileSync(
      join(dir, "evals", `plain.${ext}`),
      (runner === "jest"
        ? `import { app } from "../app";\n`
        : `import { test, expect } from "vitest";\nimport { app } from "../app.mjs";\n`) +
        Array.from(
          { length: spec.plainTraceableTests },
          (_, t) => `test("plain ${t}", async () => {\n  expect(await app("plain-${t}")).toContain("plain-${t}");\n});`,
        ).join("\n") +
        "\n",
    );
  }
  return { dir, expectedRuns, expectedSpansPerRun: 4, dataset, plainRuns: spec.plainTraceableTests ?? 0 };
}

/**
 * Writes one more test file into a generated Tally suite: `body` (source text) follows the runner's
 * `import * as ls`; `ls` and the suite's `app` are in scope. Returns the file's path.
 */
export function writeTallyTestFile(suite: GeneratedSuite, runner: "vitest" | "jest", name: string, body: string): string {
  const file = join(suite.dir, "evals", `${name}.${runner === "jest" ? "test.ts" : "test.mjs"}`);
  writeFileSync(file, `${importFor[runner].tally}\nimport { app } from "../app${runner === "jest" ? "" : ".mjs"}";\n${body}\n`);
  return file;
}

function writeVitestProject(dir: string, spec: SuiteSpec): void {
  const plugin = spec.flavour === "tally";
  writeFileSync(
    join(dir, "vitest.config.mjs"),
    `${plugin ? `import { tally } from "@tally/vitest-plugin/plugin";\n` : ""}` +
      `export default {\n` +
      `  ${plugin ? `plugins: [tally(${spec.pluginOptions ?? ""})],` : ""}\n` +
      `  test: { include: ["evals/**/*.test.mjs"], testTimeout: 60000, hookTimeout: 60000, ${spec.testOptions ?? ""} },\n` +
      `};\n`,
  );
}

function writeJestProject(dir: string, spec: SuiteSpec): void {
  // TypeScript test files through babel-jest, the transformer most Jest projects already have.
  const babel = `["babel-jest", { presets: ["@babel/preset-typescript"], plugins: ["@babel/plugin-transform-modules-commonjs"] }]`;
  writeFileSync(
    join(dir, "jest.config.js"),
    `module.exports = {\n` +
      `  ${spec.flavour === "tally" ? `preset: "@tally/jest-preset",` : ""}\n` +
      `  testMatch: ["<rootDir>/evals/**/*.test.ts"],\n` +
      `  transform: { "\\\\.ts$": ${babel} },\n` +
      `  testTimeout: 60000,\n` +
      `  ${spec.jestOptions ?? ""}\n` +
      `};\n`,
  );
}

function fileSource(runner: "vitest" | "jest", flavour: SuiteFlavour, dataset: string, body: string, retry: boolean): string {
  return `${importFor[runner][flavour]}
import { app } from "../app${runner === "jest" ? "" : ".mjs"}";
${runner === "jest" && retry ? "jest.retryTimes(1);\n" : ""}
ls.describe(${JSON.stringify(dataset)}, () => {
${body}
});
`;
}

function testSource(q: string, name: string, method: string): string {
  return `  ${method}(${JSON.stringify(name)}, { inputs: { q: ${JSON.stringify(q)} }, referenceOutputs: { a: ${JSON.stringify(`answer to ${q}`)} } }, async ({ inputs, referenceOutputs }) => {
    const answer = await app(inputs.q);
    ls.logFeedback({ key: "correctness", score: answer === referenceOutputs.a ? 1 : 0.5 });
    return { answer };
  });`;
}

const APP = (stepMs: number, modelCalls: boolean) => `import { traceable } from "langsmith/traceable";

const pause = () => new Promise((r) => setTimeout(r, ${stepMs}));
const retrieve = traceable(async (q) => { await pause(); return ["doc about " + q]; }, { name: "retrieve", run_type: "retriever" });
const format = traceable(async (text) => text.trim(), { name: "format" });
${
  modelCalls
    ? `const model = async (q) => {
  const res = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
    method: "POST",
    headers: { authorization: "Bearer sk-bench", "content-type": "application/json" },
    body: JSON.stringify({ model: "bench", messages: [{ role: "user", content: q }] }),
  });
  return (await res.json()).choices[0].message.content;
};
const generate = traceable(async (q, docs) => format((await model(q)) + " "), { name: "generate", run_type: "llm" });`
    : `const generate = traceable(async (q, docs) => { await pause(); return format("answer to " + q + " "); }, { name: "generate", run_type: "llm" });`
}
export const app = traceable(async (q) => generate(q, await retrieve(q)), { name: "app" });
`;

// The baseline: the same test bodies on the plain runner, with no plugin and no tracking at all; this
// stand-in `ls` imports nothing from langsmith (only the app does). (Jest would take a declared
// parameter of the test function as a `done` callback: its wrapper declares none.)
const baselineLs = (head: string, call: string) => `${head}
function wrap(m) { return (name, p, fn, to) => m(name, ${call}, to); }
export const test = Object.assign(wrap(t), { concurrent: wrap(t.concurrent) });
export const describe = (name, fn) => d(name, fn);
export const logFeedback = () => {};
export const logOutputs = () => {};
`;
const BASELINE_LS = {
  vitest: baselineLs(
    `import { describe as d, test as t } from "vitest";`,
    "(ctx) => fn({ ...ctx, inputs: p.inputs, referenceOutputs: p.referenceOutputs })",
  ),
  jest: baselineLs(
    `// @ts-nocheck\nconst d = globalThis.describe, t = globalThis.test;`,
    "() => fn({ inputs: p.inputs, referenceOutputs: p.referenceOutputs })",
  ),
};
