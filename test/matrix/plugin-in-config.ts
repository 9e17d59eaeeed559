// Type-only: the plugin in a Vitest config as users write it. tsconfig.tests.json checks it against
// the workspace's Vitest, each test/matrix/vitestN/tsconfig.plugin.json against that package's.
import { defineConfig } from "vitest/config";
import { tally } from "../../packages/vitest-plugin/src/plugin.js";

export default defineConfig({ plugins: [tally({ dataset: "shared" })], test: { include: ["evals/**/*.eval.ts"] } });
