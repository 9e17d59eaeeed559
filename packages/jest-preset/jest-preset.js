// `preset: "@tally/jest-preset"`. Jest concatenates setupFilesAfterEnv with the user's; it replaces
// globalSetup, globalTeardown and reporters when the user's config sets them (see README: keeping
// Tally's when you have your own).
const { join } = require("node:path");

const dist = join(__dirname, "dist");
const globalSetup = join(dist, "global-setup.js");
const globalTeardown = join(dist, "global-teardown.js");
const setupFilesAfterEnv = [join(dist, "setup.js")];
const reporters = ["default", join(dist, "reporter.js")];
// Shorthand properties: Node's CommonJS export detection sees these names, so an ESM
// `import { reporters } from "@tally/jest-preset/jest-preset"` works as the types say.
module.exports = { globalSetup, globalTeardown, setupFilesAfterEnv, reporters };
