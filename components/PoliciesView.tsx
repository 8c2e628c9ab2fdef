"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import type { FlowsPage, PoliciesResponse, PolicySummary } from "../lib/api-types";
import { getJson, withParams } from "../lib/ui/api";
import { countDecisions, policyRefOf } from "../lib/ui/policy-view";
import { defaultView, viewHref } from "../lib/ui/view-state";
import { ThemeToggle } from "./ThemeToggle";
import { TopNav } from "./TopNav";
import { PolicyPreview } from "./PolicyPreview";
import { PolicyWarnings } from "./PolicyWarnings";

const SAMPLE = 1000;

export function PoliciesView() {
  const params = useSearchParams();
  const focus = params.get("policy") ?? undefined;
  const [text, setText] = useState("");
  const q = useQuery({ queryKey: ["policies"], queryFn: ({ signal }) => getJson<PoliciesResponse>("/api/policies", signal), refetchInterval: 10_000 });

  const shown = useMemo(() => {
    const t = text.trim().toLowerCase();
    const list = q.data?.policies ?? [];
    return t ? list.filter((p) => `${p.kind} ${p.namespace ?? ""} ${p.name}`.toLowerCase().includes(t)) : list;
  }, [q.data, text]);

  useEffect(() => {
    if (!focus || !q.data) return;
    document.getElementById(anchorOf(focus))?.scrollIntoView({ block: "start" });
  }, [focus, q.data]);

  return (
    <div className="app">
      <header className="topbar">
        <TopNav active="policies" />
        <div className="filters">
          <div className="filter-input">
            <input aria-label="Search policies" placeholder="Search policies by name, namespace or kind" value={text} onChange={(e) => setText(e.target.value)} />
          </div>
        </div>
        <div className="actions">
          <ThemeToggle />
        </div>
      </header>
      <main className="policies-page" data-testid="policies-page">
        <div className="policies-head">
          <h1>Policies</h1>
          {q.data ? (
            <span className="muted">
              {q.data.policies.length} policies · repository revision {q.data.revision}
            </span>
          ) : null}
        </div>
        {q.isPending ? <p className="muted">Loading policies…</p> : null}
        {q.isError ? <p className="error">Could not load policies: {(q.error as Error).message}</p> : null}
        <PolicyWarnings list={q.data?.warnings ?? []} title="problem(s) loading policies" />
        <PolicyPreview />
        {q.data && q.data.policies.length === 0 ? <p className="muted">No policies loaded: every endpoint allows all traffic.</p> : null}
        <div className="policy-grid">
          {shown.map((p) => (
            <PolicyPanel key={policyRefOf(p)} policy={p} highlight={focus === policyRefOf(p) || focus === p.name} />
          ))}
        </div>
        {q.data?.cidrGroups?.length ? (
          <section className="cidr-groups" data-testid="cidr-groups">
            <h2>CIDR groups</h2>
            <ul className="plain">
              {q.data.cidrGroups.map((g) => (
                <li key={g.name} data-testid="cidr-group">
                  <b>{g.name}</b>{" "}
                  {Object.entries(g.labels).map(([k, v]) => (
                    <span key={k} className="label-chip">
                      {k}={v}
                    </span>
                  ))}{" "}
                  <code>{g.cidrs.join(", ")}</code> <span className="muted">· {g.source}</span>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </main>
    </div>
  );
}

function anchorOf(ref: string): string {
  return "p-" + ref.replace(/[^A-Za-z0-9_-]/g, "_");
}

function PolicyPanel({ policy: p, highlight }: { policy: PolicySummary; highlight: boolean }) {
  const ref = policyRefOf(p);
  const [showYaml, setShowYaml] = useState(highlight);
  const flows = useQuery({
    queryKey: ["policy-flows", ref],
    queryFn: ({ signal }) => {
      const params = new URLSearchParams({ policy: ref, since: new Date(Date.now() - 3600_000).toISOString(), limit: String(SAMPLE), order: "desc" });
      return getJson<FlowsPage>(withParams("/api/flows", params), signal);
    },
    refetchInterval: 15_000,
  });
  const counts = flows.data ? countDecisions(flows.data.flows, ref) : undefined;
  const more = flows.data?.nextCursor ? "+" : "";
  const flowsHref = (verdict?: "FORWARDED" | "DROPPED") =>
    viewHref({ ...defaultView(), filters: [`policy=${ref}`], verdict, range: "1h" });
  return (
    <article id={anchorOf(ref)} className={`policy-panel${highlight ? " highlight" : ""}`} data-testid="policy-panel" data-policy={ref}>
      <h2>
        {p.name} <span className="kind-badge">{p.kind}</span>
      </h2>
      <div className="policy-meta">
        {p.namespace ? `namespace ${p.namespace}` : "cluster-wide"} · revision {p.revision} · <code>{p.source}</code>
      </div>
      <div className="policy-stats">
        <Link className="stat ok" href={flowsHref("FORWARDED")} title="Flows this policy allowed in the last hour">
          <b>{counts ? counts.allowed + (counts.allowed >= SAMPLE ? more : "") : "…"}</b>allowed
        </Link>
        <Link className="stat bad" href={flowsHref("DROPPED")} title="Flows this policy denied (or default-denied) in the last hour">
          <b>{counts ? counts.denied + (counts.denied >= SAMPLE ? more : "") : "…"}</b>denied
        </Link>
        <span className="stat">
          <b>{p.selects.length}</b>endpoints selected
        </span>
        {flows.isError ? <span className="error small">{(flows.error as Error).message}</span> : null}
      </div>
      {p.selects.length ? (
        <div className="labels">
          {p.selects.slice(0, 40).map((s) => (
            <span key={s.id} className="label-chip" title={`endpoint ${s.id}`}>
              {s.namespace}/{s.pod}
            </span>
          ))}
          {p.selects.length > 40 ? <span className="muted small">+{p.selects.length - 40} more</span> : null}
        </div>
      ) : (
        <p className="muted small">Selects no endpoint right now.</p>
      )}
      <button className="btn small" style={{ marginTop: 8 }} onClick={() => setShowYaml(!showYaml)} aria-expanded={showYaml}>
        {showYaml ? "Hide YAML" : "Show YAML"}
      </button>
      {showYaml ? <pre className="yaml">{p.yaml}</pre> : null}
    </article>
  );
}
