import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type RunningServer, startServer } from "../server/app.js";
import { type RunningUi, startUi } from "./index.js";

// The viewer tests' common start: a store in a temporary folder, filled through the real server (and
// the SDK) by `seed`, then a viewer on it, closed and removed after the file. Not a test itself, and
// (named *.test.*) never packed.

export interface SeededUi {
  readonly ui: RunningUi;
  readonly dir: string;
  /** GET on the viewer: status, headers and body text. */
  get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string }>;
}

export function seededUi(prefix: string, seed: (srv: RunningServer) => Promise<void> | void): SeededUi {
  let ui: RunningUi | undefined;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const dbPath = join(dir, "tally.db");
    const srv = await startServer({ dbPath });
    try {
      await seed(srv);
    } finally {
      await srv.close();
    }
    ui = await startUi({ dbPath, port: 0 });
  });
  afterAll(async () => {
    await ui?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get ui() {
      return ui!;
    },
    get dir() {
      return dir;
    },
    async get(path, init) {
      const res = await fetch(ui!.url + path, { redirect: "manual", ...init });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
  };
}
