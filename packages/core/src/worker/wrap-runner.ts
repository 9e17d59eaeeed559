// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import { createLsApi, type RunnerBinding } from "./ls-api.js";

// `wrapVitest(vitest)` / `wrapJest(jestGlobals)`: the `ls` API bound to runner methods the caller
// hands in, as langsmith's own wrappers do, for a monorepo whose workspaces use several copies of
// the runner. Same checks and messages as langsmith's, so a file that used them reads the same.

const REQUIRED = ["expect", "it", "test", "describe", "beforeAll", "afterAll"] as const;

export function wrapRunnerMethods(binding: RunnerBinding, methods: unknown, wrapperName: string): ReturnType<typeof createLsApi> {
  if (typeof methods !== "object" || methods === null) {
    throw new Error(
      `tally: ${wrapperName}() takes the runner's methods, e.g. ${wrapperName}(await import("${binding.name}")); got ${methods === null ? "null" : typeof methods}`,
    );
  }
  const missing = REQUIRED.filter((name) => typeof (methods as any)[name] !== "function");
  if (missing.length > 0) {
    throw new Error(
      `tally: the object passed to ${wrapperName}() has no ${missing.map((m) => `\`${m}\``).join(", ")} function: pass the ${binding.name} module or its globals`,
    );
  }
  return createLsApi({ ...binding, methods: () => methods as ReturnType<RunnerBinding["methods"]> });
}
