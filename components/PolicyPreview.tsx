"use client";
// "Try a change": policy YAML is previewed against the scenario's traffic (what would change, and which
// policy would decide) before it is applied to the running simulator.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { PoliciesResponse, PolicyPreviewResponse, PreviewDecision, PreviewOutcome, PreviewRow } from "../lib/api-types";
import { sendText } from "../lib/ui/api";
import Link from "next/link";
import { policyKey } from "../lib/ui/flow-view";
import { PolicyWarnings } from "./PolicyWarnings";

type Warning = PoliciesResponse["warnings"][number];
type ApplyResponse = { applied: { kind: string; name: string; namespace?: string; revision?: number }[]; appliedCidrGroups: unknown[]; warnings: Warning[] };

export function PolicyPreview() {
  const [yaml, setYaml] = useState("");
  const [showAll, setShowAll] = useState(false);
  const client = useQueryClient();
  const apply = useMutation({
    mutationFn: (text: string) => sendText<ApplyResponse>("PUT", "/api/policies", text),
    onSuccess: ({ body }) => {
      // The preview's "Now" column described the repository before this revision: drop it.
      if (body.applied.length || body.appliedCidrGroups.length) preview.reset();
      return client.invalidateQueries({ queryKey: ["policies"] });
    },
  });
  const preview = useMutation({
    mutationFn: (text: string) => sendText<PolicyPreviewResponse>("POST", "/api/policies/preview", text),
    // an older "Applied …" note would read as the outcome of this preview
    onMutate: () => apply.reset(),
  });
  const result = preview.data?.body;
  const rows = result ? (showAll ? result.rows : result.rows.filter((r) => r.change !== null)) : [];
  const applied = apply.data?.body;

  return (
    <section className="policy-preview" data-testid="policy-preview">
      <h2>Try a change</h2>
      <p className="muted small">
        Paste CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or CiliumCIDRGroup YAML. Preview replays the scenario&apos;s traffic with and
        without it; Apply adds it to the running cluster (a policy with the same kind, namespace and name is replaced).
      </p>
      <textarea
        aria-label="Policy YAML"
        className="yaml-input"
        spellCheck={false}
        rows={10}
        value={yaml}
        placeholder={"apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: ..., namespace: ... }\nspec: ..."}
        onChange={(e) => setYaml(e.target.value)}
      />
      <div className="preview-actions">
        <button className="btn" disabled={!yaml.trim() || preview.isPending || apply.isPending} onClick={() => preview.mutate(yaml)}>
          {preview.isPending ? "Previewing…" : "Preview"}
        </button>
        <button className="btn" disabled={!yaml.trim() || apply.isPending || preview.isPending} onClick={() => apply.mutate(yaml)}>
          {apply.isPending ? "Applying…" : "Apply"}
        </button>
        {applied ? (
          <span className={applied.applied.length || applied.appliedCidrGroups.length ? "ok small" : "error small"} data-testid="apply-result">
            {applied.applied.length || applied.appliedCidrGroups.length ? (
              <>
                Applied{" "}
                {applied.applied.length
                  ? applied.applied.map((p, i) => (
                      // each opens the policy in the list below, scrolled to and highlighted
                      <span key={policyKey({ kind: p.kind, namespace: p.namespace, name: p.name })}>
                        {i ? ", " : ""}
                        <Link href={`/policies?policy=${encodeURIComponent(policyKey({ kind: p.kind, namespace: p.namespace, name: p.name }))}`} data-testid="applied-policy">
                          {p.kind} {p.namespace ? `${p.namespace}/` : ""}
                          {p.name}
                        </Link>
                      </span>
                    ))
                  : `${applied.appliedCidrGroups.length} CIDR group(s)`}
                {appliedRevision(applied)}; preview again to compare with it
              </>
            ) : (
              "Nothing applied"
            )}
          </span>
        ) : null}
      </div>
      {preview.isError ? <p className="error">{(preview.error as Error).message}</p> : null}
      {apply.isError ? <p className="error">{(apply.error as Error).message}</p> : null}
      <PolicyWarnings list={[...(result?.warnings ?? []), ...(applied?.warnings ?? [])]} title="problem(s) in this YAML" hideSource />
      {result && (result.applied.length || result.appliedCidrGroups.length) ? (
        <div data-testid="preview-result">
          <p className="preview-summary">
            <span>
              <b>{result.verdictChanges}</b> of {result.replayed} requests change outcome · <b>{result.decisionChanges}</b> keep their outcome but change the
              deciding policy{result.replayed < result.requests ? ` · first ${result.replayed} of ${result.requests} distinct requests replayed` : ""}
            </span>
            <label className="small">
              <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} /> show unchanged
            </label>
          </p>
          {rows.length ? (
            <table className="preview-table">
              <thead>
                <tr>
                  <th>Request</th>
                  <th>Now</th>
                  <th>With the change</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <PreviewLine key={i} row={r} />
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No request of the scenario&apos;s traffic changes.</p>
          )}
        </div>
      ) : null}
    </section>
  );
}

