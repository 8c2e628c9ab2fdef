// What-if for a policy change: the scenario's traffic goes through two sandboxes of the live datapath,
// one with the policies in force and one with the change applied, and every request whose outcome or
// deciding policies differ is reported. The live datapath (its maps, connections, FQDN cache, counters)
// is never touched, so a preview is safe to run while the simulator is sending traffic.
import type { PolicyPreviewResponse, PreviewDecision, PreviewOutcome, PreviewRow } from "../../lib/api-types";
import { policyRef } from "../../lib/filter/policy";
import type { Policy } from "../../lib/flow/types";
import type { Datapath, SideResult, TraceResult } from "./datapath";
import type { TrafficRequest } from "../scenario/types";
import type { PolicyText } from "./policy/documents";

/** Requests replayed at most; a scenario with more distinct requests is previewed on its first ones. */
export const MAX_PREVIEW_REQUESTS = 5000;

function decision(side: SideResult | undefined): PreviewDecision | undefined {
  if (!side || !side.enforced) return undefined;
  return {
    verdict: side.verdict,
    match_type: side.match_type,
    allowed_by: side.allowed_by.map(policyRef),
    denied_by: side.denied_by.map(policyRef),
    ...(side.default_deny_by?.length ? { default_deny_by: side.default_deny_by.map(policyRef) } : {}),
  };
}

/** what the L7 proxy decided, from its last request record (the side that refused, if one did) */
function l7Decision(r: TraceResult): PreviewOutcome["l7"] {
  let ext: { l7_decided_by?: Policy[]; l7_allow_all_by?: Policy[]; rule?: string; explanation?: string[] } | undefined;
  for (const f of r.flows) if (f.flow.l7?.type === "REQUEST" && f.flow.extensions) ext = f.flow.extensions as typeof ext;
  // the L7 rules that decided, or the allow without L7 rules that let every request through
  const by = ext?.l7_decided_by?.length ? ext.l7_decided_by : ext?.l7_allow_all_by;
  if (!ext || !by?.length) return undefined;
  return {
    decided_by: by.map(policyRef),
    ...(ext.rule ? { rule: ext.rule } : {}),
    ...(r.l7_denied && ext.explanation?.length ? { reason: ext.explanation[0] } : {}),
  };
}

function outcome(r: TraceResult): PreviewOutcome {
  const l7 = l7Decision(r);
  return {
    verdict: r.verdict,
    ...(r.drop_reason_desc ? { drop_reason_desc: r.drop_reason_desc } : {}),
    ...(r.l7_denied ? { l7_denied: true } : {}),
    ...(r.response ? { response: r.response } : {}),
    ...(decision(r.egress) ? { egress: decision(r.egress) } : {}),
    ...(decision(r.ingress) ? { ingress: decision(r.ingress) } : {}),
    ...(l7 ? { l7 } : {}),
  };
}

function sameOutcome(a: PreviewOutcome, b: PreviewOutcome): boolean {
  return a.verdict === b.verdict && a.drop_reason_desc === b.drop_reason_desc && !!a.l7_denied === !!b.l7_denied && JSON.stringify(a.response) === JSON.stringify(b.response);
}

// Which policies put an endpoint into default deny is context, not a decision: a new policy that selects
// the endpoint joins that list without changing what decided a request.
function sameDecision(a: PreviewDecision | undefined, b: PreviewDecision | undefined): boolean {
  const key = (d: PreviewDecision | undefined) => (d ? `${d.verdict}|${d.match_type}|${[...d.allowed_by].sort().join(",")}|${[...d.denied_by].sort().join(",")}` : "");
  return key(a) === key(b);
}

