// The `tally` command: `tally server`, `tally ui`, `tally flush`, `tally report`, `tally cache`,
// `tally baseline`. The runner packages' `tally` bins run this.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_PORTS, flushSpools, reportMerge } from "@tally/core";
import { openLocalBackend } from "../backend.js";
import { startServer } from "../server/app.js";
import { baseline } from "./baseline.js";
import { cache } from "./cache.js";
import { type RunningUi, StoreNotFoundError, startUi } from "../viewer/index.js";

const HELP = `tally — LangSmith evals as tests, trustworthy in parallel

Usage:
  tally server [--port N] [--host H] [--db FILE] [--latency MS]
      Start the LangSmith-compatible server (the embedded store) over HTTP.
      Point any langsmith client at it with LANGSMITH_ENDPOINT=http://HOST:PORT.
  tally ui [--port N] [--host H] [--dir DIR | --db FILE]
      Browse the local store (.tally/tally.db) at http://localhost:${DEFAULT_PORTS.ui}.
  tally flush [--dir DIR]
      Send what earlier runs left in the spool (backend was down, process killed).
  tally report merge [--out FILE] [--gates JSON] REPORT.json...
      Merge the JSON reports of one run's CI shards, write the job summary (on GitHub Actions)
      and judge the gates (or TALLY_GATES): exit code 1 when one fails.
  tally cache stats [--cache-dir DIR] [--json]
      What the model-call cache holds: entries and size per host, the runs that used it.
  tally cache prune --since RUN|last [--dry-run] [--cache-dir DIR]
      Drop the cache entries no run has used since run RUN started (entries recorded since stay).
  tally cache clear [--cache-dir DIR]
      Remove every cache entry and the cache's usage log.
  tally baseline approve EXPERIMENT [--dataset NAME] [--dir DIR]
      Make an experiment (name or id) its dataset's approved baseline, for baseline: "approved"
      (TALLY_BASELINE=approved). On LangSmith with LANGSMITH_API_KEY, else the local store.
  tally baseline show [--dataset NAME] [--dir DIR]
      The approved baseline of each dataset.

Options:
  --dir DIR        Tally's data folder (default: ./.tally, or TALLY_DIR)
  --cache-dir DIR  The model-call cache (default: ./.tally-cache, or TALLY_CACHE_DIR)
  -h, --help       This help
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "report") return report(rest);
  if (command === "cache") return cache(rest);
  if (command === "baseline") return baseline(rest);
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      db: { type: "string" },
      dir: { type: "string" },
      latency: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  });
  const dir = resolve(values.dir ?? process.env.TALLY_DIR ?? ".tally");
  if (!command || values.help || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(HELP);
    return command ? 0 : 1;
  }
  if (command === "ui") return ui(values.db ?? join(dir, "tally.db"), values.port, values.host);
  if (command === "server") {
    const port = Number(values.port ?? DEFAULT_PORTS.server);
    const server = await startServer({
      dbPath: values.db ?? join(dir, "tally.db"),
      port,
      host: values.host ?? "127.0.0.1",
      latencyMs: Number(values.latency ?? 0),
    });
    process.stdout.write(`tally ${command}: listening on ${server.url} (store: ${values.db ?? join(dir, "tally.db")})\n`);
    await new Promise<void>((done) => {
      const stop = () => void server.close().then(done);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  }
  if (command === "flush") return flushSpools(dir, (l) => process.stdout.write(`${l}\n`), openLocalBackend);
  process.stderr.write(`tally: unknown command "${command}"\n\n${HELP}`);
  return 2;
}

async function ui(dbPath: string, portArg: string | undefined, host: string | undefined): Promise<number> {
  const port = Number(portArg ?? DEFAULT_PORTS.ui);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`tally ui: --port must be a port number, got "${portArg}"\n`);
    return 2;
  }
  let running: RunningUi;
  try {
    running = await startUi({ dbPath, port, host: host ?? "127.0.0.1", logger: (l) => process.stderr.write(`${l}\n`) });
  } catch (err) {
    process.stderr.write(`tally ui: ${(err as Error).message}\n`);
    return err instanceof StoreNotFoundError ? 1 : 2;
  }
  const shown = running.url.replace("//127.0.0.1:", "//localhost:");
  process.stdout.write(`tally ui: ${shown}  (store: ${resolve(dbPath)}; Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    const stop = () => void running.close().then(done);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}

function report(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub !== "merge") {
    process.stderr.write(`tally report: unknown command "${sub ?? ""}" (tally report merge [--out FILE] [--gates JSON] REPORT.json...)\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: { out: { type: "string" }, gates: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write("tally report merge: give the shards' report files (written with reportFile / TALLY_REPORT_FILE)\n");
    return 2;
  }
  return reportMerge({
    files: positionals,
    out: values.out,
    gates: values.gates,
    env: process.env,
    log: (l) => process.stdout.write(`${l}\n`),
    color: !!process.stdout.isTTY,
  });
}
