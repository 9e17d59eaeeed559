import { DEFAULT_PORTS } from "../../ports.js";

// Where a person looks at an experiment. LangSmith's web app lives beside its API host; the embedded
// store is browsed with `tally ui`, which serves the same path shape.

export function webUrlFor(apiUrl: string, local: boolean): string {
  if (local) return `http://localhost:${DEFAULT_PORTS.ui}`;
  const url = new URL(apiUrl);
  if (url.hostname.startsWith("api.")) url.hostname = url.hostname.slice(4);
  if (url.hostname === "localhost" || url.hostname === "127.0.0.1") url.port = url.port === String(DEFAULT_PORTS.server) ? "80" : url.port;
  url.pathname = url.pathname.replace(/\/api(\/v1)?\/?$/, "");
  return url.toString().replace(/\/+$/, "");
}

export function experimentUrl(web: string, tenantId: string, datasetId: string, experimentId: string): string {
  return `${web}/o/${tenantId}/datasets/${datasetId}/compare?selectedSessions=${experimentId}`;
}
