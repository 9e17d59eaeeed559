import { describe, expect, it } from "vitest";
import { liftTallyExtra, TALLY_EXTRA, type TallyRunExtra } from "./run-extra.js";
import type { RunOp } from "../wire/types.js";

const test = {
  dataset: "d",
  experiment: { name: "e", id: "0190f4a2-0000-5000-8000-000000000000" },
  inputsHash: "h",
  outputsHash: "o",
  name: "t",
};

function op(carrier: TallyRunExtra | undefined, inputs: Record<string, unknown>): RunOp {
  const extra = { metadata: { k: 1 }, ...(carrier ? { [TALLY_EXTRA]: carrier } : {}) };
  return { kind: "create", run: { id: "r1", name: "t", run_type: "chain", inputs, extra } as RunOp["run"] };
}

describe("liftTallyExtra", () => {
  it("takes the registration out of the run, with the run's inputs as the example's", () => {
    const lifted = liftTallyExtra([op({ test, feedback: [{ id: "f", key: "k", score: 1 }] }, { q: 1 })]);
    expect(lifted.tests).toEqual([{ ...test, runId: "r1", inputs: { q: 1 } }]);
    expect(lifted.feedback).toEqual([{ id: "f", key: "k", score: 1 }]);
    expect(lifted.ops[0]!.run.extra).toEqual({ metadata: { k: 1 } });
  });

  it("keeps the example's own inputs when the run's were hidden", () => {
    const lifted = liftTallyExtra([op({ test: { ...test, inputs: { q: "secret" } } }, {})]);
    expect(lifted.tests[0]!.inputs).toEqual({ q: "secret" });
    expect(JSON.stringify(lifted.ops)).not.toContain("secret");
  });

  it("refuses a registration it could not place (it would hold up the dataset's runs)", () => {
    expect(() => liftTallyExtra([op({ test: { ...test, inputsHash: undefined as never } }, {})])).toThrow(/inputsHash/);
  });

  it("leaves runs without a carrier as they are", () => {
    const plain = op(undefined, { q: 2 });
    expect(liftTallyExtra([plain])).toEqual({ tests: [], feedback: [], ops: [plain] });
  });
});