function PreviewLine({ row }: { row: PreviewRow }) {
  return (
    <tr data-testid="preview-row" data-change={row.change ?? "none"}>
      <td className="mono">{row.label}</td>
      <td>
        <Outcome o={row.before} />
      </td>
      <td className={row.change ? "changed" : undefined}>
        <Outcome o={row.after} />
      </td>
    </tr>
  );
}

function Outcome({ o }: { o: PreviewOutcome }) {
  if (o.error) return <span className="error small">{o.error}</span>;
  const l7Side = l7DeniedSide(o);
  const detail = o.drop_reason_desc ?? (o.l7_denied ? `L7 denied${o.response?.http_code ? ` (${o.response.http_code})` : ""}` : undefined);
  return (
    <div>
      <span className={`verdict-pill v-${o.verdict.toLowerCase()}`}>{o.verdict}</span>
      {detail ? <span className="small"> {detail}</span> : null}
      <Side name="egress" d={o.egress} l7Denied={l7Side === "egress"} l7By={o.l7?.decided_by} />
      <Side name="ingress" d={o.ingress} l7Denied={l7Side === "ingress"} l7By={o.l7?.decided_by} />
      {o.l7_denied && o.l7?.reason ? <div className="small muted" data-testid="preview-l7-reason">{o.l7.reason}</div> : null}
    </div>
  );
}

/**
 * The side whose proxy refused an L7-denied request: the proxy runs on a REDIRECTED side, and a refusal
 * ends the request there, so the later side redirected is the one.
 */
function l7DeniedSide(o: PreviewOutcome): "egress" | "ingress" | undefined {
  if (!o.l7_denied) return undefined;
  if (o.ingress?.verdict === "REDIRECTED") return "ingress";
  if (o.egress?.verdict === "REDIRECTED") return "egress";
  return undefined;
}

function Side({ name, d, l7Denied, l7By }: { name: string; d?: PreviewDecision; l7Denied: boolean; l7By?: string[] }) {
  if (!d) return null;
  // the proxy names the policies whose L7 rules refused the request
  const deniers = l7By?.length ? l7By : d.allowed_by;
  const by =
    l7Denied && deniers.length
      ? `denied by ${deniers.join(", ")} (L7 rules)`
      : d.denied_by.length
        ? `denied by ${d.denied_by.join(", ")}`
        : d.allowed_by.length
          ? `allowed by ${d.allowed_by.join(", ")}`
          : d.default_deny_by?.length
            ? `default deny (selected by ${d.default_deny_by.join(", ")})`
            : d.verdict.toLowerCase();
  return (
    <div className="small muted">
      {name}: {by}
    </div>
  );
}

/** " as revision N": the policy repository's revision the applied policies carry */
function appliedRevision(r: ApplyResponse): string {
  const revs = r.applied.map((p) => p.revision).filter((x): x is number => typeof x === "number");
  return revs.length ? ` as revision ${Math.max(...revs)}` : "";
}
