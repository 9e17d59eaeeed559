import { listen, nodeListener } from "../http/node.js";
import { HttpError, Reply, Router, toResponse, type HttpRequest, type HttpResponse } from "../http/router.js";
import type { Backend } from "../backend/port.js";
import type { Scheduler } from "../delivery/scheduler.js";
import type { Ledger } from "../ledger/ledger.js";
import { parseAck, parseExampleHints } from "../protocol/bodies.js";
import type { TestRegistration } from "../protocol/examples.js";
import { liftTallyExtra } from "../protocol/run-extra.js";
import { TALLY_ROUTE_PREFIX, TALLY_ROUTES } from "../protocol/routes.js";
import type { SpoolBody } from "../spool/records.js";
import type { Spool } from "../spool/spool.js";
import { BodyError, decodeBody } from "../wire/body.js";
import {
  attachToOps,
  flattenRunCreate,
  MultipartError,
  normalizeFeedback,
  normalizeRun,
  parseRunsBatch,
  parseRunsMultipart,
  RunPayloadError,
} from "../wire/runs.js";
import type { FeedbackRecord, RunOp } from "../wire/types.js";
import { COLLECTOR_INFO } from "../protocol/collector-info.js";

// The collector is the worker's "LangSmith": every langsmith client in a worker is pointed at it.
// It binds loopback only, refuses anything without the run's token, appends what it receives to the
// spool before it answers, and hands it to the sender. Everything it does not handle itself is passed
// through to the backend with the real key, which never leaves this process.

export interface CollectorDeps {
  token: string;
  spool: Spool;
  sender: Scheduler;
  ledger: Ledger;
  backend: Backend;
}

export interface Collector {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 512 * 1024 * 1024;

export async function startCollector(deps: CollectorDeps): Promise<Collector> {
  const routes = collectorRoutes(deps);
  const handle = async (req: HttpRequest): Promise<HttpResponse> => {
    if (!authorised(deps.token, req)) {
      await req.body().catch(() => undefined); // read, so the connection can carry the answer
      return toResponse(new Reply(401, { detail: "tally collector: missing or wrong run token" }));
    }
    const path = req.path.replace(/\/+$/, "") || "/";
    // What the collector does not handle itself goes through to the backend, whatever its method.
    if (!path.startsWith(TALLY_ROUTE_PREFIX) && routes.match(req.method, path).kind !== "found") return proxy(deps, req);
    const { response } = await routes.dispatch({ ...req, path }, { context: (r, { params }) => ({ req: r, params }), onError });
    return response;
  };
  const server = await listen(nodeListener(handle, { bodyLimitBytes: MAX_BODY }), { keepAliveTimeoutMs: 30_000, closeGraceMs: 2_000 });
  return { url: server.url, close: () => server.close() };
}

interface Ctx {
  req: HttpRequest;
  params: Record<string, string>;
}

function onError(err: unknown, req: HttpRequest): Reply {
  const status =
    err instanceof HttpError || err instanceof BodyError
      ? err.status
      : err instanceof RunPayloadError || err instanceof MultipartError
        ? 422
        : 500;
  const message = err instanceof HttpError && err.status === 404 ? `no route ${req.method} ${req.path}` : (err as Error).message;
  return new Reply(status, { detail: `tally collector: ${message}` });
}

function authorised(token: string, req: HttpRequest): boolean {
  const key = req.headers["x-api-key"];
  const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, "");
  return key === token || bearer === token;
}

