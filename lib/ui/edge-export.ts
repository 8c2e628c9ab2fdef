// Export of what the table shows when a map edge narrows it. The edge is matched in the browser
// (map-model.ts edgePredicate: workload name, app label, identity or pod prefix on either side, replies
// included), which no server filter can express, so the file is written from the table's own rows:
// oldest first and each line exactly as `hubble observe -o json` prints it (extensions left out, as
// the server's export does by default).
import type { StoredFlow } from "../api-types";
import { toHubbleJson } from "../flow/json";
import { withoutExtensions } from "../flow/strip-extensions";
import type { FlowStore } from "./flow-store";

export function edgeNdjson(store: FlowStore, keep: (f: StoredFlow) => boolean): { text: string; lines: number } {
  const out: string[] = [];
  for (let i = store.size - 1; i >= 0; i--) {
    const row = store.at(i)!;
    if (!keep(row)) continue;
    const { id: _id, ...envelope } = row;
    out.push(withoutExtensions(toHubbleJson(envelope)));
  }
  return { text: out.length ? out.join("\n") + "\n" : "", lines: out.length };
}
