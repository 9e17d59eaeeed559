/* eslint-disable @typescript-eslint/no-explicit-any */

// For jest-junit's `testCasePropertiesFile`: a `langsmith` property with the experiment URL on every
// tracked test case. Tally's reporter sets the URL on the test's result; list it before jest-junit.
export = function tallyJunitProperties(testCase: any): Record<string, string> {
  const url = testCase?.tallyExperimentUrl;
  return typeof url === "string" ? { langsmith: url } : {};
};
