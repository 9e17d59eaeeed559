// biome-ignore-all lint/suspicious/noExplicitAny: test doubles stand in for langsmith and runner objects
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { createLsApi, type RunnerBinding } from "./ls-api.js";

// Declaration without a runtime: what each `ls.test` form registers with the runner, and the state
// each API keeps to itself. Nothing here records anything.

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

function fakeRunner() {
  const registered: Array<{ via: string; title: string; fn: (ctx: object) => unknown }> = [];
  const method = (via: string) => (title: string, fn: (ctx: object) => unknown) => void registered.push({ via, title, fn });
  const test = Object.assign(method("test"), {
    only: method("only"),
    skip: method("skip"),
    concurrent: Object.assign(method("concurrent"), { only: method("concurrent.only"), skip: method("concurrent.skip") }),
  });
  const describe = Object.assign((_: string, fn: () => unknown) => fn(), {
    only: (_: string, fn: () => unknown) => fn(),
    skip: (_: string, fn: () => unknown) => fn(),
    concurrent: (_: string, fn: () => unknown) => fn(),
  });
  const binding: RunnerBinding = { name: "jest", methods: () => ({ test, describe, expect: () => ({}) }) };
  return { binding, registered };
}

describe("declaring ls tests", () => {
  it("registers one test per repetition and per table row, through the variant's own method", () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    ls.describe("qa", () => {
      ls.test("t", { inputs: {}, config: { repetitions: 2 } }, () => {});
      ls.test.each([{ inputs: { a: 1 } }, { inputs: { a: 2 }, config: { repetitions: 2 } }])("row", () => {});
      ls.test.concurrent.skip("s", { inputs: {} }, () => {});
      ls.it.only.each([{ inputs: {} }], { repetitions: 2 })("o", () => {});
    });
    expect(registered.map((r) => `${r.via}: ${r.title}`)).toEqual([
      "test: t, run 1",
      "test: t, run 2",
      "test: row, item 0",
      "test: row, item 1, run 1",
      "test: row, item 1, run 2",
      "concurrent.skip: s",
      "only: o, item 0, run 1",
      "only: o, item 0, run 2",
    ]);
  });

  it("hands the test function its declared values and its repetition", async () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    const seen: any[] = [];
    const inputs = { big: 1n };
    ls.describe("qa", () => {
      ls.test("t", { inputs, referenceOutputs: { r: 1 }, custom: "x", config: { repetitions: 2 } }, (args) => void seen.push(args));
    });
    for (const r of registered) await r.fn({});
    expect(
      seen.map((a) => [a.inputs, a.referenceOutputs, a.custom, a.testMetadata.repetition, a.testMetadata.testTrackingEnabled]),
    ).toEqual([
      [inputs, { r: 1 }, "x", 0, false],
      [inputs, { r: 1 }, "x", 1, false],
    ]);
    expect(seen[0].inputs).toBe(inputs);
  });

  it("keeps each API's describe nesting and missing-runtime warning to itself", async () => {
    const { binding, registered } = fakeRunner();
    const one = createLsApi(binding);
    const two = createLsApi(binding);
    one.describe("qa", () => {
      one.test("in one", { inputs: {} }, () => {});
      // Declared by the other API inside this describe: it is not in any of its own.
      two.test("in two", { inputs: {} }, () => {});
    });
    one.test("after", { inputs: {} }, () => {});
    const outcomes = await Promise.allSettled(registered.map((r) => r.fn({})));
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as Error).message : "ok"))).toEqual([
      "ok",
      expect.stringContaining('ls.test("in two") needs a dataset'),
      expect.stringContaining('ls.test("after") needs a dataset'),
    ]);
    // Once per API, however many tests ran.
    expect(warn.mock.calls.filter(([m]) => String(m).includes("no Tally runtime"))).toHaveLength(2);
  });

  it("pops an async describe's frame once its body has settled", async () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    await ls.describe("qa", async () => {
      await Promise.resolve();
      ls.test("late", { inputs: {} }, () => {});
    });
    ls.test("outside", { inputs: {} }, () => {});
    const outcomes = await Promise.allSettled(registered.map((r) => r.fn({})));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
  });
});
