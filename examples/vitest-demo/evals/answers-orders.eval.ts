import * as ls from "@tally/vitest-plugin";
import { expect } from "vitest";
import { answerQuestion } from "../src/index.js";
import { sentences } from "../src/text.js";
import { correctness, groundedness } from "./lib/judges.js";

// Dataset "support-answers", order questions: these go through the order-lookup tool. Each test
// states its own example, so the dataset grows with readable names.

/** 1 minus the relative edit distance: how close the order summary is to what support would write. */
function similarity(a: string, b: string): number {
  const longest = Math.max(a.length, b.length) || 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return Math.round((1 - prev[b.length]! / longest) * 100) / 100;
}

/** The sentence of the answer that talks about the order. */
const orderSentence = (answer: string) => sentences(answer).find((s) => s.startsWith("Your order")) ?? answer;

/** The scores every answer about a found order gets, and the outputs it records. */
async function scoreOrderAnswer(result: Awaited<ReturnType<typeof answerQuestion>>, summary: string) {
  ls.logFeedback({ key: "summary_similarity", score: similarity(orderSentence(result.answer), summary) });
  await ls.expect(result).evaluatedBy(correctness).toBeGreaterThanOrEqual(0.5);
  ls.logFeedback({ key: "groundedness", score: groundedness(result) });
  return { answer: result.answer, order: result.order };
}

ls.describe("support-answers", () => {
  ls.test(
    "shipped order: carrier and ETA",
    {
      inputs: { question: "Where is my order KC-10423?" },
      referenceOutputs: {
        summary: "Your order KC-10423 (Gooseneck Kettle) has shipped with UPS and should arrive by June 6.",
        mustMention: ["KC-10423", "shipped", "UPS", "June 6"],
      },
    },
    async ({ inputs, referenceOutputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order?.status).toBe("shipped");
      return scoreOrderAnswer(result, referenceOutputs!.summary);
    },
  );

  ls.test(
    "order still processing",
    {
      inputs: { question: "Where is my order KC-10519?" },
      referenceOutputs: {
        summary:
          "Your order KC-10519 (Burr Grinder, Paper filters) is still being prepared at our warehouse and usually leaves within one business day.",
        mustMention: ["KC-10519", "being prepared", "one business day"],
      },
    },
    async ({ inputs, referenceOutputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order?.status).toBe("processing");
      return scoreOrderAnswer(result, referenceOutputs!.summary);
    },
  );

  ls.test(
    "delivered order",
    {
      inputs: { question: "Has KC-10588 arrived?" },
      referenceOutputs: {
        summary: "Your order KC-10588 (Espresso Machine) was delivered on May 28.",
        mustMention: ["KC-10588", "delivered", "May 28"],
      },
    },
    async ({ inputs, referenceOutputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order?.status).toBe("delivered");
      // Delivered orders have one canonical sentence: hold it to a tight edit distance.
      await ls.expect(orderSentence(result.answer)).toBeRelativeCloseTo(referenceOutputs!.summary, { threshold: 0.05 });
      return scoreOrderAnswer(result, referenceOutputs!.summary);
    },
  );

  ls.test(
    "delayed order: explains and apologizes",
    {
      inputs: { question: "Where is my order KC-10602? It should be here by now." },
      referenceOutputs: {
        summary:
          "Your order KC-10602 (Bean subscription, 4 weeks) is delayed: it is held at the regional hub, and the new estimated delivery is June 11.",
        mustMention: ["KC-10602", "delayed", "regional hub", "June 11"],
      },
    },
    async ({ inputs, referenceOutputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order?.status).toBe("delayed");
      expect(result.answer).toContain("delayed");
      expect(result.answer).toMatch(/sorry/i);
      return scoreOrderAnswer(result, referenceOutputs!.summary);
    },
  );

  ls.test(
    "unknown order number",
    { inputs: { question: "Where is order KC-99999?" }, referenceOutputs: { mustMention: ["couldn't find", "KC-99999", "double-check"] } },
    async ({ inputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order).toBeNull();
      expect(result.answer).not.toMatch(/shipped|delivered|arrive by/i);
      await ls.expect(result).evaluatedBy(correctness).toBeGreaterThanOrEqual(0.5);
      ls.logFeedback({ key: "groundedness", score: groundedness(result) });
      return { answer: result.answer, order: null };
    },
  );

  ls.test(
    "no order number: asks for it",
    { inputs: { question: "where is my package?" }, referenceOutputs: { mustMention: ["order number", "KC-"] } },
    async ({ inputs }) => {
      const result = await answerQuestion(inputs.question);
      expect(result.order).toBeUndefined(); // the tool was not called
      await ls.expect(result).evaluatedBy(correctness).toBeGreaterThanOrEqual(0.5);
      ls.logFeedback({ key: "groundedness", score: groundedness(result) });
      // Outputs can also be logged instead of returned.
      ls.logOutputs({ answer: result.answer });
    },
  );
});
