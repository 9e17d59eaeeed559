// Binary attachments of runs and examples, kept as BLOBs beside their owner. They are served back
// at `/attachments/<kind>/<owner>/<name>`, which is what `attachment_urls[…].presigned_url` points to.
import type { Db } from "./db.js";

export type AttachmentOwner = "run" | "example";

export interface AttachmentInfo {
  name: string;
  mime_type: string;
  size: number;
}

export class AttachmentRepo {
  constructor(private readonly db: Db) {}

  put(kind: AttachmentOwner, ownerId: string, name: string, mimeType: string, data: Uint8Array): void {
    this.db.run(
      `INSERT INTO attachments (owner_kind, owner_id, name, mime_type, size, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (owner_kind, owner_id, name) DO UPDATE SET mime_type = excluded.mime_type, size = excluded.size, data = excluded.data`,
      kind,
      ownerId,
      name,
      mimeType,
      data.byteLength,
      data,
    );
  }

  get(kind: AttachmentOwner, ownerId: string, name: string): { mime_type: string; data: Uint8Array } | undefined {
    return this.db.get("SELECT mime_type, data FROM attachments WHERE owner_kind = ? AND owner_id = ? AND name = ?", kind, ownerId, name);
  }

  list(kind: AttachmentOwner, ownerId: string): AttachmentInfo[] {
    return this.db.all<AttachmentInfo>(
      "SELECT name, mime_type, size FROM attachments WHERE owner_kind = ? AND owner_id = ? ORDER BY name",
      kind,
      ownerId,
    );
  }

  /** Applies `{rename, retain}` from an example PATCH: keeps retained and renamed ones, drops the rest. */
  applyOperations(kind: AttachmentOwner, ownerId: string, ops: { rename?: Record<string, string>; retain?: string[] }): void {
    const keep = new Set([...(ops.retain ?? []), ...Object.keys(ops.rename ?? {})]);
    for (const a of this.list(kind, ownerId)) {
      if (!keep.has(a.name)) this.delete(kind, ownerId, a.name);
    }
    for (const [from, to] of Object.entries(ops.rename ?? {})) {
      if (from === to || typeof to !== "string" || to === "") continue;
      this.db.run("DELETE FROM attachments WHERE owner_kind = ? AND owner_id = ? AND name = ?", kind, ownerId, to);
      this.db.run("UPDATE attachments SET name = ? WHERE owner_kind = ? AND owner_id = ? AND name = ?", to, kind, ownerId, from);
    }
  }

  delete(kind: AttachmentOwner, ownerId: string, name?: string): void {
    if (name === undefined) this.db.run("DELETE FROM attachments WHERE owner_kind = ? AND owner_id = ?", kind, ownerId);
    else this.db.run("DELETE FROM attachments WHERE owner_kind = ? AND owner_id = ? AND name = ?", kind, ownerId, name);
  }
}

/** The `attachment_urls` map of an example as LangSmith returns it (keys prefixed "attachment."). */
export function attachmentUrls(
  baseUrl: string | undefined,
  kind: AttachmentOwner,
  ownerId: string,
  list: AttachmentInfo[],
): Record<string, { presigned_url: string; s3_url: string; mime_type: string }> {
  const out: Record<string, { presigned_url: string; s3_url: string; mime_type: string }> = {};
  for (const a of list) {
    const path = `/attachments/${kind}/${ownerId}/${encodeURIComponent(a.name)}`;
    out[`attachment.${a.name}`] = { presigned_url: `${baseUrl ?? ""}${path}`, s3_url: path, mime_type: a.mime_type };
  }
  return out;
}
