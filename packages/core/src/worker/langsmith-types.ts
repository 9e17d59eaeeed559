// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
// The slice of the user's own `langsmith` package that Tally drives. It is handed in by the runner's
// setup file, which imports it from the user's project, so user code and Tally share one copy (and
// one tracing context) whichever langsmith version (0.3 to 0.10) the project has.

export interface LangsmithClientLike {
  apiUrl?: string;
  apiKey?: string;
  createFeedback(runId: string, key: string, opts: Record<string, unknown>): Promise<unknown>;
  awaitPendingTraceBatches?(): Promise<void>;
  flush?(): Promise<void>;
  manualFlushMode?: boolean;
  /** `true`, or a function that rewrites a run's inputs before they are sent (SDK ≥ 0.1). */
  hideInputs?: boolean | ((inputs: Record<string, unknown>) => unknown);
}

export interface LangsmithModules {
  Client: new (config?: Record<string, unknown>) => LangsmithClientLike;
  traceable: (fn: (...args: any[]) => any, config?: Record<string, unknown>) => (...args: any[]) => Promise<any>;
  getCurrentRunTree: (permitAbsent?: boolean) => { id: string; outputs?: unknown } | undefined;
  ROOT: symbol;
  /** Other copies of Client (the CJS build next to the ESM one) to track as well. */
  extraClientClasses?: Array<{ prototype: object }>;
  /**
   * A `require` that resolves like the user's project. If a CommonJS copy of langsmith gets loaded
   * (by a CommonJS dependency), its clients are adopted too; Tally never loads it itself.
   */
  projectRequire?: NodeJS.Require;
}
