"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { FlowsPage, StoredFlow } from "../lib/api-types";
import { filterParams, streamFilter } from "../lib/ui/api-query";
import { prepareRows } from "../lib/ui/client-filter";
import { prepareSortKeys } from "../lib/ui/columns";
import { ApiRequestError, getJson, withParams } from "../lib/ui/api";
import { FlowStore } from "../lib/ui/flow-store";
import { FlushPacer } from "../lib/ui/flush-pacer";
import { StreamClient, streamUrl, type StreamState } from "../lib/ui/stream-client";
import { isStreaming, RANGE_MS, type ViewState } from "../lib/ui/view-state";

export const TABLE_CAPACITY = 100_000;
const FIRST_PAGE = 2_000;
/**
 * Live rows reach the table (and its count) at most this often. Every commit lays the page out
 * again, so at 2,000 flows/s committing per message or per frame left too little time for frames;
 * 4 Hz reads as live while scrolling and the map keep 60 fps. Every flow still arrives.
 */
export const TABLE_REFRESH_MS = 250;
/**
 * A page the server ended early (it searches row by row for a quarter of a second per request) that
 * leaves the table short of one page is followed at once by the next older one, up to this many
 * times per view, so a rare match further back shows up without the user asking; then Load older.
 */
const AUTO_SEARCH_PAGES = 12;

export interface FlowFeed {
  store: FlowStore;
  /** bumps whenever rows change; memoise on it */
  version: number;
  /**
   * bumps whenever the rows are replaced wholesale (filters changed: emptied; the new view's first
   * page: filled), so views that refresh lazily (a sorted table) redraw at once, never showing rows
   * of the previous filters
   */
  resets: number;
  /** flows added since the feed started, to keep the scrolled rows in place */
  added: number;
  state: StreamState | "history" | "loading" | "error";
  stateDetail?: string;
  error?: string;
  paused: boolean;
  /** when the view was paused (ms since the epoch), while it is */
  pausedAt?: number;
  setPaused: (p: boolean) => void;
  /** flows waiting while paused */
  held: number;
  /** flows/s shown over the last seconds */
  rate: number;
  lost: number;
  /** whether history holds older flows matching the view than the table has, and fetching them */
  older: {
    more: boolean;
    loading: boolean;
    error?: string;
    /** the last page ended early: the server stopped checking rows one by one, more may match further back */
    partial?: boolean;
    /** the next older page is being fetched without a click, because the last one ended early */
    searching?: boolean;
  };
  /** adds the next older page (same filters and window as the first page) below the rows */
  loadOlder: () => void;
  /** the server refused the view's filters (a 4xx naming the problem), as opposed to being unreachable */
  filterError?: string;
  /** asks for the first page again now */
  retry: () => void;
}

/** An error another try may not repeat: the server unreachable, or failing on its side. */
function isTransient(err: unknown): boolean {
  return err instanceof ApiRequestError && (err.status === 0 || err.status >= 500);
}

/**
 * First the newest page from history (react-query), then live flows over the WebSocket from that
 * page's cursor on. Incoming batches are queued and applied at most every TABLE_REFRESH_MS, so a
 * steady stream of thousands of flows a second costs four renders a second.
 */
