import type { CacheCounts, ModelUsage } from "../protocol/tracked-test.js";
import { addUsage } from "../protocol/usage.js";
import type { KVMap } from "./ls-types.js";

// The worker runtime's one plug-in point: features that need to see every `ls.test` run and to
// finish their work before the file's ack (a record/replay cache of model calls, say) attach here
// instead of into the `ls` API. A plugin's failure is its own: it becomes a problem in the ack,
// naming the plugin, and never fails a test or holds back the ack.

/** An `ls.test` run, as plugins see it. */
export interface WorkerTest {
  /** As declared. */
  name: string;
  /** As the runner's reporter shows it (describe titles, and `, run n` for repetitions). */
  fullName: string;
  /** The test's root run id (also set on untracked tests, which send no run). */
  runId: string;
  /** 0-based, of `config.repetitions` (or the run's `trials`). */
  repetition: number;
  /** 0-based: which trial of its declaration this test is (the same as `repetition`). */
  trial: number;
  /** How many trials the declaration has: its `config.repetitions`, else the run's `trials` option. */
  trials: number;
  tracked: boolean;
  dataset: string;
  experiment: { name: string; id: string };
  /** The declared example id, as recorded (a non-UUID id is mapped to a UUID). */
  exampleId?: string;
  /** As recorded (JSON-safe). */
  inputs: KVMap;
  referenceOutputs?: KVMap;
}

/** What plugins add to a test as it ends, inside its run (see `beforeTestEnd`). */
export interface TestFinish {
  /** Merged into the test run's metadata. */
  metadata?: KVMap;
  /** Fails the test with this error (a test that already failed keeps its own). */
  error?: Error;
  /** The test's model calls through the cache, for the end-of-run report. */
  cache?: CacheCounts;
  /** The tokens of the test's LLM spans per model, for the end-of-run report. */
  usage?: ModelUsage;
}

export interface WorkerTestResult {
  /** The test function returned (or resolved) without throwing. */
  passed: boolean;
  error?: unknown;
}

/** The part of the worker runtime (runtime.ts) a plugin sees; declared here so plugins never import it. */
export interface PluginRuntime {
  /** False when test tracking is off: the plugin should do nothing visible. */
  readonly active: boolean;
  readonly runKey: string;
  /** A problem to name at the end of the run (the file's ack carries it). */
  noteProblem(message: string): void;
  /** Merges metadata into the span the calling code runs in (no-op outside a traced span). */
  annotateCurrentSpan(metadata: KVMap): void;
  /**
   * Sees every run create and update the worker's langsmith clients are given (run payload, run id),
   * on the caller's path: keep it cheap. One observer per runtime; absent without a collector.
   */
  observeRuns?(observer: (run: KVMap, id: unknown) => void): void;
}

export interface WorkerPluginContext {
  runtime: PluginRuntime;
  /**
   * The test whose code is running, from anywhere in its async context (`undefined` outside one).
   * Concurrent tests overlap, so this, not the order of start and end, says whose a call is.
   */
  currentTest(): WorkerTest | undefined;
}

export interface WorkerPlugin {
  /** Names the plugin in problems; registering a name again replaces the plugin of that name. */
  name: string;
  /** Once per runtime. A plugin whose setup fails gets no further calls from that runtime. */
  setup?(ctx: WorkerPluginContext): void | Promise<void>;
  /** Before the test function, outside its run. */
  onTestStart?(test: WorkerTest): void | Promise<void>;
  /**
   * When the test function has returned or thrown, still inside its run: what the plugin adds to the
   * run, and an error that fails the test. Untracked tests get it too (metadata goes nowhere).
   */
  beforeTestEnd?(test: WorkerTest, result: WorkerTestResult): TestFinish | undefined | Promise<TestFinish | undefined>;
  /** After the test has been reported; also when it failed. */
  onTestEnd?(test: WorkerTest, result: WorkerTestResult): void | Promise<void>;
  /** Before each file's ack, after the langsmith queues have drained; returns problems to report. */
  flush?(): Promise<string[]>;
}

type Hook = "setup" | "onTestStart" | "beforeTestEnd" | "onTestEnd" | "flush";

/** The plugins set up on one runtime, called in the order they were added. */
export class WorkerPlugins {
  private readonly entries: Array<{ plugin: WorkerPlugin; ready: Promise<boolean> }> = [];

  constructor(
    private readonly ctx: WorkerPluginContext,
    private readonly noteProblem: (message: string) => void,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  add(plugin: WorkerPlugin): void {
    const at = this.entries.findIndex((e) => e.plugin.name === plugin.name);
    if (at >= 0 && this.entries[at]!.plugin === plugin) return;
    // Set up now, not on first use: a synchronous setup is done before the first test file loads.
    const entry = { plugin, ready: this.call(plugin, "setup", () => plugin.setup?.(this.ctx)) };
    if (at >= 0) this.entries[at] = entry;
    else this.entries.push(entry);
  }

  async testStart(test: WorkerTest): Promise<void> {
    for (const { plugin, ready } of this.entries) {
      if (plugin.onTestStart && (await ready)) await this.call(plugin, "onTestStart", () => plugin.onTestStart!(test));
    }
  }

  /** Every plugin's additions, merged: metadata merged, the first error, counts summed. */
  async beforeTestEnd(test: WorkerTest, result: WorkerTestResult): Promise<TestFinish> {
    const out: TestFinish = {};
    for (const { plugin, ready } of this.entries) {
      if (!plugin.beforeTestEnd || !(await ready)) continue;
      let got: TestFinish | undefined;
      await this.call(plugin, "beforeTestEnd", async () => {
        got = await plugin.beforeTestEnd!(test, result);
      });
      if (!got) continue;
      if (got.metadata) out.metadata = { ...out.metadata, ...got.metadata };
      out.error ??= got.error;
      if (got.cache) {
        const c = (out.cache ??= { hit: 0, miss: 0, recorded: 0 });
        c.hit += got.cache.hit;
        c.miss += got.cache.miss;
        c.recorded += got.cache.recorded;
      }
      if (got.usage) out.usage = addUsage(out.usage ?? {}, got.usage);
    }
    return out;
  }

  async testEnd(test: WorkerTest, result: WorkerTestResult): Promise<void> {
    for (const { plugin, ready } of this.entries) {
      if (plugin.onTestEnd && (await ready)) await this.call(plugin, "onTestEnd", () => plugin.onTestEnd!(test, result));
    }
  }

  /**
   * Every plugin's problems, each bounded by the deadline: a plugin that hangs must not keep the
   * file's ack (and with it the file's tests) from the main process.
   */
  async flush(deadline: number): Promise<string[]> {
    const problems: string[] = [];
    for (const { plugin, ready } of this.entries) {
      if (!plugin.flush || !(await ready)) continue;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), "late")));
      try {
        const out = await Promise.race([plugin.flush(), late]);
        if (out === "late") problems.push(`plugin "${plugin.name}": flush did not finish in time`);
        else for (const p of out ?? []) problems.push(`plugin "${plugin.name}": ${p}`);
      } catch (err) {
        problems.push(failure(plugin, "flush", err));
      } finally {
        clearTimeout(timer);
      }
    }
    return problems;
  }

  private async call(plugin: WorkerPlugin, hook: Hook, fn: () => unknown): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      const message = failure(plugin, hook, err);
      console.warn(`tally: ${message}`);
      this.noteProblem(message);
      return false;
    }
  }
}

function failure(plugin: WorkerPlugin, hook: Hook, err: unknown): string {
  return `plugin "${plugin.name}": ${hook} failed: ${err instanceof Error ? err.message : String(err)}`;
}
