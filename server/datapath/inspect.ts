// Read-only views of the live datapath in the shapes of lib/inspect-types.ts, like `cilium-dbg
// endpoint list`, `identity list`, `bpf ipcache list`, `bpf policy get` and `policy selectors` but
// with the policies behind every entry. Everything is read from the compiled state at call time, so a
// hot reload shows at once.
import type { Pod } from "../cluster/model";
import type { Datapath } from "./datapath";
import type { PolicyMapDir, MapEntry } from "./policy-map";
import { PROTO_NAMES } from "./policy-map";
import type { Peer, PolicyRecord } from "./policy/types";
import type {
  DirectionEnforcement, EndpointSummary, EndpointsResponse, IdentitiesResponse, IdentityInfo, IpcacheResponse,
  PolicyMapResponse, PolicyMapRow, PolicyRef, SelectorRow, SelectorsResponse,
} from "../../lib/inspect-types";

export class InspectError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "InspectError";
  }
}

function ref(p: PolicyRecord): PolicyRef {
  return { name: p.name, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), kind: p.kind };
}

function enforcement(dp: Datapath, ep: Pod, m: PolicyMapDir): DirectionEnforcement {
  const enabledBy = m.defaultDenyPolicies.map(ref);
  if (m.disabled || !m.enforced) return { enforcement: "off", enabledBy };
  const s = dp.scenario.settings;
  const audit = dp.auditMode || s.policyAuditNamespaces.includes(ep.namespace);
  return { enforcement: audit ? "audit" : "on", enabledBy };
}

function summary(dp: Datapath, ep: Pod): EndpointSummary {
  const c = dp.engine.compiled.get(ep.endpointId)!;
  return {
    id: ep.endpointId,
    pod: ep.name,
    namespace: ep.namespace,
    workload: ep.workload,
    node: ep.node,
    identity: ep.identity.id,
    // the host endpoint carries its node's labels beside reserved:host (host policies select by them)
    labels: ep.hostEndpoint ? ep.hostEndpoint.labels : ep.identity.labels,
    ips: [ep.ip],
    ingress: enforcement(dp, ep, c.ingress),
    egress: enforcement(dp, ep, c.egress),
  };
}

export function endpointsView(dp: Datapath): EndpointsResponse {
  // Like cilium-dbg endpoint list: the pods, and each node's host endpoint (reserved:host)
  return {
    revision: dp.revision(),
    endpoints: [...dp.cluster.endpoints, ...dp.cluster.hostEndpoints].map((ep) => summary(dp, ep)),
    nodes: dp.cluster.nodes.map((n) => n.name),
  };
}

/** an endpoint by numeric id or "namespace/pod" */
export function findEndpoint(dp: Datapath, idOrName: string): Pod {
  const text = idOrName.trim();
  if (/^\d+$/.test(text)) {
    const ep = dp.cluster.endpointById.get(Number(text));
    if (!ep) throw new InspectError(404, `no endpoint with id ${text}`);
    return ep;
  }
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (!m) throw new InspectError(400, `endpoint must be a numeric id or namespace/pod, got ${JSON.stringify(idOrName.slice(0, 80))}`, "id");
  const ep = dp.cluster.endpoints.find((p) => p.namespace === m[1] && p.name === m[2]);
  if (!ep) throw new InspectError(404, `no endpoint for pod ${text}`);
  return ep;
}

function redirects(e: MapEntry, m: PolicyMapDir): boolean {
  return m.redirectOf(e) !== undefined;
}

