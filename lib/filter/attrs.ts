// Side-independent filter attributes shared by the CLI and URL parsers: one table of names, so
// `--http-status` and `http_status=` are the same thing and are validated the same way.
import type { FilterPairBuilder, AttrField } from "./builder";
import { DROP_REASON_NAMES } from "../flow/enums";
import { parseEventType } from "./event-type";
import { compileIPFilter } from "./ip";
import { DIRECTION_VALUES, PROTOCOL_VALUES, VERDICT_VALUES, parseHttpStatus, parseUint64 } from "./match";
import { parsePolicyPattern } from "./policy";
import { parseLabelSelector } from "./labels";
import { compileSafeRegExp } from "./regex";
import { compileCelExpressions } from "./cel";
import { FilterError, type FlowFilter } from "./types";

export type AttrName =
  | "verdict" | "drop_reason_desc" | "type" | "protocol" | "http_method" | "http_status" | "http_path"
  | "http_url" | "http_header" | "dns_query" | "traffic_direction" | "node_name" | "reply" | "uuid" | "policy"
  | "ip_version" | "tcp_flags" | "snat_ip" | "trace_id" | "ip_trace_id" | "node_label" | "interface" | "encrypted" | "cel_expression";

export const ATTR_NAMES: readonly AttrName[] = [
  "verdict", "drop_reason_desc", "type", "protocol", "http_method", "http_status", "http_path", "http_url",
  "http_header", "dns_query", "traffic_direction", "node_name", "reply", "uuid", "policy", "ip_version",
  "tcp_flags", "snat_ip", "trace_id", "ip_trace_id", "node_label", "interface", "encrypted", "cel_expression",
];

/** Which FlowFilter field an attribute name fills. */
export const ATTR_FIELD: Record<AttrName, AttrField> = {
  verdict: "verdict", drop_reason_desc: "drop_reason_desc", type: "event_type", protocol: "protocol",
  http_method: "http_method", http_status: "http_status_code", http_path: "http_path", http_url: "http_url",
  http_header: "http_header", dns_query: "dns_query", traffic_direction: "traffic_direction",
  node_name: "node_name", reply: "reply", uuid: "uuid", policy: "policy", ip_version: "ip_version",
  tcp_flags: "tcp_flags", snat_ip: "source_ip_xlated", trace_id: "trace_id", ip_trace_id: "ip_trace_id", node_label: "node_labels",
  interface: "interface", encrypted: "encrypted", cel_expression: "experimental",
};

// hubble's ipVersion(): 4, v4, ipv4, ip4 and the same for 6, in any case
const IP_VERSION_ALIASES: Record<string, string> = { none: "IP_NOT_USED", "4": "IPv4", v4: "IPv4", ipv4: "IPv4", ip4: "IPv4", "6": "IPv6", v6: "IPv6", ipv6: "IPv6", ip6: "IPv6" };

