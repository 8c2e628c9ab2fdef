// `hubble observe`-style flags → FlowQuery. Filter flags follow hubble: repeating a flag ORs its values,
// different flags AND, either-side flags (--pod, --namespace, --label, --ip, …) match the source OR the
// destination, and `--not` sends only the next filter flag into the blacklist (all negated flags share
// one blacklist filter pair, so `--not --http-method PUT --not --to-namespace foo` excludes flows that
// match both). Flags this parser does not know (-o, --follow, --server, …) are returned untouched in
// `rest`, in order, for the caller to handle.
import { addAttr, type AttrName } from "./attrs";
import { FilterPairBuilder, type Side, type SidedKind } from "./builder";
import { parseTimeArg, isoMs } from "./time";
import { FilterError, type FlowFilter, type FlowQuery } from "./types";
import { compileFilter } from "./match";

const SIDED_FLAGS: Record<string, SidedKind> = {
  namespace: "namespace", pod: "pod", label: "label", ip: "ip", fqdn: "fqdn", identity: "identity",
  port: "port", workload: "workload", service: "service", cluster: "cluster",
};

const ATTR_FLAGS: Record<string, AttrName> = {
  verdict: "verdict", "drop-reason-desc": "drop_reason_desc", type: "type", protocol: "protocol",
  "http-method": "http_method", "http-status": "http_status", "http-path": "http_path", "http-url": "http_url",
  "http-header": "http_header", "dns-query": "dns_query", "traffic-direction": "traffic_direction",
  "node-name": "node_name", uuid: "uuid", policy: "policy", "ip-version": "ip_version", "tcp-flags": "tcp_flags",
  "snat-ip": "snat_ip", "trace-id": "trace_id", "ip-trace-id": "ip_trace_id", "node-label": "node_label", interface: "interface",
  "cel-expression": "cel_expression",
};

const SHORT: Record<string, string> = { n: "namespace", l: "label", t: "type" };

/**
 * Filter flags hubble observe refuses to combine (hubble/cmd/observe/flows_filter.go newFlowFilter, the
 * 1.17 list), checked separately for the allow list and for the `--not` deny list as hubble does.
 * One-flag groups never conflict; they are kept so the list reads like the source.
 */
export const CONFLICT_GROUPS: readonly (readonly string[])[] = [
  ["from-fqdn", "from-ip", "ip", "fqdn", "from-namespace", "namespace", "from-all-namespaces", "all-namespaces"],
  ["from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"],
  ["to-fqdn", "to-ip", "ip", "fqdn", "to-namespace", "namespace", "to-all-namespaces", "all-namespaces"],
  ["to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"],
  ["to-pod", "namespace", "all-namespaces"],
  ["from-pod", "namespace", "all-namespaces"],
  ["to-service", "namespace", "all-namespaces"],
  ["from-service", "namespace", "all-namespaces"],
  ["snat-ip"],
  ["label", "from-label"],
  ["label", "to-label"],
  ["service", "from-service"],
  ["service", "to-service"],
  ["verdict"],
  ["drop-reason-desc"],
  ["type"],
  ["http-status"],
  ["http-method"],
  ["http-path"],
  ["http-url"],
  ["http-header"],
  ["protocol"],
  ["port", "to-port"],
  ["port", "from-port"],
  ["identity", "to-identity"],
  ["identity", "from-identity"],
  ["workload", "to-workload"],
  ["workload", "from-workload"],
  ["node-name", "cluster"],
  ["node-label"],
  ["tcp-flags"],
  ["uuid"],
  ["traffic-direction"],
  ["cel-expression"],
  ["encrypted", "unencrypted"],
];

/** hubble's long name for a filter flag given by its short form. */
const HUBBLE_NAME: Record<string, string> = { A: "all-namespaces", "4": "ipv4", "6": "ipv6" };

/** A refused combination, worded as hubble words it (the message is hubble's, the field the later flag). */
class FlagConflictError extends FilterError {
  constructor(field: string, message: string) {
    super(field, message);
    this.message = message;
  }
}

/** hubble's checkConflict: the first group (in source order) holding two flags that were used. */
function checkConflict(changed: readonly string[]): string | undefined {
  for (const group of CONFLICT_GROUPS) {
    for (const flag of group) {
      if (!changed.includes(flag)) continue;
      for (const conflict of group) {
        if (flag !== conflict && changed.includes(conflict)) return `filters --${flag} and --${conflict} cannot be combined`;
      }
    }
  }
  return undefined;
}

// pkg/hubble/filters/http.go: the server refuses an HTTP filter in a FlowFilter whose event_type list
// is set without an l7 (access log, 129) entry, since such a filter could never match.
const L7_EVENT_TYPE = 129;
const HTTP_FIELDS: readonly [keyof FlowFilter, string, string][] = [
  ["http_status_code", "--http-status", "http status code"],
  ["http_method", "--http-method", "http method"],
  ["http_path", "--http-path", "http path"],
  ["http_url", "--http-url", "http url"],
  ["http_header", "--http-header", "http headers"],
];

