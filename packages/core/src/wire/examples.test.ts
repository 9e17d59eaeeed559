import { describe, expect, it } from "vitest";
import { ExamplePayloadError, exampleUpdateFromJson, exampleUploadFromJson, parseExampleUpdates, parseExampleUploads } from "./examples.js";
import { MultipartError } from "./multipart.js";

const DS = "0b7c2f7e-1111-4222-8333-444455556666";
const E1 = "0b7c2f7e-aaaa-4222-8333-444455556666";
const E2 = "0b7c2f7e-bbbb-4222-8333-444455556666";

/** Encodes the way the SDK's _uploadExamplesMultipart does: FormData of Blobs. */
async function encode(entries: [string, unknown, string?][]): Promise<{ body: Buffer; ct: string }> {
  const fd = new FormData();
  for (const [name, value, type] of entries) {
    const data = value instanceof Uint8Array ? new Uint8Array(value) : JSON.stringify(value);
    fd.append(name, new Blob([data], { type: type ?? "application/json" }));
  }
  const req = new Request("http://x/", { method: "POST", body: fd });
  return { body: Buffer.from(await req.arrayBuffer()), ct: req.headers.get("content-type")! };
}

describe("parseExampleUploads", () => {
  it("groups parts per example id and takes the dataset from the URL", async () => {
    const { body, ct } = await encode([
      [E1, { created_at: "2024-01-01T00:00:00.000Z", metadata: { m: 1 }, split: "train" }],
      [`${E1}.inputs`, { q: "a" }],
      [`${E1}.outputs`, { a: "b" }],
      [`${E1}.attachment.img`, new Uint8Array([9, 8]), "image/png; length=2"],
      [E2, { created_at: "2024-01-01T00:00:00.000Z" }],
      [`${E2}.inputs`, { q: "c" }],
    ]);
    const items = parseExampleUploads(body, ct, DS);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ id: E1, dataset_id: DS, inputs: { q: "a" }, outputs: { a: "b" }, metadata: { m: 1 }, split: "train" });
    expect(items[0]!.attachments![0]).toMatchObject({ name: "img", contentType: "image/png" });
    expect([...items[0]!.attachments![0]!.data]).toEqual([9, 8]);
    expect(items[1]).toEqual({ id: E2, dataset_id: DS, inputs: { q: "c" }, created_at: "2024-01-01T00:00:00.000Z" });
  });

  it("defaults missing inputs to {} and rejects unknown parts and non-object JSON", async () => {
    const ok = await encode([[E1, {}]]);
    expect(parseExampleUploads(ok.body, ok.ct, DS)[0]!.inputs).toEqual({});
    const unknown = await encode([[`${E1}.weird`, {}]]);
    expect(() => parseExampleUploads(unknown.body, unknown.ct, DS)).toThrow(ExamplePayloadError);
    const arr = await encode([[E1, [1]]]);
    expect(() => parseExampleUploads(arr.body, arr.ct, DS)).toThrow(/must be a JSON object/);
    expect(() => parseExampleUploads(Buffer.from("x"), "multipart/form-data; boundary=q", DS)).toThrow(MultipartError);
  });
});

describe("parseExampleUpdates", () => {
  it("keeps only what was sent", async () => {
    const { body, ct } = await encode([
      [E1, { split: ["a", "b"] }],
      [`${E1}.outputs`, { a: 1 }],
      [`${E1}.attachments_operations`, { retain: ["x"], rename: { y: "z" } }],
    ]);
    expect(parseExampleUpdates(body, ct, DS)).toEqual([
      { id: E1, dataset_id: DS, outputs: { a: 1 }, split: ["a", "b"], attachments_operations: { retain: ["x"], rename: { y: "z" } } },
    ]);
  });
});

describe("JSON examples", () => {
  it("validates creates", () => {
    expect(exampleUploadFromJson({ id: E1, dataset_id: DS, inputs: { a: 1 }, outputs: null })).toEqual({
      id: E1,
      dataset_id: DS,
      inputs: { a: 1 },
      outputs: null,
    });
    expect(() => exampleUploadFromJson({ id: E1, inputs: {} })).toThrow(/no dataset_id/);
    expect(() => exampleUploadFromJson({ id: E1, dataset_id: DS, inputs: "x" })).toThrow(/inputs must be a JSON object/);
    expect(() => exampleUploadFromJson({ id: E1, dataset_id: DS, split: 3 })).toThrow(/split/);
    // JSON cannot carry bytes: an "attachments" array in JSON is ignored, not trusted.
    expect(exampleUploadFromJson({ id: E1, dataset_id: DS, attachments: [{ name: "x", data: "y" }] }).attachments).toBeUndefined();
  });

  it("validates updates, preferring the body's dataset", () => {
    expect(exampleUpdateFromJson({ id: E1, dataset_id: DS }, "other")).toEqual({ id: E1, dataset_id: DS });
    expect(exampleUpdateFromJson({ id: E1, metadata: null }, DS)).toEqual({ id: E1, dataset_id: DS, metadata: null });
    expect(() => exampleUpdateFromJson({ id: E1 })).toThrow(/no dataset_id/);
    expect(() => exampleUpdateFromJson({ id: E1, attachments_operations: [] }, DS)).toThrow(/attachments_operations/);
    expect(() => exampleUpdateFromJson({ id: E1, attachments_operations: { retain: "x" } }, DS)).toThrow(/attachments_operations/);
    expect(() => exampleUpdateFromJson({ id: E1, attachments_operations: { rename: { a: 1 } } }, DS)).toThrow(/attachments_operations/);
  });
});
