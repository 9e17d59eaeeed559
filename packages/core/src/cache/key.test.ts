import { describe, expect, test } from "vitest";
import { cacheKey, cacheUrl, canonicalBody, sortKeys, utf8 } from "./key.js";

const enc = (s: string) => new TextEncoder().encode(s);
const json = (value: unknown) => canonicalBody(enc(JSON.stringify(value)), "application/json");
const URL_ = "https://api.openai.com/v1/chat/completions";

describe("cacheKey", () => {
  test("is a sha256 hex digest, stable across calls", () => {
    const k = cacheKey("POST", URL_, json({ a: 1 }));
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey("POST", URL_, json({ a: 1 }))).toBe(k);
  });

  test("the same body with its keys in another order (at any depth) gives the same key", () => {
    const a = { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0, extra: { z: 1, a: [{ y: 2, b: 3 }] } };
    const b = { extra: { a: [{ b: 3, y: 2 }], z: 1 }, temperature: 0, messages: [{ content: "hi", role: "user" }], model: "m" };
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    expect(cacheKey("POST", URL_, json(a))).toBe(cacheKey("POST", URL_, json(b)));
  });

  test("whitespace in the JSON text does not change the key", () => {
    const compact = canonicalBody(enc('{"a":1,"b":[1,2]}'), "application/json");
    const pretty = canonicalBody(enc('{\n  "b": [1, 2],\n  "a": 1\n}\n'), "application/json");
    expect(cacheKey("POST", URL_, compact)).toBe(cacheKey("POST", URL_, pretty));
  });

  test("array order matters: another order is another request", () => {
    expect(cacheKey("POST", URL_, json({ a: [1, 2] }))).not.toBe(cacheKey("POST", URL_, json({ a: [2, 1] })));
  });

  test("a different body, method or URL gives a different key", () => {
    const base = cacheKey("POST", URL_, json({ model: "m", n: 1 }));
    expect(cacheKey("POST", URL_, json({ model: "m", n: 2 }))).not.toBe(base);
    expect(cacheKey("POST", URL_, json({ model: "m", n: "1" }))).not.toBe(base);
    expect(cacheKey("PUT", URL_, json({ model: "m", n: 1 }))).not.toBe(base);
    expect(cacheKey("POST", "https://api.openai.com/v1/responses", json({ model: "m", n: 1 }))).not.toBe(base);
    expect(cacheKey("POST", "https://api.anthropic.com/v1/chat/completions", json({ model: "m", n: 1 }))).not.toBe(base);
    expect(cacheKey("POST", `${URL_}?api-version=1`, json({ model: "m", n: 1 }))).not.toBe(base);
    expect(cacheKey("POST", URL_, null)).not.toBe(base);
  });

  test("the method is upper-cased: post and POST are one request", () => {
    expect(cacheKey("post", URL_, json({ a: 1 }))).toBe(cacheKey("POST", URL_, json({ a: 1 })));
  });

  test("a JSON body and the same characters as text are different keys", () => {
    const asJson = canonicalBody(enc('{"a":1}'), "application/json");
    expect(asJson).toEqual({ json: { a: 1 } });
    expect(cacheKey("POST", URL_, asJson)).not.toBe(cacheKey("POST", URL_, { text: '{"a":1}' }));
  });

  test("a variant changes the key; no variant and an empty variant are the same key", () => {
    const plain = cacheKey("POST", URL_, json({ a: 1 }));
    const v1 = cacheKey("POST", URL_, json({ a: 1 }), "trial-1");
    const v2 = cacheKey("POST", URL_, json({ a: 1 }), "trial-2");
    expect(v1).not.toBe(plain);
    expect(v2).not.toBe(plain);
    expect(v1).not.toBe(v2);
    expect(cacheKey("POST", URL_, json({ a: 1 }), "trial-1")).toBe(v1);
    expect(cacheKey("POST", URL_, json({ a: 1 }), undefined)).toBe(plain);
    expect(cacheKey("POST", URL_, json({ a: 1 }), "")).toBe(plain);
  });

  test("credential query parameters do not change the key", () => {
    const base = cacheKey("POST", "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?alt=sse", json({ a: 1 }));
    for (const q of [
      "key=AIzaSECRET",
      "api_key=s",
      "apikey=s",
      "api-key=s",
      "access_token=s",
      "token=s",
      "sig=s",
      "subscription-key=s",
      "X-Amz-Signature=s",
    ]) {
      const url = `https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?${q}&alt=sse`;
      expect(cacheKey("POST", url, json({ a: 1 })), q).toBe(base);
    }
    const withUser = cacheKey("POST", "https://user:pass@api.openai.com/v1/chat/completions#frag", json({ a: 1 }));
    expect(withUser).toBe(cacheKey("POST", URL_, json({ a: 1 })));
  });

  test("other query parameters are sorted: their order does not change the key", () => {
    const a = cacheKey("GET", "https://h.example/x?b=2&a=1&c=3", null);
    const b = cacheKey("GET", "https://h.example/x?c=3&a=1&b=2", null);
    expect(a).toBe(b);
    expect(cacheKey("GET", "https://h.example/x?b=2&a=9&c=3", null)).not.toBe(a);
  });
});

