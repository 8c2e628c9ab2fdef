"use client";
// One endpoint like `cilium-dbg endpoint get` + `bpf policy get`: identity and labels, enforcement
// per direction, and the policy map as a sortable table with hit counters. Allow entries not hit in
// the chosen time window are flagged "unused allow" (candidates for least privilege).
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState, type CSSProperties } from "react";
import type { DirectionEnforcement, EndpointSummary, EndpointsResponse, PolicyMapResponse, PolicyMapRow } from "../lib/inspect-types";
import { timeShort } from "../lib/ui/flow-view";
import { policyRefKey } from "../lib/inspect-types";
import { ThemeToggle } from "./ThemeToggle";
import { TopNav } from "./TopNav";
import { getJson } from "../lib/ui/api";


const WINDOWS: { label: string; ms: number }[] = [
  { label: "never hit", ms: Infinity },
  { label: "not hit in 5 min", ms: 5 * 60_000 },
  { label: "not hit in an hour", ms: 3600_000 },
  { label: "not hit in 24 h", ms: 24 * 3600_000 },
];

type SortKey = "direction" | "identity" | "port" | "action" | "packets" | "bytes" | "lastHit";

function unused(r: PolicyMapRow, windowMs: number, now: number): boolean {
  if (r.action !== "allow") return false;
  if (!r.lastHit) return true;
  return windowMs !== Infinity && now - Date.parse(r.lastHit) > windowMs;
}

function compare(a: PolicyMapRow, b: PolicyMapRow, key: SortKey): number {
  switch (key) {
    case "identity":
      return (a.identity === "ANY" ? -1 : a.identity) - (b.identity === "ANY" ? -1 : b.identity);
    case "port":
      return `${a.protocol}/${a.port}`.localeCompare(`${b.protocol}/${b.port}`, undefined, { numeric: true });
    case "packets":
    case "bytes":
      return a[key] - b[key];
    case "lastHit":
      return (a.lastHit ? Date.parse(a.lastHit) : 0) - (b.lastHit ? Date.parse(b.lastHit) : 0);
    default:
      return a[key].localeCompare(b[key]);
  }
}

const cell: CSSProperties = { padding: "5px 10px", borderBottom: "1px solid var(--line)", verticalAlign: "top", textAlign: "left" };
const mono: CSSProperties = { fontFamily: "var(--mono)", fontSize: 12 };
const chip = (color: string, bg: string): CSSProperties => ({ display: "inline-block", padding: "1px 8px", borderRadius: 10, color, background: bg, fontSize: 12, fontWeight: 600 });

