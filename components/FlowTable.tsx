"use client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { StoredFlow } from "../lib/api-types";
import { COLUMN_BY_ID, fitColumns, minPx, sortRows, type ColumnId, type SortSpec } from "../lib/ui/columns";
import { localZone, verdictClass } from "../lib/ui/flow-view";
import type { FlowStore } from "../lib/ui/flow-store";


export const ROW_HEIGHT = 28;
/** re-sorting 100k rows costs tens of ms, so a non-time sort refreshes at most this often while live */
const RESORT_MS = 1000;

interface Props {
  store: FlowStore;
  version: number;
  /** bumps when the rows are replaced wholesale (new filters): the table redraws at once */
  resets?: number;
  /** the rows belong to filters no longer on screen, or the new filters' rows are loading */
  loading?: boolean;
  added: number;
  columns: ColumnId[];
  sort: SortSpec;
  onSort: (s: SortSpec) => void;
  selectedId?: string;
  onSelect: (f: StoredFlow | undefined) => void;
  emptyText: string;
}

export function FlowTable({ store, version, resets = 0, loading = false, added, columns: chosen, sort, onSort, selectedId, onSelect, emptyText }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const tableRef = useRef<HTMLDivElement>(null);
  // The pane's width decides which chosen columns fit; the rest give way (fitColumns) rather than
  // push Verdict off to the side. Measured on the pane, which the table's own width does not change.
  const [paneWidth, setPaneWidth] = useState<number | undefined>(undefined);
  useLayoutEffect(() => {
    const pane = tableRef.current?.parentElement;
    if (!pane) return;
    const measure = () => setPaneWidth(pane.clientWidth);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(pane);
    return () => ro.disconnect();
  }, []);
  const { shown: columns, hidden } = useMemo(() => fitColumns(chosen, paneWidth, sort.column), [chosen, paneWidth, sort.column]);
  const natural = COLUMN_BY_ID[sort.column].natural === true;
  // the store as it is, newest first: only while stored order is time order (imports can break it)
  const identity = natural && sort.dir === "desc" && store.inTimeOrder();

  // Throttled snapshot version for the expensive path (sorted views): a trailing timer
  // that is not reset by newer versions, so a steady stream still refreshes once per RESORT_MS.
  const [snapVersion, setSnapVersion] = useState(version);
  const latestVersion = useRef(version);
  latestVersion.current = version;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // A sorted view re-sorted under the pointer moves the row being read: while the pointer is over
  // the rows, the sorted snapshot waits, and catches up once it leaves.
  const pointerIn = useRef(false);
  useEffect(() => {
    if (identity || timer.current !== undefined) return;
    const tick = () => {
      if (pointerIn.current) {
        timer.current = setTimeout(tick, RESORT_MS);
        return;
      }
      timer.current = undefined;
      setSnapVersion(latestVersion.current);
    };
    timer.current = setTimeout(tick, RESORT_MS);
  }, [version, identity]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const rows = useMemo<StoredFlow[] | null>(() => {
    if (identity) return null;
    return sortRows(store.toArray(), sort, store.size, store.inTimeOrder());
    // snapVersion stands in for the store's contents
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [identity, snapVersion, sort, store, resets]);

  // Whatever a view held before, the table never shows rows while its filters' rows are loading.
  const count = loading ? 0 : rows ? rows.length : store.size;
  const rowAt = (i: number) => (rows ? rows[i] : store.at(i));

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  // Newest-first with live rows arriving on top: when the user has scrolled down, shift the scroll
  // position by the rows added so the rows being read stay still (Hubble UI does the same).
  const lastAdded = useRef(added);
  // New filters: start again from the top.
  useLayoutEffect(() => {
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
  }, [resets]);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const delta = added - lastAdded.current;
    lastAdded.current = added;
    if (!el || !identity || delta <= 0) return;
    // The virtualizer's tracked offset, not el.scrollTop: reading the DOM here forced a layout on
    // every live commit even with the table at the top.
    if ((virtualizer.scrollOffset ?? 0) > 0) el.scrollTop += delta * ROW_HEIGHT;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [added, identity]);

  const grid = columns.map((c) => COLUMN_BY_ID[c].width).join(" ");
  // the columns' smallest widths: below it the table pane scrolls sideways, header and rows together
  const minWidth = columns.reduce((sum, c) => sum + minPx(COLUMN_BY_ID[c].width), 0);
  const selectedIndex = useMemo(() => {
    if (!selectedId) return -1;
    for (let i = 0; i < Math.min(count, 5000); i++) if (rowAt(i)?.id === selectedId) return i;
    return -1;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedId, version, rows]);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    let next = selectedIndex;
    if (e.key === "ArrowDown" || e.key === "j") next = Math.min(count - 1, selectedIndex + 1);
    else if (e.key === "ArrowUp" || e.key === "k") next = Math.max(0, selectedIndex - 1);
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = count - 1;
    else if (e.key === "PageDown") next = Math.min(count - 1, selectedIndex + 20);
    else if (e.key === "PageUp") next = Math.max(0, selectedIndex - 20);
    // (Escape, which closes the details panel from anywhere on the page, is FlowscopeApp's)
    else return;
    e.preventDefault();
    const f = rowAt(next);
    if (f) {
      onSelect(f);
      virtualizer.scrollToIndex(next, { align: "auto" });
    }
  };

  const header = (
    <div className="ft-header" role="row" style={{ gridTemplateColumns: grid }}>
      {columns.map((c) => {
        const def = COLUMN_BY_ID[c];
        const active = sort.column === c;
        return (
          <button
            key={c}
            role="columnheader"
            aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}
            className={`ft-th${active ? " active" : ""}`}
            // a column's first click: newest first for time, A→Z (smallest first) for the others; then it flips
            onClick={() => onSort({ column: c, dir: active ? (sort.dir === "desc" ? "asc" : "desc") : COLUMN_BY_ID[c].natural ? "desc" : "asc" })}
            title={c === "time" ? `Sort by time (times are in your browser's zone, ${localZone()})` : `Sort by ${def.title}`}
          >
            {def.title}
            <span className="ft-sort">{active ? (sort.dir === "asc" ? "▲" : "▼") : ""}</span>
          </button>
        );
      })}
      {hidden.length > 0 && (
        <span
          className="ft-hidden"
          data-testid="columns-hidden"
          title={`Not shown at this width: ${hidden.map((c) => COLUMN_BY_ID[c].title).join(", ")}. Widen the window or close the details to see them.`}
          aria-label={`${hidden.length} columns not shown at this width: ${hidden.map((c) => COLUMN_BY_ID[c].title).join(", ")}`}
        >
          +{hidden.length}
        </span>
      )}
    </div>
  );

  return (
    <div ref={tableRef} className="flow-table" data-testid="flow-table" data-loading={loading ? "true" : undefined} aria-busy={loading} role="grid" aria-rowcount={count} style={{ minWidth }}>
      {header}
      <div
        ref={scrollRef}
        className="ft-body"
        tabIndex={0}
        onKeyDown={onKey}
        aria-label="Flows"
        onPointerEnter={() => (pointerIn.current = true)}
        onPointerLeave={() => (pointerIn.current = false)}
      >
        {count === 0 ? (
          <div className={`empty${loading ? " loading" : ""}`} data-testid="table-empty">
            {emptyText}
          </div>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {virtualizer.getVirtualItems().map((vi) => {
              const f = rowAt(vi.index);
              if (!f) return null;
              return (
                <FlowRow
                  key={f.id}
                  flow={f}
                  columns={columns}
                  grid={grid}
                  top={vi.start}
                  selected={f.id === selectedId}
                  onSelect={onSelect}
                />
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}

const FlowRow = memo(function FlowRow({
  flow,
  columns,
  grid,
  top,
  selected,
  onSelect,
}: {
  flow: StoredFlow;
  columns: ColumnId[];
  grid: string;
  top: number;
  selected: boolean;
  onSelect: (f: StoredFlow) => void;
}) {
  const vc = verdictClass(flow.flow.verdict);
  return (
    <div
      role="row"
      data-testid="flow-row"
      data-verdict={flow.flow.verdict ?? ""}
      data-id={flow.id}
      aria-selected={selected}
      className={`ft-row v-${vc}${selected ? " selected" : ""}`}
      style={{ transform: `translateY(${top}px)`, gridTemplateColumns: grid, height: ROW_HEIGHT }}
      onClick={() => onSelect(flow)}
    >
      {columns.map((c) => {
        const text = COLUMN_BY_ID[c].text(flow);
        if (c === "verdict") {
          return (
            <span key={c} role="gridcell" className="ft-td">
              <span className={`verdict-pill v-${vc}`}>{text}</span>
            </span>
          );
        }
        return (
          <span key={c} role="gridcell" className={`ft-td col-${c}`} title={c === "time" ? flow.flow.time : text}>
            {text}
          </span>
        );
      })}
    </div>
  );
});
