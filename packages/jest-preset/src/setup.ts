// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import { installWorker, lsMatchers, trackingEnabled } from "@tally/core/worker";
import { dirname } from "node:path";

// setupFilesAfterEnv: runs in every test file's module registry before the file. It points every
// langsmith client at the collector, adds the ls matchers, and registers the flush-and-ack `afterAll`
// (with its own timeout: Jest bounds setup-file hooks by testTimeout, 5 s by default).

declare const expect: any;
declare const afterAll: (fn: () => unknown, timeout?: number) => void;

const testPath: string = expect.getState().testPath;

/** langsmith as the test file resolves it, so Tally and the user's code share one copy. */
function fromProject(spec: string): any {
  try {
    return require(require.resolve(spec, { paths: [dirname(testPath), process.cwd()] }));
  } catch {
    return require(spec);
  }
}

expect.extend(lsMatchers);
// Tracking off: no run to report to, so no runtime, and langsmith is not loaded into every test file.
if (trackingEnabled()) {
  const langsmith = fromProject("langsmith");
  const traceable = fromProject("langsmith/traceable");
  const rt = installWorker({
    Client: langsmith.Client,
    traceable: traceable.traceable,
    getCurrentRunTree: traceable.getCurrentRunTree,
    ROOT: traceable.ROOT,
  });
  afterAll(() => rt.flushAndAck(testPath), rt.flushTimeoutMs);
}
