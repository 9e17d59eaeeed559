import * as ls from "@tally/vitest-plugin";
import { expect } from "vitest";
import { classifyIntent, type Intent } from "../src/index.js";

// Same dataset, another file: Vitest runs the two files in parallel workers, and Tally still puts
// every run into one experiment. These tests also run concurrently inside the file.

interface Reference {
  intent: Intent;
  /** Other intents a reasonable router may pick for an ambiguous question. */
  alsoAcceptable?: Intent[];
  /** The question as the router should understand it. */
  normalized?: string;
}

function routedWell(actual: Intent, ref: Reference): number {
  if (actual === ref.intent) return 1;
  return ref.alsoAcceptable?.includes(actual) ? 0.5 : 0;
}

ls.describe("intent-routing", () => {
  ls.test.concurrent(
    "fixes typos before routing",
    {
      inputs: { question: "how do i retrun my grindr for a refnd" },
      referenceOutputs: { intent: "returns_refunds", normalized: "how do i return my grinder for a refund" },
    },
    async ({ inputs, referenceOutputs }) => {
      const result = await classifyIntent(inputs.question);
      await ls.expect(result.normalized).toBeRelativeCloseTo(referenceOutputs!.normalized, { threshold: 0.1 });
      expect(result.intent).toBe(referenceOutputs!.intent);
      ls.logFeedback({ key: "correct_intent", score: routedWell(result.intent, referenceOutputs as Reference) });
      ls.logFeedback({ key: "confidence", score: result.confidence });
      return result;
    },
  );

  ls.test.concurrent(
    "ignores shouting",
    { inputs: { question: "WHERE IS MY PACKAGE!!!" }, referenceOutputs: { intent: "order_status", normalized: "where is my package" } },
    async ({ inputs, referenceOutputs }) => {
      const result = await classifyIntent(inputs.question);
      await ls.expect(result.normalized).toBeRelativeCloseTo(referenceOutputs!.normalized, { threshold: 0.1 });
      expect(result.intent).toBe("order_status");
      ls.logFeedback({ key: "correct_intent", score: routedWell(result.intent, referenceOutputs as Reference) });
      ls.logFeedback({ key: "confidence", score: result.confidence });
      return result;
    },
  );

  ls.test.concurrent.each([
    {
      inputs: { question: "my espresso machine stopped working after 3 months" },
      referenceOutputs: { intent: "warranty", alsoAcceptable: ["returns_refunds"] },
    },
    {
      inputs: { question: "how long does shipping take for a return" },
      referenceOutputs: { intent: "shipping", alsoAcceptable: ["returns_refunds"] },
    },
    { inputs: { question: "status of kc-10588 please" }, referenceOutputs: { intent: "order_status" } },
    { inputs: { question: "what's the weather like in Lisbon?" }, referenceOutputs: { intent: "other" } },
  ])("hard question", async ({ inputs, referenceOutputs }) => {
    const ref = referenceOutputs as Reference;
    const result = await classifyIntent(inputs.question);
    expect([ref.intent, ...(ref.alsoAcceptable ?? [])]).toContain(result.intent);
    ls.logFeedback({
      key: "correct_intent",
      score: routedWell(result.intent, ref),
      comment: result.intent === ref.intent ? undefined : `acceptable but not preferred: ${result.intent}`,
    });
    ls.logFeedback({ key: "confidence", score: result.confidence });
    // Only the fields worth comparing across experiments.
    ls.logOutputs({ intent: result.intent, confidence: result.confidence });
  });
});
