// Display and validation of one free-text filter entry in Hubble UI's syntax
// `[!][from:|to:|either:]kind=value` (kinds label, ip, dns, identity, pod, workload) plus `policy=`.
// Parsing is lib/filter's (the same code the server runs), so the box rejects exactly what the API would.
import { parseUiEntry, type UiDirection, type UiKind } from "../filter/parse-ui";

export type EntryKind = UiKind;
export type EntryDirection = UiDirection;

export interface EntryInfo {
  negated: boolean;
  direction: EntryDirection;
  kind: EntryKind;
  value: string;
  error?: string;
}

export function describeEntry(entry: string): EntryInfo {
  try {
    const e = parseUiEntry(entry, "filter");
    return { negated: e.negative, direction: e.direction, kind: e.kind, value: e.value };
  } catch (err) {
    return { negated: entry.startsWith("!"), direction: "either", kind: "label", value: entry, error: (err as Error).message };
  }
}

/** Typed text → entries. Terms are space-separated, as the server's `q` parameter splits them. */
export function splitEntries(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** The entry to add when a user clicks a value in the details panel or map. */
export function entryFor(kind: EntryKind, value: string, direction: EntryDirection = "either"): string {
  const dir = direction === "either" ? "" : `${direction}:`;
  return `${dir}${kind}=${value}`;
}
