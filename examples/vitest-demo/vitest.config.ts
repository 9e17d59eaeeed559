import { defineConfig } from "vitest/config";
import { tally } from "@tally/vitest-plugin/plugin";

export default defineConfig({
  plugins: [tally()],
  test: {
    include: ["evals/**/*.eval.ts"],
    // Files run in parallel worker threads; Tally gathers every worker's runs into one experiment
    // per dataset and checks at the end that each of them arrived.
    pool: "threads",
    testTimeout: 30_000,
  },
});
