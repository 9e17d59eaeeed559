// Sessions (tracing projects and experiments). `POST /sessions?upsert=true` returns the existing
// session of that name instead of a 409, which is what makes a shared experiment name safe.
import { HttpError, Reply, qBool, qInt, qJsonObject, qList } from "@tally/core/http";
import { isUuid } from "@tally/core/wire";
import type { SessionCreate, SessionPatch } from "../../db/sessions.js";
import { type ServerRouter, jsonObject } from "../context.js";

function sessionId(raw: string | undefined): string {
  if (!raw || !isUuid(raw)) throw new HttpError(404, "Session not found");
  return raw;
}

export function registerSessions(router: ServerRouter): void {
  router.post("/sessions", async (ctx) => {
    const body = await jsonObject(ctx);
    return ctx.store.sessions.create(body as SessionCreate, { upsert: qBool(ctx.query, "upsert") === true }).session;
  });

  router.get("/sessions", (ctx) =>
    ctx.store.sessions.list({
      ids: qList(ctx.query, "id"),
      name: ctx.query.get("name") ?? undefined,
      nameContains: ctx.query.get("name_contains") ?? undefined,
      referenceDatasets: qList(ctx.query, "reference_dataset"),
      referenceFree: qBool(ctx.query, "reference_free"),
      metadata: qJsonObject(ctx.query, "metadata"),
      includeStats: qBool(ctx.query, "include_stats") === true,
      limit: qInt(ctx.query, "limit", 100, 1, 1000),
      offset: qInt(ctx.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    }),
  );

  // Stats are cheap for one session, so they are on unless include_stats=false.
  router.get("/sessions/:id", (ctx) => {
    const session = ctx.store.sessions.get(sessionId(ctx.params.id), qBool(ctx.query, "include_stats") !== false);
    if (!session) throw new HttpError(404, "Session not found");
    return session;
  });

  router.patch("/sessions/:id", async (ctx) =>
    ctx.store.sessions.update(sessionId(ctx.params.id), (await jsonObject(ctx)) as SessionPatch),
  );

  router.delete("/sessions/:id", (ctx) => {
    if (!ctx.store.sessions.delete(sessionId(ctx.params.id))) throw new HttpError(404, "Session not found");
    return new Reply(202, {});
  });
}
