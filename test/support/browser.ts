import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

// The browser the viewer's tests drive: the system's Chromium through playwright-core (which
// downloads nothing). Found by lookup: PLAYWRIGHT_CHROMIUM_EXECUTABLE, else a `chromium` (Debian),
// `chromium-browser` or `google-chrome` on the PATH.

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.PLAYWRIGHT_CHROMIUM_EXECUTABLE;
  if (set) return existsSync(set) ? set : undefined;
  for (const name of NAMES) {
    try {
      const path = execFileSync("which", [name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      if (path) return path;
    } catch {
      // not on the PATH: the next name
    }
  }
  return undefined;
}

/** Flags for a headless Chromium in a container: no sandbox, no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-dev-shm-usage",
];
