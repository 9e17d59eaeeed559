import { propertiesOf } from "./binding.js";

// For jest-junit's `testCasePropertiesFile`: the properties Tally put on a test's result (the
// `langsmith` experiment URL on every tracked test). List Tally's reporter before jest-junit.
export = function tallyJunitProperties(testCase: unknown): Record<string, string> {
  return propertiesOf(testCase);
};
