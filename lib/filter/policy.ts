// Which policies decided a flow, as "Kind/namespace/name" strings. The store's `policies` column must be
// built with decidingPolicies() so the SQL translation and matchFlow agree on what "policy=X" means.
import { derivedFrom } from "../flow/derived-policy";
import type { Flow, FlowscopeExtension, Policy } from "../flow/types";
import { FilterError } from "./types";

export function policyRef(p: Policy): string {
  const derived = derivedFrom(p);
  if (derived) return `reserved:${derived}`;
  return `${p.kind ?? ""}/${p.namespace ?? ""}/${p.name ?? ""}`;
}

/** Every deciding policy: *_allowed_by, *_denied_by, and Flowscope's default_deny_by / l7_decided_by / l7_allow_all_by. */
export function decidingPolicies(flow: Flow): string[] {
  const out: string[] = [];
  addDeciding(out, flow.egress_allowed_by);
  addDeciding(out, flow.ingress_allowed_by);
  addDeciding(out, flow.egress_denied_by);
  addDeciding(out, flow.ingress_denied_by);
  const ext = flow.extensions as FlowscopeExtension | undefined;
  if (ext && typeof ext === "object") {
    addDeciding(out, ext.default_deny_by);
    addDeciding(out, ext.denied_by);
    addDeciding(out, ext.l7_decided_by);
    addDeciding(out, ext.l7_allow_all_by);
  }
  return out;
}

// Not a closure inside decidingPolicies: it runs for every stored flow, and the TypeScript loader
// names each closure it creates with Object.defineProperty, which cost ~3% of encoding a row.
function addDeciding(out: string[], list: Policy[] | undefined): void {
  if (!Array.isArray(list)) return;
  for (const p of list) {
    // Cilium's own entries (allow-localhost-ingress, allow-any-*) are no policy anyone wrote or filters by
    if (derivedFrom(p)) continue;
    const ref = policyRef(p);
    if (!out.includes(ref)) out.push(ref);
  }
}

export interface PolicyPattern {
  kind?: string;
  namespace?: string;
  name: string;
}

/** `name`, `namespace/name` or `Kind/namespace/name` (empty namespace for cluster-wide policies). */
export function parsePolicyPattern(value: string, field = "policy"): PolicyPattern {
  if (typeof value !== "string" || value.trim() === "") throw new FilterError(field, "empty policy name");
  const parts = value.split("/");
  if (parts.some((p) => p.includes("\n"))) throw new FilterError(field, `invalid policy ${JSON.stringify(value)}`);
  let pat: PolicyPattern;
  if (parts.length === 1) pat = { name: parts[0] };
  else if (parts.length === 2) pat = { namespace: parts[0], name: parts[1] };
  else if (parts.length === 3) pat = { kind: parts[0], namespace: parts[1], name: parts[2] };
  else throw new FilterError(field, `expected name, namespace/name or Kind/namespace/name, got ${JSON.stringify(value)}`);
  if (!pat.name) throw new FilterError(field, `missing policy name in ${JSON.stringify(value)}`);
  return pat;
}

export function policyMatches(pat: PolicyPattern, ref: string): boolean {
  const [kind, ns, name] = ref.split("/");
  return name === pat.name && (pat.namespace === undefined || ns === pat.namespace) && (pat.kind === undefined || kind === pat.kind);
}
