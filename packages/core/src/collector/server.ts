import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Ledger } from "../ledger/ledger.js";
import { parseAck, parseExampleHints } from "../protocol/bodies.js";
import type { TestRegistration } from "../protocol/examples.js";
import { liftTallyExtra } from "../protocol/run-extra.js";
import { TALLY_ROUTE_PREFIX, TALLY_ROUTES } from "../protocol/routes.js";
import type { SpoolBody } from "../spool/records.js";
import type { Spool } from "../spool/spool.js";
import type { Backend } from "../backend/port.js";
import type { ExperimentRegistry } from "../delivery/registry.js";
import type { Scheduler } from "../delivery/scheduler.js";
import { readBody } from "../wire/body.js";
import { attachToOps, flattenRunCreate, MultipartError, normalizeFeedback, normalizeRun, parseRunsBatch, parseRunsMultipart, RunPayloadError } from "../wire/runs.js";
import type { FeedbackRecord, RunOp } from "../wire/types.js";
import { COLLECTOR_INFO } from "./info.js";

// The collector is the worker's "LangSmith": every langsmith client in a worker is pointed at it.
// It binds loopback only, refuses anything without the run's token, appends what it receives to the
// spool before it answers, and hands it to the sender. Everything it does not handle itself is passed
// through to the backend with the real key, which never leaves this process.

export interface CollectorDeps {
  token: string;
  spool: Spool;
  sender: Scheduler;
  ledger: Ledger;
  registry: ExperimentRegistry;
  backend: Backend;
}

export interface Collector {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 512 * 1024 * 1024;

export async function startCollector(deps: CollectorDeps): Promise<Collector> {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      const status = (err as { status?: number }).status ?? (err instanceof RunPayloadError || err instanceof MultipartError ? 422 : 500);
      send(res, status, { detail: `tally collector: ${(err as Error).message}` });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  server.closeIdleConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function authorised(token: string, req: IncomingMessage): boolean {
  const key = req.headers["x-api-key"];
  const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, "");
  return key === token || bearer === token;
}

async function handle(deps: CollectorDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!authorised(deps.token, req)) {
    await drainRequest(req);
    return send(res, 401, { detail: "tally collector: missing or wrong run token" });
  }
  const url = new URL(req.url ?? "/", "http://collector");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const method = req.method ?? "GET";

  if (method === "GET" && path === "/info") return send(res, 200, COLLECTOR_INFO);
  if (method === "POST" && path === "/runs/multipart") {
    const body = await readBody(req, MAX_BODY);
    const parsed = parseRunsMultipart(body, req.headers["content-type"] ?? "");
    const orphans = attachToOps(parsed.ops, parsed.attachments);
    if (orphans.length > 0) {
      // An attachment goes upstream in the body of its run: without the run there is nothing to carry it.
      const names = orphans.map((a) => `"${a.name}" of run ${a.runId}`).join(", ");
      deps.ledger.problems.push(`a worker sent attachments without their run, not recorded: ${names}`);
      return send(res, 422, { detail: `tally collector: attachments without their run in the same body: ${names}` });
    }
    return accept(deps, res, parsed.ops, parsed.feedback);
  }
  if (method === "POST" && path === "/runs/batch") {
    return accept(deps, res, parseRunsBatch(await readJson(req)), []);
  }
  if (method === "POST" && path === "/runs") {
    return accept(deps, res, flattenRunCreate(await readJson(req)).map((run) => ({ kind: "create" as const, run })), []);
  }
  const patch = /^\/runs\/([0-9a-f-]{36})$/i.exec(path);
  if (method === "PATCH" && patch) {
    return accept(deps, res, [{ kind: "update", run: normalizeRun(await readJson(req), patch[1]!) }], []);
  }
  if (method === "POST" && path === "/feedback") {
    const fb = normalizeFeedback(await readJson(req));
    return accept(deps, res, [], [fb], fb);
  }
  if (path.startsWith(TALLY_ROUTE_PREFIX)) return handleTally(deps, method, path, req, res);
  return proxy(deps, method, url, req, res);
}