/** Every endpoint, as `cilium-dbg endpoint list` shows them, each opening its policy map. */
function EndpointList({ endpoints, loading }: { endpoints: EndpointSummary[] | undefined; loading: boolean }) {
  if (!endpoints) return <p className="muted">{loading ? "Loading endpoints…" : "No endpoint list: this server simulates no cluster."}</p>;
  const sorted = [...endpoints].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod) || a.id - b.id);
  return (
    <table style={{ borderCollapse: "collapse", width: "100%", background: "var(--panel)" }} data-testid="endpoint-list">
      <thead>
        <tr>
          {["Endpoint", "Pod", "Identity", "IP", "Node", "Ingress", "Egress"].map((h) => (
            <th key={h} style={cell}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sorted.map((e) => (
          <tr key={e.id} data-testid="endpoint-list-row">
            <td style={{ ...cell, ...mono }}>
              <Link href={`/endpoints?id=${e.id}`}>{e.id}</Link>
            </td>
            <td style={cell}>
              <Link href={`/endpoints?id=${e.id}`}>{e.namespace ? `${e.namespace}/` : ""}{e.pod}</Link>
            </td>
            <td style={{ ...cell, ...mono }}>{e.identity}</td>
            <td style={{ ...cell, ...mono }}>{e.ips.join(", ")}</td>
            <td style={cell}>{e.node}</td>
            <td style={cell}>{enforcementChip(e.ingress)}</td>
            <td style={cell}>{enforcementChip(e.egress)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function enforcementChip(e: DirectionEnforcement) {
  const [c, bg] = e.enforcement === "on" ? ["var(--ok)", "var(--ok-bg)"] : e.enforcement === "audit" ? ["var(--audit)", "var(--audit-bg)"] : ["var(--muted)", "var(--panel-2)"];
  return <span style={chip(c, bg)}>{e.enforcement}</span>;
}

function Enforcement({ dir, e }: { dir: string; e: DirectionEnforcement }) {
  return (
    <div data-testid={`enforcement-${dir}`}>
      <strong>{dir}</strong> {enforcementChip(e)}
      {e.enabledBy.length ? (
        <span className="muted small">
          {" "}
          enabled by{" "}
          {e.enabledBy.map((p, i) => (
            <span key={policyRefKey(p)}>
              {i ? ", " : ""}
              <Link href={`/policies?policy=${encodeURIComponent(policyRefKey(p))}`}>{p.namespace ? `${p.namespace}/` : ""}{p.name}</Link>
            </span>
          ))}
        </span>
      ) : null}
    </div>
  );
}

export function EndpointView() {
  const params = useSearchParams();
  const id = params.get("id") ?? "";
  const router = useRouter();
  const [windowIdx, setWindowIdx] = useState(0);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "direction", desc: false });
  const list = useQuery({ queryKey: ["endpoints"], queryFn: ({ signal }) => getJson<EndpointsResponse>("/api/endpoints", signal), refetchInterval: 10_000 });
  const map = useQuery({
    queryKey: ["policy-map", id],
    queryFn: ({ signal }) => getJson<PolicyMapResponse>(`/api/endpoints/${encodeURIComponent(id)}/policy-map`, signal),
    enabled: id !== "",
    refetchInterval: 3000,
  });
  const now = Date.now();
  const windowMs = WINDOWS[windowIdx]!.ms;
  const rows = useMemo(() => {
    const r = [...(map.data?.rows ?? [])];
    r.sort((a, b) => (sort.desc ? -1 : 1) * compare(a, b, sort.key) || a.direction.localeCompare(b.direction));
    return r;
  }, [map.data, sort]);
  const unusedCount = rows.filter((r) => unused(r, windowMs, now)).length;
  const ep = map.data?.endpoint;

  const th = (key: SortKey, label: string) => (
    <th style={{ ...cell, cursor: "pointer", whiteSpace: "nowrap" }} onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === "packets" || key === "bytes" || key === "lastHit" }))} aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      {label} {sort.key === key ? (sort.desc ? "▼" : "▲") : ""}
    </th>
  );

  return (
    <div className="app">
      <header className="topbar">
        <TopNav active="endpoints" />
        <div style={{ flex: 1 }} />
        <ThemeToggle />
      </header>
      <main style={{ padding: 16, overflow: "auto" }} data-testid="endpoint-page">
        <div style={{ display: "flex", gap: 12, alignItems: "center", marginBottom: 12 }}>
          <label>
            Endpoint{" "}
            <select className="select" value={id} onChange={(e) => router.replace(e.target.value ? `/endpoints?id=${encodeURIComponent(e.target.value)}` : "/endpoints")}>
              <option value="">choose…</option>
              {(list.data?.endpoints ?? []).map((e) => (
                <option key={e.id} value={String(e.id)}>
                  {e.id} {e.namespace ? `${e.namespace}/` : ""}{e.pod}
                </option>
              ))}
            </select>
          </label>
          <label>
            Unused allows:{" "}
            <select className="select" value={windowIdx} onChange={(e) => setWindowIdx(Number(e.target.value))}>
              {WINDOWS.map((w, i) => (
                <option key={w.label} value={i}>
                  {w.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {id === "" ? <EndpointList endpoints={list.data?.endpoints} loading={list.isLoading} /> : null}
        {map.isError ? <p className="error">Could not load endpoint {id}: {(map.error as Error).message}</p> : null}
        {ep ? (
          <section style={{ background: "var(--panel)", border: "1px solid var(--line)", borderRadius: 8, padding: 12, marginBottom: 16 }}>
            <h2 style={{ margin: "0 0 6px" }} data-testid="endpoint-title">
              {ep.namespace ? `${ep.namespace}/` : ""}{ep.pod} <span className="muted small">endpoint {ep.id} · {ep.ips.join(", ")} · node {ep.node} · policy revision {map.data!.revision}</span>
            </h2>
            <div>
              identity <strong style={mono} data-testid="endpoint-identity">{ep.identity}</strong>{" "}
              {ep.labels.map((l) => (
                <span key={l} data-testid="endpoint-label" style={{ ...mono, ...chip("var(--text-2)", "var(--panel-2)"), fontWeight: 400, margin: "2px" }}>
                  {l}
                </span>
              ))}
            </div>
            <div style={{ display: "flex", gap: 24, marginTop: 8 }}>
              <Enforcement dir="ingress" e={ep.ingress} />
              <Enforcement dir="egress" e={ep.egress} />
            </div>
          </section>
        ) : null}
        {map.data ? (
          <>
            <p className="muted small">
              {rows.length} entries · {unusedCount} unused allow{unusedCount === 1 ? "" : "s"} ({WINDOWS[windowIdx]!.label})
            </p>
            <table style={{ borderCollapse: "collapse", width: "100%", background: "var(--panel)" }} data-testid="policy-map">
              <thead>
                <tr>
                  {th("direction", "Direction")}
                  {th("identity", "Identity")}
                  <th style={cell}>Labels</th>
                  {th("port", "Port/Proto")}
                  <th style={cell}>L7</th>
                  {th("action", "Action")}
                  {th("packets", "Packets")}
                  {th("bytes", "Bytes")}
                  {th("lastHit", "Last hit")}
                  <th style={cell}>Policies</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => {
                  const idle = unused(r, windowMs, now);
                  return (
                    <tr
                      key={i}
                      style={idle ? { background: "var(--audit-bg)" } : undefined}
                      data-testid="policy-map-row"
                      data-direction={r.direction}
                      data-identity={String(r.identity)}
                      data-port={r.port}
                      data-protocol={r.protocol}
                      data-action={r.action}
                      data-packets={r.packets}
                      data-unused={idle || undefined}
                    >
                      <td style={cell}>{r.direction}</td>
                      <td style={{ ...cell, ...mono }}>{r.identity}</td>
                      <td style={{ ...cell, ...mono, color: "var(--text-2)" }}>{r.identity === "ANY" ? "any peer" : r.identityLabels.filter((l) => !l.startsWith("k8s:io.cilium.k8s.")).join(" ")}</td>
                      <td style={{ ...cell, ...mono }}>{r.protocol === "ANY" && r.port === "ANY" ? "ANY" : `${r.port}/${r.protocol}`}</td>
                      <td style={cell}>{r.l7Redirect ? "proxy" : ""}</td>
                      <td style={{ ...cell, whiteSpace: "nowrap" }}>
                        <span style={r.action === "deny" ? chip("var(--bad)", "var(--bad-bg)") : chip("var(--ok)", "var(--ok-bg)")}>{r.action}</span>
                        {idle ? (
                          <span style={{ ...chip("var(--audit)", "transparent"), marginLeft: 6 }} data-testid="unused-allow">
                            unused allow
                          </span>
                        ) : null}
                      </td>
                      <td style={{ ...cell, textAlign: "right", fontVariantNumeric: "tabular-nums" }}>{r.packets}</td>
                      <td style={{ ...cell, textAlign: "right", fontVariantNumeric: "tabular-nums" }}>{r.bytes}</td>
                      <td style={{ ...cell, whiteSpace: "nowrap", ...mono }} title={r.lastHit ?? undefined}>{r.lastHit ? timeShort(r.lastHit) : "never"}</td>
                      <td style={cell}>
                        {r.policies.map((p) => (
                          <div key={`${policyRefKey(p)}|${p.path}`}>
                            <Link href={`/policies?policy=${encodeURIComponent(policyRefKey(p))}`} data-testid="entry-policy" data-policy={policyRefKey(p)}>
                              {p.namespace ? `${p.namespace}/` : ""}
                              {p.name}
                            </Link>{" "}
                            <span className="muted small" style={mono}>
                              {p.path}
                            </span>
                          </div>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </>
        ) : null}
      </main>
    </div>
  );
}
