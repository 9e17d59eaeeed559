// Types of `@tally/jest-preset/jest-preset`, the module Jest loads for `preset: "@tally/jest-preset"`
// (written by hand: jest-preset.js sits outside src/ because Jest looks it up at the package root).
declare const preset: {
  globalSetup: string;
  globalTeardown: string;
  setupFilesAfterEnv: string[];
  reporters: string[];
};
export = preset;
