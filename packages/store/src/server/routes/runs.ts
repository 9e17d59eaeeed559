// Run ingestion (multipart, batch, single create/patch) and the reads used to check results.
// Ingest answers 202 only after the transaction committed: an acknowledged run is on disk.
import { HttpError, Reply } from "@tally/core/http";
import { type RunOp, flattenRunCreate, isUuid, normalizeRun, parseRunsBatch, parseRunsMultipart } from "@tally/core/wire";
import type { RunQuery } from "../../db/runs.js";
import { type RequestContext, type ServerRouter, jsonObject, requireMultipart } from "../context.js";

const ACCEPTED = (): Reply => new Reply(202, {});

function ingest(ctx: RequestContext, ops: RunOp[]): Reply {
  ctx.store.runs.apply(ops);
  return ACCEPTED();
}

export function registerRuns(router: ServerRouter): void {
  router.post("/runs/multipart", async (ctx) => {
    // With multipart switched off we answer like an old LangSmith without the endpoint: the SDK
    // then switches that client to /runs/batch for good.
    if (!ctx.options.multipart) throw new HttpError(404, "not found");
    const ct = requireMultipart(ctx);
    const parsed = parseRunsMultipart(await ctx.body(), ct);
    for (const w of parsed.warnings) ctx.options.log(`runs/multipart: ${w}`);
    ctx.store.runs.ingest(parsed.ops, parsed.attachments, parsed.feedback);
    return ACCEPTED();
  });

  router.post("/runs/batch", async (ctx) => ingest(ctx, parseRunsBatch(await ctx.json())));

  router.post("/runs", async (ctx) =>
    ingest(
      ctx,
      flattenRunCreate(await ctx.json()).map((run) => ({ kind: "create", run })),
    ),
  );

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
