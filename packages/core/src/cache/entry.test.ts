import { describe, expect, test } from "vitest";
import { type CacheEntry, ENTRY_VERSION, entryProblem, isEventStream, keptResponseHeaders, responseOf } from "./entry.js";

const KEY = "a".repeat(64);

function entry(response: Partial<CacheEntry["response"]> = {}): CacheEntry {
  return {
    version: ENTRY_VERSION,
    key: KEY,
    request: { method: "POST", url: "https://api.openai.com/v1/chat/completions", body: { json: { a: 1 } } },
    response: {
      status: 200,
      statusText: "OK",
      headers: { "content-type": "application/json" },
      body: '{"ok":true}',
      bodyEncoding: "utf8",
      ...response,
    },
    recordedAt: "2025-01-01T00:00:00.000Z",
  };
}

/** The entry as a plain object, with `patch` applied to its response (undefined deletes a field). */
function withResponse(patch: Record<string, unknown>): Record<string, unknown> {
  const e = structuredClone(entry()) as unknown as { response: Record<string, unknown> };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete e.response[k];
    else e.response[k] = v;
  }
  return e;
}

describe("entryProblem", () => {
  test("a whole entry, with a body or with chunks, has no problem", () => {
    expect(entryProblem(entry(), KEY)).toBeUndefined();
    expect(entryProblem(entry({ body: "AAE=", bodyEncoding: "base64" }), KEY)).toBeUndefined();
    expect(
      entryProblem(withResponse({ body: undefined, bodyEncoding: undefined, chunks: ["data: 1\n\n", "data: 2\n\n"] }), KEY),
    ).toBeUndefined();
    expect(entryProblem(withResponse({ body: undefined, bodyEncoding: undefined, chunks: [] }), KEY)).toBeUndefined();
    // A round trip through JSON (what the store does) keeps it whole.
    expect(entryProblem(JSON.parse(JSON.stringify(entry())), KEY)).toBeUndefined();
  });

  test.each([null, undefined, 42, "text", true])("%j is not a JSON object", (value) => {
    expect(entryProblem(value, KEY)).toBe("not a JSON object");
  });

  test("another version", () => {
    expect(entryProblem({ ...entry(), version: 2 }, KEY)).toBe("version 2, expected 1");
    expect(entryProblem({ ...entry(), version: "1" }, KEY)).toBe('version "1", expected 1');
    const { version: _, ...noVersion } = entry();
    expect(entryProblem(noVersion, KEY)).toBe("version undefined, expected 1");
    expect(entryProblem([], KEY)).toMatch(/^version/);
  });

  test("a key that is not the file's", () => {
    expect(entryProblem(entry(), "b".repeat(64))).toBe(`key "${KEY}" does not match its file name`);
    expect(entryProblem({ ...entry(), key: undefined }, KEY)).toMatch(/does not match its file name/);
  });

  test("no response", () => {
    expect(entryProblem({ ...entry(), response: undefined }, KEY)).toBe("no response");
    expect(entryProblem({ ...entry(), response: null }, KEY)).toBe("no response");
    expect(entryProblem({ ...entry(), response: "200 OK" }, KEY)).toBe("no response");
  });

  test.each([undefined, null, "200", 200.5, 199, 100, 600, -1, Number.NaN])("bad status %j", (status) => {
    expect(entryProblem(withResponse({ status: status ?? null }), KEY)).toMatch(/^bad status/);
  });

  test.each([200, 201, 204, 404, 500, 599])("status %j is in range", (status) => {
    expect(entryProblem(withResponse({ status }), KEY)).toBeUndefined();
  });

  test("no response headers", () => {
    expect(entryProblem(withResponse({ headers: undefined }), KEY)).toBe("no response headers");
    expect(entryProblem(withResponse({ headers: null }), KEY)).toBe("no response headers");
    expect(entryProblem(withResponse({ headers: "content-type: x" }), KEY)).toBe("no response headers");
  });

  test("neither body nor chunks, or both (by presence, whatever their types)", () => {
    const msg = "needs exactly one of body and chunks";
    expect(entryProblem(withResponse({ body: undefined }), KEY)).toBe(msg);
    expect(entryProblem(withResponse({ body: undefined, bodyEncoding: undefined }), KEY)).toBe(msg);
    expect(entryProblem(withResponse({ chunks: ["data: x\n\n"] }), KEY)).toBe(msg);
    expect(entryProblem(withResponse({ chunks: [] }), KEY)).toBe(msg);
    expect(entryProblem(withResponse({ chunks: null }), KEY)).toBe(msg);
    expect(entryProblem(withResponse({ body: 5, chunks: "data: x" }), KEY)).toBe(msg);
  });

  test("chunks that are not a list of strings", () => {
    const msg = "chunks is not a list of strings";
    for (const chunks of [["ok", 5], "data: x", { 0: "x" }, null, [null]]) {
      expect(entryProblem(withResponse({ body: undefined, bodyEncoding: undefined, chunks }), KEY), JSON.stringify(chunks)).toBe(msg);
    }
  });

  test("a body that is not a string", () => {
    const msg = "body is not a string";
    for (const body of [5, null, ["x"], { text: "x" }, true]) {
      expect(entryProblem(withResponse({ body }), KEY), JSON.stringify(body)).toBe(msg);
    }
  });

  test("a body with a bad encoding", () => {
    expect(entryProblem(withResponse({ bodyEncoding: undefined }), KEY)).toBe("bad bodyEncoding undefined");
    expect(entryProblem(withResponse({ bodyEncoding: "gzip" }), KEY)).toBe('bad bodyEncoding "gzip"');
  });

  // Decided by presence: a body beside a `chunks` field that is not a list of strings is not whole
  // (responseOf tests `if (chunks)`, so it would replay the bogus chunks instead of the body).
  test("a body beside a chunks field that is not a list of strings is a problem", () => {
    expect(entryProblem(withResponse({ chunks: { 0: "x" } }), KEY)).toBe("needs exactly one of body and chunks");
    expect(entryProblem(withResponse({ chunks: "data: x" }), KEY)).toBe("needs exactly one of body and chunks");
  });
});

