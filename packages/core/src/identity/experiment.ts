import { uuid5 } from "../wire/ids.js";
import { EXAMPLE_ID_NAMESPACE } from "./example-hash.js";

// An experiment's identity is a pure function of (dataset, run key, prefix): every worker, every
// shard and a later `tally flush` compute the same name and id without asking anybody.
const EXPERIMENT_NAMESPACE = "2c7c4f7e-5a0f-4b57-9c55-7a1e5d3f9b10";

export interface ExperimentIdentity {
  dataset: string;
  name: string;
  /** The id Tally asks the backend to use; the backend's answer wins if it differs. */
  id: string;
}

export function experimentIdentity(dataset: string, runKey: string, prefix?: string): ExperimentIdentity {
  const name = `${prefix ?? dataset}:${runKey}`;
  return { dataset, name, id: uuid5(`${dataset}\u0000${name}`, EXPERIMENT_NAMESPACE) };
}

export function exampleId(datasetId: string, inputsHash: string, outputsHash: string): string {
  return uuid5(JSON.stringify({ datasetId, inputsHash, outputsHash }), EXAMPLE_ID_NAMESPACE);
}
