// `tally baseline approve | show`: a dataset's approved baseline, the experiment runs with
// `baseline: "approved"` are compared with. The logic is @tally/core's (compare/approved-baseline.ts,
// through the Backend port); this file picks the backend as a run would (LangSmith with an API key,
// else the embedded store in --dir), parses and prints. It prints the backend's label, never a key.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type Approved,
  type Backend,
  approveBaseline,
  approvedBaselines,
  findExperimentToApprove,
  openConfiguredBackend,
} from "@tally/core";
import { openLocalBackend } from "../backend.js";

export const BASELINE_USAGE = `Usage:
  tally baseline approve EXPERIMENT [--dataset NAME] [--dir DIR]
      Make EXPERIMENT (a name or an id) its dataset's approved baseline: runs with
      baseline: "approved" (TALLY_BASELINE=approved) are compared with it. A later approval
      replaces it. --dataset says which dataset's experiment is meant when the name is not enough.
  tally baseline show [--dataset NAME] [--dir DIR]
      The approved baseline of each dataset (or of NAME).

  Both act where a run records: LangSmith when LANGSMITH_API_KEY is set (and TALLY_LOCAL is not),
  else the local store in DIR (default: ./.tally, or TALLY_DIR).
`;

const OPTIONS = {
  dataset: { type: "string" },
  dir: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Out = (line: string) => void;

export async function baseline(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const out: Out = (l) => process.stdout.write(`${l}\n`);
  const err: Out = (l) => process.stderr.write(`${l}\n`);
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(BASELINE_USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (sub !== "approve" && sub !== "show") {
    process.stderr.write(`tally baseline: unknown command "${sub}"\n\n${BASELINE_USAGE}`);
    return 2;
  }
  const name = `tally baseline ${sub}`;
  let values: { dataset?: string; dir?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`${name}: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(BASELINE_USAGE);
    return 0;
  }
  if (sub === "approve" ? positionals.length !== 1 : positionals.length !== 0) {
    err(`${name}: ${sub === "approve" ? "give one experiment, by name or id" : "takes no arguments"}\n\n${BASELINE_USAGE}`);
    return 2;
  }
  let backend: Backend;
  try {
    backend = await openBackend(values.dir, env);
  } catch (e) {
    err(`${name}: ${(e as Error).message}`);
    return 1;
  }
  try {
    if (sub === "approve") return await approve(backend, positionals[0]!, values.dataset, env, out);
    return await show(backend, values.dataset, out);
  } catch (e) {
    err(`${name}: ${(e as Error).message}`);
    return 1;
  } finally {
    await backend.close();
  }
}

/** The backend a run here would record to; a local store that does not exist yet is not created. */
function openBackend(dir: string | undefined, env: Record<string, string | undefined>): Promise<Backend> {
  return openConfiguredBackend({ root: process.cwd(), dir: dir && resolve(dir) }, env, async (storeDir) => {
    const file = join(storeDir, "tally.db");
    if (!existsSync(file)) throw new Error(`no local store at ${file} (run the tests first, or give --dir or TALLY_DIR)`);
    return openLocalBackend(storeDir);
  });
}

async function approve(
  backend: Backend,
  spec: string,
  datasetName: string | undefined,
  env: Record<string, string | undefined>,
  out: Out,
): Promise<number> {
  const exp = await findExperimentToApprove(backend, spec, datasetName);
  const done: Approved = await approveBaseline(backend, exp, { by: env.GITHUB_ACTOR || env.USER || env.USERNAME || undefined });
  const replaced = done.replaced ? ` (replacing "${done.replaced.name}")` : "";
  out(`tally baseline: "${exp.name}" is now the approved baseline of dataset "${done.dataset.name}"${replaced} in ${backend.label}`);
  out(`tally baseline: runs with baseline: "approved" (or TALLY_BASELINE=approved) are compared with it`);
  return 0;
}

async function show(backend: Backend, datasetName: string | undefined, out: Out): Promise<number> {
  const all = await approvedBaselines(backend, datasetName);
  const approved = all.filter((a) => a.approval);
  for (const { dataset, approval } of approved) {
    const a = approval!;
    // Said here too, not only at the next run: an approved experiment that was deleted since.
    const exists = (await backend.findExperiments(a.id)).some((e) => e.id === a.id);
    const when = a.approvedAt ? `, approved ${a.approvedAt}${a.by ? ` by ${a.by}` : ""}` : "";
    out(`${dataset.name}: "${a.name}" (${a.id}${when})${exists ? "" : " — no longer exists; approve another"}`);
  }
  const without = all.filter((a) => !a.approval).map((a) => a.dataset.name);
  if (datasetName !== undefined && without.length > 0) out(`${datasetName}: no approved baseline`);
  else if (approved.length === 0) out(`no dataset has an approved baseline (in ${backend.label})`);
  else if (without.length > 0) out(`(${without.length} other dataset${without.length === 1 ? "" : "s"} without one)`);
  return 0;
}
