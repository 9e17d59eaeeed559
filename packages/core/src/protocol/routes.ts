// The collector's own routes, beside the LangSmith API it also speaks. Workers post to them with the
// run's token like every other request.

export const TALLY_ROUTE_PREFIX = "/_tally/";

export const TALLY_ROUTES = {
  /** Example hints, posted when a file is collected: examples go upstream before any test runs. */
  examples: `${TALLY_ROUTE_PREFIX}examples`,
  /** A file's ack (WorkerAck without `at`), after its final flush. */
  ack: `${TALLY_ROUTE_PREFIX}ack`,
} as const;
