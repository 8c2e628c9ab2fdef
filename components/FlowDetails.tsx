"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type ReactNode } from "react";
import type { FlowsPage, StoredFlow } from "../lib/api-types";
import { getJson } from "../lib/ui/api";
import { endpointHref, podEndpoint } from "../lib/ui/endpoint-links";
import { connectionQuery, findConnectionVerdicts, findTwin, twinQuery } from "../lib/ui/verdict-pair";
import { isProxySentOnBehalf } from "../lib/ui/proxy-upstream";
import type { Endpoint, Policy, Service } from "../lib/flow/types";
import { entryFor, type EntryDirection, type EntryKind } from "../lib/ui/filter-entry";
import {
  decisionOf,
  destinationLabel,
  dropReasonDescription,
  dropReasonLabel,
  l7Protocol,
  l7Refused,
  latencyMs,
  policyKey,
  portProtocol,
  sourceLabel,
  tcpFlagsLabel,
  verdictClass,
  type DecisionSource,
} from "../lib/ui/flow-view";
import { getFlowType } from "../lib/flow/print";
import { VERDICT_CHOICES, type VerdictChoice, type ViewState } from "../lib/ui/view-state";
import { visible, visibleName } from "../lib/ui/visible-text";
import { flowJsonLine } from "../lib/ui/copy-flow";
import { derivedFrom } from "../lib/flow/derived-policy";

interface Props {
  flow: StoredFlow;
  view: ViewState;
  setView: (v: ViewState) => void;
  onClose: () => void;
}

const VIA_TEXT: Record<DecisionSource, string> = {
  ingress_allowed_by: "allowed ingress",
  egress_allowed_by: "allowed egress",
  ingress_denied_by: "denied ingress (deny rule)",
  egress_denied_by: "denied egress (deny rule)",
  default_deny_by: "selects the endpoint → default deny",
  denied_by: "denied (deny rule)",
  l7_decided_by: "its L7 rules decided",
  // either an allow without L7 rules covers the peer, or the policy leaves default deny off: the
  // explanation says which
  l7_allow_all_by: "L7 allow-all: the proxy allows every request from this peer",
};

/** what a policy did for this flow, in words that fit its verdict */
function viaText(via: DecisionSource, refused: boolean, response: boolean): string {
  if (via === "l7_decided_by") {
    if (!refused) return "an L7 rule allowed the request";
    return response ? "its L7 rules allow no such request: this is the proxy's refusal" : "its L7 rules allow no such request";
  }
  return VIA_TEXT[via];
}


export function policyHref(p: Policy): string {
  return `/policies?policy=${encodeURIComponent(policyKey(p))}`;
}

