// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import type { FinishedRun, RunBinding, TallyOptions, TallyRun } from "@tally/core" with { "resolution-mode": "import" };
import { cacheIgnoredWithoutTracking, trackingEnabled } from "@tally/core/worker";
import { enableCompileCache } from "node:module";
import { resolve } from "node:path";

// The main-process half on Jest, shared by globalSetup, the reporter and globalTeardown (they run in
// the same process and realm). Jest order: globalSetup → reporters' onRunStart → workers →
// onRunComplete → globalTeardown. Whichever of globalSetup / onRunStart comes first starts the run
// (so a user's own globalSetup or --reporters do not switch Tally off); onRunComplete finishes it and
// reports, and globalTeardown finishes it if no Tally reporter did.

interface State {
  /** Resolves to no run when test tracking is off. */
  starting?: Promise<TallyRun | undefined>;
  finished?: Promise<FinishedRun | undefined>;
}

const KEY = Symbol.for("tally.jest.run-state");
const g = globalThis as unknown as Record<symbol, State | undefined>;
const state = (): State => (g[KEY] ??= {});

export function log(line: string): void {
  // Beside Jest's own output, which goes to stderr.
  process.stderr.write(`${line}\n`);
}

/** Imported lazily: @tally/core is ESM, and this package is loaded by Jest with require. */
export const core = () => import("@tally/core");

export function ensureRun(rootDir: string, options: TallyOptions): Promise<TallyRun | undefined> {
  const s = state();
  // Tracking off: no run, and nothing of core's run machinery (or the local store) is even loaded.
  if (!trackingEnabled()) {
    if (!s.starting) {
      const ignored = cacheIgnoredWithoutTracking(options.cache);
      if (ignored) log(ignored);
    }
    return (s.starting ??= Promise.resolve(undefined));
  }
  s.starting ??= (async () => {
    // @tally/core compiles from Node's on-disk cache after the first run (see compileCacheEnv).
    enableCompileCache?.();
    const { startTallyRun } = await core();
    const run = await startTallyRun({
      root: rootDir,
      options,
      runner: "tally-jest",
      log,
      color: !!process.stderr.isTTY,
      // The embedded store (and node:sqlite) is loaded only when a run records locally.
      openLocal: async (dir) => (await import("@tally/store")).openLocalBackend(dir),
    });
    // Workers (child processes and worker threads) and in-band test environments are created after
    // this, and take their environment from this process.
    run.exposeToWorkers();
    return run;
  })();
  return s.starting;
}

/**
 * Finishes the run, once: the first caller's binding is reconciled and it gets the run's end; later
 * callers get `undefined` once it is done (so exactly one of them reports).
 */
export async function finishRun(binding: RunBinding): Promise<FinishedRun | undefined> {
  const s = state();
  if (!s.starting) return undefined;
  if (s.finished) {
    await s.finished;
    return undefined;
  }
  s.finished = (async () => {
    const run = await s.starting!;
    if (!run) return undefined;
    return run.finish(binding);
  })();
  return s.finished;
}

/** Forget this run (after globalTeardown): a watch-mode re-run starts a new one. */
export function resetRun(): void {
  g[KEY] = undefined;
}

/**
 * Tally's options as given to its reporter entry (`["@tally/jest-preset/reporter", { ... }]`), so
 * globalSetup, which runs before any reporter exists, starts the run with them.
 */
export function optionsFromConfig(globalConfig: any): TallyOptions {
  const ours = resolve(__dirname, "reporter.js");
  for (const entry of (globalConfig?.reporters ?? []) as Array<string | [string, unknown]>) {
    const [path, options] = Array.isArray(entry) ? entry : [entry, undefined];
    if (typeof path !== "string" || !options) continue;
    if (resolvesTo(path, globalConfig.rootDir, ours)) return options as TallyOptions;
  }
  return {};
}

function resolvesTo(spec: string, rootDir: string | undefined, target: string): boolean {
  try {
    return require.resolve(spec, { paths: [rootDir ?? process.cwd(), __dirname] }) === target;
  } catch {
    return false;
  }
}
