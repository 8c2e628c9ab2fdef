// Stable service-map layout. Nodes sit in grid slots inside their namespace "island"; a slot, once
// given, is kept for the life of the layout (hidden nodes keep theirs too), so live updates only ever
// add cards in free slots. Islands are placed by a d3-force simulation (talking namespaces attract,
// islands never overlap) and pinned afterwards: only new islands move while the layout settles.
import { forceCollide, forceLink, forceSimulation, forceX, forceY, type SimulationLinkDatum, type SimulationNodeDatum } from "d3-force";
import type { ServiceMapEdge, ServiceMapNode } from "../api-types";
import { groupOf, type GroupKind } from "./map-model";

export const CARD_W = 176;
export const CARD_H = 48;
const GAP_X = 28;
const GAP_Y = 22;
const PAD = 22;
const HEADER = 30;
const ISLAND_GAP = 70;

export interface Island {
  id: string;
  label: string;
  kind: GroupKind;
  /** top-left */
  x: number;
  y: number;
  w: number;
  h: number;
  cols: number;
  capacity: number;
  /** node ids by slot */
  slots: string[];
}

export interface PlacedNode {
  id: string;
  island: string;
  x: number;
  y: number;
}

export interface LayoutResult {
  islands: Island[];
  nodes: Map<string, PlacedNode>;
  bounds: { x: number; y: number; w: number; h: number };
  /** true when an existing island had to move (only when one outgrew its capacity) */
  moved: boolean;
}

function gridFor(capacity: number): { cols: number; rows: number } {
  // Wider than tall: screens are.
  const cols = Math.max(1, Math.ceil(Math.sqrt(capacity * 1.8)));
  return { cols, rows: Math.max(1, Math.ceil(capacity / cols)) };
}

function islandSize(capacity: number): { w: number; h: number; cols: number } {
  const { cols, rows } = gridFor(capacity);
  return { cols, w: PAD * 2 + cols * CARD_W + (cols - 1) * GAP_X, h: HEADER + PAD * 2 + rows * CARD_H + (rows - 1) * GAP_Y };
}

/** Room to grow, so a few new workloads never resize (and so never move) an island. */
export function capacityFor(count: number): number {
  return Math.max(2, count + Math.ceil(count * 0.25) + (count < 6 ? 1 : 2));
}

const GROUP_ORDER: Record<GroupKind, number> = { outside: 0, cluster: 1, namespace: 2 };

interface IslandSim extends SimulationNodeDatum {
  id: string;
  r: number;
  w: number;
  h: number;
}

export class MapLayout {
  private islands = new Map<string, Island>();
  private slotOf = new Map<string, { island: string; slot: number }>();

  /** Fold a (new) map into the layout and return positions for every node ever seen. */
  update(nodes: readonly ServiceMapNode[], edges: readonly ServiceMapEdge[]): LayoutResult {
    const byIsland = new Map<string, { label: string; kind: GroupKind; fresh: ServiceMapNode[]; total: number }>();
    for (const n of nodes) {
      const g = groupOf(n);
      let e = byIsland.get(g.id);
      if (!e) byIsland.set(g.id, (e = { label: g.label, kind: g.kind, fresh: [], total: 0 }));
      e.total++;
      if (!this.slotOf.has(n.id)) e.fresh.push(n);
    }

    const resized = new Set<string>();
    const created: string[] = [];
    for (const [id, g] of byIsland) {
      if (g.fresh.length === 0) continue;
      // Deterministic slot order for a batch: by id, so the same data gives the same picture.
      g.fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let isl = this.islands.get(id);
      if (!isl) {
        const capacity = capacityFor(g.total);
        const size = islandSize(capacity);
        isl = { id, label: g.label, kind: g.kind, x: 0, y: 0, w: size.w, h: size.h, cols: size.cols, capacity, slots: [] };
        this.islands.set(id, isl);
        created.push(id);
      }
      const needed = isl.slots.length + g.fresh.length;
      if (needed > isl.capacity) {
        const capacity = capacityFor(needed);
        const size = islandSize(capacity);
        Object.assign(isl, { capacity, w: size.w, h: size.h, cols: size.cols });
        if (!created.includes(id)) resized.add(id);
      }
      for (const n of g.fresh) {
        this.slotOf.set(n.id, { island: id, slot: isl.slots.length });
        isl.slots.push(n.id);
      }
    }

    const moved = created.length > 0 || resized.size > 0 ? this.placeIslands(new Set(created), resized, edges) : false;
    return this.result(moved);
  }

