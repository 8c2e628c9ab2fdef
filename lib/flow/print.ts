// Text output like `hubble observe -o compact|dict|table` (hubble/pkg/printer): same columns, the same
// type column (GetFlowType), reserved identities by name, `->`/`<-`/`<>` arrows from is_reply. Times use
// Go's StampMilli layout ("Jan  2 15:04:05.000") in UTC so output does not depend on the machine's zone.
import { dropReasonName, dropReasonText, POLICY_MATCH_TYPE_NAMES, RESERVED_IDENTITY_NAMES } from "./enums";
import type { Flow, FlowEnvelope, Policy } from "./types";

export type PrintFormat = "compact" | "dict" | "table";

export interface PrintOptions {
  /** add the node name (hubble --print-node-name) */
  nodeName?: boolean;
  /** name the deciding policies in the verdict (hubble --print-policy-names) */
  policyNames?: boolean;
  /** hubble --numeric: IPs instead of pod names */
  numeric?: boolean;
  /** hubble --time-format (default StampMilli); times are printed in UTC */
  timeFormat?: TimeFormat;
  /**
   * ANSI colours as hubble --color (hubble/pkg/printer/color.go): hosts cyan, ports yellow, identities
   * magenta, verdicts green/red/yellow, the auth type in the summary green (red for TEST_ALWAYS_FAIL).
   * Compact and dict output only: table output is never coloured, as in hubble.
   */
  color?: boolean;
}

export const TIME_FORMATS = ["StampMilli", "RFC3339", "RFC3339Milli", "RFC3339Micro", "RFC3339Nano", "RFC1123Z", "YearMonthDay", "YearMonthDayHour", "YearMonthDayHourMinute"] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TRACE_POINT_NAMES = [
  "to-endpoint", "to-proxy", "to-host", "to-stack", "to-overlay", "from-endpoint", "from-proxy", "from-host",
  "from-stack", "from-overlay", "from-network", "to-network", "from-crypto", "to-crypto",
];

/** The format a --time-format name stands for: names compare case-insensitively, as hubble's FormatNameToLayout. */
export function timeFormatNamed(name: string): TimeFormat | undefined {
  return TIME_FORMATS.find((f) => f.toLowerCase() === name.toLowerCase());
}

