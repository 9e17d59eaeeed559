// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import { ensureRun, optionsFromConfig } from "./run-state.js";

// globalSetup of the preset. With your own globalSetup, call this one from it:
//   module.exports = async (globalConfig, projectConfig) => {
//     await require("@tally/jest-preset/global-setup")(globalConfig, projectConfig);
//     ...
//   };
export = async function tallyGlobalSetup(globalConfig: any, projectConfig: any): Promise<void> {
  const rootDir: string = globalConfig?.rootDir ?? projectConfig?.rootDir ?? process.cwd();
  await ensureRun(rootDir, optionsFromConfig(globalConfig));
};
