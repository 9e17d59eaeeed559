import { defineConfig } from "vitest/config";
import { tally } from "@tally/vitest-plugin/plugin";

export default defineConfig({
  // The demo's model is a simulation; its price is made up, so that the run ends with a cost (a model
  // without a price makes the cost "unknown", never $0).
  plugins: [tally({ prices: { "kettle-sim-1": { input: 0.5, output: 1.5 } } })],
  test: {
    include: ["evals/**/*.eval.ts"],
    // Files run in parallel worker threads; Tally gathers every worker's runs into one experiment
    // per dataset and checks at the end that each of them arrived.
    pool: "threads",
    testTimeout: 30_000,
  },
});
