// Public types of the `ls` API, shaped like `langsmith/vitest` and `langsmith/jest` so that switching
// an import is the whole migration.

// biome-ignore lint/suspicious/noExplicitAny: as langsmith declares it, so values type-check alike
export type KVMap = Record<string, any>;

export interface LsTestConfig {
  /** Run the test n times; all repetitions share one example. Wins over the run's `trials` option. */
  repetitions?: number;
  enableTestTracking?: boolean;
  [runTreeOption: string]: unknown;
}

export interface LsParams<I extends KVMap = KVMap, O extends KVMap = KVMap> {
  id?: string;
  inputs: I;
  referenceOutputs?: O;
  /** Legacy alias of referenceOutputs. */
  outputs?: O;
  split?: string | string[];
  metadata?: KVMap;
  config?: LsTestConfig;
  [passThrough: string]: unknown;
}

export interface TestMetadata {
  /** Set when the test gave an `id`; otherwise the example id is assigned in the main process. */
  exampleId?: string;
  experimentId: string;
  experimentName: string;
  dataset: string;
  testTrackingEnabled: boolean;
  repetition: number;
  /**
   * 0-based: which trial of the test this is (the same as `repetition`; trials are a test's
   * `config.repetitions`, else the run's `trials` option / TALLY_TRIALS).
   */
  trial: number;
  split?: string | string[];
}

export type LsTestArgs<I extends KVMap, O extends KVMap> = {
  inputs: I;
  referenceOutputs?: O;
  testMetadata: TestMetadata;
} & KVMap;

export type LsTestFn<I extends KVMap = KVMap, O extends KVMap = KVMap> = (args: LsTestArgs<I, O>) => unknown;

export interface LsDescribeConfig {
  /** Dataset name; defaults to the describe name (or the plugin's `dataset` option, which wins). */
  testSuiteName?: string;
  enableTestTracking?: boolean;
  /** Added to the metadata of every test run in this describe. */
  metadata?: KVMap;
  /** Used as the experiment name prefix: `<projectName>:<run key>`. */
  projectName?: string;
  client?: unknown;
  [createProjectOption: string]: unknown;
}

export interface EvaluationResult {
  key: string;
  score?: number | boolean | null;
  value?: unknown;
  comment?: string;
}

export type SimpleEvaluator = (args: {
  inputs: KVMap;
  referenceOutputs?: KVMap;
  outputs: KVMap;
}) => EvaluationResult | EvaluationResult[] | Promise<EvaluationResult | EvaluationResult[]>;

// The names `langsmith/vitest` and `langsmith/jest` give these shapes, so that type imports migrate
// with the rest (test/api/export-parity.test.ts checks every name they export is here).
export type LangSmithJestlikeWrapperConfig = LsTestConfig;
export type LangSmithJestlikeWrapperParams<I extends KVMap = KVMap, O extends KVMap = KVMap> = LsParams<I, O>;
export type LangSmithJestlikeDescribeWrapperConfig = LsDescribeConfig;
export type LangSmithJestlikeDescribeWrapper = (name: string, fn: () => void | Promise<void>, config?: LsDescribeConfig) => void;
export type LangSmithJestlikeTestMetadata = TestMetadata;
export type LangSmithJestlikeTestFunction<I extends KVMap = KVMap, O extends KVMap = KVMap> = LsTestFn<I, O>;
export type SimpleEvaluationResult = { key: string; score: number | boolean; comment?: string };
