"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FlowsPage, ServiceMap as ServiceMapData, ServiceMapNode, StoredFlow } from "../lib/api-types";
import { getJson, withParams } from "../lib/ui/api";
import { mapParams } from "../lib/ui/api-query";
import { useDismissable } from "./useDismissable";
import { COLUMNS, DEFAULT_SORT, isDefaultSort, parseColumns, type ColumnId, type SortSpec } from "../lib/ui/columns";
import { nodeEndpointsFromFlows } from "../lib/ui/endpoint-links";
import { splitEdgeId } from "../lib/flow/map-node";
import { PANE_CHOICES, type Pane, type ViewState } from "../lib/ui/view-state";
import { ExportButton } from "./ExportButton";
import { FilterInput, NamespaceSelect, TimeRange, VerdictSelect } from "./FilterBar";
import { FlowDetails } from "./FlowDetails";
import { FlowTable } from "./FlowTable";
import { ServiceMap } from "./ServiceMap";
import { StreamStatus } from "./StreamStatus";
import { ThemeToggle } from "./ThemeToggle";
import { useFlowFeed } from "./useFlowFeed";
import { useView } from "./useView";
import { TopNav } from "./TopNav";
import { visible, visibleName } from "../lib/ui/visible-text";

const COLUMNS_KEY = "flowscope.columns";

