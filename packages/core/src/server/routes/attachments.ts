// Serves stored attachment bytes; `attachment_urls[…].presigned_url` of examples and runs point here.
import { HttpError, Reply, type Router } from "../router.js";

export function registerAttachments(router: Router): void {
  router.get("/attachments/:kind/:owner/:name", (ctx) => {
    const kind = ctx.params.kind;
    if (kind !== "run" && kind !== "example") throw new HttpError(404, "Attachment not found");
    const found = ctx.store.attachments.get(kind, ctx.params.owner!, ctx.params.name!);
    if (!found) throw new HttpError(404, "Attachment not found");
    return new Reply(200, Buffer.from(found.data), { "content-type": found.mime_type });
  });
}
