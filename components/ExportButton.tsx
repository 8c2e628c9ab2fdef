"use client";
import { filterParams } from "../lib/ui/api-query";
import { withParams } from "../lib/ui/api";
import type { ViewState } from "../lib/ui/view-state";
import { useDismissable } from "./useDismissable";

/** One button, two formats: Hubble NDJSON (`hubble observe -o jsonpb` lines) or an evidence bundle. */
export function ExportButton({ view }: { view: ViewState }) {
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
              e.currentTarget.href = href("/api/export");
              e.currentTarget.download = `flows-${stamp()}.json`;
              setTimeout(() => setOpen(false), 0);
            }}
          >
            Flows as NDJSON <span className="muted">hubble observe -o jsonpb</span>
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
            Evidence bundle <span className="muted">flows + policies + summary, .tar.gz</span>
          </a>
        </div>
      ) : null}
    </div>
  );
}