export function useFlowFeed(view: ViewState): FlowFeed {
  const storeRef = useRef<FlowStore | null>(null);
  if (!storeRef.current) storeRef.current = new FlowStore(TABLE_CAPACITY);
  const store = storeRef.current;

  const [version, setVersion] = useState(0);
  const [resets, setResets] = useState(0);
  const [added, setAdded] = useState(0);
  const [state, setState] = useState<FlowFeed["state"]>("loading");
  const [stateDetail, setStateDetail] = useState<string>();
  const [streamError, setStreamError] = useState<string>();
  const [paused, setPausedState] = useState(false);
  const [pausedAt, setPausedAt] = useState<number>();
  const [held, setHeld] = useState(0);
  const [rate, setRate] = useState(0);
  const [lost, setLost] = useState(0);

  const pending = useRef<StoredFlow[]>([]);
  const pausedRef = useRef(false);
  const pacerRef = useRef<FlushPacer | null>(null);
  const clientRef = useRef<StreamClient | null>(null);
  const arrivals = useRef<{ t: number; n: number }[]>([]);

  const filterKey = streamFilter(view);
  const streaming = isStreaming(view);
  // The relative windows resolve "now" when the view changes, not on every render.
  const historyKey = `${filterKey}|${view.range}|${view.since ?? ""}|${view.until ?? ""}`;

  // The first page's parameters, so older pages keep its window even for a relative range.
  const pageParams = useRef<URLSearchParams | null>(null);
  const olderCursor = useRef<string | undefined>(undefined);
  const autoPagesLeft = useRef(0);
  /** the cursor of the older page being fetched: one fetch per cursor, clicked or not */
  const olderInFlight = useRef<string | undefined>(undefined);
  const [older, setOlder] = useState<FlowFeed["older"]>({ more: false, loading: false });

  // Which view the rows on screen belong to, and which view the live subscription's flows belong to.
  // Live flows are kept only while the two agree: after a filter change the subscription still
  // delivers the old filter's flows until the new first page has loaded and it is re-subscribed.
  const viewKey = useRef(historyKey);
  const liveKey = useRef<string | undefined>(undefined);

  // Filters changed: empty the table before the browser paints (a layout effect), so no row of the
  // previous filters is ever shown under the new ones; the table says it is loading meanwhile.
  useLayoutEffect(() => {
    if (viewKey.current === historyKey) return;
    viewKey.current = historyKey;
    pending.current = [];
    store.clear();
    olderCursor.current = undefined;
    setOlder({ more: false, loading: false });
    setVersion(store.version);
    setResets((r) => r + 1);
    setAdded(0);
    setHeld(0);
    setLost(0);
  }, [historyKey, store]);

  // bumped when the server's database changed under the page: a new first page (a new query, so a new
  // answer even when it equals the last) resets the table and the stream's cursor
  const [historyEpoch, setHistoryEpoch] = useState(0);
  const first = useQuery({
    queryKey: ["flows-first-page", historyKey, historyEpoch],
    queryFn: ({ signal }) => {
      const p = filterParams(view, Date.now());
      pageParams.current = new URLSearchParams(p);
      p.set("limit", String(FIRST_PAGE));
      p.set("order", "desc");
      return getJson<FlowsPage>(withParams("/api/flows", p), signal);
    },
    staleTime: Infinity,
    gcTime: 0,
    // A server that is down or restarting comes back: keep asking (every 5 s at most) until it does,
    // so the table recovers by itself as the map and the stream do. A refused request (a bad filter,
    // a refused token) gets the same answer again, so it is not repeated.
    retry: (_failures, err) => isTransient(err),
    retryDelay: (failures) => Math.min(1000 * 2 ** failures, 5000),
  });

  const flush = useCallback(() => {
    if (liveKey.current !== viewKey.current) pending.current = [];
    if (pausedRef.current) {
      setHeld(pending.current.length);
      return;
    }
    const batch = pending.current;
    if (batch.length === 0) return;
    pending.current = [];
    const n = store.add(batch);
    prepareRows(batch);
    prepareSortKeys(batch, store);
    if (n > 0) {
      setVersion(store.version);
      setAdded((a) => a + n);
    }
    setHeld(0);
  }, [store]);
  if (!pacerRef.current) pacerRef.current = new FlushPacer(TABLE_REFRESH_MS, () => flush());
  const pacer = pacerRef.current;

  const enqueue = useCallback(
    (flows: StoredFlow[]) => {
      // flows of a subscription made for the previous filters
      if (liveKey.current !== viewKey.current) return;
      const q = pending.current;
      for (const f of flows) q.push(f);
      // While paused (or in a hidden tab, where frames stop) keep only what the table could hold.
      if (q.length > TABLE_CAPACITY) q.splice(0, q.length - TABLE_CAPACITY);
      arrivals.current.push({ t: Date.now(), n: flows.length });
      pacer.request();
    },
    [pacer],
  );

  // "Last 5 minutes" and "Last hour" slide: rows that fall out of the window leave the table, as
  // they leave the map and the export of the same window. A paused table keeps what it shows.
  const windowMs = view.range === "5m" || view.range === "1h" ? RANGE_MS[view.range] : undefined;
  useEffect(() => {
    if (windowMs === undefined) return;
    const t = setInterval(() => {
      if (pausedRef.current) return;
      if (store.dropOlderThan(Date.now() - windowMs) > 0) setVersion(store.version);
    }, 2000);
    return () => clearInterval(t);
  }, [windowMs, store]);

  // Rate indicator: flows/s over the last 5 s, updated once a second.
  useEffect(() => {
    const t = setInterval(() => {
      const now = Date.now();
      arrivals.current = arrivals.current.filter((a) => now - a.t < 5000);
      const n = arrivals.current.reduce((s, a) => s + a.n, 0);
      setRate(n / 5);
    }, 1000);
    return () => clearInterval(t);
  }, []);

  // A new first page resets the table and (re)starts the subscription after its newest flow.
  useEffect(() => {
    if (!first.data) return;
    // the first page of a view left meanwhile (its layout effect has already emptied the table)
    if (viewKey.current !== historyKey) return;
    pending.current = [];
    store.clear();
    store.add(first.data.flows ?? []);
    prepareRows(first.data.flows ?? []);
    prepareSortKeys(first.data.flows ?? [], store);
    setVersion(store.version);
    setResets((r) => r + 1);
    setAdded(0);
    setLost(0);
    olderCursor.current = first.data.nextCursor;
    autoPagesLeft.current = AUTO_SEARCH_PAGES;
    setOlder({ more: first.data.nextCursor !== undefined, loading: false, partial: first.data.scanStopped === true });
    searchOnIfShort(first.data);
    liveKey.current = historyKey;
    if (!streaming) {
      clientRef.current?.close();
      clientRef.current = null;
      setState("history");
      return;
    }
    if (!clientRef.current) {
      clientRef.current = new StreamClient(streamUrl(window.location), {
        onFlows: enqueue,
        onState: (s, detail) => {
          setState(s);
          setStateDetail(detail);
          if (s === "live") setStreamError(undefined);
        },
        onLost: (n) => setLost((l) => l + n),
        onError: (message, field) => setStreamError(field ? `${field}: ${message}` : message),
        onHistoryChanged: () => setHistoryEpoch((e) => e + 1),
      });
      clientRef.current.setPaused(false);
    }
    clientRef.current.subscribe(filterKey, store.newestId(), first.data.history);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- searchOnIfShort reads only refs and the store
  }, [first.data, streaming, filterKey, historyKey, store, enqueue]);

  useEffect(
    () => () => {
      pacer.cancel();
      clientRef.current?.close();
      clientRef.current = null;
    },
    [],
  );

  // Declared as functions (hoisted) so the first page's effect above can start the search.
  function fetchOlder(auto: boolean): void {
    const cursor = olderCursor.current;
    if (cursor === undefined || !pageParams.current || olderInFlight.current === cursor) return;
    olderInFlight.current = cursor;
    const p = new URLSearchParams(pageParams.current);
    p.set("limit", String(FIRST_PAGE));
    p.set("order", "desc");
    p.set("cursor", cursor);
    setOlder((o) => ({ more: true, loading: true, partial: o.partial, searching: auto }));
    getJson<FlowsPage>(withParams("/api/flows", p))
      .then((page) => {
        if (olderInFlight.current === cursor) olderInFlight.current = undefined;
        // a new first page (filters changed) started over meanwhile: this page belongs to the old view
        if (olderCursor.current !== cursor) return;
        const flows = page.flows ?? [];
        store.add(flows);
        prepareRows(flows);
        prepareSortKeys(flows, store);
        setVersion(store.version);
        olderCursor.current = page.nextCursor;
        // the table keeps at most TABLE_CAPACITY rows; older ones would be dropped as they arrive
        setOlder({ more: page.nextCursor !== undefined && store.size < TABLE_CAPACITY, loading: false, partial: page.scanStopped === true });
        searchOnIfShort(page);
      })
      .catch((err: Error) => {
        if (olderInFlight.current === cursor) olderInFlight.current = undefined;
        if (olderCursor.current !== cursor) return;
        setOlder({ more: true, loading: false, error: `Could not load older flows: ${err.message}` });
      });
  }

  function searchOnIfShort(page: FlowsPage): void {
    if (page.scanStopped !== true || page.nextCursor === undefined || store.size >= FIRST_PAGE || autoPagesLeft.current <= 0) return;
    autoPagesLeft.current--;
    fetchOlder(true);
  }

  const loadOlder = useCallback(() => fetchOlder(false),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- fetchOlder reads only refs, setters and the store
    [store]);

  const setPaused = useCallback(
    (p: boolean) => {
      pausedRef.current = p;
      setPausedState(p);
      setPausedAt(p ? Date.now() : undefined);
      // Pausing is client-side: flows keep arriving and wait, so resume shows everything missed.
      if (!p) pacer.flushNow();
      else setHeld(pending.current.length);
    },
    [pacer],
  );

  let feedState: FlowFeed["state"] = state;
  const retrying = first.isPending && first.failureCount > 0;
  if (first.isPending && !retrying) feedState = "loading";
  else if (first.isError || retrying) feedState = "error";
  else if (paused && state === "live") feedState = "paused";

  return {
    store,
    version,
    resets,
    added,
    state: feedState,
    stateDetail,
    error: first.isError ? (first.error as Error).message : retrying ? `${(first.failureReason as Error | null)?.message ?? "no answer"}; trying again` : streamError,
    filterError: first.isError && first.error instanceof ApiRequestError && first.error.status >= 400 && first.error.status < 500 && first.error.status !== 401 ? first.error.message : undefined,
    retry: () => void first.refetch(),
    paused,
    pausedAt,
    setPaused,
    held,
    rate,
    lost,
    older,
    loadOlder,
  };
}
