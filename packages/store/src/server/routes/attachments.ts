// Serves stored attachment bytes; `attachment_urls[…].presigned_url` of examples and runs point here.
import { HttpError, Reply } from "@tally/core/http";
import type { ServerRouter } from "../context.js";

export function registerAttachments(router: ServerRouter): void {
  router.get("/attachments/:kind/:owner/:name", (ctx) => {
    const kind = ctx.params.kind;
    if (kind !== "run" && kind !== "example") throw new HttpError(404, "Attachment not found");
    const found = ctx.store.attachments.get(kind, ctx.params.owner!, ctx.params.name!);
    if (!found) throw new HttpError(404, "Attachment not found");
    return new Reply(200, Buffer.from(found.data), { "content-type": found.mime_type });
  });
}
