import { describe, expect, it } from "vitest";
import { MultipartError, multipartBoundary, parseMultipart, partJson, partMediaType } from "./multipart.js";

/** Serialises a FormData the way fetch does, so the parser sees real-world bytes. */
async function encode(fd: FormData): Promise<{ body: Buffer; contentType: string }> {
  const req = new Request("http://x/", { method: "POST", body: fd });
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get("content-type")! };
}

function raw(boundary: string, parts: string[], tail = `--${boundary}--\r\n`): Buffer {
  return Buffer.from(parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("") + tail);
}

describe("parseMultipart", () => {
  it("reads FormData parts with names, filenames, content types and bytes", async () => {
    const fd = new FormData();
    fd.append("a1b2", new Blob(['{"x":1}'], { type: "application/json" }));
    fd.append("a1b2.attachment.pic", new Blob([new Uint8Array([0, 1, 2, 255])], { type: "image/png" }), "pic.png");
    fd.append("plain", "text value");
    fd.append('we"ird\nname', "v");
    const { body, contentType } = await encode(fd);
    const parts = parseMultipart(body, contentType);
    expect(parts.map((p) => p.name)).toEqual(["a1b2", "a1b2.attachment.pic", "plain", 'we"ird\r\nname']);
    expect(partJson(parts[0]!)).toEqual({ x: 1 });
    expect(parts[0]!.filename).toBe("blob");
    expect(partMediaType(parts[0]!)).toBe("application/json");
    expect([...parts[1]!.data]).toEqual([0, 1, 2, 255]);
    expect(parts[1]!.filename).toBe("pic.png");
    expect(parts[2]!.data.toString()).toBe("text value");
  });

  it("reads the SDK's hand-built multipart (Content-Type with length=)", () => {
    const b = "----LangSmithFormBoundaryxyz";
    const body = raw(b, [
      'Content-Disposition: form-data; name="post.r1"\r\nContent-Type: application/json; length=9\r\n\r\n{"id":"1"}',
      'Content-Disposition: form-data; name="post.r1.inputs"\r\nContent-Type: application/json; length=2\r\n\r\n{}',
    ]);
    const parts = parseMultipart(body, `multipart/form-data; boundary=${b}`);
    expect(parts).toHaveLength(2);
    expect(parts[0]!.contentType).toBe("application/json; length=9");
    expect(partMediaType(parts[0]!)).toBe("application/json");
  });

  it("tolerates a preamble, an epilogue, a quoted boundary and a missing final CRLF", () => {
    const b = "bnd";
    const body = Buffer.concat([
      Buffer.from("preamble\r\n"),
      raw(b, ['Content-Disposition: form-data; name="a"\r\n\r\n1'], `--${b}--`),
      Buffer.from("epilogue"),
    ]);
    const parts = parseMultipart(body, 'multipart/form-data; boundary="bnd"');
    expect(parts.map((p) => [p.name, p.data.toString()])).toEqual([["a", "1"]]);
  });

  it("keeps part bodies that contain CRLF and boundary-like text", () => {
    const b = "bnd";
    const content = "line1\r\n--bn\r\nx--bnd no\r\n";
    const body = raw(b, [`Content-Disposition: form-data; name="a"\r\n\r\n${content}`]);
    expect(parseMultipart(body, `multipart/form-data; boundary=${b}`)[0]!.data.toString()).toBe(content);
  });

  it("returns no parts for an empty body", () => {
    expect(parseMultipart(Buffer.alloc(0), "multipart/form-data; boundary=x")).toEqual([]);
  });

  it.each([
    ["no boundary in the content type", Buffer.from("x"), "multipart/form-data"],
    ["a non-multipart content type", Buffer.from("x"), "application/json"],
    ["a body without the boundary", Buffer.from("hello"), "multipart/form-data; boundary=b"],
    [
      "a part without a closing boundary",
      Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nxx'),
      "multipart/form-data; boundary=b",
    ],
    ["a part without a name", Buffer.from("--b\r\nContent-Type: text/plain\r\n\r\nxx\r\n--b--"), "multipart/form-data; boundary=b"],
    ["unterminated headers", Buffer.from('--b\r\nContent-Disposition: form-data; name="a"'), "multipart/form-data; boundary=b"],
    ["a malformed header line", Buffer.from("--b\r\nbroken header\r\n\r\nx\r\n--b--"), "multipart/form-data; boundary=b"],
  ])("rejects %s with a MultipartError", (_what, body, ct) => {
    expect(() => parseMultipart(body, ct)).toThrow(MultipartError);
  });

  it("names the part whose JSON is invalid", () => {
    const parts = parseMultipart(
      raw("b", ['Content-Disposition: form-data; name="post.x"\r\n\r\n{bad']),
      "multipart/form-data; boundary=b",
    );
    expect(() => partJson(parts[0]!)).toThrow(/part "post.x" is not valid JSON/);
  });

  it("extracts the boundary", () => {
    expect(multipartBoundary("multipart/form-data; charset=utf-8; boundary=abc")).toBe("abc");
  });
});
