import { defineConfig } from "vitest/config";

// The project's own tests: unit tests beside the code, contract and end-to-end tests under test/.
// End-to-end tests spawn real vitest processes, so they get long timeouts and run one file at a time
// per worker (the machine has 2 cores).

/** Ends the run with the plain `N passed, N failed` line CI systems read. */
const closingLine = {
  onTestRunEnd(modules: ReadonlyArray<{ children: { allTests(): Iterable<{ result(): { state: string } }> } }>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  },
};

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.suites/**", "**/dist/**", "test/fixtures/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", closingLine],
  },
});
