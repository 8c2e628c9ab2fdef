// What "Copy JSON" puts on the clipboard: the flow as the export writes it, which is how
// `hubble observe -o json` prints it (envelope, key order, enum names, 64-bit integers as strings) and
// without Flowscope's decision extension, which Hubble's own readers refuse. A copied line and an
// exported line of the same flow are the same bytes.
import type { StoredFlow } from "../api-types";
import { toHubbleJson } from "../flow/json";
import { withoutExtensions } from "../flow/strip-extensions";

export function flowJsonLine(stored: StoredFlow): string {
  return withoutExtensions(toHubbleJson({ flow: stored.flow, node_name: stored.node_name, time: stored.time }));
}