async function accept(
  deps: CollectorDeps,
  res: ServerResponse,
  runOps: RunOp[],
  directFeedback: FeedbackRecord[],
  echo: unknown = { accepted: runOps.length + directFeedback.length },
): Promise<void> {
  const bad = runOps.find((op) => typeof op.run?.id !== "string") ?? directFeedback.find((f) => typeof f?.id !== "string" || !f.key);
  if (bad) {
    deps.ledger.problems.push(`a worker sent a record without an id or key: ${JSON.stringify(bad).slice(0, 200)}`);
    return send(res, 422, { detail: "tally collector: every run needs an id, every feedback an id and a key" });
  }
  const { tests, ops, feedback: carried } = liftTallyExtra(runOps);
  // Registrations and carried feedback repeat across a run's create and patches: keep the first.
  const newTests = tests.filter((t) => !deps.ledger.tests.has(t.runId));
  const feedback = [...carried.filter((f) => !deps.ledger.feedback.has(f.id)), ...directFeedback];
  const bodies: SpoolBody[] = [
    ...newTests.map((test) => ({ t: "test" as const, test })),
    ...ops.map((op) => ({ t: "run" as const, op })),
    ...feedback.map((f) => ({ t: "feedback" as const, feedback: f })),
  ];
  const recs = deps.spool.append(bodies);
  noteTests(deps, newTests);
  for (const op of ops) deps.ledger.noteRun(op);
  for (const f of feedback) deps.ledger.noteFeedback(f);
  // The records are in the spool: answer first, so the worker's flush does not wait on the sender
  // encoding its first upstream batch.
  send(res, 202, echo);
  deps.sender.push(recs);
}

function noteTests(deps: CollectorDeps, tests: TestRegistration[]): void {
  for (const t of tests) {
    deps.ledger.noteTest(t);
    // Start resolving the experiment now, so it is ready by the time the runs come in.
    void deps.registry.ensure(t.dataset, t.experiment).catch(() => undefined);
  }
}

async function handleTally(
  deps: CollectorDeps,
  method: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (method === "POST" && path === TALLY_ROUTES.examples) {
    // Sent when a worker collects its ls.test()s, so examples are uploaded while the file runs; the
    // test's own registration arrives later, inside its run.
    const hints = parseExampleHints(await readJson(req));
    const recs = deps.spool.append(hints.map((example) => ({ t: "example" as const, example })));
    send(res, 202, { accepted: hints.length });
    deps.sender.push(recs);
    for (const h of hints) void deps.registry.ensure(h.dataset, h.experiment).catch(() => undefined);
    return;
  }
  if (method === "POST" && path === TALLY_ROUTES.ack) {
    const ack = parseAck(await readJson(req));
    deps.ledger.ack({ ...ack, at: Date.now() });
    return send(res, 200, { ok: true });
  }
  return send(res, 404, { detail: `tally collector: no route ${method} ${path}` });
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "x-api-key", "authorization", "transfer-encoding", "keep-alive"]);

/** Pass a request through to the backend with the real credentials (user code reading datasets, etc.). */
async function proxy(deps: CollectorDeps, method: string, url: URL, req: IncomingMessage, res: ServerResponse) {
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req, MAX_BODY);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(k) && typeof v === "string") headers[k] = v;
  }
  let reply;
  try {
    reply = await deps.backend.forward({ method, path: url.pathname + url.search, headers, body });
  } catch (err) {
    return send(res, 502, { detail: `tally collector: ${(err as Error).message}` });
  }
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.headers)) {
    if (!HOP_BY_HOP.has(k) && k !== "content-encoding") outHeaders[k] = v;
  }
  res.writeHead(reply.status, outHeaders);
  res.end(reply.body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw Object.assign(new Error("body is not valid JSON"), { status: 400 });
  }
}

async function drainRequest(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}