/** One line naming a request the way the flow table reads: who, to whom, port and L7. */
export function requestLabel(req: TrafficRequest): string {
  const from = typeof req.from === "string" ? req.from : req.from.ip;
  const to = req.to ?? (req.toService ? `service ${req.toService}` : req.toFQDN ? `fqdn ${req.toFQDN}` : req.toIP ?? (req.dns ? "kube-dns" : "?"));
  const port = req.port !== undefined ? ` ${req.port}/${req.protocol ?? "TCP"}` : req.protocol ? ` ${req.protocol}` : "";
  const l7 = req.http
    ? ` ${req.http.method} ${req.http.path}`
    : req.grpc
      ? ` gRPC /${req.grpc.service}/${req.grpc.method}`
      : req.kafka
        ? ` Kafka ${req.kafka.apiKey}${req.kafka.topics?.length ? ` ${req.kafka.topics.join(",")}` : ""}`
        : req.dns
          ? ` DNS ${req.dns.type ?? "A"} ${req.dns.query}`
          : "";
  return `${from} → ${to}${port}${l7}`;
}

/**
 * Replays the scenario's distinct requests with and without `yaml` applied. Each request is sent twice
 * through each sandbox and the second outcome counts: the first may only be warming state that the
 * live cluster already has (a mutual-auth handshake, an FQDN learnt from a lookup).
 */
export function previewPolicyChange(live: Datapath, yaml: string | PolicyText, now: Date = new Date(), opts: { liveIsSandbox?: boolean } = {}): PolicyPreviewResponse {
  // a datapath built only for this preview (the preview thread's) can serve as "before" itself
  const before = opts.liveIsSandbox ? live : live.sandbox();
  const after = live.sandbox();
  const change = typeof yaml === "string" ? after.upsertPolicyYaml(yaml, "preview") : after.applyPolicyText(yaml);
  const seen = new Set<string>();
  const requests: TrafficRequest[] = [];
  for (const { rate: _rate, ...req } of live.trafficEntries()) {
    const key = JSON.stringify(req);
    if (seen.has(key)) continue;
    seen.add(key);
    requests.push(req);
  }
  const replayed = requests.slice(0, MAX_PREVIEW_REQUESTS);
  const run = (dp: Datapath): PreviewOutcome[] => {
    const once = (t: number) => replayed.map((req) => {
      try {
        return outcome(dp.process(req, new Date(t), { explain: false }));
      } catch (err) {
        return { verdict: "DROPPED" as const, error: (err as Error).message };
      }
    });
    once(now.getTime());
    return once(now.getTime() + 1000);
  };
  const was = run(before);
  const will = run(after);
  const rows: PreviewRow[] = replayed.map((req, i) => {
    const a = was[i]!;
    const b = will[i]!;
    const changed = !sameOutcome(a, b) ? "verdict" : !sameDecision(a.egress, b.egress) || !sameDecision(a.ingress, b.ingress) ? "decision" : null;
    return { label: requestLabel(req), request: req as unknown as Record<string, unknown>, before: a, after: b, change: changed };
  });
  const conflictsBefore = new Set(before.l7ParserConflicts().map((c) => c.message));
  const rank = (r: PreviewRow) => (r.change === "verdict" ? 0 : r.change === "decision" ? 1 : 2);
  rows.sort((x, y) => rank(x) - rank(y));
  return {
    applied: change.applied.map((p) => ({ kind: p.kind, name: p.name, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), selects: p.selects.length })),
    appliedCidrGroups: change.appliedCidrGroups.map((g) => g.name),
    warnings: [
      ...change.warnings.map((w) => ({ source: w.source, document: w.document, ...(w.line !== undefined ? { line: w.line } : {}), path: w.path, message: w.message })),
      // policies the change leaves out of some endpoints (their L7 parser clashes on a port)
      ...after.l7ParserConflicts().filter((c) => !conflictsBefore.has(c.message)).map((c) => ({ source: c.policy.source, document: c.policy.documentIndex, path: c.path, message: c.message })),
    ],
    requests: requests.length,
    replayed: replayed.length,
    verdictChanges: rows.filter((r) => r.change === "verdict").length,
    decisionChanges: rows.filter((r) => r.change === "decision").length,
    rows,
  };
}
