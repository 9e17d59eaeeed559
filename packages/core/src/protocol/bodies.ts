import { isUuid } from "../wire/ids.js";
import { isRecord } from "../wire/json-object.js";
import { RunPayloadError } from "../wire/runs.js";
import type { DeclaredExample, ExampleHint } from "./examples.js";
import type { AckedTest, WorkerAck } from "./tracked-test.js";

// Tally's own worker → collector bodies, checked at the edge. A malformed one is answered 422 and
// never reaches the spool: there it would hold up the sender (an example it cannot place keeps the
// dataset's runs waiting).

const isString = (v: unknown): v is string => typeof v === "string" && v !== "";

/** Throws unless `v` is an example hint (or the example part of a test registration). */
export function checkExampleHint(v: unknown, where = "example hint"): asserts v is ExampleHint {
  if (!isRecord(v)) throw new RunPayloadError(`${where} must be a JSON object`);
  const missing = [
    !isString(v.dataset) && "dataset",
    !(isRecord(v.experiment) && isString(v.experiment.name) && isUuid(String(v.experiment.id))) && "experiment {name, id}",
    !isRecord(v.inputs) && v.inputs !== undefined && "inputs",
    !isString(v.inputsHash) && "inputsHash",
    !isString(v.outputsHash) && "outputsHash",
    v.exampleId !== undefined && !isUuid(String(v.exampleId)) && "exampleId (a uuid)",
  ].filter(Boolean);
  if (missing.length > 0) throw new RunPayloadError(`${where} has no valid ${missing.join(", ")}`);
}

export function parseExampleHints(json: unknown): DeclaredExample[] {
  if (!Array.isArray(json)) throw new RunPayloadError("example hints must be a JSON array");
  json.forEach((h, i) => {
    checkExampleHint(h, `example hint ${i}`);
    const d = (h as DeclaredExample).declared;
    if (d !== undefined && !(isRecord(d) && isString(d.file) && Array.isArray(d.tests) && d.tests.every(isString))) {
      throw new RunPayloadError(`example hint ${i} has no valid declared {file, tests}`);
    }
  });
  return json as DeclaredExample[];
}

/** An ack as a worker posts it; the collector stamps `at` when it arrives. */
export type WorkerAckBody = Omit<WorkerAck, "at">;

export function parseAck(json: unknown): WorkerAckBody {
  if (!isRecord(json) || !isString(json.file)) throw new RunPayloadError("ack must be a JSON object with a file");
  const tests = Array.isArray(json.tests) ? json.tests.filter((t): t is AckedTest => isRecord(t) && isString(t.runId)) : [];
  const problems = Array.isArray(json.problems) ? json.problems.filter((p): p is string => typeof p === "string") : [];
  return { file: json.file, worker: typeof json.worker === "string" ? json.worker : undefined, problems, tests };
}
