"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import type { PoliciesResponse, PolicySummary } from "../lib/api-types";
import { ApiRequestError, getJson } from "../lib/ui/api";
import { count } from "../lib/format/count";
import type { PolicyStatsResponse } from "../lib/api-types";
import { countsOf, policyRefOf, type PolicyCounts } from "../lib/ui/policy-view";
import { visible } from "../lib/ui/visible-text";
import { defaultView, VERDICT_CHOICES, viewHref, type VerdictChoice } from "../lib/ui/view-state";
import { ThemeToggle } from "./ThemeToggle";
import { TopNav } from "./TopNav";
import { PolicyPreview } from "./PolicyPreview";
import { PolicyWarnings } from "./PolicyWarnings";

export function PoliciesView() {
  const params = useSearchParams();
  const focus = params.get("policy") ?? undefined;
  const [text, setText] = useState("");
  const q = useQuery({ queryKey: ["policies"], queryFn: ({ signal }) => getJson<PoliciesResponse>("/api/policies", signal), refetchInterval: 10_000 });
  // one query for every panel: the server counts the whole hour (it reads every row of it, so not too often)
  const stats = useQuery({
    queryKey: ["policy-stats"],
    queryFn: ({ signal }) => getJson<PolicyStatsResponse>("/api/policies/stats?since=1h", signal),
    refetchInterval: 30_000,
  });

  // the server answers 404 when no scenario is loaded: nothing is wrong, there is just no datapath
  const noSimulator = q.isError && q.error instanceof ApiRequestError && q.error.status === 404;

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
              {count(q.data.policies.length, "policy", "policies")} · repository revision {q.data.revision}
            </span>
          ) : null}
        </div>
        {q.isPending ? <p className="muted">Loading policies…</p> : null}
        {noSimulator ? (
          <div className="muted" data-testid="no-simulator">
            <p>
              This server runs without the simulator: it shows the flows it was given (imports, ingest) and has no policies of its own to list or to try
              changes on. Each stored flow names the policies that decided it in its details.
            </p>
            {focus ? (
              <p>
                <Link href={viewHref({ ...defaultView(), filters: [`policy=${focus}`], range: "live" })} data-testid="policy-flows-link">
                  Flows decided by {visible(focus)}
                </Link>
              </p>
            ) : null}
          </div>
        ) : q.isError ? (
          <p className="error">Could not load policies: {(q.error as Error).message}</p>
        ) : null}
        {stats.isError && !noSimulator ? <p className="error">Could not count the policies&apos; flows: {(stats.error as Error).message}</p> : null}
        <PolicyWarnings list={q.data?.warnings ?? []} title="problem(s) loading policies" />
        {noSimulator ? null : <PolicyPreview />}
        {q.data && q.data.policies.length === 0 ? <p className="muted">No policies loaded: every endpoint allows all traffic.</p> : null}
        <div className="policy-grid">
          {shown.map((p) => (
            <PolicyPanel
              key={policyRefOf(p)}
              policy={p}
              highlight={focus === policyRefOf(p) || focus === p.name}
              counts={stats.data ? countsOf(stats.data, policyRefOf(p)) : undefined}
            />
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

// a link only where the flow table can filter by REDIRECTED
const REDIRECTED = (VERDICT_CHOICES as readonly string[]).includes("REDIRECTED") ? ("REDIRECTED" as VerdictChoice) : undefined;

function MaybeLink({ href, title, stat, children }: { href?: string; title: string; stat: string; children: ReactNode }) {
  return href ? (
    <Link className="stat" href={href} title={title} data-stat={stat}>
      {children}
    </Link>
  ) : (
    <span className="stat" title={title} data-stat={stat}>
      {children}
    </span>
  );
}

function anchorOf(ref: string): string {
  return "p-" + ref.replace(/[^A-Za-z0-9_-]/g, "_");
}

function PolicyPanel({ policy: p, highlight, counts }: { policy: PolicySummary; highlight: boolean; counts?: PolicyCounts }) {
  const ref = policyRefOf(p);
  const [showYaml, setShowYaml] = useState(highlight);
  const flowsHref = (verdict?: VerdictChoice) =>
    viewHref({ ...defaultView(), filters: [`policy=${ref}`], verdict, range: "1h" });
  const n = (x: number | undefined) => (x === undefined ? "…" : x.toLocaleString("en-US"));
  return (
    <article id={anchorOf(ref)} className={`policy-panel${highlight ? " highlight" : ""}`} data-testid="policy-panel" data-policy={ref}>
      <h2>
        {p.name} <span className="kind-badge">{p.kind}</span>
      </h2>
      <div className="policy-meta">
        {p.namespace ? `namespace ${p.namespace}` : "cluster-wide"} · revision {p.revision} · {p.source === "api" ? "applied through the API (Try a change, PUT /api/policies)" : <code>{p.source}</code>}
      </div>
      <div className="policy-stats" data-testid="policy-stats" aria-label="In the last hour">
        <Link className="stat" href={flowsHref()} title="Flows this policy decided in the last hour" data-stat="flows">
          <b>{n(counts?.flows)}</b>flows
        </Link>
        <Link className="stat ok" href={flowsHref("FORWARDED")} title="Flows this policy allowed (FORWARDED) in the last hour" data-stat="allowed">
          <b>{n(counts?.allowed)}</b>allowed
        </Link>
        <Link className="stat bad" href={flowsHref("DROPPED")} title="Flows this policy denied (or default-denied) in the last hour" data-stat="denied">
          <b>{n(counts?.denied)}</b>denied
        </Link>
        {counts?.redirected ? (
          <MaybeLink href={REDIRECTED ? flowsHref(REDIRECTED) : undefined} title="Allowed at L3/L4 and handed to the L7 proxy in the last hour; the proxy's decision is a flow of its own, counted as allowed or denied" stat="redirected">
            <b>{n(counts.redirected)}</b>to L7 proxy
          </MaybeLink>
        ) : null}
        {counts?.audit ? (
          <Link className="stat" href={flowsHref("AUDIT")} title="Flows with verdict AUDIT (let through in policy audit mode where enforcement would drop them) in the last hour" data-stat="audit">
            <b>{n(counts.audit)}</b>audit
          </Link>
        ) : null}
        <span className="stat">
          <b>{p.selects.length}</b>endpoints selected
        </span>
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
