"use client";
import type { StoredFlow } from "../lib/api-types";
import { filterParams } from "../lib/ui/api-query";
import { withParams } from "../lib/ui/api";
import { edgeNdjson } from "../lib/ui/edge-export";
import type { FlowStore } from "../lib/ui/flow-store";
import type { ViewState } from "../lib/ui/view-state";
import { useDismissable } from "./useDismissable";

/** The map edge narrowing the table, if any: the NDJSON export then holds exactly the table's rows. */
export interface EdgeNarrowing {
  label: string;
  store: FlowStore;
  keep: (f: StoredFlow) => boolean;
}

/** One button, two formats: Hubble NDJSON (`hubble observe -o jsonpb` lines) or an evidence bundle. */
export function ExportButton({ view, edge }: { view: ViewState; edge?: EdgeNarrowing }) {
  const { open, setOpen, ref } = useDismissable();
  // Resolved at click time so "last 5 minutes" means the 5 minutes before the click.
  const href = (path: string) => withParams(path, filterParams(view, Date.now()));
  const stamp = () => new Date().toISOString().replace(/[:.]/g, "-");
  return (
    <div className="dropdown" ref={ref}>
      <button className="btn" data-testid="export-button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        ⤓ Export
      </button>
      {open ? (
        <div className="menu right" role="menu">
          <a
            role="menuitem"
            className="menu-item"
            data-testid="export-ndjson"
            href="#"
            onClick={(e) => {
              const a = e.currentTarget;
              if (edge) {
                const { text } = edgeNdjson(edge.store, edge.keep);
                const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
                a.href = url;
                setTimeout(() => URL.revokeObjectURL(url), 60_000);
              } else a.href = href("/api/export");
              a.download = `flows-${stamp()}.json`;
              setTimeout(() => setOpen(false), 0);
            }}
          >
            Flows as NDJSON <span className="muted">{edge ? `the table's rows for ${edge.label}` : "hubble observe -o jsonpb"}</span>
          </a>
          <a
            role="menuitem"
            className="menu-item"
            data-testid="export-bundle"
            href="#"
            onClick={(e) => {
              e.currentTarget.href = href("/api/export/bundle");
              e.currentTarget.download = `flowscope-evidence-${stamp()}.tar.gz`;
              setTimeout(() => setOpen(false), 0);
            }}
          >
            Evidence bundle <span className="muted">{edge ? "all flows matching the filters (the map edge is not a server filter)" : "flows + policies + summary, .tar.gz"}</span>
          </a>
        </div>
      ) : null}
    </div>
  );
}