/** A record's time in one of Go's layouts that hubble --time-format offers, in UTC. */
export function formatTime(time: string | undefined, format: TimeFormat = "StampMilli"): string {
  if (!time) return "N/A";
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(time);
  if (!m) return "N/A";
  let d: Date;
  if (m[8].toUpperCase() === "Z") d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  else d = new Date(Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`));
  const nanos = (m[7] ?? "").padEnd(9, "0").slice(0, 9);
  const two = (n: number) => String(n).padStart(2, "0");
  const hms = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const ymd = `${String(d.getUTCFullYear()).padStart(4, "0")}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  // Go's .999… layouts drop trailing zeros, and the dot with them
  const trimmed = (digits: number) => {
    const frac = nanos.slice(0, digits).replace(/0+$/, "");
    return frac ? `.${frac}` : "";
  };
  switch (format) {
    case "RFC3339":
      return `${ymd}T${hms}Z`;
    case "RFC3339Milli":
      return `${ymd}T${hms}${trimmed(3)}Z`;
    case "RFC3339Micro":
      return `${ymd}T${hms}${trimmed(6)}Z`;
    case "RFC3339Nano":
      return `${ymd}T${hms}${trimmed(9)}Z`;
    case "YearMonthDay":
      return ymd;
    case "YearMonthDayHour":
      return `${ymd}T${two(d.getUTCHours())}Z`;
    case "YearMonthDayHourMinute":
      return `${ymd}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}Z`;
    case "RFC1123Z":
      return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${hms} +0000`;
    default:
      return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${hms}.${nanos.slice(0, 3)}`;
  }
}

// Traffic-controlled strings must not drive the terminal (hubble's terminalEscaperWriter does the same).
function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

// fatih/color's sequences, as hubble's colorer writes them
const RED = 31;
const GREEN = 32;
const YELLOW = 33;
const MAGENTA = 35;
const CYAN = 36;

function paint(code: number, s: string): string {
  return `\x1b[${code}m${s}\x1b[0m`;
}

function ports(f: Flow): [string, string] {
  const p = f.l4?.TCP ?? f.l4?.UDP ?? f.l4?.SCTP;
  if (!p) return ["", ""];
  return [String(p.source_port ?? 0), String(p.destination_port ?? 0)];
}

function joinHostPort(host: string, port: string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A host as hubble's Printer.Hostname picks it, and its port ("" when there is none). */
interface HostPart {
  host: string;
  port: string;
  /** false for the empty name of a flow without IP or ethernet addresses, which hubble leaves uncoloured */
  paint: boolean;
}

function hostname(ip: string, port: string, ns: string, pod: string, svc: string, names: string[] | undefined, opts: PrintOptions): HostPart {
  let host = ip;
  if (!opts.numeric) {
    if (pod) host = ns ? `${ns}/${pod}` : pod;
    else if (svc) host = ns ? `${ns}/${svc}` : svc;
    else if (names && names.length) host = names.join(",");
  }
  return { host, port: port !== "" && port !== "0" ? port : "", paint: true };
}

function hostParts(f: Flow, opts: PrintOptions): [HostPart, HostPart] {
  if (!f.IP) {
    if (f.ethernet) return [{ host: f.ethernet.source ?? "", port: "", paint: true }, { host: f.ethernet.destination ?? "", port: "", paint: true }];
    return [{ host: "", port: "", paint: false }, { host: "", port: "", paint: false }];
  }
  let srcNs = f.source?.namespace ?? "";
  let dstNs = f.destination?.namespace ?? "";
  const srcPod = f.source?.pod_name ?? "";
  const dstPod = f.destination?.pod_name ?? "";
  let srcSvc = "";
  let dstSvc = "";
  if (f.source_service) {
    srcNs = f.source_service.namespace ?? "";
    srcSvc = f.source_service.name ?? "";
  }
  if (f.destination_service) {
    dstNs = f.destination_service.namespace ?? "";
    dstSvc = f.destination_service.name ?? "";
  }
  const [sp, dp] = ports(f);
  return [
    hostname(f.IP.source ?? "", sp, srcNs, srcPod, srcSvc, f.source_names, opts),
    hostname(f.IP.destination ?? "", dp, dstNs, dstPod, dstSvc, f.destination_names, opts),
  ];
}

/** `host:port` made safe for a terminal; coloured like hubble's (cyan around it all, the port yellow). */
function printHost(h: HostPart, color: boolean | undefined): string {
  const host = safe(h.host);
  const port = safe(h.port);
  const s = port ? joinHostPort(host, color ? paint(YELLOW, port) : port) : host;
  return color && h.paint ? paint(CYAN, s) : s;
}

export function hostNames(f: Flow, opts: PrintOptions = {}): [string, string] {
  const [src, dst] = hostParts(f, opts);
  const plain = (h: HostPart) => (h.port ? joinHostPort(h.host, h.port) : h.host);
  return [plain(src), plain(dst)];
}

export function formatIdentity(id: number | undefined): string {
  const n = id ?? 0;
  // 0 is a reserved identity too (IdentityUnknown), printed by name like the others
  const name = n === 0 ? "unknown" : RESERVED_IDENTITY_NAMES[n];
  return name ? `(${name})` : `(ID:${n})`;
}

/** hubble's GetFlowType: the TYPE column. */
export function getFlowType(f: Flow): string {
  const l7 = f.l7;
  if (l7) {
    let proto = "l7";
    let type = (l7.type ?? "UNKNOWN_L7_TYPE").toLowerCase();
    if (l7.http) proto = "http";
    else if (l7.dns) {
      proto = "dns";
      type += " " + (l7.dns.observation_source ?? "");
    } else if (l7.kafka) proto = "kafka";
    return `${proto}-${type}`;
  }
  const sub = f.event_type?.sub_type ?? 0;
  switch (f.event_type?.type ?? 0) {
    case 4:
      return TRACE_POINT_NAMES[sub] ?? String(sub);
    case 1:
      return dropReasonName(sub) === "DROP_REASON_UNKNOWN" ? String(sub) : dropReasonText(sub);
    case 5:
      return `policy-verdict:${POLICY_MATCH_TYPE_NAMES[f.policy_match_type ?? 0] ?? String(f.policy_match_type)} ${f.traffic_direction ?? "TRAFFIC_DIRECTION_UNKNOWN"}`;
    case 3:
      return f.debug_capture_point ?? "DBG_CAPTURE_POINT_UNKNOWN";
    case 7:
      switch (f.sock_xlate_point) {
        case "SOCK_XLATE_POINT_POST_DIRECTION_FWD": return "post-xlate-fwd";
        case "SOCK_XLATE_POINT_POST_DIRECTION_REV": return "post-xlate-rev";
        case "SOCK_XLATE_POINT_PRE_DIRECTION_FWD": return "pre-xlate-fwd";
        case "SOCK_XLATE_POINT_PRE_DIRECTION_REV": return "pre-xlate-rev";
      }
      return f.sock_xlate_point ?? "SOCK_XLATE_POINT_UNKNOWN";
  }
  return "UNKNOWN";
}

/**
 * " BY name (Kind), …" as hubble's formatPolicyNames writes it: a policy is named only when it has both
 * a name and a kind (so Cilium's own entries, such as allow-localhost-ingress, are left out), and
 * without its namespace.
 */
function policyNames(ps: Policy[] | undefined): string {
  const names: string[] = [];
  for (const p of ps ?? []) if (p.name && p.kind) names.push(`${p.name} (${p.kind})`);
  return names.length ? ` BY ${names.join(", ")}` : "";
}

export function getVerdict(f: Flow, opts: PrintOptions = {}): string {
  const v = f.verdict ?? "VERDICT_UNKNOWN";
  const pv = (f.event_type?.type ?? 0) === 5;
  // names follow only a known direction: each reads its own side's list
  const dir = f.traffic_direction;
  const side = (egress: Policy[] | undefined, ingress: Policy[] | undefined) =>
    pv && opts.policyNames ? policyNames(dir === "EGRESS" ? egress : dir === "INGRESS" ? ingress : undefined) : "";
  if (v === "FORWARDED" || v === "REDIRECTED") return pv ? `ALLOWED${side(f.egress_allowed_by, f.ingress_allowed_by)}` : v;
  if (v === "DROPPED" || v === "ERROR") return pv ? `DENIED${side(f.egress_denied_by, f.ingress_denied_by)}` : v;
  // an audited verdict is one a deny (or default deny) would have dropped: it names the denying policies
  if (v === "AUDIT" && pv) return `AUDITED${side(f.egress_denied_by, f.ingress_denied_by)}`;
  return v;
}

export function getSummary(f: Flow): string {
  return summaryParts(f).join("; ");
}

/** The summary, and the auth type when there is one (hubble colours it). */
function summaryParts(f: Flow): [string] | [string, string] {
  let s = "";
  const trace = f.ip_trace_id?.trace_id;
  if (trace && trace !== "0") s += `IP Trace ID: ${trace}; `;
  s += f.Summary ?? "";
  if (f.auth_type && f.auth_type !== "DISABLED") return [s, f.auth_type];
  return [s];
}

/** hubble's verdict colours: FORWARDED/REDIRECTED green, DROPPED/ERROR red, AUDIT/TRACED/TRANSLATED yellow. */
function verdictColor(f: Flow): number | undefined {
  switch (f.verdict) {
    case "FORWARDED":
    case "REDIRECTED":
      return GREEN;
    case "DROPPED":
    case "ERROR":
      return RED;
    case "AUDIT":
    case "TRACED":
    case "TRANSLATED":
      return YELLOW;
  }
  return undefined;
}

function columns(env: FlowEnvelope, opts: PrintOptions) {
  const f = env.flow;
  const color = opts.color === true;
  const [src, dst] = hostParts(f, opts);
  const verdict = safe(getVerdict(f, opts));
  const vc = color ? verdictColor(f) : undefined;
  const [summary, auth] = summaryParts(f);
  const authText = auth === undefined ? "" : `; ${color ? paint(auth === "TEST_ALWAYS_FAIL" ? RED : GREEN, safe(auth)) : safe(auth)}`;
  return {
    time: formatTime(f.time ?? env.time, opts.timeFormat),
    node: f.node_name ?? env.node_name ?? "",
    src: printHost(src, color),
    dst: printHost(dst, color),
    type: safe(getFlowType(f)),
    verdict: vc === undefined ? verdict : paint(vc, verdict),
    summary: safe(summary) + authText,
  };
}

export function formatCompact(env: FlowEnvelope, opts: PrintOptions = {}): string {
  const c = columns(env, opts);
  const f = env.flow;
  let { src, dst } = c;
  const id = (n: number | undefined) => (opts.color ? paint(MAGENTA, formatIdentity(n)) : formatIdentity(n));
  let srcId = id(f.source?.identity);
  let dstId = id(f.destination?.identity);
  let arrow = "->";
  if (f.is_reply === undefined || f.is_reply === null) arrow = "<>";
  else if (f.is_reply) {
    [src, dst] = [dst, src];
    [srcId, dstId] = [dstId, srcId];
    arrow = "<-";
  }
  const node = opts.nodeName ? ` [${safe(c.node)}]` : "";
  return `${c.time}${node}: ${src} ${srcId} ${arrow} ${dst} ${dstId} ${c.type} ${c.verdict} (${c.summary})`;
}

export function formatDict(env: FlowEnvelope, opts: PrintOptions = {}): string {
  const c = columns(env, opts);
  const lines = [`  TIMESTAMP: ${c.time}`];
  if (opts.nodeName) lines.push(`       NODE: ${safe(c.node)}`);
  lines.push(`     SOURCE: ${c.src}`, `DESTINATION: ${c.dst}`, `       TYPE: ${c.type}`, `    VERDICT: ${c.verdict}`, `    SUMMARY: ${c.summary}`);
  return lines.join("\n");
}

export const DICT_SEPARATOR = "------------";

function tableRow(env: FlowEnvelope, opts: PrintOptions): string[] {
  // hubble disables colours for table output: the tabwriter would count the escape sequences as width
  const c = columns(env, { ...opts, color: false });
  return opts.nodeName ? [c.time, safe(c.node), c.src, c.dst, c.type, c.verdict, c.summary] : [c.time, c.src, c.dst, c.type, c.verdict, c.summary];
}

/** Go tabwriter with hubble's settings (minwidth 2, padding 3, spaces): every column but the last padded. */
export function alignTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => {
    if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  });
  return rows
    .map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(Math.max(widths[i] + 3, 2)) : cell)).join(""))
    .join("\n");
}