export function FlowscopeApp() {
  const [view, setView] = useView();
  // The sort is in the URL like every other choice, so a reload or a shared link keeps it. It stays the
  // same object while the sort is the same: the URL is parsed afresh on every change (a row click
  // writes flow=), and a new object would re-sort the table under the pointer.
  const sortColumn = view.sort?.column ?? DEFAULT_SORT.column;
  const sortDir = view.sort?.dir ?? DEFAULT_SORT.dir;
  const sort = useMemo<SortSpec>(() => ({ column: sortColumn, dir: sortDir }), [sortColumn, sortDir]);
  const setSort = (s: SortSpec) => {
    const { sort: _old, ...rest } = view;
    setView(isDefaultSort(s) ? rest : { ...rest, sort: s }, "replace");
  };
  const feed = useFlowFeed(view);
  const [columns, setColumns] = useState<ColumnId[]>(() => parseColumns(null));

  useEffect(() => {
    try {
      setColumns(parseColumns(localStorage.getItem(COLUMNS_KEY)));
    } catch {
      /* storage disabled: keep defaults */
    }
  }, []);
  const saveColumns = (c: ColumnId[]) => {
    setColumns(c);
    try {
      localStorage.setItem(COLUMNS_KEY, c.join(","));
    } catch {
      /* ignore */
    }
  };

  // the map is not narrowed by its own selection (the table is)
  const mapKey = `${withParams("", mapParams(view, 0))}|${view.range}`;
  const map = useQuery({
    queryKey: ["service-map", mapKey],
    queryFn: ({ signal }) => {
      const now = Date.now();
      const p = mapParams(view, now);
      // Live map: the last 5 minutes, refreshed; history ranges use their own window.
      if (view.range === "live") p.set("since", new Date(now - 5 * 60_000).toISOString());
      return getJson<ServiceMapData>(withParams("/api/service-map", p), signal);
    },
    // Pause freezes the whole view (the map's counts would otherwise drift from the paused table)
    refetchInterval: view.range === "custom" || feed.paused ? false : 5000,
    placeholderData: (prev) => prev,
    enabled: view.pane !== "table",
  });

  // Read when a node panel opens; the newest rows name the endpoints that are running now.
  const endpointsFromFlows = useCallback(
    (node: ServiceMapNode) => nodeEndpointsFromFlows(node, (i) => feed.store.at(i), 20_000),
    [feed.store],
  );

  const selectedEdge = view.edge && map.data ? map.data.edges.find((e) => e.id === view.edge) : undefined;
  const selectedNode = !selectedEdge && view.node && map.data ? map.data.nodes.find((n) => n.id === view.node) : undefined;
  // A selected edge or node narrows the table through the server (map_edge / map_node in its query,
  // decided as the map groups flows): the rows, their count, the stream and every export agree.
  const narrowing = useMemo(() => {
    const label = (id: string) => map.data?.nodes.find((n) => n.id === id)?.label ?? id;
    if (view.edge) {
      const ends = splitEdgeId(view.edge);
      return { label: ends ? `${label(ends.source)} → ${label(ends.target)}` : view.edge, title: ends ? `${ends.source} → ${ends.target}` : view.edge, what: "edge" };
    }
    if (view.node) return { label: label(view.node), title: view.node, what: "node" };
    return undefined;
  }, [view.edge, view.node, map.data]);

  const inStore: StoredFlow | undefined = useMemo(() => {
    if (!view.flow) return undefined;
    return feed.store.get(view.flow);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [view.flow, feed.version]);
  // A shared link names a flow that may have scrolled out of the live window: fetch it from history.
  const fetched = useQuery({
    queryKey: ["flow", view.flow],
    enabled: !!view.flow && !inStore && /^\d+$/.test(view.flow),
    staleTime: Infinity,
    // One key per flow selected: let the ones left behind go soon.
    gcTime: 60_000,
    queryFn: async ({ signal }) => {
      const page = await getJson<FlowsPage>(`/api/flows?limit=1&cursor=${BigInt(view.flow!) + 1n}`, signal);
      return page.flows.find((f) => f.id === view.flow) ?? null;
    },
  });
  const selected = inStore ?? fetched.data ?? undefined;
  // a link to a flow that is not (or no longer) stored says so, rather than opening nothing
  const missingFlow = view.flow && !selected && (!/^\d+$/.test(view.flow) || fetched.data === null) ? view.flow : undefined;

  const onSelect = useCallback(
    (f: StoredFlow | undefined) => setView({ ...view, flow: f?.id }, "replace"),
    [view, setView],
  );
  const set = (v: ViewState) => setView(v, "push");

  // Escape closes the flow details panel, then (on the next press) the map's node or edge panel, from
  // anywhere on the page: not while typing in a field (Escape belongs to the field there), and not
  // while a menu is open (its own Escape closes it first and stops the key).
  const escapeState = useRef({ view, detailsOpen: false, mapPanelOpen: false });
  escapeState.current = { view, detailsOpen: !!selected, mapPanelOpen: !!(selectedNode || selectedEdge) };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.defaultPrevented || isTextEntry(e.target)) return;
      const { view: v, detailsOpen, mapPanelOpen } = escapeState.current;
      if (detailsOpen) {
        const fromPanel = e.target instanceof Element && e.target.closest('[data-testid="flow-details"]') !== null;
        setView({ ...v, flow: undefined }, "replace");
        // focus inside the panel would be lost with it: carry on from the table
        if (fromPanel) document.querySelector<HTMLElement>(".ft-body")?.focus();
      } else if (mapPanelOpen) {
        const fromPanel = e.target instanceof Element && e.target.closest(".map-panel") !== null;
        setView({ ...v, node: undefined, edge: undefined }, "replace");
        // back to the card whose panel it was
        if (fromPanel && v.node) document.querySelector<HTMLElement>(`[data-testid="map-node"][data-id="${CSS.escape(v.node)}"]`)?.focus();
      } else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [setView]);

  // The new filters' first page is on its way: the table is empty and says so (never the old rows).
  const tableLoading = feed.state === "loading";
  const emptyText =
    tableLoading
      ? "Loading flows for these filters…"
      : feed.state === "error"
        ? `Could not load flows: ${feed.error ?? "unknown error"}`
        : view.range === "custom" && view.until !== undefined && Date.parse(view.until) < Date.now()
          ? "No flows in this time range."
          : view.filters.length || view.namespaces.length || view.verdict || narrowing
          ? "No flows match these filters yet."
          : "No flows yet. Waiting for traffic…";

  return (
    <div className="app">
      <header className="topbar">
        <TopNav active="flows" />
        <div className="filters">
          <NamespaceSelect view={view} setView={set} />
          <FilterInput view={view} setView={set} error={view.problems?.join("; ") ?? feed.filterError} />
          <VerdictSelect view={view} setView={set} />
          <TimeRange view={view} setView={set} />
        </div>
        <div className="actions">
          <ExportButton view={view} pausedAt={feed.paused ? feed.pausedAt : undefined} />
          <StreamStatus feed={feed} />
          <ThemeToggle />
        </div>
      </header>
      <div className={`workspace pane-${view.pane}${selected ? " with-details" : ""}`}>
        {view.pane !== "table" ? (
          <section className="map-pane" aria-label="Service map">
            <ServiceMap
              data={map.data}
              loading={map.isPending}
              stale={map.isPlaceholderData}
              error={map.isError ? (map.error as Error).message : undefined}
              view={view}
              setView={setView}
              endpointsFromFlows={endpointsFromFlows}
              newestFlowTime={feed.store.at(0)?.flow.time}
            />
          </section>
        ) : null}
        {view.pane !== "map" ? (
          <section className="table-pane" aria-label="Flow table">
            <div className="table-toolbar">
              <button
                className={`btn${feed.paused ? " primary" : ""}`}
                data-testid="pause-button"
                onClick={() => feed.setPaused(!feed.paused)}
                disabled={feed.state === "history"}
                title={feed.paused ? "Show the flows that arrived while paused, and update the map again" : "Stop the table and the map from moving; flows keep arriving"}
              >
                {feed.paused ? `▶ Resume${feed.held ? ` (${feed.held.toLocaleString()} new)` : ""}` : "❚❚ Pause"}
              </button>
              <span className="muted count" data-testid="row-count">
                {tableLoading ? "Loading…" : `${feed.store.size.toLocaleString()} flows`}
                {!tableLoading && feed.store.evicted ? ` (oldest dropped beyond ${feed.store.capacity.toLocaleString()})` : ""}
                {!tableLoading && feed.older.searching ? (
                  <span data-testid="searching" title="The last page ended early (the server searches for at most a quarter of a second per request), so the next older one is being fetched">
                    {" "}so far: searching further back…
                  </span>
                ) : !tableLoading && feed.older.partial && feed.older.more ? (
                  <span data-testid="scan-stopped" title="The server searches for at most a quarter of a second per request, so other requests are not held up. Load older searches further back; an export includes every match.">
                    {" "}so far: the search stopped early
                  </span>
                ) : !tableLoading && feed.older.more ? (
                  <span data-testid="more-match" title="The table holds the newest flows that match; Load older fetches the next page of them, and an export includes every match">
                    {" "}(the newest; older ones may match)
                  </span>
                ) : null}
              </span>
              {feed.older.more ? (
                <button className="btn" data-testid="load-older" disabled={feed.older.loading} onClick={feed.loadOlder} title="Fetch the next older page of flows matching the filters">
                  {feed.older.loading ? "Loading…" : "Load older"}
                </button>
              ) : null}
              {feed.older.error ? <span className="error" role="alert">{feed.older.error}</span> : null}
              {feed.state === "error" && !feed.filterError ? (
                <button className="btn" data-testid="retry-flows" onClick={feed.retry} title="Ask the server for the flows again now (it is asked again every few seconds anyway)">
                  Retry now
                </button>
              ) : null}
              {missingFlow ? (
                <span className="chip bad" data-testid="missing-flow" role="status" title="Retention deletes the oldest flows first; a link keeps its flow id only">
                  <span className="chip-text">flow {visible(missingFlow.slice(0, 40))} is not stored</span>
                  <button aria-label="Dismiss" onClick={() => onSelect(undefined)}>
                    ×
                  </button>
                </span>
              ) : null}
              {narrowing ? (
                <span className="chip edge-chip" data-testid={`${narrowing.what}-filter`} title={`${narrowing.what} ${visibleName(narrowing.title)}: its flows${narrowing.what === "edge" ? " and the replies back" : ", either way"}`}>
                  {/* a long pair of names is cut, never the button that clears it */}
                  <span className="chip-text">
                    {narrowing.what} {visibleName(narrowing.label)}
                  </span>
                  <button aria-label={`Clear ${narrowing.what} filter`} onClick={() => setView({ ...view, edge: undefined, node: undefined })}>
                    ×
                  </button>
                </span>
              ) : null}
              <span className="spacer" />
              <PaneSwitch pane={view.pane} onChange={(p) => setView({ ...view, pane: p }, "replace")} />
              <ColumnMenu columns={columns} onChange={saveColumns} />
            </div>
            <FlowTable
              store={feed.store}
              version={feed.version}
              resets={feed.resets}
              loading={tableLoading}
              added={feed.added}
              columns={columns}
              sort={sort}
              onSort={setSort}
              selectedId={view.flow}
              onSelect={onSelect}
              emptyText={emptyText}
            />
          </section>
        ) : (
          <div className="floating-pane-switch">
            <PaneSwitch pane={view.pane} onChange={(p) => setView({ ...view, pane: p }, "replace")} />
          </div>
        )}
        {selected ? <FlowDetails flow={selected} view={view} setView={set} onClose={() => onSelect(undefined)} /> : null}
      </div>
    </div>
  );
}

