// A policy preview compiles every policy in force twice (with and without the change) and replays the
// scenario's traffic through both: with thousands of rules that is seconds of work, which on the main
// thread would stall the simulator, every stream and every other request. It runs on a thread of its
// own instead, from a snapshot of the live datapath (the same data sandbox() copies), so the live
// datapath is never touched and the answer is the one previewPolicyChange gives on the main thread.
import type { PolicyPreviewResponse } from "../../lib/api-types";
import { RequestThread } from "../threads/request-thread";
import type { Datapath, DatapathSnapshot } from "./datapath";
import type { PolicyText } from "./policy/documents";

export interface PreviewThreadRequest {
  snapshot: DatapathSnapshot;
  change: PolicyText;
  /** ms since the epoch: the replay's clock */
  now: number;
}

let thread: RequestThread<PreviewThreadRequest, PolicyPreviewResponse> | undefined;

/** previewPolicyChange(live, change) on the preview thread */
export function previewPolicyChangeOffThread(live: Datapath, change: PolicyText, now: Date = new Date()): Promise<PolicyPreviewResponse> {
  thread ??= new RequestThread(new URL("./preview-worker.ts", import.meta.url), "policy preview");
  // the snapshot is taken now: changes applied while the preview runs do not leak into it
  return thread.request({ snapshot: live.snapshot(), change, now: now.getTime() });
}
