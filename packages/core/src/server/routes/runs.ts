// Run ingestion (multipart, batch, single create/patch) and the reads used to check results.
// Ingest answers 202 only after the transaction committed: an acknowledged run is on disk.
import { isUuid } from "../../wire/ids.js";
import { flattenRunCreate, normalizeRun, parseRunsBatch, parseRunsMultipart } from "../../wire/runs.js";
import type { RunOp } from "../../wire/types.js";
import { HttpError, Reply, type RequestContext, type Router, jsonObject } from "../router.js";
import type { RunQuery } from "../store/runs.js";

const ACCEPTED = (): Reply => new Reply(202, {});

function ingest(ctx: RequestContext, ops: RunOp[]): Reply {
  ctx.store.runs.apply(ops);
  return ACCEPTED();
}

export function registerRuns(router: Router): void {
  router.post("/runs/multipart", async (ctx) => {
    // With multipart switched off we answer like an old LangSmith without the endpoint: the SDK
    // then switches that client to /runs/batch for good.
    if (!ctx.options.multipart) throw new HttpError(404, "not found");
    const ct = ctx.req.headers["content-type"] ?? "";
    if (!/^multipart\/form-data/i.test(ct)) throw new HttpError(415, `expected multipart/form-data, got "${ct}"`);
    const parsed = parseRunsMultipart(await ctx.body(), ct);
    for (const w of parsed.warnings) ctx.options.log(`runs/multipart: ${w}`);
    ctx.store.db.tx(() => {
      ctx.store.runs.apply(parsed.ops, parsed.attachments);
      for (const fb of parsed.feedback) ctx.store.feedback.upsert(fb);
    });
    return ACCEPTED();
  });

  router.post("/runs/batch", async (ctx) => ingest(ctx, parseRunsBatch(await ctx.json())));

  router.post("/runs", async (ctx) => ingest(ctx, flattenRunCreate(await ctx.json()).map((run) => ({ kind: "create", run }))));

  router.patch("/runs/:id", async (ctx) => {
    const id = ctx.params.id!;
    if (!isUuid(id)) throw new HttpError(422, `run id must be a uuid: ${id}`);
    return ingest(ctx, [{ kind: "update", run: normalizeRun(await ctx.json(), id) }]);
  });

  router.get("/runs/:id", (ctx) => {
    const run = isUuid(ctx.params.id) ? ctx.store.runs.get(ctx.params.id!, ctx.baseUrl) : undefined;
    if (!run) throw new HttpError(404, "Run not found");
    return run;
  });

  router.post("/runs/query", async (ctx) => {
    const page = ctx.store.runs.query((await jsonObject(ctx)) as RunQuery, ctx.baseUrl);
    if (page.ignored_filter) ctx.options.log(`runs/query: ignored unsupported filter (${page.ignored_filter})`);
    return page;
  });

  router.post("/runs/stats", async (ctx) => ctx.store.runs.stats((await jsonObject(ctx)) as RunQuery));
}
