import { installWorker, lsMatchers, type LangsmithModules } from "@tally/core/worker";
import { VITEST_MODULE_KEY } from "./meta.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// Called by the generated setup file (see plugin.ts) before every test file, with the `vitest` and
// `langsmith` modules as the user's project resolves them.
export interface VitestWorkerModules {
  vitest: any;
  langsmith: any;
  traceable: any;
  /** `createRequire` of the generated setup file: resolves like the user's project. */
  projectRequire?: NodeJS.Require;
}

export function installVitestWorker(mods: VitestWorkerModules): void {
  const langsmith: LangsmithModules = {
    Client: mods.langsmith.Client,
    traceable: mods.traceable.traceable,
    getCurrentRunTree: mods.traceable.getCurrentRunTree,
    ROOT: mods.traceable.ROOT,
    projectRequire: mods.projectRequire,
  };
  const rt = installWorker(langsmith);
  (globalThis as any)[VITEST_MODULE_KEY] = mods.vitest;
  mods.vitest.expect.extend(lsMatchers);
  // Registered by the first setup file, so with Vitest's default `sequence.hooks: "stack"` it runs
  // after every other afterAll of the file (including the test file's own). No declared parameters:
  // Vitest ≥ 4.1 parses the first one as a fixture pattern; the file comes from `arguments`.
  mods.vitest.afterAll(function (this: unknown) {
    const suite = [...arguments].find((a: any) => a?.type === "suite") as any;
    const file = suite?.file?.filepath ?? suite?.filepath ?? "unknown file";
    return rt.flushAndAck(file);
  }, rt.flushTimeoutMs);
}
