// The Jest side of the demo runs the Vitest demo's eval files unchanged (../vitest-demo/evals): the
// drop-in claim in practice. Only their two runner imports are mapped to Jest's equivalents; a real
// Jest project would write `import * as ls from "@tally/jest-preset"` and use Jest's global expect.
module.exports = {
  preset: "@tally/jest-preset",
  roots: ["<rootDir>/../vitest-demo/evals"],
  testMatch: ["**/*.eval.ts"],
  testTimeout: 30_000,
  transform: { "\\.ts$": ["babel-jest", { presets: ["@babel/preset-typescript"], plugins: ["@babel/plugin-transform-modules-commonjs"] }] },
  moduleNameMapper: {
    "^@tally/vitest-plugin$": require.resolve("@tally/jest-preset"),
    "^vitest$": "<rootDir>/vitest-expect.js",
    // The app is TypeScript with `.js` import specifiers (ESM style): map them back for Jest.
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
};
