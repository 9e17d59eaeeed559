// Datasets: create (409 on a duplicate name, client-chosen ids allowed), read by id or name, list,
// update, delete, version tags and splits.
import { HttpError, qInt, qJsonObject, qList } from "@tally/core/http";
import { isUuid } from "@tally/core/wire";
import type { DatasetCreate } from "../../db/datasets.js";
import { type ServerRouter, jsonObject } from "../context.js";

function datasetId(raw: string | undefined): string {
  if (!raw || !isUuid(raw)) throw new HttpError(404, "Dataset not found");
  return raw;
}

export function registerDatasets(router: ServerRouter): void {
  router.post("/datasets", async (ctx) => {
    const body = await jsonObject(ctx);
    return ctx.store.datasets.create(body as DatasetCreate);
  });

  router.get("/datasets", (ctx) =>
    ctx.store.datasets.list({
      ids: qList(ctx.query, "id"),
      name: ctx.query.get("name") ?? undefined,
      nameContains: ctx.query.get("name_contains") ?? undefined,
      metadata: qJsonObject(ctx.query, "metadata"),
      limit: qInt(ctx.query, "limit", 100, 1, 1000),
      offset: qInt(ctx.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    }),
  );

  router.get("/datasets/:id", (ctx) => {
    const ds = ctx.store.datasets.get(datasetId(ctx.params.id));
    if (!ds) throw new HttpError(404, "Dataset not found");
    return ds;
  });

  router.patch("/datasets/:id", async (ctx) => ctx.store.datasets.update(datasetId(ctx.params.id), await jsonObject(ctx)));

  router.delete("/datasets/:id", (ctx) => {
    if (!ctx.store.datasets.delete(datasetId(ctx.params.id))) throw new HttpError(404, "Dataset not found");
    return {};
  });

  router.put("/datasets/:id/tags", async (ctx) => {
    const body = await jsonObject(ctx);
    return ctx.store.datasets.setTag(datasetId(ctx.params.id), body.tag as string, body.as_of);
  });

  router.get("/datasets/:id/versions", (ctx) => {
    const versions = ctx.store.datasets.versions(datasetId(ctx.params.id));
    const offset = qInt(ctx.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    return versions.slice(offset, offset + qInt(ctx.query, "limit", 100, 1, 1000));
  });

  router.get("/datasets/:id/version", (ctx) =>
    ctx.store.datasets.version(datasetId(ctx.params.id), {
      asOf: ctx.query.get("as_of") ?? undefined,
      tag: ctx.query.get("tag") ?? undefined,
    }),
  );

  router.get("/datasets/:id/splits", (ctx) => {
    const id = datasetId(ctx.params.id);
    if (!ctx.store.datasets.get(id)) throw new HttpError(404, "Dataset not found");
    return ctx.store.datasets.splits(id);
  });

  router.put("/datasets/:id/splits", async (ctx) => {
    const id = datasetId(ctx.params.id);
    const body = await jsonObject(ctx);
    if (typeof body.split_name !== "string" || body.split_name === "") throw new HttpError(422, "split_name is required");
    const ids = Array.isArray(body.examples) ? body.examples.filter((x): x is string => typeof x === "string") : [];
    return ctx.store.examples.setSplit(id, body.split_name, ids, body.remove === true);
  });
}
