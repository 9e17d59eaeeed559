import { defineConfig } from "vitest/config";

// The project's own tests: unit tests beside the code, contract and end-to-end tests under test/.
// End-to-end tests spawn real vitest processes, so they get long timeouts and run one file at a time
// per worker (the machine has 2 cores).
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.suites/**", "**/dist/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
