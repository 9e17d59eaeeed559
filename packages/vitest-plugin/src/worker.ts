import { installWorker, lsMatchers, type LangsmithModules } from "@tally/core/worker";
import { VITEST_MODULE_KEY, type VitestModule } from "./meta.js";

// Called by the generated setup file (see plugin.ts) before every test file, with the `vitest` and
// `langsmith` modules as the user's project resolves them.
export interface VitestWorkerModules {
  vitest: VitestModule;
  /** `langsmith` and `langsmith/traceable`: what Tally uses of them. */
  langsmith: Pick<LangsmithModules, "Client">;
  traceable: Pick<LangsmithModules, "traceable" | "getCurrentRunTree" | "ROOT">;
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
  installVitestUntracked(mods.vitest);
  // Registered by the first setup file, so with Vitest's default `sequence.hooks: "stack"` it runs
  // after every other afterAll of the file (including the test file's own). No declared parameters:
  // Vitest ≥ 4.1 parses the first one as a fixture pattern; the file comes from `arguments`.
  mods.vitest.afterAll(function (this: unknown) {
    // biome-ignore lint/complexity/noArguments: a declared parameter would be read as a fixture pattern.
    return rt.flushAndAck(filepathOf([...arguments]));
  }, rt.flushTimeoutMs);
}

/** What the `ls` API needs of a worker, tracked or not: the user's `vitest`, and the ls matchers on its expect. */
export function installVitestUntracked(vitest: VitestModule): void {
  Reflect.set(globalThis, VITEST_MODULE_KEY, vitest);
  vitest.expect.extend(lsMatchers);
}

/** The test file an afterAll runs for: the suite Vitest passes (a file is a suite with `filepath`). */
export function filepathOf(args: unknown[]): string {
  const suite = args.find((a): a is object => typeof a === "object" && a !== null && "type" in a && a.type === "suite");
  const file = suite && "file" in suite && typeof suite.file === "object" && suite.file !== null ? suite.file : suite;
  return file && "filepath" in file && typeof file.filepath === "string" ? file.filepath : "unknown file";
}