function collectorRoutes(deps: CollectorDeps): Router<Ctx> {
  return new Router<Ctx>()
    .get("/info", () => COLLECTOR_INFO)
    .post("/runs/multipart", async ({ req }) => {
      const parsed = parseRunsMultipart(await bodyOf(req), req.headers["content-type"] ?? "");
      const orphans = attachToOps(parsed.ops, parsed.attachments);
      if (orphans.length > 0) {
        // An attachment goes upstream in the body of its run: without the run there is nothing to carry it.
        const names = orphans.map((a) => `"${a.name}" of run ${a.runId}`).join(", ");
        deps.ledger.problems.push(`a worker sent attachments without their run, not recorded: ${names}`);
        throw new HttpError(422, `attachments without their run in the same body: ${names}`);
      }
      return accept(deps, parsed.ops, parsed.feedback);
    })
    .post("/runs/batch", async ({ req }) => accept(deps, parseRunsBatch(await jsonOf(req)), []))
    .post("/runs", async ({ req }) =>
      accept(
        deps,
        flattenRunCreate(await jsonOf(req)).map((run) => ({ kind: "create" as const, run })),
        [],
      ),
    )
    .patch("/runs/:id", async ({ req, params }) => {
      if (!/^[0-9a-f-]{36}$/i.test(params.id!)) throw new HttpError(404, "not found");
      return accept(deps, [{ kind: "update", run: normalizeRun(await jsonOf(req), params.id!) }], []);
    })
    .post("/feedback", async ({ req }) => {
      const fb = normalizeFeedback(await jsonOf(req));
      return accept(deps, [], [fb], fb);
    })
    .post(TALLY_ROUTES.examples, async ({ req }) => {
      // Sent when a worker collects its ls.test()s, so examples are uploaded while the file runs; the
      // test's own registration arrives later, inside its run.
      const hints = parseExampleHints(await jsonOf(req));
      // Which tests declare each example is the ledger's (to name them if their worker dies), not the spool's.
      const recs = deps.spool.append(hints.map(({ declared: _, ...example }) => ({ t: "example" as const, example })));
      for (const h of hints) if (h.declared) deps.ledger.declare(h.declared, h.dataset, h.experiment.name);
      afterAnswer(() => {
        deps.sender.push(recs);
        for (const h of hints) deps.sender.prepare(h.dataset, h.experiment);
      });
      return new Reply(202, { accepted: hints.length });
    })
    .post(TALLY_ROUTES.ack, async ({ req }) => {
      const ack = parseAck(await jsonOf(req));
      deps.ledger.ack({ ...ack, at: Date.now() });
      return { ok: true };
    });
}

/**
 * The records are in the spool before the answer; sending them waits until the answer is written, so
 * a worker's flush does not wait on the scheduler encoding its first upstream batch.
 */
function afterAnswer(fn: () => void): void {
  setImmediate(fn);
}

function accept(
  deps: CollectorDeps,
  runOps: RunOp[],
  directFeedback: FeedbackRecord[],
  echo: unknown = { accepted: runOps.length + directFeedback.length },
): Reply {
  const bad = runOps.find((op) => typeof op.run?.id !== "string") ?? directFeedback.find((f) => typeof f?.id !== "string" || !f.key);
  if (bad) {
    deps.ledger.problems.push(`a worker sent a record without an id or key: ${JSON.stringify(bad).slice(0, 200)}`);
    throw new HttpError(422, "every run needs an id, every feedback an id and a key");
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
  afterAnswer(() => deps.sender.push(recs));
  return new Reply(202, echo);
}

function noteTests(deps: CollectorDeps, tests: TestRegistration[]): void {
  for (const t of tests) {
    deps.ledger.noteTest(t);
    // Start resolving the experiment now, so it is ready by the time the runs come in.
    deps.sender.prepare(t.dataset, t.experiment);
  }
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "x-api-key", "authorization", "transfer-encoding", "keep-alive"]);

/** Pass a request through to the backend with the real credentials (user code reading datasets, etc.). */
async function proxy(deps: CollectorDeps, req: HttpRequest): Promise<HttpResponse> {
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.body();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(k) && typeof v === "string") headers[k] = v;
  }
  // The in-process store builds the URLs it hands out (attachments) from this: they must lead back here.
  if (deps.backend.kind === "local" && req.headers.host) headers["x-forwarded-host"] = req.headers.host;
  try {
    const reply = await deps.backend.forward({ method: req.method, path: req.path + req.search, headers, body });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.headers)) {
      if (!HOP_BY_HOP.has(k) && k !== "content-encoding") out[k] = v;
    }
    const buf = Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength);
    return { status: reply.status, headers: { ...out, "content-length": String(buf.length) }, body: buf };
  } catch (err) {
    return toResponse(new Reply(502, { detail: `tally collector: ${(err as Error).message}` }));
  }
}

/** The request's body with its Content-Encoding undone (workers may compress). */
function bodyOf(req: HttpRequest): Promise<Buffer> {
  return req.body().then((raw) => decodeBody(raw, req.headers["content-encoding"], MAX_BODY));
}

async function jsonOf(req: HttpRequest): Promise<unknown> {
  const body = await bodyOf(req);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}
