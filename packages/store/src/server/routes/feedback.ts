// Feedback: upserted by id (the SDK retries POSTs, and feedback ids are client-made uuid7s), and
// accepted for runs that have not arrived yet.
import { HttpError, qBool, qInt, qList } from "@tally/core/http";
import { isUuid, normalizeFeedback, uuid4 } from "@tally/core/wire";
import { type ServerRouter, jsonObject } from "../context.js";

function feedbackId(raw: string | undefined): string {
  if (!raw || !isUuid(raw)) throw new HttpError(404, "Feedback not found");
  return raw;
}

export function registerFeedback(router: ServerRouter): void {
  router.post("/feedback", async (ctx) => {
    const body = await jsonObject(ctx);
    return ctx.store.feedback.upsert(normalizeFeedback({ ...body, id: body.id ?? uuid4() }));
  });

  router.get("/feedback", (ctx) =>
    ctx.store.feedback.list({
      runs: qList(ctx.query, "run"),
      sessions: qList(ctx.query, "session"),
      keys: qList(ctx.query, "key"),
      sources: qList(ctx.query, "source"),
      hasScore: qBool(ctx.query, "has_score"),
      hasComment: qBool(ctx.query, "has_comment"),
      limit: qInt(ctx.query, "limit", 100, 1, 10_000),
      offset: qInt(ctx.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    }),
  );

  router.get("/feedback/:id", (ctx) => {
    const fb = ctx.store.feedback.get(feedbackId(ctx.params.id));
    if (!fb) throw new HttpError(404, "Feedback not found");
    return fb;
  });

  router.patch("/feedback/:id", async (ctx) => ctx.store.feedback.update(feedbackId(ctx.params.id), await jsonObject(ctx)));

  router.delete("/feedback/:id", (ctx) => {
    if (!ctx.store.feedback.delete(feedbackId(ctx.params.id))) throw new HttpError(404, "Feedback not found");
    return {};
  });
}
