// What the collector tells a worker's langsmith client about "the server" (its /info; workers also
// hand it to their clients directly, so that none asks). Runs go as one JSON
// /runs/batch body: the SDK's multipart body is built from a Blob per field of every run, which costs
// a worker 10-20 ms a file for ~50 runs, against ~5 ms for the JSON body (measured on the bench
// suite). Batches that carry attachments still go multipart (see ClientTracker). zstd and gzip are off
// because on loopback compressing costs the worker more CPU than it saves; the collector still accepts
// both (a client configured elsewhere may compress anyway), and the sender compresses upstream.
export const COLLECTOR_INFO = {
  version: "tally-collector",
  license_expiration_time: null,
  instance_flags: {
    dataset_examples_multipart_enabled: true,
    gzip_body_enabled: false,
    zstd_compression_enabled: false,
  },
  batch_ingest_config: {
    use_multipart_endpoint: false,
    size_limit: 400,
    size_limit_bytes: 20 * 1024 * 1024,
    scale_up_qsize_trigger: 1000,
    scale_up_nthreads_limit: 16,
    scale_down_nempty_trigger: 4,
  },
};
