import { expect } from "vitest";
import { exampleId } from "../../packages/core/src/identity/experiment.js";
import { objectHash } from "../../packages/core/src/identity/example-hash.js";
import type { Backend } from "./backend.js";

/**
 * What the shared cases of test/fixtures/api-coverage (evals/cases.ts) must leave at the backend,
 * whichever runner ran them; `out` is the runner's output.
 */
export async function expectApiCoverage(backend: Backend, out: string) {
  expect(out).toContain("tally: 14/14 runs");
  expect(out).toContain("tally: 1/1 runs");

  const [ds] = await backend.datasets("api-coverage");
  const [exp] = await backend.experimentsOf(ds!.id);
  const runs = await backend.runsOf(exp!.id);
  const roots = runs.filter((x) => !x.parent_run_id);
  const byName = (n: string) => roots.filter((x) => x.name === n);
  expect(roots).toHaveLength(14);

  // Example ids follow the official integration's scheme, and equal inputs share an example.
  const native = byName("native matchers on ls.expect")[0]!;
  const expected = exampleId(ds!.id, objectHash({ text: "hi" }), objectHash({ answer: "HI" }));
  expect(native.reference_example_id).toBe(expected);
  expect(byName("same inputs in a second test share the example")[0]!.reference_example_id).toBe(expected);
  expect(byName("explicit example id")[0]!.reference_example_id).toBe("5f0cb2b6-7e0f-4a39-9b0a-6f2f1b3c1a11");
  const reps = byName("repeated");
  expect(reps).toHaveLength(3);
  expect(new Set(reps.map((x) => x.reference_example_id)).size).toBe(1);
  expect(byName("table, item 0")).toHaveLength(1);
  expect(byName("concurrent table, item 1")).toHaveLength(1);
  expect(byName("primitive return")[0]!.outputs).toEqual({ result: 42 });
  // Its traced call's attachment arrived byte for byte.
  const attached = runs.find((x) => x.name === "with-attachment" && x.parent_run_id === byName("primitive return")[0]!.id);
  const notes = attached?.attachments?.notes;
  expect(notes?.mime_type).toBe("text/plain");
  expect(await (await fetch(notes!.presigned_url)).text()).toBe("grinder returns: 30 days");
  expect(byName("logOutputs when nothing is returned")[0]!.outputs).toEqual({ logged: true });
  expect(byName("skipped")).toHaveLength(0);
  expect(byName("untracked by config")).toHaveLength(0);
  // 11 distinct examples: skipped and untracked tests make none, shared inputs share one.
  expect(await backend.examplesOf(ds!.id)).toHaveLength(11);
  // The run made through the user's own Client (its own apiUrl and key) arrived as well.
  const own = await backend.sessionByName("own-client-project");
  expect((await backend.runsOf(own!.id)).map((x) => x.name)).toEqual(["via-own-client"]);
  expect(out).not.toContain("user-own-key");

  const feedback = await backend.feedbackFor(roots.map((x) => x.id));
  const fbOf = (n: string) => feedback.filter((f) => f.run_id === byName(n)[0]!.id);
  const keysOf = (n: string) =>
    fbOf(n)
      .map((f) => f.key)
      .sort();
  expect(keysOf("logOutputs when nothing is returned")).toEqual(["custom", "pass"]);
  expect(fbOf("logOutputs when nothing is returned").find((f) => f.key === "custom")?.score).toBe(0.25);
  expect(fbOf("evaluatedBy and the LLM matchers").filter((f) => f.key === "exact_match")).toHaveLength(2);
  expect(keysOf("evaluatedBy and the LLM matchers")).toContain("pass");
  // The evaluation nobody awaited (300 ms after the test ended) still arrived.
  expect(keysOf("un-awaited evaluation is still flushed")).toEqual(["exact_match", "pass"]);

  // Evaluator runs are their own traces in "evaluators", linked to the test's example.
  const evaluators = await backend.sessionByName("evaluators");
  const evalRuns = (await backend.runsOf(evaluators!.id)).filter((x) => !x.parent_run_id);
  expect(evalRuns.length).toBe(3);
  for (const e of evalRuns) expect(e.reference_example_id).toBeTruthy();

  // A file written for wrapVitest / wrapJest records into its own dataset, with its feedback.
  const [wrapped] = await backend.datasets("api-coverage-wrapped");
  const [wrappedExp] = await backend.experimentsOf(wrapped!.id);
  const wrappedRuns = (await backend.runsOf(wrappedExp!.id)).filter((x) => !x.parent_run_id);
  expect(wrappedRuns.map((x) => x.name)).toEqual(["through the wrapped runner"]);
  expect((await backend.feedbackFor([wrappedRuns[0]!.id])).map((f) => f.key).sort()).toEqual(["pass", "wrapped"]);

  const [renamed] = await backend.datasets("api-coverage-renamed");
  expect(renamed).toBeDefined();
  expect(await backend.experimentsOf(renamed!.id)).toHaveLength(1);
}
