// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import type { AckedTest } from "../protocol/tracked-test.js";
import type { LsDescribeConfig } from "./ls-types.js";

/** A tracked test that ended: what its file's ack carries, and what the binding hands its reporter. */
export type TestEndInfo = AckedTest;

/** The runner an `ls` API drives; its methods are looked up lazily (see ls-api.ts). */
export interface RunnerBinding {
  name: "vitest" | "jest";
  methods(): { test: any; describe: any; expect: any };
  /** Hands the reporter what it needs (Vitest: task meta and an annotation). */
  onTestEnd?(ctx: any, info: TestEndInfo): void | Promise<void>;
  /**
   * The runner's full name (describe titles and title) of a test being declared, as its reporter
   * will show it. Asked at declaration: during a run, concurrent tests overlap. Default: the title.
   */
  fullNameOf?(title: string): string | undefined;
}

export type DescribeFrame = LsDescribeConfig & { name: string; skipped?: boolean };

/**
 * What one `ls` API keeps between calls. It belongs to the API, not to the module: `wrapVitest` and
 * `wrapJest` make further APIs beside the default one, each with its own describe nesting.
 */
export interface ApiState {
  readonly binding: RunnerBinding;
  /** The `ls.describe` blocks being collected, innermost last. */
  readonly describeStack: DescribeFrame[];
  /** The missing-runtime warning is given once per API, not once per test. */
  warned: boolean;
}

export function createApiState(binding: RunnerBinding): ApiState {
  return { binding, describeStack: [], warned: false };
}
