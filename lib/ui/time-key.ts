// A record's time as text that sorts in time order, cached on the row: the table's Time column sorts by
// it, and the row store uses it to know whether its stored order still is time order.
import type { StoredFlow } from "../api-types";
import { cachedKey } from "./row-keys";

/**
 * UTC with nine fraction digits ("…T08:00:00.120000000Z"), since Hubble prints as few as protojson
 * needs (none, 3, 6 or 9). Empty when there is no valid time.
 */
export function timeSortKey(iso: string | undefined): string {
  if (!iso) return "";
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (m) return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}Z`;
  // another offset: to UTC, at the millisecond Date keeps
  const t = Date.parse(iso);
  return Number.isFinite(t) ? `${new Date(t).toISOString().slice(0, 23)}000000Z` : "";
}

/** timeSortKey of a row's record time, computed once per row */
export const rowTimeKey: (row: StoredFlow) => string = cachedKey((f) => timeSortKey(f.flow.time ?? f.time));
