// Policy lint: things Cilium accepts but that do nothing or surprise people. Errors are the
// documents Cilium would reject; warnings are legal but suspicious.
import { parse } from "yaml";
import type { Datapath } from "./datapath";
import type { PolicyRecord } from "./policy/types";
import { ruleSelects } from "./compiler";
import { fqdnMatches } from "./fqdn-match";
import { isIdentityLabel, labelFilter } from "../cluster/label-filter";
import { servicesSelectedBy } from "./selector-cache";

export interface LintFinding {
  level: "error" | "warning";
  policy?: string;
  source: string;
  path: string;
  message: string;
}

const L7_KEYS = ["http", "kafka", "dns", "l7proto", "l7"];
/** peer lists whose explicit empty value selects nothing (policy/parse-rule.ts) */
const SELECTS_NONE_WHEN_EMPTY = new Set(["fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "toEndpoints", "toCIDR", "toCIDRSet", "toEntities"]);
const KNOWN_SOURCES = ["k8s", "reserved", "cidr", "fqdn", "container", "any", "unspec", "cni", "cidrgroup", "node"];

function name(p: PolicyRecord): string {
  return `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
}

export function lintDatapath(dp: Datapath): LintFinding[] {
  const out: LintFinding[] = dp.warnings.map((w) => ({ level: "error" as const, source: w.file, path: w.path, message: w.text }));
  for (const c of dp.l7ParserConflicts()) out.push({ level: "error", policy: name(c.policy), source: c.policy.source, path: c.path, message: c.message });
  const policies = [...dp.engine.policies.values()];
  const warn = (p: PolicyRecord, path: string, message: string) => out.push({ level: "warning", policy: name(p), source: p.source, path, message });
  const identityFilter = labelFilter(dp.scenario.settings.labels ?? []);

  for (const p of policies) {
    const raw = parse(p.yaml) as Record<string, unknown>;
    const specs: [string, Record<string, unknown>][] = [];
    if (raw.spec && typeof raw.spec === "object") specs.push(["spec", raw.spec as Record<string, unknown>]);
    if (Array.isArray(raw.specs)) raw.specs.forEach((s, i) => specs.push([`specs[${i}]`, s as Record<string, unknown>]));
    for (const [sp, spec] of specs) {
      if (p.kind !== "NetworkPolicy") {
        for (const dir of ["ingress", "egress"] as const) {
          const v = spec[dir];
          const deny = spec[`${dir}Deny`];
          if (Array.isArray(v) && v.length === 0 && !(Array.isArray(deny) && deny.length)) warn(p, `${sp}.${dir}`, `"${dir}: []" does not enable default deny; write "${dir}: [{}]" to deny all ${dir} traffic`);
          for (const [i, r] of (Array.isArray(v) ? v : []).entries()) {
            if (!r || typeof r !== "object") continue;
            for (const k of L7_KEYS) if (k in r) warn(p, `${sp}.${dir}[${i}].${k}`, `L7 rules belong under toPorts[].rules, not directly in the ${dir} rule`);
          }
        }
        for (const dir of ["ingress", "ingressDeny", "egress", "egressDeny"] as const) {
          for (const [i, r] of (Array.isArray(spec[dir]) ? (spec[dir] as unknown[]) : []).entries()) {
            if (!r || typeof r !== "object") continue;
            for (const [k, val] of Object.entries(r)) {
              if (!Array.isArray(val) || val.length !== 0 || !/^(from|to)/.test(k)) continue;
              const does = dir.endsWith("Deny") ? "denies" : "allows";
              if (SELECTS_NONE_WHEN_EMPTY.has(k)) warn(p, `${sp}.${dir}[${i}].${k}`, `an empty ${k} list selects no peer (Cilium 1.15+), so this rule ${does} nothing; leave ${k} out to mean every peer`);
              else warn(p, `${sp}.${dir}[${i}].${k}`, `an empty ${k} list counts as "not set"`);
            }
          }
        }
        for (const dir of ["ingress", "ingressDeny", "egress", "egressDeny"] as const) {
          for (const [i, r] of (Array.isArray(spec[dir]) ? (spec[dir] as unknown[]) : []).entries()) {
            const toPorts = (r as { toPorts?: unknown } | null)?.toPorts;
            for (const [j, tp] of (Array.isArray(toPorts) ? toPorts : []).entries()) {
              const ports = (tp as { ports?: unknown } | null)?.ports;
              for (const [k, pp] of (Array.isArray(ports) ? ports : []).entries()) {
                const { port, endPort } = (pp ?? {}) as { port?: unknown; endPort?: unknown };
                // the agent parses ports with base 0 (policy/parse-rule.ts parsePortValue)
                const octal = typeof port === "string" && /^0[0-7]+$/.test(port);
                const start = octal ? parseInt(port, 8) : Number(port);
                if (octal) warn(p, `${sp}.${dir}[${i}].toPorts[${j}].ports[${k}].port`, `port "${port}" has a leading zero, so Cilium reads it as octal: this is port ${start}, not ${Number(port)}`);
                if (typeof endPort === "number" && endPort > 0 && Number.isInteger(start) && endPort < start) {
                  warn(p, `${sp}.${dir}[${i}].toPorts[${j}].ports[${k}].endPort`, `endPort ${endPort} is lower than port ${start}: Cilium enforces port ${start} alone, not a range`);
                }
              }
            }
          }
        }
        if (!["ingress", "ingressDeny", "egress", "egressDeny"].some((k) => k in spec)) warn(p, sp, "rule has no ingress, ingressDeny, egress or egressDeny: it does nothing (newer Cilium rejects it)");
      }
      forEachSelectorKey(spec, sp, (path, key) => {
        checkKey(key, (why) => warn(p, path, `selector key "${key}" ${why}`));
        // namespace labels and a Service's own labels are not filtered
        if (/namespaceSelector|k8sServiceSelector/.test(path)) return;
        const colon = key.indexOf(":");
        const source = colon > 0 ? key.slice(0, colon) : "k8s";
        if (!["k8s", "any", "unspec"].includes(source)) return;
        if (!isIdentityLabel(identityFilter, `k8s:${colon > 0 ? key.slice(colon + 1) : key}`)) {
          // the host endpoint takes its node's labels through the same filter
          if (/nodeSelector/.test(path)) warn(p, path, `selector key "${key}" is left out of host endpoints' labels by Cilium's identity-label filter (its defaults, or settings.labels), so it selects no node`);
          else warn(p, path, `selector key "${key}" is left out of security identities by Cilium's identity-label filter (its defaults, or settings.labels), so it selects no pod`);
        }
      });
    }
    const selected = dp.engine.selectedEndpoints(p.key).map((id) => dp.cluster.endpointById.get(id));
    const podRule = p.rules.find((r) => !r.hostPolicy);
    if (podRule && !selected.some((ep) => ep && !ep.hostEndpoint)) warn(p, `${podRule.path}.${p.kind === "NetworkPolicy" ? "podSelector" : "endpointSelector"}`, "selects no workload in this scenario");
    const hostRule = p.rules.find((r) => r.hostPolicy);
    if (hostRule && !selected.some((ep) => ep?.hostEndpoint)) warn(p, `${hostRule.path}.nodeSelector`, "selects no node in this scenario (a host endpoint carries reserved:host and those of its node's labels the identity-label filter keeps): the host policy applies nowhere");
    for (const r of p.rules) {
      for (const dir of ["ingress", "egress"] as const) {
        for (const pr of r[dir]) {
          for (const tp of pr.toPorts ?? []) {
            if (tp.envoyOnly) warn(p, tp.path, `${tp.envoyOnly.join(", ")} not simulated: Cilium sends this port to Envoy, which checks the TLS server name (and terminates or originates TLS, or hands the connection to the listener); here the port is enforced at L3/L4 only, so connections Envoy would reset are allowed`);
          }
          if (pr.peers === "all") continue;
          for (const peer of pr.peers) {
            if (peer.kind === "cidrGroup" && peer.ref !== undefined && !dp.engine.cidrGroups.has(peer.ref)) {
              warn(p, peer.path, `no CiliumCIDRGroup named "${peer.ref}" is loaded: this peer selects nothing until one is`);
            }
            if (peer.kind === "cidr" && peer.cidr.v6 !== undefined) {
              warn(p, peer.path, `${peer.cidr.text} is an IPv6 prefix: it is kept, but the simulated cluster and its traffic are IPv4, so it matches nothing here`);
            }
            if (peer.kind === "entity" && (peer.entity === "world-ipv4" || peer.entity === "world-ipv6")) {
              warn(p, peer.path, `the ${peer.entity} entity selects only reserved:${peer.entity}, which Cilium gives outside addresses in dual-stack clusters; the simulated cluster is IPv4-only (outside addresses are reserved:world), so it matches nothing here: use "world"`);
            }
            if (peer.kind === "service") {
              // a Service without a selector becomes CIDR rules for its endpoints, and CIDR rules never select nodes
              for (const s of servicesSelectedBy(peer, dp.cluster)) {
                const onNodes = (s.addresses ?? []).filter((a) => dp.cluster.nodeByIp.has(a.ipNum)).map((a) => a.ip);
                if (onNodes.length) {
                  warn(p, peer.path, `${s.namespace}/${s.name} has no selector, so Cilium turns this into CIDR rules for its endpoints, and ${onNodes.join(", ")} ${onNodes.length > 1 ? "are node addresses" : "is a node address"}, which CIDR rules never select: this allows nothing there${s.namespace === "default" && s.name === "kubernetes" ? "; use toEntities: [kube-apiserver] on the API server's own port" : ""}`);
                }
              }
            }
            if (peer.kind !== "selector") continue;
            const any = dp.cluster.identities.all().some((i) => (peer.sel.reqs.length === 0 ? true : ruleSelectsIdentity(peer.sel, i.index)));
            if (!any) warn(p, peer.path, `selects no workload or identity in this scenario (${peer.sel.text})`);
          }
        }
      }
    }
  }

  // per endpoint checks: toFQDNs need a DNS rule; default-deny egress needs a DNS allow
  for (const ep of dp.cluster.endpoints) {
    const rules = dp.engine.rulesFor(ep);
    const c = dp.engine.compiled.get(ep.endpointId)!;
    const dnsRules = rules.flatMap((r) => r.egress.flatMap((pr) => (pr.toPorts ?? []).filter((tp) => tp.l7?.kind === "dns").map((tp) => tp.l7!.rules.dns ?? [])));
    for (const r of rules) {
      for (const pr of r.egress) {
        if (pr.peers === "all") continue;
        for (const peer of pr.peers) {
          if (peer.kind !== "fqdn") continue;
          if (dnsRules.length === 0) warn(r.policy, peer.path, `toFQDNs on ${ep.namespace}/${ep.workload} but no egress rule with "rules: dns" selects it: the DNS proxy never sees answers, so the FQDN cache learns nothing and these IPs stay blocked`);
        }
      }
    }
    if (c.egress.enforced) {
      const dns = dp.cluster.serviceByKey.get("kube-system/kube-dns")?.backends[0];
      const ok = dns && [2, 1].some((proto) => {
        const res = c.egress.lookup(dns.identity.id, proto, 53);
        return res.entry && !res.entry.deny;
      });
      if (!ok) {
        const by = c.egress.defaultDenyBy[0]?.policy;
        if (by) warn(by, "egress", `${ep.namespace}/${ep.workload} is egress default-deny but may not reach kube-dns on port 53: name resolution will fail`);
      }
    }
  }
  void fqdnMatches;
  // one line per distinct problem
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = `${f.level}|${f.policy}|${f.path}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

import { selectorMatches } from "./selector";
import type { LabelIndex } from "../cluster/labels";
import type { Selector } from "./policy/types";
function ruleSelectsIdentity(sel: Selector, idx: LabelIndex): boolean {
  return selectorMatches(sel, idx);
}
void ruleSelects;

/** Calls `visit` with every label key a selector (matchLabels, matchExpressions) in `v` names. */
function forEachSelectorKey(v: unknown, path: string, visit: (path: string, key: string) => void): void {
  if (Array.isArray(v)) return v.forEach((x, i) => forEachSelectorKey(x, `${path}[${i}]`, visit));
  if (!v || typeof v !== "object") return;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const p = `${path}.${k}`;
    if (k === "matchLabels" && val && typeof val === "object") {
      for (const key of Object.keys(val)) visit(`${p}.${key}`, key);
    } else if (k === "matchExpressions" && Array.isArray(val)) {
      val.forEach((e, i) => typeof e?.key === "string" && visit(`${p}[${i}].key`, e.key));
    } else forEachSelectorKey(val, p, visit);
  }
}

function checkKey(key: string, report: (why: string) => void): void {
  const colon = key.indexOf(":");
  if (colon > 0 && !KNOWN_SOURCES.includes(key.slice(0, colon))) report(`has unknown label source "${key.slice(0, colon)}" (known: ${KNOWN_SOURCES.join(", ")}); it is read as part of the key and will match nothing`);
  else if (/^k8s\.io\./.test(key) || key.startsWith("k8s.")) report(`looks like "k8s:${key.slice(4)}" with "." instead of ":"; as written it matches a key literally named "${key}"`);
  else if (!/^([a-z0-9]+:)?\$?[A-Za-z0-9][-A-Za-z0-9_./]*$/.test(key)) report("is not a valid label key");
}