export function formatTable(envs: (FlowEnvelope | LostEvents)[], opts: PrintOptions = {}): string {
  const header = opts.nodeName
    ? ["TIMESTAMP", "NODE", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"]
    : ["TIMESTAMP", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"];
  return alignTable([header, ...envs.map((e) => ("flow" in e ? tableRow(e, opts) : lostEventsRow(e, opts)))]);
}

/** A GetFlowsResponse's `lost_events` (flow.LostEvent) as an export carries it. */
export interface LostEvents {
  source?: string | number;
  num_events_lost?: string | number;
  cpu?: { value?: number } | null;
}

const LOST_EVENT_SOURCES = ["UNKNOWN_LOST_EVENT_SOURCE", "PERF_EVENT_RING_BUFFER", "OBSERVER_EVENTS_QUEUE", "HUBBLE_RING_BUFFER"];

function lostParts(l: LostEvents): { source: string; cpu: number; lost: string } {
  const source = typeof l.source === "number" ? (LOST_EVENT_SOURCES[l.source] ?? String(l.source)) : (l.source ?? LOST_EVENT_SOURCES[0]!);
  return { source: safe(source), cpu: Number(l.cpu?.value ?? 0), lost: String(l.num_events_lost ?? 0) };
}

function lostEventsRow(l: LostEvents, opts: PrintOptions): string[] {
  const { source, cpu, lost } = lostParts(l);
  return [...(opts.nodeName ? ["", ""] : [""]), source, "", "EVENTS LOST", "", `CPU(${cpu}) - ${lost}`];
}

/** Lost events as hubble's printer writes them (printer.go WriteLostEvent); table rows go through formatTable. */
export function formatLostEvents(l: LostEvents, format: Exclude<PrintFormat, "table">, opts: PrintOptions = {}): string {
  const { source, cpu, lost } = lostParts(l);
  if (format === "compact") return `EVENTS LOST: ${source} CPU(${cpu}) ${lost}`;
  return [
    "  TIMESTAMP: ",
    ...(opts.nodeName ? ["       NODE: "] : []),
    `     SOURCE: ${source}`,
    "       TYPE: EVENTS LOST",
    "    VERDICT: ",
    `    SUMMARY: CPU(${cpu}) - ${lost}`,
  ].join("\n");
}

/** One flow in the given format (table: header plus the row). No trailing newline. */
export function formatFlow(env: FlowEnvelope, format: PrintFormat, opts: PrintOptions = {}): string {
  switch (format) {
    case "compact":
      return formatCompact(env, opts);
    case "dict":
      return formatDict(env, opts);
    case "table":
      return formatTable([env], opts);
  }
}

/** Several flows the way hubble prints a stream of them (dict records separated, table aligned). */
export function formatFlows(envs: FlowEnvelope[], format: PrintFormat, opts: PrintOptions = {}): string {
  if (format === "table") return formatTable(envs, opts);
  if (format === "dict") return envs.map((e) => formatDict(e, opts)).join(`\n${DICT_SEPARATOR}\n`);
  return envs.map((e) => formatCompact(e, opts)).join("\n");
}