function rowsOf(dp: Datapath, ep: Pod, m: PolicyMapDir, direction: "ingress" | "egress"): PolicyMapRow[] {
  const reg = dp.cluster.identities;
  const stats = dp.engine.statsOf(ep.endpointId, direction);
  return m.all().map((e) => {
    const rules = e.deny ? e.denyRules : e.allowRules;
    const seen = new Set<string>();
    const policies = [];
    for (const r of rules) {
      const k = `${r.rule.policy.key}|${r.path}`;
      if (seen.has(k)) continue;
      seen.add(k);
      policies.push({ ...ref(r.rule.policy), path: r.path });
    }
    return {
      direction,
      identity: e.identity === 0 ? ("ANY" as const) : e.identity,
      identityLabels: e.identity === 0 ? [] : (reg.get(e.identity)?.labels ?? []),
      protocol: PROTO_NAMES[e.proto] ?? String(e.proto),
      port: e.wildcardPort ? "ANY" : e.portLo === e.portHi ? String(e.portLo) : `${e.portLo}-${e.portHi}`,
      l7Redirect: redirects(e, m),
      action: e.deny ? ("deny" as const) : ("allow" as const),
      packets: stats?.packets(e) ?? 0,
      bytes: stats?.bytes(e) ?? 0,
      lastHit: stats?.lastHit(e) ? new Date(stats.lastHit(e)).toISOString() : null,
      policies,
    };
  });
}

export function policyMapView(dp: Datapath, idOrName: string): PolicyMapResponse {
  const ep = findEndpoint(dp, idOrName);
  const c = dp.engine.compiled.get(ep.endpointId)!;
  return { endpoint: summary(dp, ep), revision: dp.revision(), rows: [...rowsOf(dp, ep, c.ingress, "ingress"), ...rowsOf(dp, ep, c.egress, "egress")] };
}

export function identitiesView(dp: Datapath): IdentitiesResponse {
  const users = new Map<number, number[]>();
  for (const ep of dp.cluster.endpoints) {
    let l = users.get(ep.identity.id);
    if (!l) users.set(ep.identity.id, (l = []));
    l.push(ep.endpointId);
  }
  return { identities: dp.cluster.identities.all().map((i) => ({ id: i.id, kind: i.kind, labels: i.labels, endpoints: users.get(i.id) ?? [] })) };
}

export function identityView(dp: Datapath, idText: string): IdentityInfo {
  if (!/^\d+$/.test(idText.trim())) throw new InspectError(400, `identity must be a positive integer, got ${JSON.stringify(idText.slice(0, 80))}`, "id");
  const id = Number(idText);
  const found = identitiesView(dp).identities.find((i) => i.id === id);
  if (!found) throw new InspectError(404, `no identity ${id}`);
  return found;
}

export function ipcacheView(dp: Datapath, node?: string): IpcacheResponse {
  const observer = node ?? dp.cluster.nodes[0]!.name;
  if (!dp.cluster.nodeByName.has(observer)) {
    throw new InspectError(400, `unknown node ${JSON.stringify(observer.slice(0, 80))}; nodes: ${dp.cluster.nodes.map((n) => n.name).join(", ")}`, "node");
  }
  return { node: observer, entries: dp.ipcache(observer) };
}

function selectorText(key: string, peer: Peer): string {
  switch (peer.kind) {
    case "selector":
      return key.slice("sel:".length);
    case "entity":
      return `entity:${peer.entity}${key.includes("@") ? ` (${key.slice(key.indexOf("@") + 1)})` : ""}`;
    case "cidrGroup":
      return peer.text;
    default:
      return `${peer.kind}:${peer.text}`;
  }
}

export function selectorsView(dp: Datapath): SelectorsResponse {
  const byKey = new Map<string, Map<string, PolicyRecord>>();
  for (const c of dp.engine.compiled.values()) {
    for (const [k, ps] of c.selectorPolicies) {
      let m = byKey.get(k);
      if (!m) byKey.set(k, (m = new Map()));
      for (const p of ps) m.set(p.key, p);
    }
  }
  const rows: SelectorRow[] = dp.engine.selectors.list().map((s) => ({
    selector: selectorText(s.key, s.peer),
    kind: s.peer.kind,
    identities: s.ids === "ANY" ? "ANY" : [...s.ids].sort((a, b) => a - b),
    policies: [...(byKey.get(s.key)?.values() ?? [])].map(ref),
    users: s.users,
  }));
  rows.sort((a, b) => a.selector.localeCompare(b.selector));
  return { selectors: rows };
}
