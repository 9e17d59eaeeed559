// Examples: the SDK's multipart upload/update under /v1/platform (or /platform when the client's
// base URL already ends in /v1), plus the JSON endpoints other clients use. All writes upsert by id.
import { HttpError, qInt, qJsonObject, qList } from "@tally/core/http";
import { exampleUpdateFromJson, exampleUploadFromJson, isUuid, parseExampleUpdates, parseExampleUploads, uuid4 } from "@tally/core/wire";
import { type RequestContext, type ServerRouter, jsonObject, requireMultipart } from "../context.js";

function requireDataset(ctx: RequestContext): string {
  const id = ctx.params.id;
  if (!id || !isUuid(id) || !ctx.store.datasets.get(id)) throw new HttpError(404, "Dataset not found");
  return id;
}

async function asArray(ctx: RequestContext): Promise<unknown[]> {
  const body = await ctx.json();
  if (!Array.isArray(body)) throw new HttpError(422, "request body must be a JSON array");
  return body;
}

export function registerExamples(router: ServerRouter): void {
  for (const prefix of ["/v1/platform", "/platform"]) {
    router.post(`${prefix}/datasets/:id/examples`, async (ctx) => {
      const datasetId = requireDataset(ctx);
      const items = parseExampleUploads(await ctx.body(), requireMultipart(ctx), datasetId);
      return ctx.store.examples.upsert(items);
    });
    router.patch(`${prefix}/datasets/:id/examples`, async (ctx) => {
      const datasetId = requireDataset(ctx);
      const items = parseExampleUpdates(await ctx.body(), requireMultipart(ctx), datasetId);
      return ctx.store.examples.update(items);
    });
    // deleteExamples(ids, {hardDelete: true})
    router.post(`${prefix}/datasets/examples/delete`, async (ctx) => {
      const body = await jsonObject(ctx);
      const ids = Array.isArray(body.example_ids) ? body.example_ids.filter((x): x is string => typeof x === "string") : [];
      return { count: ctx.store.examples.delete(ids) };
    });
  }

  router.get("/examples/:id", (ctx) => {
    const ex = ctx.params.id && isUuid(ctx.params.id) ? ctx.store.examples.get(ctx.params.id, ctx.baseUrl) : undefined;
    // The official integration decides "create" by the lowercase words "not found" in this error.
    if (!ex) throw new HttpError(404, "Example not found");
    return ex;
  });

  router.get("/examples", (ctx) =>
    ctx.store.examples.list(
      {
        datasetId: ctx.query.get("dataset") ?? undefined,
        ids: qList(ctx.query, "id"),
        splits: qList(ctx.query, "splits"),
        metadata: qJsonObject(ctx.query, "metadata"),
        limit: qInt(ctx.query, "limit", 100, 1, 10_000),
        offset: qInt(ctx.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
      },
      ctx.baseUrl,
    ),
  );

  router.post("/examples", async (ctx) => {
    const body = await jsonObject(ctx);
    const item = exampleUploadFromJson({ ...body, id: body.id ?? uuid4() });
    const [id] = ctx.store.examples.upsert([item]).example_ids;
    return ctx.store.examples.get(id!, ctx.baseUrl);
  });

  router.post("/examples/bulk", async (ctx) => {
    const items = (await asArray(ctx)).map((v) =>
      exampleUploadFromJson(typeof v === "object" && v !== null ? { ...v, id: (v as { id?: unknown }).id ?? uuid4() } : v),
    );
    const { example_ids } = ctx.store.examples.upsert(items);
    return example_ids.map((id) => ctx.store.examples.get(id, ctx.baseUrl));
  });

  router.patch("/examples/bulk", async (ctx) => {
    const items = (await asArray(ctx)).map((v) => exampleUpdateFromJson(v, datasetOf(ctx, v)));
    return ctx.store.examples.update(items);
  });

  router.patch("/examples/:id", async (ctx) => {
    const body = await jsonObject(ctx);
    const id = ctx.params.id!;
    const item = exampleUpdateFromJson({ ...body, id }, datasetOf(ctx, { id }));
    ctx.store.examples.update([item]);
    return ctx.store.examples.get(id, ctx.baseUrl);
  });

  router.delete("/examples/:id", (ctx) => {
    if (!ctx.store.examples.delete([ctx.params.id!])) throw new HttpError(404, "Example not found");
    return {};
  });

  // deleteExamples(ids) without hardDelete: DELETE /examples?example_ids=…
  router.delete("/examples", (ctx) => ({ count: ctx.store.examples.delete(qList(ctx.query, "example_ids") ?? []) }));
}

/** An update without dataset_id keeps the example's current dataset. */
function datasetOf(ctx: RequestContext, v: unknown): string | undefined {
  const id = typeof v === "object" && v !== null ? (v as { id?: unknown }).id : undefined;
  if (typeof id !== "string") return undefined;
  const ex = ctx.store.examples.get(id);
  if (!ex) throw new HttpError(404, `Example ${id} not found`);
  return ex.dataset_id;
}
