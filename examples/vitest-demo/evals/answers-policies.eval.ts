import * as ls from "@tally/vitest-plugin";
import { expect } from "vitest";
import { answerQuestion, type Intent } from "../src/index.js";
import { correctness, groundedness, type AnswerReference } from "./lib/judges.js";

// Dataset "support-answers": end-to-end answers to policy and product questions. The whole
// pipeline is traced (classify → search → rerank → model), the judge scores the answer, and the
// test fails only when the answer is clearly wrong (wrong topic, nothing retrieved, or a judge score
// under 0.3); the scores in Tally's table show how good the answers are.

const policyQuestions: Array<{ inputs: { question: string }; referenceOutputs: AnswerReference & { intent: Intent } }> = [
  {
    inputs: { question: "How do I return a kettle I haven't used?" },
    referenceOutputs: { intent: "returns_refunds", mustMention: ["30 days", "full refund", "prepaid return label"] },
  },
  {
    inputs: { question: "When will I get my refund?" },
    referenceOutputs: { intent: "returns_refunds", mustMention: ["5 to 7 business days", "original payment method"] },
  },
  {
    inputs: { question: "How long does standard shipping take?" },
    referenceOutputs: { intent: "shipping", mustMention: ["3 to 5 business days", "free on orders over $50"] },
  },
  {
    inputs: { question: "Do you ship to Canada?" },
    referenceOutputs: { intent: "shipping", mustMention: ["Canada", "7 to 14 business days"] },
  },
  {
    inputs: { question: "How often should I descale my kettle?" },
    referenceOutputs: { intent: "product_help", mustMention: ["every 4 weeks", "vinegar"] },
  },
  {
    inputs: { question: "What grind setting should I use for French press?" },
    referenceOutputs: { intent: "product_help", mustMention: ["coarse", "26 to 30"] },
  },
  {
    inputs: { question: "Can I pause my bean subscription?" },
    referenceOutputs: { intent: "account_billing", mustMention: ["pause", "before the next billing date"] },
  },
  {
    inputs: { question: "Which payment methods do you accept?" },
    referenceOutputs: { intent: "account_billing", mustMention: ["Visa", "PayPal", "Apple Pay"] },
  },
];

ls.describe("support-answers", () => {
  ls.test.each(policyQuestions)("policy question", async ({ inputs, referenceOutputs }) => {
    const result = await answerQuestion(inputs.question);

    expect(result.intent).toBe(referenceOutputs!.intent);
    expect(result.sources.length).toBeGreaterThan(0);
    // The judge's score becomes "correctness" feedback on this run, whatever the assertion says.
    await ls.expect(result).evaluatedBy(correctness).toBeGreaterThanOrEqual(0.3);
    ls.logFeedback({ key: "groundedness", score: groundedness(result) });
    return { answer: result.answer, sources: result.sources };
  });
});
