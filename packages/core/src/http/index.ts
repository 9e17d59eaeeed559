// Public surface of `@tally/core/http`: the one HTTP dispatch style of Tally's servers (the embedded
// store's LangSmith-compatible server and viewer in @tally/store, core's collector) and its node adapter.
export { Router, Reply, HttpError, toResponse } from "./router.js";
export type { Method, HttpRequest, HttpResponse, Handler, Routed, Match, DispatchOptions, Dispatched } from "./router.js";
export { qList, qBool, qInt, qJsonObject } from "./query.js";
export { nodeListener, fromNodeRequest, sendNodeResponse, listen } from "./node.js";
export type { HttpHandle, NodeListenerOptions, ListenOptions, Listening } from "./node.js";
