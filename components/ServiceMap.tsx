"use client";
import { useQuery } from "@tanstack/react-query";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior } from "d3-zoom";
import Link from "next/link";
import { memo, useEffect, useId, useMemo, useRef, useState } from "react";
import type { PoliciesResponse, ServiceMap as ServiceMapData, ServiceMapEdge, ServiceMapNode } from "../lib/api-types";
import { getJson } from "../lib/ui/api";
import { endpointHref, nodeEndpointsFromApi, type ApiEndpoint, type EndpointRef } from "../lib/ui/endpoint-links";
import { entryFor } from "../lib/ui/filter-entry";
import { routeEdges, type EdgeCache, type EdgeGeometry } from "../lib/ui/map-edges";
import { CARD_H, CARD_W, LABEL_CHAR_PX, MapLayout, fitTransform, type LayoutResult } from "../lib/ui/map-layout";
import { EDGE_TONES, edgeLabel, edgeTone, edgeWidth, policiesSelecting, visibleGraph } from "../lib/ui/map-model";
import type { HiddenPeers, ViewState } from "../lib/ui/view-state";
import { visible, visibleName } from "../lib/ui/visible-text";

interface Props {
  data?: ServiceMapData;
  loading: boolean;
  /** `data` is the previous filters' map, kept in place (cards do not jump) while the new one loads */
  stale?: boolean;
  error?: string;
  view: ViewState;
  setView: (v: ViewState, mode?: "push" | "replace") => void;
  /** a node's endpoints as seen in the table's flows, when the server has no endpoint list */
  endpointsFromFlows?: (node: ServiceMapNode) => EndpointRef[];
  /** the time of the newest flow the table holds: an empty relative window can offer to go there */
  newestFlowTime?: string;
}

/**
 * Kind marks drawn as SVG shapes, not emoji or rare glyphs: headless and minimal Linux browsers have no
 * emoji font and showed empty boxes. Each shape is 12×12 around (6, 6).
 */
function KindIcon({ kind }: { kind: ServiceMapNode["kind"] }) {
  switch (kind) {
    case "workload":
      return <path d="M6,0 L12,6 L6,12 L0,6 Z" />;
    case "world":
    case "fqdn":
      // a globe: circle, equator and a meridian
      return (
        <g className="outline">
          <circle cx={6} cy={6} r={5.5} />
          <path d="M0.5,6 H11.5 M6,0.5 C2.5,3.5 2.5,8.5 6,11.5 C9.5,8.5 9.5,3.5 6,0.5" />
        </g>
      );
    case "cidr":
      return (
        <g className="outline">
          <rect x={0.5} y={0.5} width={11} height={11} rx={2} />
          <path d="M4,0.5 V11.5 M8,0.5 V11.5 M0.5,4 H11.5 M0.5,8 H11.5" />
        </g>
      );
    case "host":
    case "remote-node":
      return (
        <g className="outline">
          <rect x={0.5} y={1.5} width={11} height={9} rx={1.5} />
          <path d="M3,5 H9 M3,7.5 H7" />
        </g>
      );
    case "kube-apiserver":
      return <path d="M6,0 L11.7,3 L11.7,9 L6,12 L0.3,9 L0.3,3 Z" />;
    default:
      return <circle cx={6} cy={6} r={5} />;
  }
}

/** the node and edge panels' width and right margin (globals.css .map-panel), plus a gap */
const PANEL_COVER_PX = 350;
/** narrower than this beside a panel, the map is fitted to the whole pane and the panel floats over it */
const MIN_FIT_WIDTH_PX = 420;
/** Below this zoom, edge labels and card subtitles are dropped so 300 cards stay legible. */
const DETAIL_ZOOM = 0.55;

