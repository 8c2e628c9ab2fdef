// `--type` values: `drop`, `trace:to-endpoint`, `policy-verdict`, `l7`, … (hubble observe's names) and
// back, so URLs and CLI flags share one spelling.
import { EVENT_TYPE_NAMES } from "../flow/enums";
import type { EventTypeFilter } from "./types";
import { FilterError } from "./types";

/** datapath observation point names used as `trace:<name>` sub-types (pkg/monitor/api). */
export const TRACE_SUBTYPE_NAMES: Record<string, number> = {
  "to-endpoint": 0, "to-proxy": 1, "to-host": 2, "to-stack": 3, "to-overlay": 4, "from-endpoint": 5,
  "from-proxy": 6, "from-host": 7, "from-stack": 8, "from-overlay": 9, "from-network": 10,
  "to-network": 11, "from-crypto": 12, "to-crypto": 13,
};

/**
 * `agent:<name>` sub-types: hubble observe's own spellings (flows_filter.go agentEventSubtypes) of
 * pkg/monitor/api's AgentNotification numbers.
 */
export const AGENT_SUBTYPE_NAMES: Record<string, number> = {
  unspecified: 0, message: 1, "agent-started": 2, "endpoint-regenerate-success": 3, "endpoint-regenerate-failure": 4,
  "policy-updated": 5, "policy-deleted": 6, "endpoint-created": 7, "endpoint-deleted": 8, "ipcache-upserted": 9,
  "ipcache-deleted": 10, "service-upserted": 11, "service-deleted": 12,
};

export function parseEventType(value: string, field: string): EventTypeFilter {
  const [name, sub, ...rest] = value.trim().toLowerCase().split(":");
  if (rest.length) throw new FilterError(field, `invalid event type ${JSON.stringify(value)}`);
  const type = /^\d+$/.test(name) ? Number(name) : EVENT_TYPE_NAMES[name];
  if (type === undefined) {
    throw new FilterError(field, `unknown event type ${JSON.stringify(name)} (expected one of ${Object.keys(EVENT_TYPE_NAMES).join(", ")})`);
  }
  if (sub === undefined || sub === "") return { type };
  let subType: number | undefined;
  if (/^\d+$/.test(sub)) subType = Number(sub);
  else if (type === EVENT_TYPE_NAMES.trace) subType = TRACE_SUBTYPE_NAMES[sub];
  else if (type === EVENT_TYPE_NAMES.agent) subType = AGENT_SUBTYPE_NAMES[sub];
  if (subType === undefined) throw new FilterError(field, `unknown sub-type ${JSON.stringify(sub)} for event type ${name}`);
  return { type, match_sub_type: true, sub_type: subType };
}

export function formatEventType(e: EventTypeFilter): string {
  const name = Object.keys(EVENT_TYPE_NAMES).find((k) => EVENT_TYPE_NAMES[k] === e.type) ?? String(e.type);
  if (!e.match_sub_type) return name;
  const sub = e.sub_type ?? 0;
  const names = e.type === EVENT_TYPE_NAMES.trace ? TRACE_SUBTYPE_NAMES : e.type === EVENT_TYPE_NAMES.agent ? AGENT_SUBTYPE_NAMES : {};
  const subName = Object.keys(names).find((k) => names[k] === sub);
  return `${name}:${subName ?? sub}`;
}
