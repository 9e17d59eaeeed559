import { experimentIdentity } from "../identity/experiment.js";
import { EXAMPLE_ID_NAMESPACE, objectHash } from "../identity/example-hash.js";
import { isUuid, uuid5 } from "../wire/ids.js";
import { toJsonSafe } from "../wire/json-safe.js";
import type { ExampleHint } from "../protocol/examples.js";
import type { DescribeFrame } from "./api-state.js";
import type { KVMap, LsParams, LsTestConfig } from "./ls-types.js";
import type { WorkerRuntime } from "./runtime.js";

// Everything about an `ls.test` that follows from its declaration alone, the same at collection and
// at run. Pure but for the hashes' cost, which is why the example hint is made lazily.

/** The runtime settings a declaration depends on (not its clients or queues). */
export type DeclarationSettings = Pick<WorkerRuntime, "active" | "runKey" | "dataset" | "experimentPrefix"> &
  Partial<Pick<WorkerRuntime, "fallbackDataset">>;

export interface Identity {
  /** The example id as recorded: the declared one, or a UUID derived from it. */
  id: string | undefined;
  /** JSON-safe: what is recorded. */
  inputs: KVMap;
  referenceOutputs: KVMap | undefined;
  metadata: KVMap | undefined;
  /** As declared: what the test function receives. */
  rawInputs: KVMap;
  rawReferenceOutputs: KVMap | undefined;
  split: string | string[] | undefined;
  /** The test's `config` without Tally's own keys: handed to the run tree. */
  runTreeConfig: KVMap;
  /** Undeclared params, passed through to the test function. */
  rest: KVMap;
  dataset: string | undefined;
  experiment: { name: string; id: string } | undefined;
  tracked: boolean;
  suite: DescribeFrame | undefined;
  /** What the declaration's values lost or changed on the way to JSON, and a mapped example id. */
  notes: string[];
  example(dataset: string, experiment: { name: string; id: string }): ExampleHint;
}

export function identify(params: LsParams, suite: DescribeFrame | undefined, rt: DeclarationSettings | undefined): Identity {
  const {
    id: givenId,
    inputs: rawInputs,
    referenceOutputs: ref,
    outputs: legacyRef,
    split,
    metadata: rawMetadata,
    config = {},
    ...rest
  } = params;
  const safe = toJsonSafe<{ inputs: KVMap; referenceOutputs?: KVMap; metadata?: KVMap }>({
    inputs: rawInputs,
    referenceOutputs: ref ?? legacyRef,
    metadata: rawMetadata,
  });
  const { inputs, referenceOutputs, metadata } = safe.value;
  const notes = [...safe.notes];
  // LangSmith takes only UUIDs as example ids: any other id is mapped to a stable one.
  const id = givenId === undefined || isUuid(givenId) ? givenId : uuid5(String(givenId), EXAMPLE_ID_NAMESPACE);
  if (id !== givenId) notes.push(`example id ${JSON.stringify(givenId)} is not a UUID; recorded as ${id}`);
  const { repetitions: _r, enableTestTracking, ...runTreeConfig } = config;
  // The run's dataset wins; LANGSMITH_TEST_SUITE only names the dataset of a test nothing else names.
  const dataset = rt?.dataset ?? suite?.testSuiteName ?? suite?.name ?? rt?.fallbackDataset;
  const experiment = dataset
    ? experimentIdentity(dataset, rt?.runKey ?? "untracked", suite?.projectName ?? rt?.experimentPrefix)
    : undefined;
  const tracked = !!rt?.active && suite?.enableTestTracking !== false && enableTestTracking !== false;
  // Hashing walks the whole inputs: once per declaration, shared by the hint and every run of it.
  let hashes: { inputsHash: string; outputsHash: string } | undefined;
  const example = (d: string, e: { name: string; id: string }): ExampleHint => ({
    dataset: d,
    experiment: e,
    inputs,
    referenceOutputs: referenceOutputs ?? null,
    // Hashed from the values as declared, as the official integration does, so ids stay compatible.
    ...(hashes ??= { inputsHash: objectHash(rawInputs), outputsHash: objectHash(ref ?? legacyRef ?? {}) }),
    exampleId: id,
    split: split ?? null,
    metadata: metadata ?? null,
  });
  return {
    id,
    inputs,
    rawInputs,
    rawReferenceOutputs: ref ?? legacyRef,
    referenceOutputs,
    split,
    metadata,
    runTreeConfig,
    rest,
    dataset,
    experiment,
    tracked,
    example,
    suite,
    notes,
  };
}

/**
 * How many tests (trials) one declaration registers: its `config.repetitions`, else the run's
 * `trials`. A count below one (or not a number) still registers one.
 */
export function repetitionsOf(config: LsTestConfig | undefined, trials = 1): number {
  const n = Math.floor(Number(config?.repetitions ?? trials));
  return Number.isFinite(n) ? Math.max(1, n) : 1;
}

/**
 * The runner's title of repetition (trial) `r` (0-based), as langsmith names repetitions: the
 * declared name alone when there is one.
 */
export function repetitionTitle(name: string, r: number, repetitions: number): string {
  return repetitions > 1 ? `${name}, run ${r + 1}` : name;
}

/** Says, naming the test, what of its values JSON could not hold as they were (see json-safe.ts). */
export function noteConversions(rt: Pick<WorkerRuntime, "noteProblem">, test: string, what: string, notes: string[]): void {
  if (notes.length === 0) return;
  const message = `ls.test "${test}": ${what}: ${notes.join("; ")}`;
  console.warn(`tally: ${message}`);
  rt.noteProblem(message);
}
