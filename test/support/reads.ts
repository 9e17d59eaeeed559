// What arrived at a LangSmith-compatible server, read over real HTTP as any LangSmith client would
// read it. No imports: the tests (through Vitest) and the bench (through Node's type stripping) share it.

export interface Run {
  id: string;
  name: string;
  trace_id: string;
  parent_run_id: string | null;
  session_id: string;
  reference_example_id: string | null;
  end_time: string | null;
  inputs?: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
  error: string | null;
  run_type?: string;
  extra?: { metadata?: Record<string, unknown> } | null;
  attachments?: Record<string, { presigned_url: string; mime_type: string }>;
}

export interface Session {
  id: string;
  name: string;
  reference_dataset_id: string | null;
  end_time: string | null;
  extra?: { metadata?: Record<string, unknown> };
}

export function withReads(url: string, close: () => Promise<void>) {
  const headers = { "x-api-key": "fake-key", "content-type": "application/json" };
  async function get<T>(path: string): Promise<T> {
    const res = await fetch(url + path, { headers });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
  async function allRuns(filter: Record<string, unknown>): Promise<Run[]> {
    const out: Run[] = [];
    let cursor: string | undefined;
    do {
      const res = await fetch(`${url}/runs/query`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...filter, limit: 100, cursor }),
      });
      if (!res.ok) throw new Error(`POST /runs/query: ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { runs: Run[]; cursors?: { next?: string | null } };
      out.push(...page.runs);
      cursor = page.cursors?.next ?? undefined;
    } while (cursor);
    return out;
  }
  return {
    url,
    close,
    async datasets(name: string) {
      return get<Array<{ id: string; name: string }>>(`/datasets?name=${encodeURIComponent(name)}`);
    },
    async experimentsOf(datasetId: string) {
      return get<Session[]>(`/sessions?reference_dataset=${datasetId}&limit=1000`);
    },
    async sessionByName(name: string) {
      return (await get<Session[]>(`/sessions?name=${encodeURIComponent(name)}`))[0];
    },
    runsOf: (sessionId: string) => allRuns({ session: [sessionId] }),
    async feedbackFor(runIds: string[]) {
      const out: Array<{ id: string; run_id: string; key: string; score: unknown }> = [];
      for (let i = 0; i < runIds.length; i += 50) {
        const q = runIds
          .slice(i, i + 50)
          .map((id) => `run=${id}`)
          .join("&");
        out.push(...(await get<typeof out>(`/feedback?${q}&limit=1000`)));
      }
      return out;
    },
    /** Every root run in the backend, whatever its project. */
    async allRootRunIds() {
      return (await allRuns({ is_root: true })).map((r) => r.id);
    },
    async examplesOf(datasetId: string) {
      return get<Array<{ id: string; inputs: Record<string, unknown> }>>(`/examples?dataset=${datasetId}&limit=1000`);
    },
  };
}
