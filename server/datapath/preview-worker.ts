// The policy preview thread (see preview-thread.ts): builds the sandbox from the snapshot it was sent
// and replays the scenario's traffic with and without the change.
import { serveRequests } from "../threads/serve-requests";
import { Datapath } from "./datapath";
import { previewPolicyChange } from "./preview";
import type { PreviewThreadRequest } from "./preview-thread";

serveRequests(({ snapshot, change, now }: PreviewThreadRequest) => previewPolicyChange(Datapath.fromSnapshot(snapshot), change, new Date(now), { liveIsSandbox: true }));
