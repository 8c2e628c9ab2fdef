// Hubble UI's free-text filter: space-separated terms `[!][from:|to:|either:]kind=value` with kinds
// label (default), ip, dns, identity, pod, workload, plus Flowscope's policy, port and flow attributes
// (http_status, http_method, http_path, http_url, dns_query, protocol, type, verdict, drop_reason_desc,
// traffic_direction, node_name, uuid, trace_id, tcp_flags: the URL parameters of the same names). A term without a known kind is a
// label (`app=frontend`). As in Hubble UI, positive terms OR (a flow that matches any of them is shown)
// and any matching negative term hides a flow.
import { addAttr, type AttrName } from "./attrs";
import { FilterPairBuilder, parseWorkload, resolveIdentity, validateSided, type SidedKind } from "./builder";
import { parsePolicyPattern } from "./policy";
import { FilterError, type FlowFilter, type FlowQuery } from "./types";

/** attributes of the flow itself, not of one side: no from:/to: */
const ATTR_KINDS = [
  "http_status", "http_method", "http_path", "http_url", "dns_query", "protocol", "type", "verdict", "drop_reason_desc", "traffic_direction",
  "node_name", "uuid", "trace_id", "tcp_flags",
] as const satisfies readonly AttrName[];
type UiAttrKind = (typeof ATTR_KINDS)[number];

export type UiKind = "label" | "ip" | "dns" | "identity" | "pod" | "workload" | "port" | "policy" | UiAttrKind;
export type UiDirection = "from" | "to" | "either";

export interface UiFilterEntry {
  negative: boolean;
  direction: UiDirection;
  kind: UiKind;
  value: string;
}

const KINDS: readonly UiKind[] = ["label", "ip", "dns", "identity", "pod", "workload", "port", "policy", ...ATTR_KINDS];
const SIDED: Record<"label" | "ip" | "dns" | "identity" | "pod" | "workload" | "port", SidedKind> = {
  label: "label", ip: "ip", dns: "fqdn", identity: "identity", pod: "pod", workload: "workload", port: "port",
};

/**
 * `hubble observe` spells these as flags (`--to-fqdn`, `--http-status`, `--from-pod`): typed into the
 * box, they mean what the flag means rather than a label that can never match.
 */
function cliSpelling(key: string): { direction?: UiDirection; kind: string } {
  const k = key.replace(/-/g, "_");
  const sided = /^(from|to)_(pod|label|ip|fqdn|identity|workload|port|namespace)$/.exec(k);
  if (sided) return { direction: sided[1] as UiDirection, kind: sided[2] === "fqdn" ? "dns" : sided[2]! };
  if (k === "fqdn") return { kind: "dns" };
  return { kind: (KINDS as readonly string[]).includes(k) ? k : key };
}

/**
 * hubble observe flags with no term here, in the flags' own hyphenated spelling (a label key is seldom
 * spelled so): refused by name rather than read as a label. `label=KEY=VALUE` still names such a label.
 */
const CLI_ONLY = new Set(["from-service", "to-service", "from-cluster", "to-cluster", "node-label", "ip-version", "http-header", "cel-expression", "snat-ip", "ip-trace-id"]);

/** spellings of a namespace term, read as the pod filter `NS/` */
const NAMESPACE_KINDS = ["namespace", "ns"];

function isAttr(kind: UiKind): kind is UiAttrKind {
  return (ATTR_KINDS as readonly string[]).includes(kind);
}

/** The filter one attribute term stands for; throws a FilterError naming the term when the value is bad. */
function attrFilter(kind: UiAttrKind, value: string, label: string): FlowFilter[] {
  const b = new FilterPairBuilder();
  addAttr(b, kind, value, label);
  return b.build();
}