  private placeIslands(created: Set<string>, resized: Set<string>, edges: readonly ServiceMapEdge[]): boolean {
    const all = [...this.islands.values()].sort(
      (a, b) => GROUP_ORDER[a.kind] - GROUP_ORDER[b.kind] || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
    );
    const firstLayout = all.every((i) => created.has(i.id));
    const sims: IslandSim[] = all.map((isl, i) => {
      const r = Math.hypot(isl.w, isl.h) / 2 + ISLAND_GAP / 2;
      const cx = isl.x + isl.w / 2;
      const cy = isl.y + isl.h / 2;
      if (created.has(isl.id)) {
        // Seed on a spiral in sort order: deterministic, and close to the centre.
        const a = i * 2.4;
        const d = 300 * Math.sqrt(i);
        return { id: isl.id, r, w: isl.w, h: isl.h, x: Math.cos(a) * d, y: Math.sin(a) * d };
      }
      // Existing islands are pinned; a resized one grows around its old centre.
      return { id: isl.id, r, w: isl.w, h: isl.h, x: cx, y: cy, fx: cx, fy: cy };
    });
    const index = new Map(sims.map((s) => [s.id, s]));
    const weights = new Map<string, { source: string; target: string; w: number }>();
    for (const e of edges) {
      const a = this.slotOf.get(e.source)?.island;
      const b = this.slotOf.get(e.target)?.island;
      if (!a || !b || a === b) continue;
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      const cur = weights.get(key) ?? { source: a, target: b, w: 0 };
      cur.w += 1;
      weights.set(key, cur);
    }
    const links: (SimulationLinkDatum<IslandSim> & { w: number })[] = [...weights.values()]
      .filter((l) => index.has(l.source) && index.has(l.target))
      .map((l) => ({ source: l.source, target: l.target, w: l.w }));

    const sim = forceSimulation<IslandSim>(sims)
      .force("collide", forceCollide<IslandSim>((d) => d.r).strength(1).iterations(3))
      .force(
        "link",
        forceLink<IslandSim, SimulationLinkDatum<IslandSim> & { w: number }>(links)
          .id((d) => d.id)
          .distance((l) => ((l.source as IslandSim).r + (l.target as IslandSim).r) * 1.05)
          .strength((l) => Math.min(0.6, 0.08 * l.w)),
      )
      .force("x", forceX<IslandSim>(0).strength(firstLayout ? 0.06 : 0.02))
      .force("y", forceY<IslandSim>(0).strength(firstLayout ? 0.1 : 0.03))
      .stop();
    sim.tick(firstLayout ? 400 : 250);

    // Circles only approximate boxes, and pinned islands cannot give way: settle each moving island
    // on the nearest free spot (spiral search around where the forces put it), in sort order.
    const placed: Island[] = all.filter((i) => !created.has(i.id) && !resized.has(i.id));
    for (const s of sims) {
      const isl = this.islands.get(s.id)!;
      if (!created.has(isl.id) && !resized.has(isl.id)) continue;
      const spot = freeSpot(isl, (s.x ?? 0) - isl.w / 2, (s.y ?? 0) - isl.h / 2, placed);
      isl.x = spot.x;
      isl.y = spot.y;
      placed.push(isl);
    }
    return resized.size > 0;
  }