describe("responseOf", () => {
  test("a stored body, with its status, status text and headers, plus the extra headers", async () => {
    const res = responseOf(entry({ status: 201, statusText: "Created" }), { "x-tally-cache": "hit" });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Created");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-tally-cache")).toBe("hit");
    expect(await res.json()).toEqual({ ok: true });
  });

  test("a base64 body comes back as its bytes", async () => {
    const bytes = new Uint8Array([0, 255, 128, 7]);
    const res = responseOf(entry({ body: Buffer.from(bytes).toString("base64"), bodyEncoding: "base64" }));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test("a streamed answer is replayed chunk by chunk, each chunk a read of its own", async () => {
    const chunks = ['data: {"a":1}\n\n', 'data: {"b":"é✓"}\n\n', "data: [DONE]\n\n"];
    const e = withResponse({ body: undefined, bodyEncoding: undefined, chunks, headers: { "content-type": "text/event-stream" } });
    const res = responseOf(e as unknown as CacheEntry);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const reads: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads.push(decoder.decode(value));
    }
    expect(reads).toEqual(chunks);
  });

  test("each call gives a fresh response that can be read again", async () => {
    const e = entry();
    expect(await responseOf(e).text()).toBe('{"ok":true}');
    expect(await responseOf(e).text()).toBe('{"ok":true}');
  });

  test("204 and 304 have no body", async () => {
    expect(responseOf(entry({ status: 204, body: "" })).body).toBeNull();
    expect(responseOf(entry({ status: 304, body: "ignored" })).body).toBeNull();
  });
});

describe("headers", () => {
  test("only the allowed response headers are kept, lower-cased", () => {
    const h = new Headers({
      "Content-Type": "application/json",
      "x-request-id": "req_1",
      "request-id": "req_2",
      "openai-processing-ms": "12",
      "openai-version": "2020-10-01",
      "anthropic-version": "2023-06-01",
      "set-cookie": "__cf_bm=SECRET",
      "openai-organization": "org-SECRET",
      "content-encoding": "gzip",
      "content-length": "10",
      "transfer-encoding": "chunked",
      "x-ratelimit-remaining-tokens": "10",
    });
    expect(keptResponseHeaders(h)).toEqual({
      "content-type": "application/json",
      "x-request-id": "req_1",
      "request-id": "req_2",
      "openai-processing-ms": "12",
      "openai-version": "2020-10-01",
      "anthropic-version": "2023-06-01",
    });
  });

  test("isEventStream: text/event-stream, with parameters, from Headers or a record", () => {
    expect(isEventStream(new Headers({ "content-type": "text/event-stream; charset=utf-8" }))).toBe(true);
    expect(isEventStream({ "content-type": "Text/Event-Stream" })).toBe(true);
    expect(isEventStream({ "content-type": "application/json" })).toBe(false);
    expect(isEventStream(new Headers())).toBe(false);
    expect(isEventStream({})).toBe(false);
  });
});