export function parseUiEntry(term: string, field = "filter"): UiFilterEntry {
  let t = term.trim();
  if (!t) throw new FilterError(field, "empty term");
  let negative = false;
  if (t.startsWith("!")) {
    negative = true;
    t = t.slice(1);
  }
  let direction: UiDirection = "either";
  const d = /^(from|to|either):/.exec(t);
  if (d) {
    direction = d[1] as UiDirection;
    t = t.slice(d[0].length);
  }
  const eq = t.indexOf("=");
  let kind: UiKind = "label";
  let value = t;
  const key = eq > 0 ? t.slice(0, eq) : "";
  const spelled = key ? cliSpelling(key) : undefined;
  if (spelled?.direction) {
    if (d) throw new FilterError(`${field} ${JSON.stringify(term)}`, `${d[1]}: and ${key} both give a direction: write ${spelled.direction}:${spelled.kind}=…`);
    direction = spelled.direction;
  }
  if (CLI_ONLY.has(key)) {
    throw new FilterError(`${field} ${JSON.stringify(term)}`, `${key} is a hubble observe flag with no filter-box term: the REST parameter ${key.replace(/-/g, "_")}= and observe --${key} take it; for a label of that name write label=${t}`);
  }
  if (spelled && (KINDS as readonly string[]).includes(spelled.kind)) {
    kind = spelled.kind as UiKind;
    value = t.slice(eq + 1);
  } else if (spelled && NAMESPACE_KINDS.includes(spelled.kind)) {
    // what `hubble observe --namespace` users type: the namespace's pods, which is `pod=NS/`
    value = t.slice(eq + 1);
    if (value.includes("/")) throw new FilterError(`${field} ${JSON.stringify(term)}`, "a namespace name has no \"/\"");
    kind = "pod";
    if (value) value = `${value}/`;
  }
  if (!value) throw new FilterError(field, `missing value in ${JSON.stringify(term)}`);
  const label = `${field} ${JSON.stringify(term)}`;
  if (kind === "policy" || isAttr(kind)) {
    if (direction !== "either") throw new FilterError(label, `${kind} terms have no direction`);
    if (kind === "policy") parsePolicyPattern(value, label);
    else attrFilter(kind, value, label);
  } else {
    // Kubernetes label values have no "/" (keys may: app.kubernetes.io/name): a selector requirement
    // whose value has one, a service or a pod typed as a label, could never match
    if (kind === "label" && value.split(",").some((req) => /=[^=]*\//.test(req))) {
      throw new FilterError(label, `a label value has no "/" (for a pod write pod=NAMESPACE/NAME; services are the REST API's and the observe CLI's --to-service)`);
    }
    validateSided(SIDED[kind], kind === "identity" ? resolveIdentity(value) : value, label);
  }
  return { negative, direction, kind, value };
}

export function parseUiFilter(text: string, field = "filter"): UiFilterEntry[] {
  return text.split(/\s+/).filter(Boolean).map((t) => parseUiEntry(t, field));
}

/** The canonical text of an entry, `[!]dir:kind=value` as Hubble UI serialises it. */
export function formatUiEntry(e: UiFilterEntry): string {
  return `${e.negative ? "!" : ""}${e.direction === "either" ? "" : `${e.direction}:`}${e.kind}=${e.value}`;
}

function entryFilters(e: UiFilterEntry): FlowFilter[] {
  if (e.kind === "policy") return [{ policy: [e.value] }];
  if (isAttr(e.kind)) return attrFilter(e.kind, e.value, e.kind);
  const kind = SIDED[e.kind];
  const field = kind === "fqdn" ? "fqdn" : kind;
  const value: unknown =
    kind === "identity"
      ? Number(resolveIdentity(e.value))
      : kind === "workload"
        ? parseWorkload(e.value, "workload")
        : // a pod term without a namespace matches in any (in a FlowFilter a bare name would mean "default")
          kind === "pod" && !e.value.includes("/")
          ? `/${e.value}`
          : e.value;
  const sides = e.direction === "either" ? ["source_", "destination_"] : [e.direction === "from" ? "source_" : "destination_"];
  return sides.map((s) => ({ [`${s}${field}`]: [value] }) as FlowFilter);
}

/** Positive terms → whitelist filters (OR), negative terms → blacklist filters. */
export function uiEntriesToFilters(entries: UiFilterEntry[]): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
  const whitelist: FlowFilter[] = [];
  const blacklist: FlowFilter[] = [];
  for (const e of entries) (e.negative ? blacklist : whitelist).push(...entryFilters(e));
  return { whitelist, blacklist };
}

export interface UiView {
  /** namespaces shown (either side); empty = all */
  namespaces?: string[];
  verdicts?: FlowFilter["verdict"];
  /** free text or parsed entries */
  text?: string;
  entries?: UiFilterEntry[];
  since?: string;
  until?: string;
}

/** The FlowQuery for the UI's namespace selection + verdict + free text. */
export function uiViewToQuery(view: UiView): FlowQuery {
  const entries = view.entries ?? (view.text ? parseUiFilter(view.text) : []);
  const { whitelist: terms, blacklist } = uiEntriesToFilters(entries);
  const base: FlowFilter[] = [];
  const ns = view.namespaces?.filter(Boolean) ?? [];
  if (ns.length) {
    base.push({ source_pod: ns.map((n) => `${n}/`) }, { destination_pod: ns.map((n) => `${n}/`) });
  }
  let whitelist: FlowFilter[];
  if (!terms.length) whitelist = base;
  else if (!base.length) whitelist = terms;
  else {
    whitelist = [];
    for (const b of base) for (const t of terms) {
      const key = Object.keys(b)[0] as "source_pod" | "destination_pod";
      const tv = t[key];
      if (!tv) whitelist.push({ ...t, ...b });
      else {
        // a pod term on the namespace's side: keep the pods that live in a selected namespace
        const pods = tv.flatMap((p) => {
          const [podNs, name] = p.split("/") as [string, string];
          return podNs === "" ? ns.map((n) => `${n}/${name}`) : ns.includes(podNs) ? [p] : [];
        });
        if (pods.length) whitelist.push({ ...t, [key]: pods });
      }
    }
    if (!whitelist.length) whitelist = [{ uuid: ["\u0000no-match"] }];
  }
  if (view.verdicts?.length) {
    whitelist = whitelist.length ? whitelist.map((f) => ({ ...f, verdict: view.verdicts })) : [{ verdict: view.verdicts }];
  }
  const q: FlowQuery = { whitelist, blacklist };
  if (view.since) q.since = view.since;
  if (view.until) q.until = view.until;
  return q;
}
