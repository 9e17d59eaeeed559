// GET /info: what the SDK reads once per client to choose its ingest path. `use_multipart_endpoint`
// decides multipart vs /runs/batch; langsmith ≥ 0.12 compresses multipart with zstd when
// `zstd_compression_enabled`, else (like older SDKs) with gzip when `gzip_body_enabled`; Tally's own
// sender reads the same two flags. `dataset_examples_multipart_enabled` is required or
// createExample(s) throws client-side.
import { LOCAL_TENANT_ID } from "../../db/db.js";
import type { ServerRouter } from "../context.js";

/** Reported as the backend version. Older than the SDK's "0.16.x" check on purpose: we do not
 * serve the v2 (`client.runs.*`, `client.datasets.*`) APIs, and the SDK then warns accordingly. */
export const SERVER_VERSION = "0.11.0";

export function registerInfo(router: ServerRouter): void {
  router.get("/info", (ctx) => ({
    version: SERVER_VERSION,
    license_expiration_time: null,
    batch_ingest_config: {
      use_multipart_endpoint: ctx.options.multipart,
      size_limit: 100,
      size_limit_bytes: 20_971_520,
      scale_up_qsize_trigger: 1000,
      scale_up_nthreads_limit: 16,
      scale_down_nempty_trigger: 4,
    },
    instance_flags: {
      dataset_examples_multipart_enabled: true,
      gzip_body_enabled: ctx.options.gzip,
      zstd_compression_enabled: ctx.options.zstd,
      examples_multipart_enabled: true,
      ch_query_enabled: true,
      sdb_query_enabled: false,
      generate_ai_query_enabled: false,
      org_creation_disabled: true,
      show_ttl_ui: false,
      trace_tier_duration_days: { longlived: 400, shortlived: 14 },
    },
    customer_info: { customer_id: LOCAL_TENANT_ID, customer_name: "tally-local" },
  }));

  // The SDK reads /settings for the tenant handle when building prompt-hub URLs.
  router.get("/settings", () => ({ id: LOCAL_TENANT_ID, display_name: "tally-local", tenant_handle: null }));

  router.get("/ok", () => ({ ok: true }));
  router.get("/", () => ({ service: "tally-local-langsmith", version: SERVER_VERSION }));
}