function checkHttpNeedsL7(f: FlowFilter, flagOf: (flag: string) => string): void {
  const types = f.event_type ?? [];
  if (types.length === 0 || types.some((t) => t.type === L7_EVENT_TYPE)) return;
  for (const [field, flag, what] of HTTP_FIELDS) {
    const v = f[field] as unknown[] | undefined;
    if (v && v.length) throw new FilterError(flagOf(flag), `filtering by ${what} requires the event type filter to only match 'l7' events`);
  }
}

/**
 * pflag's attached short values, as hubble accepts them: `-npayments` and `-n=payments` are `-n payments`,
 * `-ojson` is `-o json`. Only the short flags that take a value are split (n, l, t and observe's o).
 */
export function expandShortFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const m = /^-([nlto])(=?)(.+)$/.exec(a);
    if (m) out.push(`-${m[1]}`, m[3]!);
    else out.push(a);
  }
  return out;
}

export interface ParsedObserveArgs {
  query: FlowQuery;
  /** arguments this parser does not handle, in their original order */
  rest: string[];
  /** --all: every stored flow (hubble: an alias for --last of the largest number) */
  all: boolean;
}

export interface ParseCliOptions {
  now?: number;
}

function parseJsonFilter(text: string, flag: string): FlowFilter {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FilterError(flag, `invalid FlowFilter JSON: ${(e as Error).message}`);
  }
  compileFilter(v as FlowFilter, `${flag} `);
  return v as FlowFilter;
}

export function parseObserveArgs(args: readonly string[], opts: ParseCliOptions = {}): ParsedObserveArgs {
  const white = new FilterPairBuilder({ defaultNamespace: "default", namespaceConflicts: true });
  const black = new FilterPairBuilder({ defaultNamespace: "default", namespaceConflicts: true });
  const rawWhite: FlowFilter[] = [];
  const rawBlack: FlowFilter[] = [];
  const rest: string[] = [];
  const query: FlowQuery = { whitelist: [], blacklist: [] };
  let negate: string | undefined;
  // the filter flags used, by hubble's names, for the allow list and for the deny list
  const changedWhite: string[] = [];
  const changedBlack: string[] = [];
  let last: number | undefined;
  let first: number | undefined;
  let all = false;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[A-Za-z0-9]$/.test(arg) && (SHORT[arg[1]] || arg === "-A" || arg === "-4" || arg === "-6")) {
      name = SHORT[arg[1]] ?? arg[1];
    } else {
      rest.push(arg);
      continue;
    }
    const flag = name.length === 1 ? `-${name}` : `--${name}`;
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const v = args[i + 1];
      if (v === undefined) throw new FilterError(flag, "missing value");
      i++;
      return v;
    };

    if (name === "not") {
      if (negate) throw new FilterError("--not", "consecutive --not statements");
      negate = flag;
      continue;
    }

    const target = negate ? black : white;
    const track = () => {
      const changed = negate ? changedBlack : changedWhite;
      const hubbleName = HUBBLE_NAME[name] ?? name;
      if (!changed.includes(hubbleName)) changed.push(hubbleName);
      const conflict = checkConflict(changed);
      if (conflict) throw new FlagConflictError(flag, conflict);
    };
    const m = /^(from-|to-)?(.+)$/.exec(name)!;
    const side: Side = m[1] === "from-" ? "from" : m[1] === "to-" ? "to" : "either";
    const base = m[2];
    if (SIDED_FLAGS[base]) {
      track();
      target.addSided(SIDED_FLAGS[base], side, takeValue(), flag);
      negate = undefined;
      continue;
    }
    if (side === "either" && ATTR_FLAGS[name]) {
      track();
      addAttr(target, ATTR_FLAGS[name], takeValue(), flag);
      negate = undefined;
      continue;
    }
    if (name === "4" || name === "ipv4" || name === "6" || name === "ipv6") {
      track();
      addAttr(target, "ip_version", name.includes("4") ? "v4" : "v6", flag);
      negate = undefined;
      continue;
    }
    if (name === "encrypted" || name === "unencrypted") {
      track();
      addAttr(target, "encrypted", String(name === "encrypted"), flag);
      negate = undefined;
      continue;
    }
    if (name === "all-namespaces" || name === "A" || name === "from-all-namespaces" || name === "to-all-namespaces") {
      if (negate) throw new FilterError(flag, "cannot be negated");
      track();
      target.addAllNamespaces(side, flag);
      continue;
    }
    // Other flags leave a pending --not for the next filter flag, as in hubble, where only a filter
    // flag's Set() reads and clears it.
    switch (name) {
      case "allowlist":
        rawWhite.push(parseJsonFilter(takeValue(), flag));
        continue;
      case "denylist":
        rawBlack.push(parseJsonFilter(takeValue(), flag));
        continue;
      case "since":
      case "until": {
        const v = takeValue();
        query[name] = isoMs(parseTimeArg(v, flag, opts.now));
        continue;
      }
      case "last":
      case "first": {
        const v = takeValue();
        if (!/^\d+$/.test(v)) throw new FilterError(flag, `expected a number, got ${JSON.stringify(v)}`);
        if (name === "last") last = Number(v);
        else first = Number(v);
        continue;
      }
      case "all":
        all = true;
        continue;
    }
    // not ours: hand the flag (and, if inline, its value) back
    rest.push(arg);
  }
  if (negate) throw new FilterError(negate, "trailing --not found in the arguments");
  // hubble's rules and wording (flows.go getFlowsRequest), where 0 is unset
  const hasFirst = (first ?? 0) > 0;
  const hasLast = (last ?? 0) > 0;
  if (hasFirst && hasLast) throw new FlagConflictError("--first", "cannot set both --first and --last");
  if (hasFirst && all) throw new FlagConflictError("--first", "cannot set both --first and --all");
  if (hasLast && all) throw new FlagConflictError("--last", "cannot set both --last and --all");
  // hubble treats 0 as unset (--last 0 prints the default 20)
  if (first !== undefined && first > 0) {
    query.limit = first;
    query.first = true;
  } else if (last !== undefined && last > 0) query.limit = last;

  const built = { white: white.build(), black: black.build() };
  for (const f of built.white) checkHttpNeedsL7(f, (flag) => flag);
  for (const f of built.black) checkHttpNeedsL7(f, (flag) => flag);
  for (const f of rawWhite) checkHttpNeedsL7(f, () => "--allowlist");
  for (const f of rawBlack) checkHttpNeedsL7(f, () => "--denylist");
  query.whitelist = [...built.white, ...rawWhite];
  query.blacklist = [...built.black, ...rawBlack];
  query.whitelist.forEach((f, i) => compileFilter(f, `whitelist[${i}].`));
  query.blacklist.forEach((f, i) => compileFilter(f, `blacklist[${i}].`));
  if (query.since && query.until && query.since > query.until) throw new FilterError("--since", "is after --until");
  return { query, rest, all };
}