// Memoised: the page re-renders on every batch of live flows, and the map's props do not change then;
// without this, 300 cards and their edges re-rendered every frame at 2,000 flows/s.
export const ServiceMap = memo(function ServiceMap({ data, loading, stale = false, error, view, setView, endpointsFromFlows, newestFlowTime }: Props) {
  // a relative window that is empty while the table holds older flows (an imported export, a quiet
  // cluster) can take the user to where they are
  const newestMs = newestFlowTime === undefined ? NaN : Date.parse(newestFlowTime);
  const olderFlowsAt = view.range !== "custom" && Number.isFinite(newestMs) && newestMs < Date.now() - 5 * 60_000 ? newestMs : undefined;
  const svgRef = useRef<SVGSVGElement>(null);
  const gRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const userMoved = useRef(false);
  const layoutRef = useRef<MapLayout | null>(null);
  if (!layoutRef.current) layoutRef.current = new MapLayout();
  const edgeCache = useRef<EdgeCache>({ byKey: new Map() });
  const [detailed, setDetailed] = useState(true);
  const [hover, setHover] = useState<string>();

  const graph = useMemo(() => (data ? visibleGraph(data.nodes, data.edges, view.hide) : undefined), [data, view.hide]);
  // Layout folds in every node the server sends (hidden or not) so toggles never move cards.
  const layout: LayoutResult | undefined = useMemo(() => {
    if (!data) return undefined;
    // New islands are shaped for the pane as it is now (wide and short under the table, tall alone).
    const r = svgRef.current?.getBoundingClientRect();
    if (r && r.height > 0) layoutRef.current!.setAspect(r.width / r.height);
    return layoutRef.current!.update(data.nodes, data.edges);
  }, [data]);

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const z = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.08, 2.5])
      .filter((ev: Event) => (ev.type === "wheel" || ev.type === "mousedown" || ev.type === "touchstart" || ev.type === "pointerdown") && !(ev as MouseEvent).button)
      .on("zoom", (ev) => {
        // d3 owns the transform; React does not re-render on every zoom frame.
        gRef.current?.setAttribute("transform", ev.transform.toString());
        setDetailed(ev.transform.k >= DETAIL_ZOOM);
        if (ev.sourceEvent) userMoved.current = true;
      });
    zoomRef.current = z;
    select(svg).call(z).on("dblclick.zoom", null);
    return () => {
      select(svg).on(".zoom", null);
    };
  }, []);

  const panelOpen = !!((view.node && data?.nodes.some((n) => n.id === view.node)) || (view.edge && data?.edges.some((e) => e.id === view.edge)));
  const fit = () => {
    const svg = svgRef.current;
    if (!svg || !layout || !zoomRef.current) return;
    const r = svg.getBoundingClientRect();
    // An open node or edge panel covers the map's right side: fit into what it leaves, where it leaves enough.
    const covered = panelOpen && r.width - PANEL_COVER_PX >= MIN_FIT_WIDTH_PX ? PANEL_COVER_PX : 0;
    // The cards' bounds, grown to what is drawn: edge arcs and their labels bend outside the cards, and
    // fitting the cards alone left them against (or past) the map's top edge.
    let b = layout.bounds;
    const drawn = gRef.current?.getBBox();
    if (drawn && drawn.width > 0 && drawn.height > 0) {
      const x = Math.min(b.x, drawn.x);
      const y = Math.min(b.y, drawn.y);
      b = { x, y, w: Math.max(b.x + b.w, drawn.x + drawn.width) - x, h: Math.max(b.y + b.h, drawn.y + drawn.height) - y };
    }
    const t = fitTransform(b, r.width - covered, r.height);
    select(svg).call(zoomRef.current.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
  };
  const fitRef = useRef(fit);
  fitRef.current = fit;

  // Auto-fit until the user pans or zooms (Hubble UI does the same), then never move their view:
  // on new data, when a side panel opens or closes, and when the pane changes size (window, layout,
  // the flow details opening beside it).
  useEffect(() => {
    if (!userMoved.current) fit();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layout, panelOpen]);
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg || typeof ResizeObserver === "undefined") return;
    let last = "";
    const ro = new ResizeObserver(([entry]) => {
      const size = `${Math.round(entry!.contentRect.width)}x${Math.round(entry!.contentRect.height)}`;
      if (size === last) return;
      last = size;
      if (!userMoved.current) fitRef.current();
    });
    ro.observe(svg);
    return () => ro.disconnect();
  }, []);

  const maxRate = useMemo(() => Math.max(0, ...(graph?.edges ?? []).map((e) => e.rate)), [graph]);
  // Edge curves cut to the cards' borders, each bent away from cards it does not connect where it can.
  const geometry = useMemo(
    () =>
      graph && layout
        ? routeEdges(
            graph.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, width: edgeWidth(e.rate, maxRate), labelChars: edgeLabel(e).length })),
            layout.nodes,
            graph.nodes.map((n) => n.id),
            edgeCache.current,
          )
        : undefined,
    [graph, layout, maxRate],
  );
  const clipId = `map-cards-${useId().replace(/[^a-zA-Z0-9_-]/g, "")}`;
  const selectedNode = view.node && data ? data.nodes.find((n) => n.id === view.node) : undefined;
  const selectedEdge = view.edge && data ? data.edges.find((e) => e.id === view.edge) : undefined;

  const toggleHide = (k: keyof HiddenPeers) => setView({ ...view, hide: { ...view.hide, [k]: !view.hide[k] } }, "replace");

  const focus = hover ?? view.node;
  return (
    <div
      className={`service-map${stale && data ? " is-stale" : ""}`}
      data-testid="service-map"
      data-stale={stale && data ? "true" : undefined}
      aria-busy={stale || loading}
      data-nodes={graph?.nodes.length ?? 0} data-edges={graph?.edges.length ?? 0}>
      <div className="map-toolbar">
        <span className="map-title">Service map</span>
        <span className="muted small">
          {stale ? "loading…" : data ? `${graph?.nodes.length ?? 0} nodes · ${graph?.edges.length ?? 0} edges` : ""}
        </span>
        <span className="spacer" />
        <div className="toggles" role="group" aria-label="Hide peers">
          {(
            [
              ["host", "host"],
              ["remoteNode", "remote-node"],
              ["kubeDns", "kube-dns"],
              ["world", "world"],
            ] as [keyof HiddenPeers, string][]
          ).map(([k, label]) => (
            <label key={k} className="toggle" title={`Leave flows to or from ${label} out of the map, the table and exports`}>
              <input type="checkbox" data-testid={`hide-${label}`} checked={view.hide[k]} onChange={() => toggleHide(k)} />
              hide {label}
            </label>
          ))}
        </div>
        <button className="btn small" onClick={fit}>
          Fit
        </button>
        <Legend />
      </div>
      <svg ref={svgRef} className="map-svg" role="img" aria-label="Service map of workloads and their connections">
        <g ref={gRef}>
          {layout
            ? layout.islands
                .filter((isl) => graph?.nodes.some((n) => layout.nodes.get(n.id)?.island === isl.id))
                .map((isl) => (
                  <g key={isl.id} className={`island kind-${isl.kind}`} data-testid="map-group" data-id={isl.id}>
                    <rect x={isl.x} y={isl.y} width={isl.w} height={isl.h} rx={14} />
                    <text x={isl.x + 14} y={isl.y + 21} className="island-label">
                      <title>{visibleName(isl.label)}</title>
                      {truncate(visibleName(isl.label), Math.max(4, Math.floor((isl.w - 28) / LABEL_CHAR_PX)))}
                    </text>
                  </g>
                ))
            : null}
          {graph && geometry ? (
            <Edges
              edges={graph.edges}
              geometry={geometry}
              maxRate={maxRate}
              focus={focus}
              selected={view.edge}
              onClick={(e) => setView({ ...view, edge: view.edge === e.id ? undefined : e.id, node: undefined, flow: undefined }, "replace")}
            />
          ) : null}
          {graph && layout
            ? graph.nodes.map((n) => {
                const p = layout.nodes.get(n.id);
                if (!p) return null;
                return (
                  <MapNode
                    key={n.id}
                    node={n}
                    x={p.x}
                    y={p.y}
                    detailed={detailed}
                    selected={view.node === n.id}
                    onHover={setHover}
                    onClick={() => setView({ ...view, node: view.node === n.id ? undefined : n.id, edge: undefined, flow: undefined }, "replace")}
                  />
                );
              })
            : null}
          {graph && layout && geometry ? (
            <EdgesAbove edges={graph.edges} nodes={graph.nodes} layout={layout} geometry={geometry} detailed={detailed} focus={focus} selected={view.edge} clipId={clipId} />
          ) : null}
        </g>
      </svg>
      {loading && !data ? <div className="map-overlay">Loading service map…</div> : null}
      {stale && data ? (
        <div className="map-loading-cover" role="status" data-testid="map-loading">
          <span>Loading the map for these filters…</span>
        </div>
      ) : null}
      {error && !data ? <div className="map-overlay error">Service map unavailable: {error}</div> : null}
      {error && data ? (
        <div className="map-stale" role="status" data-testid="map-stale">
          Not updating: {error}. Showing the last map received.
        </div>
      ) : null}
      {!stale && data && graph && graph.nodes.length === 0 ? (
        <div className="map-overlay">
          No traffic in this window{view.namespaces.length ? " for these namespaces" : ""}.
          {olderFlowsAt !== undefined ? (
            <div>
              <button
                className="btn map-overlay-action"
                data-testid="map-go-to-flows"
                onClick={() => setView({ ...view, range: "custom", since: new Date(olderFlowsAt - 3_600_000).toISOString(), until: new Date(olderFlowsAt + 1000).toISOString() })}
              >
                Show the hour before the newest flow ({new Date(olderFlowsAt).toLocaleString()})
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      {selectedNode ? <NodePanel node={selectedNode} data={data!} view={view} setView={setView} endpointsFromFlows={endpointsFromFlows} /> : null}
      {selectedEdge && !selectedNode ? <EdgePanel edge={selectedEdge} view={view} setView={setView} /> : null}
    </div>
  );
});

const MapNode = memo(function MapNode({
  node,
  x,
  y,
  detailed,
  selected,
  onHover,
  onClick,
}: {
  node: ServiceMapNode;
  x: number;
  y: number;
  detailed: boolean;
  selected: boolean;
  onHover: (id: string | undefined) => void;
  onClick: () => void;
}) {
  const sub = node.kind === "workload" ? (node.ports.slice(0, 3).join(" ") || (node.identity !== undefined ? `identity ${node.identity}` : "")) : node.kind;
  return (
    <g
      className={`map-node kind-${node.kind}${selected ? " selected" : ""}`}
      data-testid="map-node"
      data-id={node.id}
      // A CSS transform (not the attribute) so the rare island resize glides instead of jumping.
      style={{ transform: `translate(${x}px,${y}px)` }}
      onClick={(e) => {
        e.stopPropagation();
        onClick();
      }}
      onMouseEnter={() => onHover(node.id)}
      onMouseLeave={() => onHover(undefined)}
      role="button"
      tabIndex={0}
      aria-label={`${visibleName(node.label)} (${node.kind})`}
      onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && onClick()}
    >
      <title>{`${visibleName(node.id)}\n${node.flows} flows`}</title>
      <rect width={CARD_W} height={CARD_H} rx={9} />
      <g className="node-icon" transform={`translate(11,${detailed ? 10 : 18})`} aria-hidden="true">
        <KindIcon kind={node.kind} />
      </g>
      <text x={30} y={detailed ? 20 : 29} className="node-label">
        {truncate(visibleName(node.label), 20)}
      </text>
      {detailed ? (
        <text x={30} y={37} className="node-sub">
          {truncate(visible(sub), 26)}
        </text>
      ) : null}
    </g>
  );
});

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function edgeClass(e: ServiceMapEdge, selected: string | undefined, lit: boolean): string {
  return `map-edge tone-${edgeTone(e)}${selected === e.id ? " selected" : ""}${lit ? " lit" : ""}`;
}

/** The edges under the cards: their lines and click targets, from one card's border to the other's. */
const Edges = memo(function Edges({
  edges,
  geometry,
  maxRate,
  focus,
  selected,
  onClick,
}: {
  edges: ServiceMapEdge[];
  geometry: Map<string, EdgeGeometry>;
  maxRate: number;
  focus?: string;
  selected?: string;
  onClick: (e: ServiceMapEdge) => void;
}) {
  return (
    <g className={`edges${focus ? " has-focus" : ""}`}>
      {edges.map((e) => {
        const geo = geometry.get(e.id);
        if (!geo) return null;
        const lit = focus !== undefined && (e.source === focus || e.target === focus);
        return (
          <g
            key={e.id}
            className={edgeClass(e, selected, lit)}
            data-testid="map-edge"
            data-id={e.id}
            data-tone={edgeTone(e)}
            onClick={(ev) => {
              ev.stopPropagation();
              onClick(e);
            }}
          >
            <title>{`${visibleName(e.source)} → ${visibleName(e.target)}\n${e.ports.join(", ")} ${visible(e.l7.join(", "))}\n${e.flows} flows, ${e.rate.toFixed(2)}/s\n${Object.entries(e.verdicts)
              .map(([k, v]) => `${k}: ${v}`)
              .join(", ")}`}</title>
            <path d={geo.d} className="hit" />
            <path d={geo.line} className="line" strokeWidth={edgeWidth(e.rate, maxRate)} />
          </g>
        );
      })}
    </g>
  );
});

/**
 * What of the edges is drawn above the cards: the stretches of lines that pass over cards they do not
 * connect (the same lines, clipped to the cards and fainter, so the card stays readable and the line
 * does not vanish under it), every arrowhead (its tip on the target card's border) and the labels.
 * None of it takes clicks: a click on a card is the card's, a click on an edge goes to its line below.
 */
const EdgesAbove = memo(function EdgesAbove({
  edges,
  nodes,
  layout,
  geometry,
  detailed,
  focus,
  selected,
  clipId,
}: {
  edges: ServiceMapEdge[];
  nodes: ServiceMapNode[];
  layout: LayoutResult;
  geometry: Map<string, EdgeGeometry>;
  detailed: boolean;
  focus?: string;
  selected?: string;
  clipId: string;
}) {
  const lit = (e: ServiceMapEdge) => focus !== undefined && (e.source === focus || e.target === focus);
  return (
    <>
      <clipPath id={clipId}>
        {nodes.map((n) => {
          const p = layout.nodes.get(n.id);
          return p ? <rect key={n.id} x={p.x} y={p.y} width={CARD_W} height={CARD_H} rx={9} /> : null;
        })}
      </clipPath>
      <g className={`edges edges-over${focus ? " has-focus" : ""}`} clipPath={`url(#${clipId})`} data-testid="edges-over" aria-hidden="true">
        {edges.map((e) => {
          const geo = geometry.get(e.id);
          if (!geo || geo.crossings === 0) return null;
          return (
            <g key={e.id} className={edgeClass(e, selected, lit(e))} data-testid="edge-over" data-id={e.id}>
              <path d={geo.d} className="line" />
            </g>
          );
        })}
      </g>
      <g className={`edges edges-top${focus ? " has-focus" : ""}`} aria-hidden="true">
        {edges.map((e) => {
          const geo = geometry.get(e.id);
          if (!geo) return null;
          const label = edgeLabel(e);
          const isLit = lit(e);
          return (
            <g key={e.id} className={edgeClass(e, selected, isLit)} data-id={e.id}>
              <path d={geo.arrow} className="arrow" data-testid="edge-arrow" data-id={e.id} />
              {((detailed && geo.labelShown) || isLit || selected === e.id) && label ? (
                <text x={geo.mx} y={geo.my - 4} className="edge-label" textAnchor="middle">
                  {visible(label)}
                </text>
              ) : null}
            </g>
          );
        })}
      </g>
    </>
  );
});

function Legend() {
  return (
    <div className="legend" aria-label="Edge colours" data-testid="map-legend">
      {EDGE_TONES.map(({ tone, meaning }) => (
        <span key={tone} className={`legend-item tone-${tone}`} title={`${tone}: ${meaning}`} data-tone={tone}>
          <i />
          {tone}
        </span>
      ))}
    </div>
  );
}

function NodePanel({
  node,
  data,
  view,
  setView,
  endpointsFromFlows,
}: {
  node: ServiceMapNode;
  data: ServiceMapData;
  view: ViewState;
  setView: Props["setView"];
  endpointsFromFlows?: Props["endpointsFromFlows"];
}) {
  const policies = useQuery({ queryKey: ["policies"], queryFn: ({ signal }) => getJson<PoliciesResponse>("/api/policies", signal) });
  // The server's endpoint list when it has one; otherwise the endpoint IDs the flows carry.
  const apiEndpoints = useQuery({
    queryKey: ["endpoints"],
    queryFn: ({ signal }) => getJson<{ endpoints: ApiEndpoint[] }>("/api/endpoints", signal),
    enabled: node.kind === "workload",
    retry: false,
    staleTime: 10_000,
  });
  const endpoints: EndpointRef[] =
    node.kind !== "workload"
      ? []
      : apiEndpoints.data
        ? nodeEndpointsFromApi(node, apiEndpoints.data.endpoints ?? [])
        : apiEndpoints.isError && endpointsFromFlows
          ? endpointsFromFlows(node)
          : [];
  const selecting = policies.data ? policiesSelecting(node, policies.data.policies) : [];
  const deciding = new Set<string>();
  for (const e of data.edges) if (e.source === node.id || e.target === node.id) e.policies.forEach((p) => deciding.add(p));
  const filterTo = (entry: string) => setView({ ...view, filters: view.filters.includes(entry) ? view.filters : [...view.filters, entry] });
  return (
    <aside className="map-panel" data-testid="node-panel">
      <header>
        <strong>{visibleName(node.label)}</strong> <span className="kind-badge">{node.kind}</span>
        <button className="btn small icon" aria-label="Close" onClick={() => setView({ ...view, node: undefined }, "replace")}>
          ×
        </button>
      </header>
      <dl className="kv">
        {node.namespace ? (
          <>
            <dt>Namespace</dt>
            <dd>{visibleName(node.namespace)}</dd>
          </>
        ) : null}
        {node.identity !== undefined ? (
          <>
            <dt>Identity</dt>
            <dd>
              <button className="val-link" onClick={() => filterTo(entryFor("identity", String(node.identity)))}>
                {node.identity}
              </button>
            </dd>
          </>
        ) : null}
        <dt>Flows</dt>
        <dd>{node.flows.toLocaleString()}</dd>
        <dt>Ports</dt>
        <dd>{node.ports.join(", ") || "—"}</dd>
      </dl>
      {node.l7.length ? (
        <>
          <h4>L7 endpoints</h4>
          <ul className="plain">
            {node.l7.map((l) => (
              <li key={l} data-testid="node-l7">
                <code>{visible(l)}</code>
                {node.l7_denied?.includes(l) ? (
                  <>
                    {" "}
                    <span className="verdict-pill v-dropped" title="At least one of these requests was refused by an L7 rule (the proxy answered in its place)">
                      denied
                    </span>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {node.kind === "workload" ? (
        <>
          <h4>Endpoints</h4>
          {apiEndpoints.isPending ? <p className="muted small">Loading…</p> : null}
          {!apiEndpoints.isPending && endpoints.length === 0 ? (
            <p className="muted small">{apiEndpoints.data ? "No endpoints of this workload." : "No endpoint IDs in the flows shown."}</p>
          ) : null}
          <ul className="plain" data-testid="node-endpoints">
            {endpoints.slice(0, 50).map((e) => (
              <li key={e.id}>
                <Link href={endpointHref(e.id)} data-testid="endpoint-link">
                  {visibleName(e.pod)}
                </Link>{" "}
                <span className="muted small">ID {e.id}</span>
              </li>
            ))}
          </ul>
          {endpoints.length > 50 ? <p className="muted small">and {endpoints.length - 50} more</p> : null}
        </>
      ) : null}
      <h4>Policies selecting it</h4>
      {policies.isPending ? <p className="muted small">Loading…</p> : null}
      {policies.data && selecting.length === 0 ? <p className="muted small">None: all traffic allowed unless a cluster-wide rule applies.</p> : null}
      <ul className="plain">
        {selecting.map((p) => (
          <li key={`${p.kind}/${p.namespace}/${p.name}`}>
            <Link href={`/policies?policy=${encodeURIComponent(`${p.kind}/${p.namespace ?? ""}/${p.name}`)}`}>{p.name}</Link> <span className="muted small">{p.kind}</span>
          </li>
        ))}
      </ul>
      {deciding.size ? (
        <>
          <h4>Policies deciding its flows</h4>
          <ul className="plain">
            {[...deciding].map((p) => (
              <li key={p}>
                <PolicyRefLink policyRef={p} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {node.labels.length ? (
        <>
          <h4>Labels</h4>
          <div className="labels">
            {node.labels.map((l) => (
              <button key={l} className="val-link" onClick={() => filterTo(entryFor("label", l))}>
                <span className="label-chip">{visibleName(l)}</span>
              </button>
            ))}
          </div>
        </>
      ) : null}
    </aside>
  );
}

function EdgePanel({ edge, view, setView }: { edge: ServiceMapEdge; view: ViewState; setView: Props["setView"] }) {
  return (
    <aside className="map-panel" data-testid="edge-panel">
      <header>
        <strong>
          {visibleName(edge.source)} → {visibleName(edge.target)}
        </strong>
        <button className="btn small icon" aria-label="Close" onClick={() => setView({ ...view, edge: undefined }, "replace")}>
          ×
        </button>
      </header>
      {edgeTone(edge) === "dropped" && edge.verdicts.FORWARDED ? (
        <p className="small error" data-testid="edge-blocked">
          Blocked: none of this traffic reached {visibleName(edge.target)}. The forwarded flows are the source&apos;s own egress verdicts; the destination side dropped every connection.
        </p>
      ) : null}
      <h4>Deciding policies</h4>
      {edge.policies.length === 0 ? <p className="muted small">None recorded.</p> : null}
      <ul className="plain">
        {edge.policies.map((p) => (
          <li key={p}>
            <PolicyRefLink policyRef={p} />
          </li>
        ))}
      </ul>
      <dl className="kv">
        <dt>Flows in window</dt>
        <dd>
          {edge.flows.toLocaleString()} ({edge.rate.toFixed(2)}/s)
        </dd>
        {edge.delivered !== undefined ? (
          <>
            <dt>Reached the destination</dt>
            <dd data-testid="edge-delivered">{edge.delivered.toLocaleString()}</dd>
          </>
        ) : null}
        <dt>Verdicts</dt>
        <dd>
          {Object.entries(edge.verdicts).map(([k, v]) => (
            <span key={k} className={`verdict-pill v-${k.toLowerCase()}`}>
              {k} {v}
            </span>
          ))}
        </dd>
        <dt>Ports</dt>
        <dd>{edge.ports.join(", ") || "—"}</dd>
        <dt>L7</dt>
        <dd>{visible(edge.l7.join(", ")) || "—"}</dd>
      </dl>
      <p className="muted small">The flow table and the exports hold this edge&apos;s flows and the replies back; the counts here are the map&apos;s, over its window, replies left out.</p>
    </aside>
  );
}

/**
 * A deciding policy as the details panel names one: its name, linked to the policy, then its kind and
 * namespace, instead of the "Kind/namespace/name" key the map's aggregates carry.
 */
function PolicyRefLink({ policyRef }: { policyRef: string }) {
  const href = `/policies?policy=${encodeURIComponent(policyRef)}`;
  const m = /^([^/]*)\/([^/]*)\/(.+)$/.exec(policyRef);
  if (!m) return <Link href={href}>{visibleName(policyRef)}</Link>;
  const [, kind, namespace, name] = m;
  return (
    <>
      <Link href={href} data-testid="policy-ref" data-ref={policyRef}>
        {visibleName(name!)}
      </Link>{" "}
      <span className="muted small">
        {visibleName(kind!)}
        {namespace ? ` · ${visibleName(namespace)}` : ""}
      </span>
    </>
  );
}
