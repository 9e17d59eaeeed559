import { Client } from "langsmith";
import { describe, expect, it } from "vitest";
import { decodeContent } from "./content-encoding.js";
import { uuid7 } from "./ids.js";
import { normalizeFeedback, parseRunsMultipart } from "./runs.js";

// `feedback.<id>` parts exactly as langsmith 0.12 builds them: a real Client whose fetch is captured,
// against an /info that asks for zstd multipart. The SDK batches createFeedback into the same
// compressed multipart body as the runs when the feedback names its run and trace.

interface Captured {
  contentType: string;
  encoding: string | undefined;
  body: Buffer;
}

function sdkClient(flags: Record<string, boolean>): { client: Client; bodies: Captured[]; feedbackPosts: unknown[] } {
  const bodies: Captured[] = [];
  const feedbackPosts: unknown[] = [];
  const fetchImplementation = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    if (url.endsWith("/info")) {
      return Response.json({ version: "0.11.0", instance_flags: flags, batch_ingest_config: { use_multipart_endpoint: true } });
    }
    if (url.endsWith("/runs/multipart")) {
      bodies.push({
        contentType: headers["Content-Type"]!,
        encoding: headers["Content-Encoding"],
        body: Buffer.from(await new Response(init!.body).arrayBuffer()),
      });
      return new Response("{}", { status: 202 });
    }
    if (url.endsWith("/feedback")) feedbackPosts.push(JSON.parse(String(init!.body)));
    return Response.json({});
  };
  return { client: new Client({ apiUrl: "http://sdk.invalid", apiKey: "k", fetchImplementation }), bodies, feedbackPosts };
}

describe("feedback parts from langsmith 0.12", () => {
  it.each([
    ["zstd", { zstd_compression_enabled: true, gzip_body_enabled: true }],
    ["gzip", { gzip_body_enabled: true }],
  ])("are parsed from a %s multipart body into what POST /feedback would give", async (encoding, flags) => {
    const { client, bodies, feedbackPosts } = sdkClient(flags);
    const runId = uuid7();
    const sessionId = uuid7();
    const fb = await client.createFeedback(runId, "correctness", {
      score: 0.75,
      comment: "close enough",
      value: { why: "mentions 30 days" },
      traceId: runId,
      sessionId,
      sourceInfo: { evaluator: "unit" },
    });
    await client.awaitPendingTraceBatches();

    expect(feedbackPosts, "nothing went to POST /feedback").toEqual([]);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.encoding).toBe(encoding);
    const raw = await decodeContent(bodies[0]!.body, [encoding], 1024 * 1024);
    const parsed = parseRunsMultipart(raw, bodies[0]!.contentType);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.ops).toEqual([]);
    expect(parsed.feedback).toHaveLength(1);
    const part = parsed.feedback[0]!;
    expect(part).toMatchObject({
      id: fb.id,
      run_id: runId,
      trace_id: runId,
      session_id: sessionId,
      key: "correctness",
      score: 0.75,
      comment: "close enough",
      value: { why: "mentions 30 days" },
      feedback_source: { type: "api", metadata: { evaluator: "unit" } },
    });
    // The very object the SDK would have POSTed to /feedback, validated the same way.
    expect(part).toEqual(normalizeFeedback(JSON.parse(JSON.stringify(fb))));
  });

  it("arrive in one body with the runs of the same trace", async () => {
    const { client, bodies } = sdkClient({ zstd_compression_enabled: true });
    const runId = uuid7();
    const start = Date.now();
    await client.createRun({
      id: runId,
      trace_id: runId,
      dotted_order: `${new Date(start).toISOString().replace(/[-:.]/g, "").replace("Z", "000Z")}${runId}`,
      name: "root",
      run_type: "chain",
      inputs: { q: 1 },
      project_name: "p",
      start_time: start,
    });
    await client.createFeedback(runId, "pass", { score: true, traceId: runId, sessionId: uuid7() });
    await client.awaitPendingTraceBatches();
    expect(bodies.map((b) => b.encoding)).toEqual(["zstd"]);
    const parsed = parseRunsMultipart(await decodeContent(bodies[0]!.body, ["zstd"], 1024 * 1024), bodies[0]!.contentType);
    expect(parsed.ops.map((o) => o.run.id)).toEqual([runId]);
    expect(parsed.feedback.map((f) => [f.key, f.score, f.run_id])).toEqual([["pass", true, runId]]);
  });
});