export function FlowDetails({ flow: stored, view, setView, onClose }: Props) {
  const f = stored.flow;
  const own = decisionOf(f);
  // A drop event names no policy (Hubble correlates only policy-verdict events): borrow the policies
  // from the policy-verdict event of the same packet.
  const query = f.verdict === "DROPPED" && own.policies.length === 0 ? twinQuery(f) : undefined;
  const twin = useQuery({
    queryKey: ["verdict-twin", stored.id],
    enabled: query !== undefined,
    staleTime: Infinity,
    // One key per flow opened (arrow keys walk the table): let closed ones go soon.
    gcTime: 60_000,
    queryFn: async ({ signal }) => findTwin(stored, (await getJson<FlowsPage>(`/api/flows?${query}`, signal)).flows) ?? null,
  });
  // A trace event of an open connection names no policy: the verdicts that opened the connection do.
  const connQuery = f.event_type?.type === 4 && own.policies.length === 0 ? connectionQuery(f) : undefined;
  const opened = useQuery({
    queryKey: ["connection-verdicts", stored.id],
    enabled: connQuery !== undefined,
    staleTime: Infinity,
    gcTime: 60_000,
    queryFn: async ({ signal }) => findConnectionVerdicts(stored, (await getJson<FlowsPage>(`/api/flows?${connQuery}`, signal)).flows),
  });
  const twinDecision = twin.data ? decisionOf(twin.data.flow) : undefined;
  const openedDecisions = (opened.data ?? []).map((v) => decisionOf(v.flow));
  const openedPolicies = openedDecisions.flatMap((d) => d.policies);
  const decision =
    twinDecision && twinDecision.policies.length
      ? { ...own, policies: twinDecision.policies, rule: own.rule ?? twinDecision.rule }
      : openedPolicies.length
        ? { ...own, policies: openedPolicies, rule: own.rule ?? openedDecisions.find((d) => d.rule)?.rule }
        : own;
  const vc = verdictClass(f.verdict);
  const refused = l7Refused(f, own);
  const [copied, setCopied] = useState(false);

  const addEntry = (kind: EntryKind, value: string, dir: EntryDirection) => {
    const e = entryFor(kind, value, dir);
    if (!view.filters.includes(e)) setView({ ...view, filters: [...view.filters, e], flow: stored.id });
  };
  const F = ({ kind, value, dir, children }: { kind: EntryKind; value: string; dir: EntryDirection; children?: ReactNode }) => (
    <button className="val-link" title={`Filter by ${visibleName(entryFor(kind, value, dir))}`} onClick={() => addEntry(kind, value, dir)}>
      {children ?? visibleName(value)}
    </button>
  );

  const endpoint = (title: string, ep: Endpoint | undefined, ip: string | undefined, names: string[] | undefined, dir: "from" | "to", port?: string, svc?: Service) => (
    <section className="det-section" data-testid={`details-${dir === "from" ? "source" : "destination"}`}>
      <h3>{title}</h3>
      <dl className="kv">
        {ep?.pod_name ? (
          <Row k="Pod">
            <F kind="pod" value={`${ep.namespace ?? ""}/${ep.pod_name}`} dir={dir} />
          </Row>
        ) : null}
        {ep?.namespace ? (
          <Row k="Namespace">
            <button
              className="val-link"
              title="Show this namespace"
              onClick={() => setView({ ...view, namespaces: [...new Set([...view.namespaces, ep.namespace!])].sort(), flow: stored.id })}
            >
              {visibleName(ep.namespace)}
            </button>
          </Row>
        ) : null}
        {ep?.identity !== undefined ? (
          <Row k="Identity">
            <F kind="identity" value={String(ep.identity)} dir={dir} />
          </Row>
        ) : null}
        {ep?.workloads?.length ? (
          <Row k="Workload">
            {ep.workloads.map((w, i) => (
              <F key={`${i}/${w.kind}/${w.name}`} kind="workload" value={w.kind ? `${w.kind}/${w.name}` : w.name ?? ""} dir={dir} />
            ))}
          </Row>
        ) : null}
        {ip ? (
          <Row k="IP">
            <F kind="ip" value={ip} dir={dir} />
          </Row>
        ) : null}
        {port ? <Row k="Port">{port}</Row> : null}
        {svc?.name ? <Row k="Service">{visibleName(svc.namespace ? `${svc.namespace}/${svc.name}` : svc.name)}</Row> : null}
        {names?.length ? (
          <Row k="DNS names">
            {names.map((n, i) => (
              <F key={`${i}/${n}`} kind="dns" value={n} dir={dir} />
            ))}
          </Row>
        ) : null}
        {ep?.cluster_name ? <Row k="Cluster">{visible(ep.cluster_name)}</Row> : null}
        {ep?.ID !== undefined ? (
          <Row k="Endpoint ID">
            {podEndpoint(ep) ? (
              <Link href={endpointHref(ep.ID)} data-testid="endpoint-link" title={`Inspect endpoint ${ep.ID} (${visibleName(`${ep.namespace}/${ep.pod_name}`)}): enforcement and policy map`}>
                {ep.ID}
              </Link>
            ) : (
              ep.ID
            )}
          </Row>
        ) : null}
      </dl>
      {ep?.labels?.length ? (
        <div className="labels">
          {ep.labels.map((l, i) => (
            <F key={`${i}/${l}`} kind="label" value={l} dir={dir}>
              <span className="label-chip">{visibleName(l)}</span>
            </F>
          ))}
        </div>
      ) : null}
    </section>
  );

  const l7 = f.l7;
  const lat = latencyMs(f);
  const srcPort = f.l4?.TCP?.source_port ?? f.l4?.UDP?.source_port ?? f.l4?.SCTP?.source_port;

  return (
    <aside className="details" data-testid="flow-details" aria-label="Flow details">
      <header className="det-head">
        <span className={`verdict-pill v-${vc}`} data-testid="details-verdict">
          {f.verdict}
        </span>
        <span className="det-title" title={`${sourceLabel(f)} → ${destinationLabel(f)}`}>
          {sourceLabel(f)} <span className="muted">→</span> {destinationLabel(f)}
        </span>
        <button
          className="btn small"
          title="Copy this flow as the export writes it (hubble observe -o json)"
          onClick={() => {
            void navigator.clipboard?.writeText(flowJsonLine(stored));
            setCopied(true);
            setTimeout(() => setCopied(false), 1200);
          }}
        >
          {copied ? "Copied" : "Copy JSON"}
        </button>
        <button className="btn small icon" aria-label="Close details" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="det-body">
        <section className="det-section decision" data-testid="flow-decision">
          <h3>Decision</h3>
          <dl className="kv">
            <Row k="Verdict">
              {VERDICT_CHOICES.includes(f.verdict as VerdictChoice) ? (
                <button className="val-link" onClick={() => setView({ ...view, verdict: f.verdict as VerdictChoice, flow: stored.id })}>
                  {f.verdict}
                </button>
              ) : (
                f.verdict
              )}
            </Row>
            {dropReasonLabel(f) ? (
              <Row k="Drop reason">
                {dropReasonLabel(f)} <span className="muted">{dropReasonDescription(f)}</span>
              </Row>
            ) : null}
            <Row k="Event">
              <span data-testid="details-type">{getFlowType(f)}</span>{" "}
              <span className="muted">
                {f.Type ?? ""}
                {f.is_reply === true ? " · reply" : f.is_reply === false ? " · request" : ""}
                {tcpFlagsLabel(f) ? ` · ${tcpFlagsLabel(f)}` : ""}
              </span>
            </Row>
            {f.traffic_direction ? <Row k="Direction">{f.traffic_direction}</Row> : null}
            {f.interface?.name || f.interface?.index ? (
              <Row k="Interface">{`${f.interface.name ?? "?"}${f.interface.index ? ` (index ${f.interface.index})` : ""}`}</Row>
            ) : null}
            {f.ethernet?.source || f.ethernet?.destination ? <Row k="MAC">{`${f.ethernet.source ?? "?"} → ${f.ethernet.destination ?? "?"}`}</Row> : null}
            {f.auth_type && f.auth_type !== "DISABLED" ? (
              <Row k="Authentication">
                {f.auth_type} <span className="muted">{f.auth_type === "SPIRE" ? "mutual authentication required by the policy" : "test mode: authentication never succeeds"}</span>
              </Row>
            ) : null}
            {f.policy_log?.length ? <Row k="Policy log">{f.policy_log.join(", ")}</Row> : null}
          </dl>
          {decision.policies.length === 0 && isProxySentOnBehalf(f) ? (
            <p className="muted small" data-testid="proxy-note">
              Sent by a Cilium proxy on the client&apos;s behalf: the ingress L7 proxy&apos;s own connection to this pod (or the DNS
              proxy&apos;s query) leaves from a node address, {visible(f.IP?.source ?? "?")}, under the security identity of the client it
              acts for ({f.source?.identity}). Cilium takes no policy verdict for a proxy&apos;s packets: the proxy decided on the
              request, and its L7 record names the rule.
            </p>
          ) : decision.policies.length === 0 ? (
            <p className="muted small">
              {f.verdict === "DROPPED" ? "No policy named for this drop." : "No policy decision recorded on this event (e.g. a trace event, or no policy selects these endpoints)."}
            </p>
          ) : (
            <>
            {decision !== own && !twin.data && opened.data?.length ? (
              <p className="muted small" data-testid="connection-note">
                Named by the policy-verdict event{opened.data.length > 1 ? "s" : ""} that opened this connection (flow{opened.data.length > 1 ? "s" : ""} {opened.data.map((v) => v.id).join(", ")}). Cilium reports a policy verdict for a
                connection&apos;s first packet (and for drops) only: its later packets are still checked against the
                same policy, its replies pass on connection tracking.
              </p>
            ) : null}
            {decision !== own && twin.data ? (
              <p className="muted small" data-testid="twin-note">
                Named by the policy-verdict event of the same packet (flow {twin.data.id}); Hubble attaches policies only to that event.
              </p>
            ) : null}
            <ul className="policy-list" data-testid="deciding-policies">
              {decision.policies.map(({ policy: p, via }, i) =>
                derivedFrom(p) ? (
                  <li key={`${via}-derived-${i}`} className={`policy-card via-${via}`} data-testid="derived-policy">
                    <div className="policy-line">
                      <span className="policy-name">{visibleName(derivedFrom(p) ?? "")}</span>
                      <span className="kind-badge">implicit</span>
                    </div>
                    <div className="muted small">
                      Cilium&apos;s own policy-map entry, not a policy of the cluster · revision {p.revision ?? "?"} · {viaText(via, refused, f.l7?.type === "RESPONSE")}
                    </div>
                  </li>
                ) : (
                <li key={`${via}-${policyKey(p)}-${i}`} className={`policy-card via-${via}`}>
                  <div className="policy-line">
                    <Link href={policyHref(p)} className="policy-name" data-testid="deciding-policy">
                      {visibleName(p.name ?? "")}
                    </Link>
                    <span className="kind-badge">{visibleName(p.kind ?? "")}</span>
                  </div>
                  <div className="muted small">
                    {p.namespace ? `namespace ${visibleName(p.namespace)} · ` : "cluster-wide · "}revision {p.revision ?? "?"} · {viaText(via, refused, f.l7?.type === "RESPONSE")}
                  </div>
                  <button className="val-link small" onClick={() => addEntry("policy", policyKey(p), "either")}>
                    flows decided by this policy
                  </button>
                </li>
                ),
              )}
            </ul>
            </>
          )}
          {decision.rule ? (
            <p className="rule">
              Rule <code data-testid="deciding-rule">{decision.rule}</code>
            </p>
          ) : null}
          {decision.explanation.length ? (
            <ol className="explanation">
              {decision.explanation.map((s, i) => (
                <li key={i}>{visible(s)}</li>
              ))}
            </ol>
          ) : null}
        </section>

        {l7 ? (
          <section className="det-section">
            <h3>L7 · {l7Protocol(f) ?? "?"} {l7.type === "RESPONSE" ? "response" : l7.type === "REQUEST" ? "request" : ""}</h3>
            <dl className="kv">
              {l7.http?.method ? <Row k="Method">{l7.http.method}</Row> : null}
              {l7.http?.url ? <Row k="URL">{l7.http.url}</Row> : null}
              {l7.http?.code ? <Row k="Status">{l7.http.code}</Row> : null}
              {l7.http?.protocol ? <Row k="Protocol">{l7.http.protocol}</Row> : null}
              {lat !== undefined ? <Row k="Latency">{lat.toFixed(lat < 10 ? 2 : 0)} ms</Row> : null}
              {l7.dns?.query ? (
                <Row k="Query">
                  <F kind="dns" value={l7.dns.query.replace(/\.$/, "")} dir="to">
                    {visibleName(l7.dns.query)}
                  </F>
                </Row>
              ) : null}
              {l7.dns?.qtypes?.length ? <Row k="Types">{l7.dns.qtypes.join(", ")}</Row> : null}
              {l7.dns?.ips?.length ? <Row k="Answers">{l7.dns.ips.join(", ")}</Row> : null}
              {l7.dns?.rcode ? <Row k="RCode">{l7.dns.rcode}</Row> : null}
              {l7.kafka?.api_key ? <Row k="API key">{l7.kafka.api_key}</Row> : null}
              {l7.kafka?.topic ? <Row k="Topic">{l7.kafka.topic}</Row> : null}
              {l7.kafka?.error_code ? <Row k="Error code">{l7.kafka.error_code}</Row> : null}
            </dl>
            {l7.http?.headers?.length ? (
              <details className="headers">
                <summary>{l7.http.headers.length} headers</summary>
                <dl className="kv">
                  {l7.http.headers.map((h, i) => (
                    <Row key={i} k={h.key}>
                      {h.value}
                    </Row>
                  ))}
                </dl>
              </details>
            ) : null}
          </section>
        ) : null}

        {endpoint("Source", f.source, f.IP?.source, f.source_names, "from", srcPort ? String(srcPort) : undefined, f.source_service)}
        {endpoint("Destination", f.destination, f.IP?.destination, f.destination_names, "to", portProtocol(f), f.destination_service)}

        <section className="det-section">
          <h3>All fields</h3>
          <FieldTree value={{ ...f }} />
        </section>
      </div>
    </aside>
  );
}

function Row({ k, children }: { k: string; children: ReactNode }) {
  return (
    <>
      <dt>{visible(k)}</dt>
      <dd>{typeof children === "string" ? visible(children) : children}</dd>
    </>
  );
}

/** Every field of the record, nested, in the record's own order; text only (React escapes it). */
function FieldTree({ value, depth = 0 }: { value: unknown; depth?: number }) {
  if (value === null || typeof value !== "object") return <span className="leaf">{visible(JSON.stringify(value) ?? String(value))}</span>;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="leaf">{Array.isArray(value) ? "[]" : "{}"}</span>;
  return (
    <dl className={`tree depth-${Math.min(depth, 4)}`}>
      {entries.map(([k, v]) => (
        <div key={k} className="tree-row">
          <dt>{visible(k)}</dt>
          <dd>
            <FieldTree value={v} depth={depth + 1} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