describe("cacheUrl", () => {
  test.each([
    "key",
    "KEY",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "access-token",
    "token",
    "auth",
    "sig",
    "signature",
    "code",
    "client_secret",
    "subscription-key",
    "subscription_key",
    "Subscription-Key",
    "subscriptionkey",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "x-amz-date",
  ])("drops the credential parameter %s", (name) => {
    const out = cacheUrl(`https://h.example/v1/x?${name}=SECRET-VALUE&z=1&a=2`);
    expect(out).not.toContain("SECRET-VALUE");
    expect(out).not.toMatch(new RegExp(`[?&]${name}=`, "i"));
    expect(out).toBe("https://h.example/v1/x?a=2&z=1");
  });

  test("keeps parameters that only look like credentials, sorted by name", () => {
    expect(cacheUrl("https://h.example/x?keyword=1&monkey=2&api-version=2024-10-21&alt=sse")).toBe(
      "https://h.example/x?alt=sse&api-version=2024-10-21&keyword=1&monkey=2",
    );
    expect(cacheUrl("https://h.example/x?subscription=1&subscription-id=2&my-subscription-key=3")).toBe(
      "https://h.example/x?my-subscription-key=3&subscription=1&subscription-id=2",
    );
  });

  test("Azure's subscription-key is stripped: another key in the query is the same URL and the same key", () => {
    const url = (k: string) =>
      `https://my-resource.cognitiveservices.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&subscription-key=${k}`;
    expect(cacheUrl(url("SECRET-1"))).toBe(
      "https://my-resource.cognitiveservices.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
    );
    expect(cacheKey("POST", url("SECRET-1"), json({ a: 1 }))).toBe(cacheKey("POST", url("SECRET-2"), json({ a: 1 })));
  });

  test("keeps repeated parameters in their order (a stable sort by name)", () => {
    expect(cacheUrl("https://h.example/x?b=2&a=z&a=y")).toBe("https://h.example/x?a=z&a=y&b=2");
  });

  test("drops user info and fragment; no '?' left when only credentials were there", () => {
    expect(cacheUrl("https://me:pw@h.example/x?key=k&sig=s#top")).toBe("https://h.example/x");
  });

  test("normalises the host to lower case and drops a default port", () => {
    expect(cacheUrl("HTTPS://API.OpenAI.com:443/v1/x")).toBe("https://api.openai.com/v1/x");
    expect(cacheUrl("http://127.0.0.1:8080/v1/x")).toBe("http://127.0.0.1:8080/v1/x");
  });
});

describe("canonicalBody", () => {
  test("no body, or an empty one, is null", () => {
    expect(canonicalBody(undefined, "application/json")).toBeNull();
    expect(canonicalBody(new Uint8Array(), "application/json")).toBeNull();
  });

  test("JSON is parsed and key-sorted, with or without a JSON content type", () => {
    const expected = { json: { a: 1, b: { c: 2, d: 3 } } };
    expect(canonicalBody(enc('{"b":{"d":3,"c":2},"a":1}'), "application/json; charset=utf-8")).toEqual(expected);
    expect(canonicalBody(enc('  {"b":{"d":3,"c":2},"a":1}'), "text/plain")).toEqual(expected);
    expect(canonicalBody(enc('{"b":{"d":3,"c":2},"a":1}'), null)).toEqual(expected);
    expect(JSON.stringify(canonicalBody(enc('{"b":{"d":3,"c":2},"a":1}'), null))).toBe('{"json":{"a":1,"b":{"c":2,"d":3}}}');
    expect(canonicalBody(enc("[3,1]"), null)).toEqual({ json: [3, 1] });
  });

  test("text that is not JSON is kept as text, even with a JSON content type", () => {
    expect(canonicalBody(enc("hello=world&a=1"), "application/x-www-form-urlencoded")).toEqual({ text: "hello=world&a=1" });
    expect(canonicalBody(enc('{"a":1'), "application/json")).toEqual({ text: '{"a":1' });
    expect(canonicalBody(enc("plain words"), "application/json")).toEqual({ text: "plain words" });
  });

  test("a JSON scalar is JSON only when the content type says so", () => {
    expect(canonicalBody(enc("42"), "application/json")).toEqual({ json: 42 });
    expect(canonicalBody(enc("42"), "text/plain")).toEqual({ text: "42" });
  });

  test("bytes that are not UTF-8 are kept as base64, and keyed by them", () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const body = canonicalBody(bytes, "application/octet-stream");
    expect(body).toEqual({ base64: Buffer.from(bytes).toString("base64") });
    const other = canonicalBody(new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x42]), "application/octet-stream");
    expect(cacheKey("POST", URL_, body)).not.toBe(cacheKey("POST", URL_, other));
    expect(cacheKey("POST", URL_, body)).toBe(cacheKey("POST", URL_, canonicalBody(bytes, null)));
  });

  test("multi-byte UTF-8 text stays text", () => {
    expect(canonicalBody(enc("héllo ✓ 🙂"), "text/plain")).toEqual({ text: "héllo ✓ 🙂" });
  });
});

describe("helpers", () => {
  test("sortKeys sorts nested objects, leaves arrays' order and scalars alone", () => {
    const out = sortKeys({ b: [{ d: 1, c: 2 }, 3], a: null, c: "x" });
    expect(JSON.stringify(out)).toBe('{"a":null,"b":[{"c":2,"d":1},3],"c":"x"}');
    expect(sortKeys(5)).toBe(5);
    expect(sortKeys(null)).toBeNull();
  });

  test("utf8 decodes valid UTF-8 and refuses anything else", () => {
    expect(utf8(enc("ok ✓"))).toBe("ok ✓");
    expect(utf8(new Uint8Array([0xe2, 0x9c]))).toBeUndefined();
    expect(utf8(new Uint8Array([0xc3, 0x28]))).toBeUndefined();
    // A decoder in fatal mode must not keep state between calls.
    expect(utf8(enc("after"))).toBe("after");
  });
});
