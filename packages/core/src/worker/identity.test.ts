import { describe, expect, it, vi } from "vitest";
import { experimentIdentity } from "../identity/experiment.js";
import { objectHash } from "../identity/example-hash.js";
import { toOutputs } from "./execute.js";
import { identify, noteConversions, repetitionsOf, repetitionTitle, type DeclarationSettings } from "./identity.js";

const settings: DeclarationSettings = { active: true, runKey: "rk" };
const suite = { name: "qa" };

describe("identify", () => {
  it("keeps a UUID example id as it is, without a note", () => {
    const id = "0190f4a2-0000-7000-8000-000000000001";
    const d = identify({ id, inputs: { q: 1 } }, suite, settings);
    expect(d.id).toBe(id);
    expect(d.notes).toEqual([]);
  });

  it("maps any other id to a stable UUID (v5 in the DNS namespace) and says so", () => {
    const a = identify({ id: "case-1", inputs: { q: 1 } }, suite, settings);
    const b = identify({ id: "case-1", inputs: { q: 2 } }, { name: "other" }, undefined);
    // Pinned: the same id must give the same example in every run and every worker.
    expect(a.id).toBe("3a00431c-fb7a-58a2-baba-974477f91d63");
    expect(b.id).toBe(a.id);
    expect(a.notes).toEqual(['example id "case-1" is not a UUID; recorded as 3a00431c-fb7a-58a2-baba-974477f91d63']);
    expect(a.example("qa", experimentIdentity("qa", "rk")).exampleId).toBe(a.id);
  });

  it("records JSON-safe values with notes, while the test function gets what it declared", () => {
    const when = new Date(0);
    const inputs = { n: 12n, when };
    const referenceOutputs = { tags: new Set(["a"]) };
    const d = identify({ inputs, referenceOutputs, metadata: { f: 1 } }, suite, settings);
    expect(d.inputs).toEqual({ n: "12", when: "1970-01-01T00:00:00.000Z" });
    expect(d.referenceOutputs).toEqual({ tags: ["a"] });
    expect(d.rawInputs).toBe(inputs);
    expect(d.rawReferenceOutputs).toBe(referenceOutputs);
    expect(d.notes).toEqual([expect.stringMatching(/BigInt.*\$\.inputs\.n/), expect.stringMatching(/Set.*\$\.referenceOutputs\.tags/)]);
  });

  it("takes the legacy `outputs` as reference outputs, and hashes the values as declared", () => {
    const d = identify({ inputs: { q: 1n }, outputs: { a: 1 } }, suite, settings);
    expect(d.referenceOutputs).toEqual({ a: 1 });
    const hint = d.example("qa", experimentIdentity("qa", "rk"));
    expect(hint).toMatchObject({ dataset: "qa", inputs: { q: "1" }, referenceOutputs: { a: 1 }, split: null, metadata: null });
    expect(hint.inputsHash).toBe(objectHash({ q: 1n }));
    expect(hint.outputsHash).toBe(objectHash({ a: 1 }));
  });

  it("hands the run tree the config without Tally's own keys, and passes other params through", () => {
    const d = identify({ inputs: {}, config: { repetitions: 3, enableTestTracking: true, tags: ["t"] }, extra: 1 }, suite, settings);
    expect(d.runTreeConfig).toEqual({ tags: ["t"] });
    expect(d.rest).toEqual({ extra: 1 });
  });

  it("takes the dataset from the plugin option, else the describe's testSuiteName, else its name", () => {
    expect(identify({ inputs: {} }, { name: "qa", testSuiteName: "suite" }, { ...settings, dataset: "fixed" }).dataset).toBe("fixed");
    expect(identify({ inputs: {} }, { name: "qa", testSuiteName: "suite" }, settings).dataset).toBe("suite");
    expect(identify({ inputs: {} }, suite, settings).dataset).toBe("qa");
    const outside = identify({ inputs: {} }, undefined, settings);
    expect(outside.dataset).toBeUndefined();
    // LANGSMITH_TEST_SUITE: only where nothing else names the dataset.
    const fallback = { ...settings, fallbackDataset: "suite-env" };
    expect(identify({ inputs: {} }, undefined, fallback).dataset).toBe("suite-env");
    expect(identify({ inputs: {} }, undefined, fallback).experiment?.name).toBe("suite-env:rk");
    expect(identify({ inputs: {} }, suite, fallback).dataset).toBe("qa");
    expect(identify({ inputs: {} }, undefined, { ...fallback, dataset: "fixed" }).dataset).toBe("fixed");
    expect(outside.experiment).toBeUndefined();
  });

  it("names the experiment from the run key and the describe's projectName or the prefix", () => {
    expect(identify({ inputs: {} }, suite, settings).experiment).toEqual(experimentIdentity("qa", "rk"));
    expect(identify({ inputs: {} }, suite, { ...settings, experimentPrefix: "p" }).experiment?.name).toBe("p:rk");
    expect(identify({ inputs: {} }, { name: "qa", projectName: "proj" }, { ...settings, experimentPrefix: "p" }).experiment?.name).toBe(
      "proj:rk",
    );
    expect(identify({ inputs: {} }, suite, undefined).experiment?.name).toBe("qa:untracked");
  });

  it("is tracked only with an active runtime and tracking left on by describe and test", () => {
    expect(identify({ inputs: {} }, suite, settings).tracked).toBe(true);
    expect(identify({ inputs: {} }, suite, { ...settings, active: false }).tracked).toBe(false);
    expect(identify({ inputs: {} }, suite, undefined).tracked).toBe(false);
    expect(identify({ inputs: {} }, { name: "qa", enableTestTracking: false }, settings).tracked).toBe(false);
    expect(identify({ inputs: {}, config: { enableTestTracking: false } }, suite, settings).tracked).toBe(false);
  });
});

