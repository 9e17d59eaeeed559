// What the Vitest demo's evals import from "vitest" (`expect`), served by Jest's own.
module.exports = { expect: globalThis.expect };