/** Where Escape belongs to the control: text fields, selects, editable text. */
function isTextEntry(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return true;
  if (!(t instanceof HTMLInputElement)) return false;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"].includes(t.type);
}

function PaneSwitch({ pane, onChange }: { pane: Pane; onChange: (p: Pane) => void }) {
  const labels: Record<Pane, string> = { split: "Map + table", map: "Map", table: "Table" };
  return (
    <div className="segmented" role="tablist" aria-label="Layout">
      {PANE_CHOICES.map((p) => (
        <button key={p} role="tab" aria-selected={pane === p} className={pane === p ? "on" : ""} onClick={() => onChange(p)}>
          {labels[p]}
        </button>
      ))}
    </div>
  );
}

function ColumnMenu({ columns, onChange }: { columns: ColumnId[]; onChange: (c: ColumnId[]) => void }) {
  // closes on Escape and on a click outside, like the other menus
  const { open, setOpen, ref } = useDismissable();
  const on = new Set(columns);
  const toggle = (id: ColumnId) => {
    // Keep the table's order canonical whatever the click order.
    const next = COLUMNS.map((c) => c.id).filter((c) => (c === id ? !on.has(c) : on.has(c)));
    if (next.length) onChange(next);
  };
  return (
    <div className="dropdown" ref={ref}>
      <button className="btn" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="columns-button">
        Columns ▾
      </button>
      {open ? (
        <div className="menu right columns-menu" onMouseLeave={() => setOpen(false)}>
          {COLUMNS.map((c) => (
            <label key={c.id} className="menu-item check">
              <input type="checkbox" checked={on.has(c.id)} onChange={() => toggle(c.id)} />
              {c.title}
            </label>
          ))}
        </div>
      ) : null}
    </div>
  );
}
