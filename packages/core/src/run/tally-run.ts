import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCollector, type Collector } from "../collector/server.js";
import { experimentIdentity } from "../identity/experiment.js";
import { deriveRunKey, type RunKey } from "../identity/run-key.js";
import { Ledger } from "../ledger/ledger.js";
import { ExperimentRegistry } from "../delivery/registry.js";
import { reconcile, type RunSummary } from "../report/reconcile.js";
import { joinBinding, type RunBinding } from "../report/binding.js";
import { propertySetter, type RunEnd } from "../report/run-end.js";
import { colors } from "../report/render.js";
import { claimLeftBehind, resend } from "./left-behind.js";
import { Spool } from "../spool/spool.js";
import type { OpenLocalBackend, WireStats } from "../backend/port.js";
import { Scheduler } from "../delivery/scheduler.js";
import { type GitInfo, readGit } from "./git.js";
import { Baselines, reportBaselineProblems } from "./compare-baselines.js";
import { buildReport, outcomesOfTests } from "../report/ci/build-report.js";
import type { TallyReportV1 } from "../report/json-report.js";
import { connectBackend, targetOf } from "./backend.js";
import { resolveOptions, type ResolvedOptions, type TallyOptions } from "./options.js";
import { WORKER_ENV } from "../protocol/worker-env.js";
import { CACHE_ENV, type CacheSettings } from "../cache/settings.js";

// One test run, runner-agnostic: picks the backend, opens the spool, starts the collector and the
// sender, hands workers what they need (environment variables), and at the end drains, closes the
// experiments once and reconciles. The Vitest reporter and the Jest globalSetup/teardown drive it;
// they hand it their runner's binding and pass the end it gives back to the sinks (report/sinks/).

export interface StartOptions {
  root: string;
  options?: TallyOptions;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Colour the lines given to `log` (whether its stream is a terminal). */
  color?: boolean;
  /** Which runner drives the run, stamped on the experiments. */
  runner: string;
  /** Opens the embedded store (from `@tally/store`); needed when there is no API key. */
  openLocal?: OpenLocalBackend;
}

export interface TallyRun {
  runKey: RunKey;
  options: ResolvedOptions;
  backend: string;
  /** True when recording into the embedded store (no API key). */
  local: boolean;
  /** Environment variables every worker needs (inherited by workers spawned after this). */
  workerEnv: Record<string, string>;
  /**
   * Puts `workerEnv` into `env` (the main process's: workers inherit it); `finish` and `abort` put
   * back what was there, so that a user's own TALLY_DATASET (say) outlives the run in watch mode.
   */
  exposeToWorkers(env?: NodeJS.ProcessEnv): void;
  /**
   * The link of the dataset's experiment, once it is resolved (the first test into it registered).
   * Vitest's reporter puts it on tests as they end: its JUnit reporter writes before the run drains.
   */
  experimentUrl(dataset: string): string | undefined;
  /**
   * Drains, closes the experiments and reconciles what the runner saw (`binding`) against what was
   * received and delivered. A file that owed an ack and never sent one is named in the problems.
   */
  finish(binding: RunBinding): Promise<FinishedRun>;
  /** Stop without draining (watch-mode restart, errors). */
  abort(): Promise<void>;
}

/** The run's end for the sinks; `where` has the spool left behind and the earlier spools sent. */
export interface FinishedRun extends RunEnd {
  /** The request bodies this run's sender sent upstream, before and after compression. */
  wire: WireStats;
}