// FlowFilter fields in flow.proto's declaration order, the order protojson writes them in.
const PROTO_FIELD_ORDER: readonly string[] = [
  "uuid", "source_ip", "source_ip_xlated", "source_pod", "source_fqdn", "source_label", "source_service",
  "source_workload", "source_cluster_name", "destination_ip", "destination_pod", "destination_fqdn",
  "destination_label", "destination_service", "destination_workload", "destination_cluster_name",
  "traffic_direction", "verdict", "drop_reason_desc", "interface", "event_type", "http_status_code", "protocol",
  "source_port", "destination_port", "reply", "dns_query", "source_identity", "destination_identity",
  "http_method", "http_path", "http_url", "http_header", "tcp_flags", "node_name", "node_labels", "ip_version",
  "trace_id", "ip_trace_id", "experimental",
];
// nested messages, same rule
const NESTED_ORDER: Record<string, readonly string[]> = {
  event_type: ["type", "match_sub_type", "sub_type"],
  source_workload: ["name", "kind"],
  destination_workload: ["name", "kind"],
  http_header: ["key", "value"],
  experimental: ["cel_expression"],
  tcp_flags: ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"],
};

/** A proto3 message as protojson writes it: declared order, default values (0, false, "") left out. */
function protoOrdered(v: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = [...order.filter((k) => k in v), ...Object.keys(v).filter((k) => !order.includes(k))];
  for (const k of keys) {
    const x = v[k];
    if (x === undefined || x === 0 || x === false || x === "" || (Array.isArray(x) && x.length === 0)) continue;
    out[k] = x;
  }
  return out;
}

/**
 * One FlowFilter as hubble's --print-raw-filters writes it: Go's json.Marshal over the protojson
 * encoding (UseProtoNames), so fields in proto order, enums by name, and `<`, `>`, `&`, U+2028 and
 * U+2029 escaped. Flowscope's own `policy` field, which Hubble lacks, comes last.
 */
export function flowFilterJson(f: FlowFilter): string {
  const rec = f as Record<string, unknown>;
  const ordered = protoOrdered(rec, PROTO_FIELD_ORDER);
  for (const [k, order] of Object.entries(NESTED_ORDER)) {
    const list = ordered[k];
    if (Array.isArray(list)) ordered[k] = list.map((e) => (e && typeof e === "object" ? protoOrdered(e as Record<string, unknown>, order) : e));
  }
  return JSON.stringify(ordered).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * hubble observe --print-raw-filters (flows.go getFlowFiltersYAML): the allow and deny lists as YAML
 * (yaml.v3, 4-space indent), one single-quoted FlowFilter JSON per item, empty lists left out, `{}`
 * when there is no filter at all.
 */
export function rawFiltersYaml(query: Pick<FlowQuery, "whitelist" | "blacklist">): string {
  const item = (f: FlowFilter) => `    - '${flowFilterJson(f).replace(/'/g, "''")}'\n`;
  let out = "";
  if (query.whitelist.length) out += "allowlist:\n" + query.whitelist.map(item).join("");
  if (query.blacklist.length) out += "denylist:\n" + query.blacklist.map(item).join("");
  return out || "{}\n";
}
