// What a worker declares about the examples its tests belong to. It travels to the collector in two
// ways: hints posted at collection (so examples go upstream before any test runs), and the
// registration each test's root run carries (run-extra.ts).

/** An example, as a worker knows it when it collects an `ls.test` (before any test runs). */
export interface ExampleHint {
  dataset: string;
  experiment: { name: string; id: string };
  inputs: Record<string, unknown>;
  referenceOutputs?: Record<string, unknown> | null;
  /** Hashes of the live values, taken in the worker: with the dataset id they make the example id. */
  inputsHash: string;
  outputsHash: string;
  /** A user-given example id (`ls.test(name, { id })`), used as is. */
  exampleId?: string;
  split?: string | string[] | null;
  metadata?: Record<string, unknown> | null;
}

/**
 * A hint as a worker posts it: with the tests of its file that declare the example, so that the main
 * process can name the ones a worker that dies never reported (Jest keeps no result of such a file).
 */
export interface DeclaredExample extends ExampleHint {
  declared?: DeclaredTests;
}

export interface DeclaredTests {
  /** The test file, as the file's ack names it (an absolute path). */
  file: string;
  /** The tests (one per repetition), named as the worker names them (`TestRegistration.fullName`). */
  tests: string[];
}

/** A test's run and the example it belongs to; carried inside the run itself. */
export interface TestRegistration extends ExampleHint {
  /** The test's root run id; also the placeholder `reference_example_id` its runs carry. */
  runId: string;
  name: string;
  file?: string;
  /** The test as the worker names it: the runner's full name where it says (Jest), else the title. */
  fullName?: string;
}