describe("repetitions", () => {
  it("registers the declared count, and at least one", () => {
    expect(repetitionsOf(undefined)).toBe(1);
    expect(repetitionsOf({ repetitions: 3 })).toBe(3);
    expect(repetitionsOf({ repetitions: 0 })).toBe(1);
    expect(repetitionsOf({ repetitions: -2 })).toBe(1);
  });

  it("without config.repetitions, the run's trials; repetitions win; a count that is not one is one", () => {
    expect(repetitionsOf(undefined, 3)).toBe(3);
    expect(repetitionsOf({}, 3)).toBe(3);
    expect(repetitionsOf({ repetitions: 2 }, 3)).toBe(2);
    expect(repetitionsOf({ repetitions: 1 }, 3)).toBe(1);
    expect(repetitionsOf({ repetitions: 2.5 })).toBe(2);
    expect(repetitionsOf({ repetitions: "x" as never }, 3)).toBe(1);
  });

  it("numbers the titles from 1, and leaves a single run's title as declared", () => {
    expect(repetitionTitle("t", 0, 1)).toBe("t");
    expect([0, 1, 2].map((r) => repetitionTitle("t", r, 3))).toEqual(["t, run 1", "t, run 2", "t, run 3"]);
  });
});

describe("toOutputs", () => {
  it("uses a returned plain object, wraps anything else, and falls back to logged outputs", () => {
    expect(toOutputs({ a: 1 }, {})).toEqual({ a: 1 });
    expect(toOutputs("text", {})).toEqual({ result: "text" });
    expect(toOutputs([1], {})).toEqual({ result: [1] });
    expect(toOutputs(null, { loggedOutputs: { x: 1 } })).toEqual({ result: null });
    expect(toOutputs(undefined, { loggedOutputs: { x: 1 } })).toEqual({ x: 1 });
  });
});

describe("noteConversions", () => {
  it("names the test in one problem, and says nothing when nothing was converted", () => {
    const problems: string[] = [];
    const rt = { noteProblem: (m: string) => problems.push(m) };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    noteConversions(rt, "qa > t", "inputs", []);
    noteConversions(rt, "qa > t", "inputs", ["a", "b"]);
    warn.mockRestore();
    expect(problems).toEqual(['ls.test "qa > t": inputs: a; b']);
  });
});
