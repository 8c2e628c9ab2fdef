"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { NamespacesResponse } from "../lib/api-types";
import { getJson } from "../lib/ui/api";
import { RANGE_CHOICES, VERDICT_CHOICES, type RangeChoice, type VerdictChoice, type ViewState } from "../lib/ui/view-state";
import { describeEntry, splitEntries } from "../lib/ui/filter-entry";
import { useDismissable } from "./useDismissable";
import { visible, visibleName } from "../lib/ui/visible-text";
import { localZone } from "../lib/ui/flow-view";

/** terms whose value is a name or an address (Kubernetes and DNS keep those to ASCII): shown as visibleName shows names */
const NAME_KINDS = new Set<string>(["label", "pod", "workload", "dns", "ip", "identity", "port", "policy"]);

interface Props {
  view: ViewState;
  setView: (v: ViewState) => void;
}

export function NamespaceSelect({ view, setView }: Props) {
  const q = useQuery({ queryKey: ["namespaces"], queryFn: ({ signal }) => getJson<NamespacesResponse>("/api/namespaces", signal), refetchInterval: 15_000 });
  const { open, setOpen, ref } = useDismissable();
  const selected = new Set(view.namespaces);
  const known = q.data?.namespaces ?? [];
  // A namespace from the URL stays listed even if it has no flows yet.
  const names = [...new Set([...known.map((n) => n.namespace), ...view.namespaces])].sort();
  const counts = new Map(known.map((n) => [n.namespace, n.flows]));
  const toggle = (ns: string) => {
    const next = new Set(selected);
    if (next.has(ns)) next.delete(ns);
    else next.add(ns);
    setView({ ...view, namespaces: [...next].sort(), flow: undefined });
  };
  const label = view.namespaces.length === 0 ? "All namespaces" : view.namespaces.length <= 2 ? view.namespaces.join(", ") : `${view.namespaces.length} namespaces`;
  return (
    <div className="dropdown" ref={ref} data-testid="namespace-select">
      <button className="btn" aria-haspopup="listbox" aria-expanded={open} onClick={() => setOpen(!open)} title={`Namespaces: ${visibleName(label)}`}>
        <span className="btn-kicker">ns</span> <span className="btn-label">{visibleName(label)}</span> ▾
      </button>
      {open ? (
        <div className="menu" role="listbox" aria-multiselectable>
          <button className="menu-item" onClick={() => setView({ ...view, namespaces: [], flow: undefined })}>
            All namespaces
          </button>
          {q.isError ? <div className="menu-note error">{(q.error as Error).message}</div> : null}
          {q.isPending ? <div className="menu-note">Loading…</div> : null}
          {names.map((ns) => (
            <label key={ns} className="menu-item check" role="option" aria-selected={selected.has(ns)}>
              <input type="checkbox" data-ns={ns} checked={selected.has(ns)} onChange={() => toggle(ns)} />
              <span>{visibleName(ns)}</span>
              <span className="muted">{counts.get(ns) ?? ""}</span>
            </label>
          ))}
        </div>
      ) : null}
    </div>
  );
}

export function VerdictSelect({ view, setView }: Props) {
  return (
    <select
      className="select"
      data-testid="verdict-select"
      aria-label="Verdict"
      value={view.verdict ?? ""}
      onChange={(e) => setView({ ...view, verdict: (e.target.value || undefined) as VerdictChoice | undefined, flow: undefined })}
    >
      <option value="">Any verdict</option>
      {VERDICT_CHOICES.map((v) => (
        <option key={v} value={v}>
          {v.charAt(0) + v.slice(1).toLowerCase()}
        </option>
      ))}
    </select>
  );
}

const RANGE_LABELS: Record<RangeChoice, string> = { live: "Live", "5m": "Last 5 minutes", "1h": "Last hour", custom: "Custom…" };

