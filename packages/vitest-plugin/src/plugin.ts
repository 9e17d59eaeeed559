import type { TallyOptions } from "@tally/core";
import { cacheIgnoredWithoutTracking, trackingEnabled } from "@tally/core/worker";
import type { TestProject, Vitest } from "vitest/node";
import { createRequire, enableCompileCache } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSetupShim } from "./setup-shim.js";

// `plugins: [tally(options)]`. Registration goes through `configureVitest` (Vitest ≥ 3.1): the
// setup file is put first in each project's setupFiles, and one reporter instance joins the user's
// reporters (never replacing `default`, surviving `--reporter=…` on the command line).
// With LANGSMITH_TEST_TRACKING=false there is no run: the setup file only hands the `ls` API the user's
// `vitest` (no langsmith), and no reporter joins (nothing of the run's machinery is even loaded).

const REGISTERED = Symbol.for("tally.vitest.registered");

/**
 * Structurally a Vite plugin. `configureVitest` takes only the part of Vitest's `VitestPluginContext`
 * it uses (3.2, 4 and 5 share it), so the plugin fits the `plugins` of each.
 */
export interface TallyPlugin {
  name: "tally";
  config(): { test: { includeTaskLocation?: boolean; server: { deps: { external: RegExp[] } } } };
  configureVitest(context: { vitest: Vitest; project: TestProject }): Promise<void>;
}

export function tally(options: TallyOptions = {}): TallyPlugin {
  return {
    name: "tally",
    // Externals go in through Vite's `config` hook: Vitest builds its module resolver from the
    // config before `configureVitest` runs, so an entry added there is never seen (measured on 4.1).
    // On GitHub Actions, each test's line for the annotations (`::warning file=…,line=…`); Vitest
    // warns that locating every test has a cost, so only where something reads it.
    config: () => ({
      test: {
        ...(process.env.GITHUB_ACTIONS === "true" ? { includeTaskLocation: true } : {}),
        server: { deps: { external: [tallyFiles()] } },
      },
    }),
    async configureVitest({ vitest, project }) {
      const tracked = trackingEnabled(process.env);
      const shim = writeSetupShim(project.config.root, tracked);
      const setupFiles: string[] = project.config.setupFiles;
      if (!setupFiles.includes(shim)) setupFiles.unshift(shim);
      const ignored = tracked ? undefined : cacheIgnoredWithoutTracking(options.cache, process.env);
      if (ignored && !Reflect.has(vitest, REGISTERED)) {
        Reflect.set(vitest, REGISTERED, true);
        console.warn(ignored);
      }
      // Once per Vitest instance: with `projects`, this hook runs per project, and the config file
      // may even be evaluated again per project, so a module-level flag would not do.
      if (tracked && !Reflect.has(vitest, REGISTERED)) {
        Reflect.set(vitest, REGISTERED, true);
        // Loaded here, not with the config: the reporter brings all of @tally/core (~40 ms), compiled
        // from Node's on-disk cache after the first run (see compileCacheEnv in @tally/core).
        enableCompileCache?.();
        const { TallyReporter } = await import("./reporter.js");
        // First in the list: reporters run in order up to their first await, so the annotations Tally
        // completes at the start of onTestRunEnd are there when the JUnit reporter reads them.
        vitest.config.reporters.unshift(new TallyReporter(options));
      }
    },
  };
}

/**
 * Tally's own files never need Vite's transforms: have Node load them, as it does for every file in
 * node_modules. From a workspace link or a `file:` install they sit outside node_modules, and the
 * module runner would fetch and evaluate each of them again in every test file (measured on 4.1:
 * the plugin's two entry points cost 12–16 ms and ~15 ms a file inlined, under 1 ms natively).
 */
function tallyFiles(): RegExp {
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [join(here, ".."), dirname(createRequire(import.meta.url).resolve("@tally/core/package.json"))];
  const escapeRegExp = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^(?:${roots.map(escapeRegExp).join("|")})[\\/]dist[\\/]`);
}

export default tally;
export type { TallyOptions };