  private result(moved: boolean): LayoutResult {
    const nodes = new Map<string, PlacedNode>();
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const isl of this.islands.values()) {
      minX = Math.min(minX, isl.x);
      minY = Math.min(minY, isl.y);
      maxX = Math.max(maxX, isl.x + isl.w);
      maxY = Math.max(maxY, isl.y + isl.h);
      isl.slots.forEach((id, slot) => {
        const col = slot % isl.cols;
        const row = Math.floor(slot / isl.cols);
        nodes.set(id, {
          id,
          island: isl.id,
          x: isl.x + PAD + col * (CARD_W + GAP_X),
          y: isl.y + HEADER + PAD + row * (CARD_H + GAP_Y),
        });
      });
    }
    if (!Number.isFinite(minX)) {
      minX = minY = 0;
      maxX = maxY = 0;
    }
    return {
      islands: [...this.islands.values()].map((i) => ({ ...i, slots: [...i.slots] })),
      nodes,
      bounds: { x: minX, y: minY, w: maxX - minX, h: maxY - minY },
      moved,
    };
  }
}

function freeSpot(isl: Pick<Island, "w" | "h">, x0: number, y0: number, placed: readonly Island[]): { x: number; y: number } {
  const clear = (x: number, y: number) =>
    placed.every((p) => !overlaps({ x: x - ISLAND_GAP / 2, y: y - ISLAND_GAP / 2, w: isl.w + ISLAND_GAP, h: isl.h + ISLAND_GAP }, p));
  for (let i = 0; i < 20_000; i++) {
    const a = i * 0.5;
    const d = 12 * Math.sqrt(i) * 6;
    const x = Math.round(x0 + Math.cos(a) * d);
    const y = Math.round(y0 + Math.sin(a) * d);
    if (clear(x, y)) return { x, y };
  }
  // Unreachable in practice; fall back to below everything rather than overlapping.
  const bottom = Math.max(0, ...placed.map((p) => p.y + p.h));
  return { x: Math.round(x0), y: bottom + ISLAND_GAP };
}

/** Whether two axis-aligned islands overlap (used by tests and the debug overlay). */
export function overlaps(a: Pick<Island, "x" | "y" | "w" | "h">, b: Pick<Island, "x" | "y" | "w" | "h">): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Zoom transform that fits `bounds` into a viewport with a margin; never zooms in past 1. */
export function fitTransform(bounds: { x: number; y: number; w: number; h: number }, width: number, height: number, margin = 40): { x: number; y: number; k: number } {
  if (bounds.w <= 0 || bounds.h <= 0 || width <= 0 || height <= 0) return { x: width / 2, y: height / 2, k: 1 };
  const k = Math.min(1, (width - margin * 2) / bounds.w, (height - margin * 2) / bounds.h);
  return { k, x: (width - bounds.w * k) / 2 - bounds.x * k, y: (height - bounds.h * k) / 2 - bounds.y * k };
}

/** Edge path between two cards: from the nearer sides, a gentle curve so opposite edges don't overlap. */
export function edgePath(a: { x: number; y: number }, b: { x: number; y: number }): { d: string; mx: number; my: number } {
  const ax = a.x + CARD_W / 2;
  const ay = a.y + CARD_H / 2;
  const bx = b.x + CARD_W / 2;
  const by = b.y + CARD_H / 2;
  const [sx, sy] = clipToCard(ax, ay, bx, by);
  const [tx, ty] = clipToCard(bx, by, ax, ay);
  const dx = tx - sx;
  const dy = ty - sy;
  const len = Math.hypot(dx, dy) || 1;
  // Bend to the right of travel: A→B and B→A become two separate arcs.
  const bend = Math.min(40, len * 0.12);
  const cx = (sx + tx) / 2 - (dy / len) * bend;
  const cy = (sy + ty) / 2 + (dx / len) * bend;
  const mx = 0.25 * sx + 0.5 * cx + 0.25 * tx;
  const my = 0.25 * sy + 0.5 * cy + 0.25 * ty;
  return { d: `M${r1(sx)},${r1(sy)} Q${r1(cx)},${r1(cy)} ${r1(tx)},${r1(ty)}`, mx, my };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function clipToCard(cx: number, cy: number, ox: number, oy: number): [number, number] {
  const dx = ox - cx;
  const dy = oy - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const hw = CARD_W / 2 + 4;
  const hh = CARD_H / 2 + 4;
  const t = Math.min(Math.abs(dx) > 0 ? hw / Math.abs(dx) : Infinity, Math.abs(dy) > 0 ? hh / Math.abs(dy) : Infinity);
  return [cx + dx * Math.min(t, 1), cy + dy * Math.min(t, 1)];
}
