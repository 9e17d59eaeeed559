import { randomBytes } from "node:crypto";
import type { ExampleRecord, FeedbackRecord, RunOp } from "./types.js";

// Bodies the main process sends upstream, in the shapes LangSmith's ingest endpoints take.

/** Fields LangSmith wants as their own parts in `/runs/multipart`, not inside `post.<id>`. */
const SPLIT_FIELDS = ["inputs", "outputs", "events", "extra", "error", "serialized"] as const;

export interface Multipart {
  body: Buffer;
  contentType: string;
}

class PartWriter {
  readonly boundary = `----TallyBoundary${randomBytes(12).toString("hex")}`;
  private readonly chunks: Buffer[] = [];

  add(name: string, json: string): void {
    this.addBytes(name, "application/json", Buffer.from(json, "utf8"));
  }

  addBytes(name: string, contentType: string, data: Buffer): void {
    this.chunks.push(
      Buffer.from(
        `--${this.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n` +
          `Content-Type: ${contentType}; length=${data.length}\r\n\r\n`,
      ),
      data,
      Buffer.from("\r\n"),
    );
  }

  finish(): Multipart {
    this.chunks.push(Buffer.from(`--${this.boundary}--\r\n`));
    return { body: Buffer.concat(this.chunks), contentType: `multipart/form-data; boundary=${this.boundary}` };
  }
}

export function encodeRunsMultipart(ops: RunOp[], feedback: FeedbackRecord[]): Multipart {
  const w = new PartWriter();
  for (const { kind, run, attachments } of ops) {
    const prefix = `${kind === "create" ? "post" : "patch"}.${run.id}`;
    const main: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(run)) {
      if (!(SPLIT_FIELDS as readonly string[]).includes(k)) main[k] = v;
    }
    w.add(prefix, JSON.stringify(main));
    for (const field of SPLIT_FIELDS) {
      if (run[field] !== undefined) w.add(`${prefix}.${field}`, JSON.stringify(run[field]));
    }
    for (const a of attachments ?? []) w.addBytes(`attachment.${run.id}.${a.name}`, a.contentType, Buffer.from(a.data, "base64"));
  }
  for (const fb of feedback) w.add(`feedback.${fb.id}`, JSON.stringify(fb));
  return w.finish();
}

export function encodeExamplesMultipart(examples: ExampleRecord[]): Multipart {
  const w = new PartWriter();
  for (const ex of examples) {
    w.add(
      ex.id,
      JSON.stringify({
        created_at: ex.created_at,
        ...(ex.metadata ? { metadata: ex.metadata } : {}),
        ...(ex.split ? { split: ex.split } : {}),
      }),
    );
    w.add(`${ex.id}.inputs`, JSON.stringify(ex.inputs));
    if (ex.outputs) w.add(`${ex.id}.outputs`, JSON.stringify(ex.outputs));
  }
  return w.finish();
}
