"use client";
import { useState, type KeyboardEvent, type MouseEvent } from "react";
import { exportParams, exportWindowText } from "../lib/ui/api-query";
import { downloadWithToken, withParams } from "../lib/ui/api";
import { currentToken } from "../lib/ui/auth-token";
import type { ViewState } from "../lib/ui/view-state";
import { useDismissable } from "./useDismissable";
import { splitEdgeId } from "../lib/flow/map-node";

/** The map selection an export is narrowed by, as the export menu says it. */
function selectionText(v: ViewState): string {
  if (v.edge) {
    const e = splitEdgeId(v.edge);
    return e ? ` and the map edge ${e.source} → ${e.target} (with the replies back)` : "";
  }
  return v.node ? ` and the map node ${v.node}` : "";
}

/** One button, two formats: Hubble NDJSON (`hubble observe -o jsonpb` lines) or an evidence bundle. */
export function ExportButton({ view, pausedAt }: { view: ViewState; pausedAt?: number }) {
  const { open, setOpen, ref } = useDismissable();
  // Resolved at click time so "last 5 minutes" means the 5 minutes before the click (or the pause).
  const href = (path: string) => withParams(path, exportParams(view, pausedAt ?? Date.now()));
  const stamp = () => new Date().toISOString().replace(/[:.]/g, "-");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  /**
   * Without a token the export is a plain link: the browser streams it to disk, however large. With
   * one, the link cannot carry the header, and `?token=` in a download URL would keep the token in the
   * browser's download history and, for a bundle, in the bundle itself (its query.json records the
   * request's parameters), a file made to be handed on. So the export is fetched with the header and
   * saved from a Blob. The cost: the browser holds the whole export until it is complete (Chromium keeps
   * large blobs on disk rather than in memory) and shows the file only then, not as a growing download.
   */
  const download = (e: MouseEvent<HTMLAnchorElement>, path: string, filename: string): boolean => {
    if (currentToken() === undefined) return false;
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    downloadWithToken(path, filename)
      .catch((err: Error) => setError(`Export failed: ${err.message}`))
      .finally(() => setBusy(false));
    setTimeout(() => setOpen(false), 0);
    return true;
  };
  return (
    <div className="dropdown" ref={ref}>
      <button
        className="btn"
        data-testid="export-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-busy={busy}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          // a menu button opens onto its first item from the keyboard (WAI-ARIA menu button pattern)
          if (e.key !== "ArrowDown") return;
          e.preventDefault();
          setOpen(true);
          setTimeout(() => ref.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus(), 0);
        }}
      >
        {busy ? "⤓ Exporting…" : "⤓ Export"}
      </button>
      {error && !open ? (
        <span
          className="small error"
          role="alert"
          data-testid="export-error"
          style={{ position: "absolute", right: 0, top: "100%", marginTop: 4, whiteSpace: "nowrap", background: "var(--panel)", padding: "2px 6px", borderRadius: 5, zIndex: 20 }}
        >
          {error}
        </span>
      ) : null}
      {open ? (
        <div className="menu right" role="menu" style={{ width: "min(340px, 92vw)" }} onKeyDown={moveFocus}>
          <div className="menu-note" data-testid="export-window">
            Matching the filters{selectionText(view)}: {exportWindowText(view, pausedAt)}
          </div>
          <a
            role="menuitem"
            className="menu-item"
            data-testid="export-ndjson"
            href="#"
            onClick={(e) => {
              if (download(e, href("/api/export"), `flows-${stamp()}.json`)) return;
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
              if (download(e, href("/api/export/bundle"), `flowscope-evidence-${stamp()}.tar.gz`)) return;
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

/** Arrow keys, Home and End move between a menu's items, wrapping around. */
function moveFocus(e: KeyboardEvent<HTMLDivElement>): void {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key)) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]')];
  if (!items.length) return;
  e.preventDefault();
  const i = items.indexOf(document.activeElement as HTMLElement);
  const n = items.length;
  const next = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : e.key === "ArrowDown" ? (i + 1) % n : i <= 0 ? n - 1 : i - 1;
  items[next]!.focus();
}