export async function startTallyRun(start: StartOptions): Promise<TallyRun> {
  const env = start.env ?? process.env;
  const log = start.log ?? ((l: string) => console.log(l));
  const options = resolveOptions(start.root, start.options, env);
  const runKey = deriveRunKey(env);

  const target = targetOf(options, env);
  const to = await connectBackend(target, env, start.openLocal);
  const local = to.kind === "local";
  const backend = to.label;
  // Four `git` processes: spawning them costs the main thread ~15 ms, so not before the workers
  // start (their first ~200 ms leave it idle).
  const gitInfo = new Promise<void>((r) => setTimeout(r, 100)).then(() => readGit(start.root));
  const runMetadata: Record<string, unknown> = {
    __ls_runner: start.runner,
    tally_run_key: runKey.key,
    ...(env.ENVIRONMENT ? { ENVIRONMENT: env.ENVIRONMENT } : {}),
    ...(env.NODE_ENV ? { NODE_ENV: env.NODE_ENV } : {}),
    ...(env.LANGSMITH_ENVIRONMENT ? { LANGSMITH_ENVIRONMENT: env.LANGSMITH_ENVIRONMENT } : {}),
    ...options.metadata,
  };
  const ledger = new Ledger();
  const startedAt = new Date().toISOString();
  // In CI, "previous" prefers a baseline from the default branch (a PR is judged against main).
  const ci = env.CI === "true" || env.CI === "1" || env.GITHUB_ACTIONS === "true";
  const baselines = new Baselines(to, {
    baseline: options.baseline,
    regressionThreshold: options.regressionThreshold,
    alpha: options.alpha,
    defaultBranch: ci ? gitInfo.then((g) => env.TALLY_DEFAULT_BRANCH || env.GITHUB_BASE_REF || g.defaultBranch) : undefined,
  });
  const registry = new ExperimentRegistry({
    backend: to,
    metadata: runMetadata,
    description: options.description,
    retryForMs: 10_000,
    onResolved: (exp) => baselines.prepare(exp),
  });
  const spool = Spool.create(join(options.dir, "spool"), {
    pid: process.pid,
    runKey: runKey.key,
    startedAt,
    backend: to.spoolKey,
  });
  const sender = new Scheduler({ spool, backend: to, registry, ledger });
  // What earlier runs left for this backend goes out beside this run's records, in the background.
  const leftBehind = claimLeftBehind(join(options.dir, "spool"), (b) => b === to.spoolKey);
  const resending = Promise.all(leftBehind.map(({ spool: s }) => resend(s, to, Date.now() + options.drainTimeoutMs, options.drainStallMs)));
  const token = `tally-${randomBytes(24).toString("hex")}`;
  const collector: Collector = await startCollector({ token, spool, sender, ledger, backend: to });
  log(colors(!!start.color).dim(`tally: recording to ${backend} · run ${runKey.key} (${runKey.source})`));
  for (const { spool: s } of leftBehind) {
    log(colors(!!start.color).dim(`tally: also sending ${s.pending().length} records an earlier run left in ${s.dir}`));
  }
  if (options.dataset) void registry.ensure(options.dataset, datasetExperiment(options, runKey.key)).catch(() => undefined);

  const workerEnv: Record<string, string> = {
    ...compileCacheEnv(env),
    [WORKER_ENV.url]: collector.url,
    [WORKER_ENV.token]: token,
    [WORKER_ENV.runKey]: runKey.key,
    [WORKER_ENV.flushTimeout]: String(options.flushTimeoutMs),
    [WORKER_ENV.trials]: String(options.trials),
    ...(options.dataset ? { [WORKER_ENV.dataset]: options.dataset } : {}),
    ...(options.fallbackDataset ? { [WORKER_ENV.fallbackDataset]: options.fallbackDataset } : {}),
    ...(options.experimentPrefix ? { [WORKER_ENV.prefix]: options.experimentPrefix } : {}),
    ...cacheEnv(options.cache),
  };

  /** The run's JSON report: each experiment against its baseline, and the gates, judged after delivery. */
  async function ciReport(summary: RunSummary, git: GitInfo): Promise<TallyReportV1> {
    const compared = await Promise.all(
      registry.all().map((exp) => {
        const tests = summary.experiments.find((e) => e.name === exp.name)?.tests ?? [];
        return baselines.compare(
          exp,
          outcomesOfTests(tests, (runId) => sender.exampleOfRun(runId)),
        );
      }),
    );
    const report = buildReport({
      summary,
      compared,
      run: {
        key: runKey.key,
        startedAt,
        endedAt: new Date().toISOString(),
        git: git.commit ? { commit: git.commit, branch: git.branch ?? null, dirty: !!git.dirty } : null,
      },
      gates: options.gates,
      prices: options.prices,
    });
    reportBaselineProblems(report, compared, options.gates);
    return report;
  }

  let restoreEnv = () => {};
  function exposeToWorkers(env: NodeJS.ProcessEnv = process.env) {
    const before = Object.keys(workerEnv).map((k) => [k, env[k]] as const);
    Object.assign(env, workerEnv);
    restoreEnv = () => {
      for (const [k, v] of before) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      restoreEnv = () => {};
    };
  }

  async function shutdown() {
    restoreEnv();
    sender.stop();
    await collector.close();
    await to.close();
  }

  return {
    runKey,
    options,
    backend,
    local,
    workerEnv,
    exposeToWorkers,
    abort: shutdown,
    experimentUrl: (dataset) => registry.peek(dataset)?.url,
    async finish(binding) {
      // Every worker of the run has ended: the environment is the user's again.
      restoreEnv();
      const deadline = Date.now() + options.drainTimeoutMs;
      let lastLog = Date.now();
      const progress = (p: { pending: number; sent: number; lastError?: string }) => {
        if (Date.now() - lastLog < 2000) return;
        lastLog = Date.now();
        log(
          `tally: sending to ${backend}: ${p.sent} records sent, ${p.pending} to go${p.lastError ? ` (last error: ${p.lastError})` : ""}`,
        );
      };
      // Close each experiment once, with this end time; the sender sends it as soon as the
      // experiment's examples are in, alongside its last runs.
      const endTime = new Date().toISOString();
      const git = await gitInfo;
      const closeFor = (exp: { dataset: string; name: string; id: string }) => ({
        t: "close" as const,
        close: {
          dataset: exp.dataset,
          experiment: { name: exp.name, id: exp.id },
          endTime,
          metadata: { ...runMetadata, ...(git.commit ? { commit: git.commit, branch: git.branch, dirty: git.dirty } : {}) },
          gitCommit: git.commit,
        },
      });
      const datasets = new Map<string, { dataset: string; name: string; id: string }>();
      for (const t of ledger.tests.values()) datasets.set(t.dataset, { dataset: t.dataset, ...t.experiment });
      sender.push(spool.append([...datasets.values()].map(closeFor)));
      const p = await sender.drain(deadline, progress, options.drainStallMs);
      const earlier = await resending;
      const hint = p.unreachable ? `backend unreachable (${p.unreachable})` : p.lastError ? `backend: ${p.lastError}` : undefined;
      const joined = joinBinding(binding, ledger.acks, start.root, { declared: ledger.declared, registered: ledger.tests.values() });
      const summary = reconcile(joined.tests, ledger, registry.all(), hint, joined.unreported, joined.cancelled);
      // A file with tests its worker never reported has its own line (the worker died before reporting).
      const named = new Set(joined.unreported.map((u) => u.file));
      for (const file of joined.unacked) {
        if (named.has(file)) continue;
        summary.problems.push(`${file}: the worker stopped before its final flush acknowledged (crash, timeout, bail or a load error)`);
      }
      const report = await ciReport(summary, git);
      await shutdown();
      const complete = spool.removeIfComplete();
      if (!complete) spool.close();
      return {
        summary,
        where: { local, backend, spoolDir: complete ? undefined : spool.dir, leftBehind: earlier },
        tables: options.tables,
        setTestProperty: propertySetter(joined.boundOf),
        report,
        reportFile: options.reportFile,
        env,
        wire: p.wire,
      };
    },
  };
}

function datasetExperiment(options: ResolvedOptions, runKey: string) {
  return experimentIdentity(options.dataset!, runKey, options.experimentPrefix);
}

/** The cache's settings as the workers read them; off, only that (an inherited TALLY_CACHE would say otherwise). */
function cacheEnv(cache: CacheSettings): Record<string, string> {
  if (cache.mode === "off") return { [CACHE_ENV.mode]: "off" };
  return {
    [CACHE_ENV.mode]: cache.mode,
    [CACHE_ENV.dir]: cache.dir,
    [CACHE_ENV.hosts]: cache.hosts.join(","),
    [CACHE_ENV.maxEntryBytes]: String(cache.maxEntryBytes),
    [CACHE_ENV.module]: fileURLToPath(new URL("../cache/intercept.js", import.meta.url)),
  };
}

/**
 * Node's module compile cache for the workers (Vitest forks, Jest workers): each test file's worker
 * loads langsmith and Tally again, and from the second run on compiles them from the cache (2-5 %
 * of a small suite's wall time, measured). A user's own setting wins, and so does opting out.
 */
function compileCacheEnv(env: Record<string, string | undefined>): Record<string, string> {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return {};
  return { NODE_COMPILE_CACHE: join(tmpdir(), "node-compile-cache") };
}