/** Validates one attribute value and adds it to `b`. `label` names the flag or param in errors. */
export function addAttr(b: FilterPairBuilder, name: AttrName, raw: string, label: string): void {
  const v = raw.trim();
  if (v === "") throw new FilterError(label, "empty value");
  switch (name) {
    case "verdict": {
      const up = v.toUpperCase();
      if (!VERDICT_VALUES.includes(up)) throw new FilterError(label, `unknown verdict ${JSON.stringify(v)} (expected one of ${VERDICT_VALUES.slice(1).join(", ")})`);
      return b.addAttr("verdict", [up as NonNullable<FlowFilter["verdict"]>[number]]);
    }
    case "drop_reason_desc": {
      const up = v.toUpperCase();
      if (!DROP_REASON_NAMES.includes(up)) throw new FilterError(label, `unknown drop reason ${JSON.stringify(v)} (e.g. POLICY_DENIED, POLICY_DENY)`);
      return b.addAttr("drop_reason_desc", [up]);
    }
    case "type":
      return b.addAttr("event_type", [parseEventType(v, label)]);
    case "protocol":
      if (!PROTOCOL_VALUES.includes(v.toLowerCase())) throw new FilterError(label, `unknown protocol ${JSON.stringify(v)} (expected one of ${PROTOCOL_VALUES.join(", ")})`);
      return b.addAttr("protocol", [v.toLowerCase()]);
    case "http_method":
      if (!/^[A-Za-z]+$/.test(v)) throw new FilterError(label, `invalid HTTP method ${JSON.stringify(v)}`);
      return b.addAttr("http_method", [v.toUpperCase()]);
    case "http_status": {
      // An unencoded "+" in a URL query arrives as a space: `?http_status=5+` typed into curl or a
      // browser means 5+ (a status code never holds a space).
      const status = /^[1-5][0-9]? $/.test(raw) ? `${v}+` : v;
      parseHttpStatus(status, label);
      return b.addAttr("http_status_code", [status]);
    }
    case "http_path":
    case "http_url":
    case "dns_query":
      compileSafeRegExp(v, label);
      return b.addAttr(ATTR_FIELD[name] as "http_path", [v]);
    case "http_header": {
      const i = v.indexOf(":");
      if (i <= 0) throw new FilterError(label, `expected key:value, got ${JSON.stringify(v)}`);
      return b.addAttr("http_header", [{ key: v.slice(0, i), value: v.slice(i + 1) }]);
    }
    case "traffic_direction": {
      const up = v.toUpperCase();
      if (!DIRECTION_VALUES.includes(up) || up === "TRAFFIC_DIRECTION_UNKNOWN") throw new FilterError(label, `expected ingress or egress, got ${JSON.stringify(v)}`);
      return b.addAttr("traffic_direction", [up as "INGRESS"]);
    }
    case "node_name":
      return b.addAttr("node_name", [v]);
    case "reply": {
      const l = v.toLowerCase();
      if (l !== "true" && l !== "false") throw new FilterError(label, `expected true or false, got ${JSON.stringify(v)}`);
      return b.addAttr("reply", [l === "true"]);
    }
    case "uuid":
      return b.addAttr("uuid", [v]);
    case "policy":
      parsePolicyPattern(v, label);
      return b.addAttr("policy", [v]);
    case "ip_version": {
      const iv = IP_VERSION_ALIASES[v.toLowerCase()] ?? v;
      if (!["IP_NOT_USED", "IPv4", "IPv6"].includes(iv)) throw new FilterError(label, `expected none, v4 or v6, got ${JSON.stringify(v)}`);
      return b.addAttr("ip_version", [iv as "IPv4"]);
    }
    case "tcp_flags": {
      const flags: Record<string, boolean> = {};
      for (const f of v.split(",")) {
        const up = f.trim().toUpperCase();
        if (!["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"].includes(up)) throw new FilterError(label, `unknown TCP flag ${JSON.stringify(f)}`);
        flags[up] = true;
      }
      return b.addAttr("tcp_flags", [flags]);
    }
    case "snat_ip":
      // checked here, like ip=, so the error names the parameter or flag rather than the FlowFilter field
      compileIPFilter(v, label);
      return b.addAttr("source_ip_xlated", [v]);
    case "trace_id":
      if (v.length > 128 || /\s/.test(v)) throw new FilterError(label, `invalid trace id ${JSON.stringify(v.slice(0, 40))}`);
      return b.addAttr("trace_id", [v]);
    case "ip_trace_id":
      return b.addAttr("ip_trace_id", [parseUint64(v, label)]);
    case "node_label":
      parseLabelSelector(v, label);
      return b.addAttr("node_labels", [v]);
    case "interface":
      // hubble observe --interface takes the name (lxc…, eth0, cilium_host)
      if (v.length > 64 || /\s/.test(v)) throw new FilterError(label, `invalid interface name ${JSON.stringify(v.slice(0, 40))}`);
      return b.addAttr("interface", [{ name: v }]);
    case "cel_expression":
      // checked whole now (syntax, names, types), so the error names the flag or parameter
      compileCelExpressions([raw], label);
      return b.addCel(raw);
    case "encrypted": {
      const l = v.toLowerCase();
      if (l !== "true" && l !== "false") throw new FilterError(label, `expected true or false, got ${JSON.stringify(v)}`);
      return b.addAttr("encrypted", [l === "true"]);
    }
  }
}
