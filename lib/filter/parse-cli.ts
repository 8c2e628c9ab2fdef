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
  "snat-ip": "snat_ip",
};

const SHORT: Record<string, string> = { n: "namespace", l: "label", t: "type" };

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
  const white = new FilterPairBuilder({ defaultNamespace: "default" });
  const black = new FilterPairBuilder({ defaultNamespace: "default" });
  const rawWhite: FlowFilter[] = [];
  const rawBlack: FlowFilter[] = [];
  const rest: string[] = [];
  const query: FlowQuery = { whitelist: [], blacklist: [] };
  let negate: string | undefined;
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
      if (negate) throw new FilterError("--not", "two --not in a row");
      negate = flag;
      continue;
    }

    const target = negate ? black : white;
    const m = /^(from-|to-)?(.+)$/.exec(name)!;
    const side: Side = m[1] === "from-" ? "from" : m[1] === "to-" ? "to" : "either";
    const base = m[2];
    if (SIDED_FLAGS[base]) {
      target.addSided(SIDED_FLAGS[base], side, takeValue(), flag);
      negate = undefined;
      continue;
    }
    if (side === "either" && ATTR_FLAGS[name]) {
      addAttr(target, ATTR_FLAGS[name], takeValue(), flag);
      negate = undefined;
      continue;
    }
    if (name === "4" || name === "ipv4" || name === "6" || name === "ipv6") {
      addAttr(target, "ip_version", name.includes("4") ? "v4" : "v6", flag);
      negate = undefined;
      continue;
    }
    if (name === "all-namespaces" || name === "A" || name === "from-all-namespaces" || name === "to-all-namespaces") {
      if (negate) throw new FilterError(flag, "cannot be negated");
      continue;
    }
    if (negate && !["allowlist", "denylist"].includes(name)) {
      // hubble only allows --not before a filter flag
      throw new FilterError(negate, `must be followed by a filter flag, got ${flag}`);
    }
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
  if (negate) throw new FilterError(negate, "must be followed by a filter flag");
  if (first !== undefined && last !== undefined) throw new FilterError("--first", "cannot be combined with --last");
  if (first !== undefined && all) throw new FilterError("--first", "cannot be combined with --all");
  if (last !== undefined && all) throw new FilterError("--last", "cannot be combined with --all");
  // hubble treats 0 as unset (--last 0 prints the default 20)
  if (first !== undefined && first > 0) {
    query.limit = first;
    query.first = true;
  } else if (last !== undefined && last > 0) query.limit = last;

  query.whitelist = [...white.build(), ...rawWhite];
  query.blacklist = [...black.build(), ...rawBlack];
  query.whitelist.forEach((f, i) => compileFilter(f, `whitelist[${i}].`));
  query.blacklist.forEach((f, i) => compileFilter(f, `blacklist[${i}].`));
  if (query.since && query.until && query.since > query.until) throw new FilterError("--since", "is after --until");
  return { query, rest, all };
}