function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 19);
}
function fromLocalInput(s: string): string | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function TimeRange({ view, setView }: Props) {
  // An edit that puts From after Until stays here, said at the inputs, until it is fixed: sent on, every
  // query would be refused ("since is after until") and the error shown far from its cause.
  const [draft, setDraft] = useState<{ since?: string; until?: string }>();
  const edit = (since: string | undefined, until: string | undefined) => {
    if (since && until && Date.parse(since) > Date.parse(until)) {
      setDraft({ since, until });
      return;
    }
    setDraft(undefined);
    setView({ ...view, since, until });
  };
  const since = draft ? draft.since : view.since;
  const until = draft ? draft.until : view.until;
  return (
    <div className="time-range">
      <select
        className="select"
        data-testid="time-range"
        aria-label="Time range"
        value={view.range}
        onChange={(e) => {
          const range = e.target.value as RangeChoice;
          const now = Date.now();
          // a half-made custom range goes with the choice
          setDraft(undefined);
          setView({
            ...view,
            range,
            since: range === "custom" ? view.since ?? new Date(now - 15 * 60_000).toISOString() : undefined,
            until: range === "custom" ? view.until ?? new Date(now).toISOString() : undefined,
            flow: undefined,
          });
        }}
      >
        {RANGE_CHOICES.map((r) => (
          <option key={r} value={r}>
            {RANGE_LABELS[r]}
          </option>
        ))}
      </select>
      {view.range === "custom" ? (
        <>
          <input
            className="input"
            type="datetime-local"
            step={1}
            aria-label="From"
            aria-invalid={draft ? true : undefined}
            value={toLocalInput(since)}
            onChange={(e) => edit(fromLocalInput(e.target.value), until)}
          />
          <span className="muted">→</span>
          <input
            className="input"
            type="datetime-local"
            step={1}
            aria-label="Until"
            aria-invalid={draft ? true : undefined}
            value={toLocalInput(until)}
            onChange={(e) => edit(since, fromLocalInput(e.target.value))}
          />
          <span className="muted small" data-testid="range-zone" suppressHydrationWarning title="The range is in your browser's time zone, as the table's times are">
            {localZone(since && !Number.isNaN(Date.parse(since)) ? new Date(since) : undefined)}
          </span>
          {draft ? (
            <span className="error" role="alert" data-testid="range-error">
              From is after Until: the view keeps the last valid range
            </span>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

// terms are separated by spaces (a comma belongs to a label selector: app=web,tier=front)
const PLACEHOLDER = "Filter, terms separated by spaces: app=frontend  to:dns=api.github.com  !ip=10.0.0.1  http_status=5+";

export function FilterInput({ view, setView, error }: Props & { error?: string }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string>();
  const add = () => {
    const entries = splitEntries(text);
    if (entries.length === 0) return;
    for (const e of entries) {
      const d = describeEntry(e);
      if (d.error) {
        // the error already quotes the term
        setProblem(d.error);
        return;
      }
    }
    setProblem(undefined);
    setText("");
    setView({ ...view, filters: [...view.filters, ...entries.filter((e) => !view.filters.includes(e))], flow: undefined });
  };
  const remove = (f: string) => setView({ ...view, filters: view.filters.filter((x) => x !== f), flow: undefined });
  const urlProblem = view.filters.map((f) => describeEntry(f).error).find(Boolean);
  return (
    <div className={`filter-input${problem || error || urlProblem ? " has-error" : ""}`}>
      {view.filters.map((f) => {
        const d = describeEntry(f);
        if (d.error) {
          // a bad term from the URL: shown as typed and marked, never reinterpreted as a label
          return (
            <span key={f} className="chip bad" data-testid="filter-chip" title={visible(d.error)}>
              <span className="chip-text">{visible(f)}</span>
              <button aria-label={`Remove filter ${visible(f)}`} onClick={() => remove(f)}>
                ×
              </button>
            </span>
          );
        }
        return (
          <span key={f} className={`chip${d.negated ? " neg" : ""}`} data-testid="filter-chip" title={visible(f)}>
            <span className="chip-dir">{d.direction === "from" ? "from →" : d.direction === "to" ? "→ to" : "↔"}</span>
            <span className="chip-text">
              {d.negated ? "!" : ""}
              {d.kind}={NAME_KINDS.has(d.kind) ? visibleName(d.value) : visible(d.value)}
            </span>
            <button aria-label={`Remove filter ${visible(f)}`} onClick={() => remove(f)}>
              ×
            </button>
          </span>
        );
      })}
      <input
        data-testid="filter-input"
        aria-label="Filter flows"
        aria-invalid={problem ? true : undefined}
        placeholder={view.filters.length ? "" : PLACEHOLDER}
        title={PLACEHOLDER}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setProblem(undefined);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter") add();
          else if (e.key === "Backspace" && text === "" && view.filters.length) remove(view.filters[view.filters.length - 1]!);
        }}
        onBlur={() => text && add()}
      />
      {problem || error || urlProblem ? (
        <div className="filter-error" role="alert">
          {problem ?? urlProblem ?? error}
        </div>
      ) : null}
    </div>
  );
}
