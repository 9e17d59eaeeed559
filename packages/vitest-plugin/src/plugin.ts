import type { TallyOptions } from "@tally/core";
import { TallyReporter } from "./reporter.js";
import { writeSetupShim } from "./setup-shim.js";

// `plugins: [tally(options)]`. Registration goes through `configureVitest` (Vitest ≥ 3.1): the
// setup file is put first in each project's setupFiles, and one reporter instance joins the user's
// reporters (never replacing `default`, surviving `--reporter=…` on the command line).

const REGISTERED = Symbol.for("tally.vitest.registered");

/** Structurally a Vite plugin; typed loosely so it fits the `plugins` of Vitest 3.2, 4 and 5 alike. */
export interface TallyPlugin {
  name: "tally";
  configureVitest(context: { vitest: any; project: any }): void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function tally(options: TallyOptions = {}): TallyPlugin {
  return {
    name: "tally",
    configureVitest({ vitest, project }) {
      const shim = writeSetupShim(project.config.root);
      const setupFiles: string[] = project.config.setupFiles;
      if (!setupFiles.includes(shim)) setupFiles.unshift(shim);
      // Once per Vitest instance: with `projects`, this hook runs per project, and the config file
      // may even be evaluated again per project, so a module-level flag would not do.
      if (!vitest[REGISTERED]) {
        vitest[REGISTERED] = true;
        // First in the list: reporters run in order up to their first await, so the annotations Tally
        // completes at the start of onTestRunEnd are there when the JUnit reporter reads them.
        vitest.config.reporters.unshift(new TallyReporter(options));
      }
    },
  };
}

export default tally;
export type { TallyOptions };
