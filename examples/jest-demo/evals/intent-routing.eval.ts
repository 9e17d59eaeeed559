import * as ls from "@tally/jest-preset";
import { classifyIntent, type Intent } from "../../vitest-demo/src/index.js";

// The Jest twin of examples/vitest-demo/evals/intent-routing.eval.ts; only the import differs.
// Dataset "intent-routing": does the first step of the assistant send each question to the right
// place? Every row becomes an example of the dataset and every test a run of this run's experiment.

const questions: Array<{ inputs: { question: string }; referenceOutputs: { intent: Intent } }> = [
  { inputs: { question: "Where is my order KC-10423?" }, referenceOutputs: { intent: "order_status" } },
  { inputs: { question: "How do I return a kettle I haven't used?" }, referenceOutputs: { intent: "returns_refunds" } },
  { inputs: { question: "How long does standard shipping take?" }, referenceOutputs: { intent: "shipping" } },
  { inputs: { question: "Do you ship to Canada?" }, referenceOutputs: { intent: "shipping" } },
  { inputs: { question: "How often should I descale my kettle?" }, referenceOutputs: { intent: "product_help" } },
  { inputs: { question: "I forgot my password" }, referenceOutputs: { intent: "account_billing" } },
  { inputs: { question: "What's the warranty on espresso machines?" }, referenceOutputs: { intent: "warranty" } },
  { inputs: { question: "Which payment methods do you accept?" }, referenceOutputs: { intent: "account_billing" } },
];

ls.describe("intent-routing", () => {
  ls.test.each(questions)("plain question", async ({ inputs, referenceOutputs }) => {
    const result = await classifyIntent(inputs.question);

    expect(result.intent).toBe(referenceOutputs!.intent);
    ls.logFeedback({ key: "correct_intent", score: result.intent === referenceOutputs!.intent ? 1 : 0 });
    // How sure the router was: low confidence on a clear question is worth watching.
    ls.logFeedback({ key: "confidence", score: result.confidence });
    return result;
  });
});
