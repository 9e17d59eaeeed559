// The whole Tally set-up is the preset. The app under test is examples/vitest-demo/src (TypeScript
// with `.js` import specifiers, mapped back for Jest's resolver).
module.exports = {
  preset: "@tally/jest-preset",
  testMatch: ["<rootDir>/evals/**/*.eval.ts"],
  transform: { "\\.ts$": ["babel-jest", { presets: ["@babel/preset-typescript"], plugins: ["@babel/plugin-transform-modules-commonjs"] }] },
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
};
