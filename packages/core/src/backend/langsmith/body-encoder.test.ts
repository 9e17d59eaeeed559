import { describe, expect, it } from "vitest";
import { decodeContent } from "../../wire/content-encoding.js";
import { BodyEncoder, pickEncoding } from "./body-encoder.js";
import { BackendError } from "../port.js";
import type { Upstream } from "./http.js";

describe("pickEncoding", () => {
  it.each([
    ["zstd when advertised, whatever gzip says", { zstd_compression_enabled: true, gzip_body_enabled: true }, true, "zstd"],
    ["zstd alone", { zstd_compression_enabled: true }, true, "zstd"],
    ["gzip when zstd is not advertised", { zstd_compression_enabled: false, gzip_body_enabled: true }, true, "gzip"],
    ["gzip when this Node has no zstd", { zstd_compression_enabled: true, gzip_body_enabled: true }, false, "gzip"],
    ["nothing when zstd is advertised but this Node has none", { zstd_compression_enabled: true }, false, undefined],
    ["nothing when nothing is advertised", { gzip_body_enabled: false }, true, undefined],
    ["nothing for a truthy non-boolean flag", { zstd_compression_enabled: "yes", gzip_body_enabled: 1 }, true, undefined],
  ])("%s", (_, flags, zstd, expected) => {
    expect(pickEncoding({ version: "x", instance_flags: flags }, zstd)).toBe(expected);
  });

  it("skips encodings the backend refused", () => {
    const info = { instance_flags: { zstd_compression_enabled: true, gzip_body_enabled: true } };
    expect(pickEncoding(info, true, new Set(["zstd"]))).toBe("gzip");
    expect(pickEncoding(info, true, new Set(["zstd", "gzip"]))).toBeUndefined();
  });

  it("sends plain to a backend whose /info has no flags or is not an object", () => {
    for (const info of [{}, { instance_flags: null }, null, "html", []]) expect(pickEncoding(info, true)).toBeUndefined();
  });
});

/** An Upstream whose GET /info answers with `info` (or throws it), recording what was sent. */
function fakeUpstream(info: () => unknown) {
  const sent: Array<{ path: string; headers: Record<string, string>; body: Buffer }> = [];
  let infoReads = 0;
  const upstream: Upstream = {
    apiUrl: "http://fake",
    async request(_method, path, body, headers = {}) {
      sent.push({ path, headers, body: body as Buffer });
      return new Response("{}", { status: 202 });
    },
    async json<T>(_method: string, path: string): Promise<T> {
      if (path !== "/info") throw new Error(`unexpected ${path}`);
      infoReads++;
      const v = info();
      if (v instanceof Error) throw v;
      return v as T;
    },
  };
  return { upstream, sent, infoReads: () => infoReads };
}

const batch = {
  body: Buffer.from(`--b\r\n${'{"inputs": {"q": "the same question"}}\r\n--b\r\n'.repeat(200)}--b--\r\n`),
  contentType: "multipart/form-data; boundary=b",
};

describe("BodyEncoder", () => {
  it("reads /info once, compresses with what it advertises, and counts raw and wire bytes", async () => {
    const fake = fakeUpstream(() => ({ instance_flags: { zstd_compression_enabled: true, gzip_body_enabled: true } }));
    const enc = new BodyEncoder(fake.upstream);
    enc.prefetch();
    for (let i = 0; i < 3; i++) await enc.send("POST", "/runs/multipart", await enc.encode(batch));
    expect(fake.infoReads()).toBe(1);
    expect(fake.sent.map((s) => s.headers)).toEqual(Array(3).fill({ "content-type": batch.contentType, "content-encoding": "zstd" }));
    expect(await decodeContent(fake.sent[0]!.body, ["zstd"], 1 << 20)).toEqual(batch.body);
    const stats = enc.stats();
    expect(stats).toMatchObject({ requests: 3, rawBytes: 3 * batch.body.length, byEncoding: { zstd: 3 } });
    expect(stats.wireBytes).toBe(fake.sent.reduce((n, s) => n + s.body.length, 0));
    expect(stats.wireBytes).toBeLessThan(stats.rawBytes / 10);
  });

  it("asks again after an unreachable /info, but not after a backend that has none", async () => {
    let answer: unknown = new BackendError("GET /info: backend unreachable (ECONNREFUSED)", undefined, undefined, true);
    const fake = fakeUpstream(() => answer);
    const enc = new BodyEncoder(fake.upstream);
    expect(await enc.encoding()).toBeUndefined();
    answer = { instance_flags: { gzip_body_enabled: true } };
    expect(await enc.encoding()).toBe("gzip");
    expect(await enc.encoding()).toBe("gzip");
    expect(fake.infoReads()).toBe(2);

    const old = fakeUpstream(() => new BackendError("GET /info: backend answered 404", 404, undefined, false));
    const enc404 = new BodyEncoder(old.upstream);
    expect(await enc404.encoding()).toBeUndefined();
    expect(await enc404.encoding()).toBeUndefined();
    expect(old.infoReads()).toBe(1);
  });

  it("falls back to gzip, then plain, as the backend refuses encodings it advertised", async () => {
    const fake = fakeUpstream(() => ({ instance_flags: { zstd_compression_enabled: true, gzip_body_enabled: true } }));
    const enc = new BodyEncoder(fake.upstream);
    expect((await enc.encode(batch)).encoding).toBe("zstd");
    enc.refuse("zstd");
    expect((await enc.encode(batch)).encoding).toBe("gzip");
    enc.refuse("gzip");
    const plain = await enc.encode(batch);
    expect(plain).toEqual({ body: batch.body, contentType: batch.contentType, rawBytes: batch.body.length });
  });
});
