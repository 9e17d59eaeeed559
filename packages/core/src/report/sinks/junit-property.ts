import type { RunSink } from "./sink.js";

/** The property's name in the JUnit file, as the README documents it. */
export const JUNIT_PROPERTY = "langsmith";

/**
 * The experiment's link on every test that recorded a run into it: the runners' JUnit reporters
 * write it as `<property name="langsmith" value="…"/>` (Vitest from the test's annotations, Jest's
 * jest-junit through `@tally/jest-preset/junit-properties`).
 */
export const junitPropertySink: RunSink = function junitProperty(summary, { setTestProperty }) {
  for (const exp of summary.experiments) {
    if (!exp.url) continue;
    for (const t of exp.tests) setTestProperty(t, JUNIT_PROPERTY, exp.url);
  }
};
