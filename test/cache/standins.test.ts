import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "vitest";
import { type Standin, startAnthropicStandin, startOpenAiStandin } from "../support/model-standins.js";

// The model stand-ins, checked against the real SDKs: if these SDKs parse the stand-ins' answers
// (plain, streamed, tool calls, JSON mode), the cache's end-to-end tests exercise real wire shapes.

const started: Standin[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function track(standin: Promise<Standin>) {
  const s = await standin;
  started.push(s);
  return s;
}

// maxRetries 0: a stand-in bug should fail the test at once, not after the SDK's backoff.
const openAi = (s: Standin) => new OpenAI({ apiKey: "test-key", baseURL: s.url, maxRetries: 0 });
const anthropic = (s: Standin) => new Anthropic({ apiKey: "test-key", baseURL: s.url, maxRetries: 0 });

const user = (content: string) => [{ role: "user" as const, content }];

describe("OpenAI stand-in", () => {
  const weatherTool = {
    type: "function" as const,
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
      // strict: the SDK then parses the arguments itself (parsed_arguments).
      strict: true,
    },
  };

  test("plain call: echo with a counter that increments, usage, request id, recorded request", async () => {
    const s = await track(startOpenAiStandin());
    const client = openAi(s);
    const first = await client.chat.completions.create({ model: "gpt-test", messages: user("hello") });
    expect(first.choices[0]!.message.content).toBe("echo: hello #1");
    expect(first.choices[0]!.finish_reason).toBe("stop");
    expect(first.usage!.total_tokens).toBeGreaterThan(0);
    expect(first._request_id).toMatch(/^req_standin_/);
    const second = await client.chat.completions.create({ model: "gpt-test", messages: user("hello") });
    expect(second.choices[0]!.message.content).toBe("echo: hello #2");

    expect(s.requests).toHaveLength(2);
    expect(s.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { authorization: "Bearer test-key" },
      body: { model: "gpt-test", messages: [{ role: "user", content: "hello" }] },
    });
  });

  test("streamed call: role, then the content in several chunks, then [DONE]", async () => {
    const s = await track(startOpenAiStandin());
    const client = openAi(s);
    await client.chat.completions.create({ model: "gpt-test", messages: user("first") });
    const stream = await client.chat.completions.create({ model: "gpt-test", messages: user("hi there"), stream: true });
    const pieces: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0]!;
      if (choice.delta.content) pieces.push(choice.delta.content);
      finish ??= choice.finish_reason;
    }
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.join("")).toBe("echo: hi there #2");
    expect(finish).toBe("stop");
  });

  test("streamed call with include_usage ends with a usage chunk", async () => {
    const s = await track(startOpenAiStandin());
    const stream = await openAi(s).chat.completions.create({
      model: "gpt-test",
      messages: user("hi"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.total_tokens).toBeGreaterThan(0);
  });

  test("tool call, plain: the SDK parses the arguments", async () => {
    const s = await track(startOpenAiStandin());
    const completion = await openAi(s).chat.completions.parse({
      model: "gpt-test",
      messages: user("weather?"),
      tools: [weatherTool],
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_weather");
    expect(call.type === "function" && call.function.parsed_arguments).toEqual({ city: "Paris" });
  });

  test("tool call, streamed: argument deltas, and the SDK's accumulated call parses", async () => {
    const s = await track(startOpenAiStandin());
    const client = openAi(s);
    const raw = await client.chat.completions.create({ model: "gpt-test", messages: user("weather?"), tools: [weatherTool], stream: true });
    const argumentDeltas: string[] = [];
    for await (const chunk of raw) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? [])
        if (call.function?.arguments) argumentDeltas.push(call.function.arguments);
    }
    expect(argumentDeltas.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(argumentDeltas.join(""))).toEqual({ city: "Paris" });

    const stream = client.chat.completions.stream({ model: "gpt-test", messages: user("weather?"), tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.parsed_arguments).toEqual({ city: "Paris" });
  });

  test("JSON mode: the content is JSON with the echo and the counter", async () => {
    const s = await track(startOpenAiStandin());
    const completion = await openAi(s).chat.completions.create({
      model: "gpt-test",
      messages: [
        { role: "system", content: "Answer in JSON." },
        { role: "user", content: [{ type: "text", text: "json please" }] },
      ],
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ answer: "echo: json please", n: 1 });
  });

  test("no authorization header: 401 in OpenAI's error shape", async () => {
    const s = await track(startOpenAiStandin());
    const res = await fetch(`${s.url}/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", message: expect.any(String) } });
  });

  test("latency delays the answer; a restart on the same port starts the counter afresh", async () => {
    const s = await track(startOpenAiStandin({ latencyMs: 60 }));
    const t0 = performance.now();
    await openAi(s).chat.completions.create({ model: "gpt-test", messages: user("slow") });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    await s.close();

    const again = await track(startOpenAiStandin({ port: s.port }));
    expect(again.url).toBe(s.url);
    const reply = await openAi(again).chat.completions.create({ model: "gpt-test", messages: user("slow") });
    expect(reply.choices[0]!.message.content).toBe("echo: slow #1");
  });
});

describe("Anthropic stand-in", () => {
  const weatherTool = {
    name: "get_weather",
    description: "Current weather in a city",
    input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
  };
  const params = (content: string) => ({ model: "claude-test", max_tokens: 64, messages: user(content) });

  test("plain call: echo with a counter that increments, usage, request id, recorded request", async () => {
    const s = await track(startAnthropicStandin());
    const client = anthropic(s);
    const first = await client.messages.create(params("hello"));
    expect(first.content).toEqual([{ type: "text", text: "echo: hello #1" }]);
    expect(first.stop_reason).toBe("end_turn");
    expect(first.usage.output_tokens).toBeGreaterThan(0);
    expect(first._request_id).toMatch(/^req_standin_/);
    const second = await client.messages.create(params("hello"));
    expect(second.content).toEqual([{ type: "text", text: "echo: hello #2" }]);

    expect(s.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/messages",
      // This SDK sends the key as a bearer token, not as x-api-key.
      headers: { authorization: "Bearer test-key", "anthropic-version": expect.any(String) },
      body: { model: "claude-test", messages: [{ role: "user", content: "hello" }] },
    });
  });

  test("streamed call: the real event order, text in several deltas, finalMessage", async () => {
    const s = await track(startAnthropicStandin());
    const client = anthropic(s);
    await client.messages.create(params("first"));

    const raw = await client.messages.create({ ...params("hi there"), stream: true });
    const types: string[] = [];
    const pieces: string[] = [];
    for await (const event of raw) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") pieces.push(event.delta.text);
    }
    // The SDK drops `ping` events, as it does the real API's.
    expect(types[0]).toBe("message_start");
    expect(types.slice(-4)).toEqual(["content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.join("")).toBe("echo: hi there #2");

    const stream = client.messages.stream(params("again"));
    let streamedText = "";
    stream.on("text", (delta) => (streamedText += delta));
    const final = await stream.finalMessage();
    expect(streamedText).toBe("echo: again #3");
    expect(final.content).toEqual([{ type: "text", text: "echo: again #3" }]);
    expect(final.stop_reason).toBe("end_turn");
  });

  test("tool call, plain and streamed: a tool_use block with the input {city: Paris}", async () => {
    const s = await track(startAnthropicStandin());
    const client = anthropic(s);
    const plain = await client.messages.create({ ...params("weather?"), tools: [weatherTool] });
    expect(plain.stop_reason).toBe("tool_use");
    expect(plain.content).toEqual([{ type: "tool_use", id: "toolu_standin_1", name: "get_weather", input: { city: "Paris" } }]);

    const stream = client.messages.stream({ ...params("weather?"), tools: [weatherTool] });
    const jsonDeltas: string[] = [];
    stream.on("inputJson", (partial) => jsonDeltas.push(partial));
    const final = await stream.finalMessage();
    expect(jsonDeltas.length).toBeGreaterThanOrEqual(3);
    expect(final.stop_reason).toBe("tool_use");
    const block = final.content[0]!;
    expect(block.type === "tool_use" && block.name).toBe("get_weather");
    expect(block.type === "tool_use" && block.input).toEqual({ city: "Paris" });
  });

  test("no key: 401 in Anthropic's error shape; a hand-set x-api-key is accepted", async () => {
    const s = await track(startAnthropicStandin());
    const post = (headers: Record<string, string>) =>
      fetch(`${s.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(params("by hand")) });
    const denied = await post({});
    expect(denied.status).toBe(401);
    expect(denied.headers.get("request-id")).toBeTruthy();
    expect(await denied.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });

    const allowed = await post({ "x-api-key": "test-key" });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ content: [{ type: "text", text: "echo: by hand #1" }] });
  });
});
