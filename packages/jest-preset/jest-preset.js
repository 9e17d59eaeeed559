// `preset: "@tally/jest-preset"`. Jest concatenates setupFilesAfterEnv with the user's; it replaces
// globalSetup, globalTeardown and reporters when the user's config sets them (see README: keeping
// Tally's when you have your own).
const { join } = require("node:path");

const dist = join(__dirname, "dist");
module.exports = {
  globalSetup: join(dist, "global-setup.js"),
  globalTeardown: join(dist, "global-teardown.js"),
  setupFilesAfterEnv: [join(dist, "setup.js")],
  reporters: ["default", join(dist, "reporter.js")],
};
