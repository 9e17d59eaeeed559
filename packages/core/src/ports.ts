// The ports Tally's commands listen on by default, in one place: printed experiment links point at
// the viewer's, so the viewer, the links and the CLI must agree.
export const DEFAULT_PORTS = {
  /** `tally ui`, and the local store's experiment links. */
  ui: 4317,
  /** `tally server`, the LangSmith-compatible server on its own. */
  server: 1984,
} as const;
