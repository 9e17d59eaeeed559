// One tracked test, the same shape wherever it travels: the worker builds it when the test ends;
// Vitest carries it in the test's task meta, Jest's workers in their file's ack to the collector;
// the ledger keeps the acks and the report reconciles them with what the backend accepted.

/** A feedback key and score as the end-of-run table shows it. */
export interface FeedbackScore {
  key: string;
  score: number | boolean | null;
}

/** Which run a test recorded, into which experiment, with which scores. */
export interface TrackedTest {
  runId: string;
  dataset: string;
  experimentName: string;
  experimentId: string;
  feedback: FeedbackScore[];
  /** The test's model calls answered by the cache, recorded, and missed (only when it made any). */
  cache?: CacheCounts;
  /** The tokens of the test's LLM spans, per model name (only when it made any model call that reported usage). */
  usage?: ModelUsage;
}

/**
 * Tokens per model name, as the LLM spans reported them: `input` and `output` spent, and what spans
 * answered from the model-call cache would have spent (`savedInput`, `savedOutput`; absent when 0).
 */
export type ModelUsage = Record<string, ModelTokens>;

export interface ModelTokens {
  input: number;
  output: number;
  savedInput?: number;
  savedOutput?: number;
}

/** A test's (or an experiment's) model calls through the cache. */
export interface CacheCounts {
  hit: number;
  miss: number;
  recorded: number;
}

/**
 * A tracked test as its file's ack carries it. Jest has no task meta: this is how its main process
 * learns each test's run, experiment and scores, even for a run that never reached the collector
 * (sampled away, or refused).
 */
export interface AckedTest extends TrackedTest {
  /** The runner's full test name (describe titles and test title). */
  fullName: string;
  passed: boolean;
}

/** A worker's word that a test file is done and everything it recorded was handed over. */
export interface WorkerAck {
  file: string;
  worker?: string;
  at: number;
  /** What the worker's flush could not send (it names tests); empty when all went well. */
  problems: string[];
  tests: AckedTest[];
}
