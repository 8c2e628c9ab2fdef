// Stable service-map layout. Each namespace is an "island" sized to its workloads; cards sit in grid
// slots that, once given, are kept for the life of the layout (hidden nodes keep theirs too), so live
// updates only ever add cards in free slots. The first batch of islands is shelf-packed at the width
// that best fills the viewport's shape (a map pane is much wider than tall); islands that appear later
// are put where they keep that shape best, without moving any island already drawn.
import type { ServiceMapEdge, ServiceMapNode } from "../api-types";
import { groupOf, type GroupKind } from "./map-model";

export const CARD_W = 176;
export const CARD_H = 48;
const GAP_X = 22;
const GAP_Y = 16;
const PAD = 16;
const HEADER = 28;
const ISLAND_GAP = 36;
/** Widest a default-sized viewport pane usually is relative to its height, used until told otherwise. */
const DEFAULT_ASPECT = 2.5;

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

type Box = { x: number; y: number; w: number; h: number };

/** Columns for an island of `count` cards: cards are wide, so a near-square island has fewer columns than rows. */
export function columnsFor(count: number): number {
  return Math.max(1, Math.min(count, Math.ceil(Math.sqrt(count / 1.1))));
}

/** width of one character of an island label, and how many an island grows to show */
export const LABEL_CHAR_PX = 8.5;
const ISLAND_LABEL_MAX_CHARS = 40;

function islandSize(count: number, label: string): { w: number; h: number; cols: number; capacity: number } {
  const cols = columnsFor(count);
  const rows = Math.max(1, Math.ceil(count / cols));
  // The header label should fit too (≈8.5 px a character at the island label size), up to a point:
  // a namespace name may be 253 characters, and the label is cut to the island instead.
  const w = Math.max(PAD * 2 + cols * CARD_W + (cols - 1) * GAP_X, Math.ceil(Math.min(label.length, ISLAND_LABEL_MAX_CHARS) * LABEL_CHAR_PX) + PAD * 2);
  return { cols, capacity: cols * rows, w, h: HEADER + PAD + rows * CARD_H + (rows - 1) * GAP_Y + PAD };
}

/** Slots a grown island needs: its cards plus a little room, so the next new workload does not resize it again. */
export function capacityFor(count: number): number {
  return count + Math.max(1, Math.ceil(count * 0.2));
}

const GROUP_ORDER: Record<GroupKind, number> = { outside: 0, cluster: 1, namespace: 2 };

/** Scale at which `b` fits a viewport of the given aspect (width / height) with height 1. */
function fitScale(b: Box, aspect: number): number {
  return b.w > 0 && b.h > 0 ? Math.min(aspect / b.w, 1 / b.h) : 0;
}

function union(boxes: readonly Box[]): Box {
  if (boxes.length === 0) return { x: 0, y: 0, w: 0, h: 0 };
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const b of boxes) {
    minX = Math.min(minX, b.x);
    minY = Math.min(minY, b.y);
    maxX = Math.max(maxX, b.x + b.w);
    maxY = Math.max(maxY, b.y + b.h);
  }
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY };
}

/** Left-to-right shelves no wider than `width` (a wider island gets a shelf of its own). */
function shelfPack(sizes: readonly { w: number; h: number }[], width: number): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  let x = 0;
  let y = 0;
  let shelfH = 0;
  for (const s of sizes) {
    if (x > 0 && x + s.w > width) {
      y += shelfH + ISLAND_GAP;
      x = 0;
      shelfH = 0;
    }
    out.push({ x, y });
    x += s.w + ISLAND_GAP;
    shelfH = Math.max(shelfH, s.h);
  }
  return out;
}

/** A card absent from this many consecutive maps (5 minutes of live refreshes) gives up its slot. */
export const RETIRE_AFTER_UPDATES = 60;

export class MapLayout {
  private islands = new Map<string, Island>();
  private slotOf = new Map<string, { island: string; slot: number }>();
  /** the update in which each placed node was last in the map */
  private lastSeen = new Map<string, number>();
  private tick = 0;
  private aspect = DEFAULT_ASPECT;

  /** Cards holding a slot (live and recently gone); bounded by the nodes of the last RETIRE_AFTER_UPDATES maps. */
  get placed(): number {
    return this.slotOf.size;
  }

  /** The viewport's width / height; used to shape islands placed from now on. */
  setAspect(aspect: number): void {
    if (Number.isFinite(aspect) && aspect > 0.2 && aspect < 20) this.aspect = aspect;
  }

  /** Fold a (new) map into the layout and return positions for every node seen lately. */
  update(nodes: readonly ServiceMapNode[], _edges: readonly ServiceMapEdge[] = []): LayoutResult {
    this.tick++;
    for (const n of nodes) this.lastSeen.set(n.id, this.tick);
    this.retire();
    const byIsland = new Map<string, { label: string; kind: GroupKind; fresh: ServiceMapNode[]; total: number }>();
    for (const n of nodes) {
      const g = groupOf(n);
      let e = byIsland.get(g.id);
      if (!e) byIsland.set(g.id, (e = { label: g.label, kind: g.kind, fresh: [], total: 0 }));
      e.total++;
      if (!this.slotOf.has(n.id)) e.fresh.push(n);
    }

    const resized: Island[] = [];
    const created: Island[] = [];
    for (const [id, g] of byIsland) {
      if (g.fresh.length === 0) continue;
      // Deterministic slot order for a batch: by id, so the same data gives the same picture.
      g.fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let isl = this.islands.get(id);
      if (!isl) {
        isl = { id, label: g.label, kind: g.kind, x: 0, y: 0, ...islandSize(g.total, g.label), slots: [] };
        this.islands.set(id, isl);
        created.push(isl);
      }
      const needed = isl.slots.length - isl.slots.filter((x) => x === "").length + g.fresh.length;
      if (needed > isl.capacity) {
        Object.assign(isl, islandSize(capacityFor(needed), isl.label));
        if (!created.includes(isl)) resized.push(isl);
      }
      let free = 0;
      for (const n of g.fresh) {
        // Slots of retired cards are reused first; nothing else moves.
        while (free < isl.slots.length && isl.slots[free] !== "") free++;
        this.slotOf.set(n.id, { island: id, slot: free });
        if (free < isl.slots.length) isl.slots[free] = n.id;
        else isl.slots.push(n.id);
      }
    }

    const order = (a: Island, b: Island) =>
      GROUP_ORDER[a.kind] - GROUP_ORDER[b.kind] || b.slots.length - a.slots.length || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    const firstLayout = created.length > 0 && created.length === this.islands.size;
    let moved = false;
    if (firstLayout) this.packAll([...created].sort(order));
    else {
      const fixed = [...this.islands.values()].filter((i) => !created.includes(i) && !resized.includes(i));
      // A grown island stays put if it still fits there; otherwise it moves (the only time anything moves).
      for (const isl of resized) {
        if (fixed.some((o) => overlaps(padded(isl), o))) {
          this.placeAmong(isl, fixed);
          moved = true;
        }
        fixed.push(isl);
      }
      for (const isl of [...created].sort(order)) {
        this.placeAmong(isl, fixed);
        fixed.push(isl);
      }
    }
    return this.result(moved);
  }

  /**
   * Live maps come and go (FQDN and CIDR peers, short-lived workloads): a card unseen for
   * RETIRE_AFTER_UPDATES maps frees its slot, and an island left empty goes, so a page left open
   * for days holds what the recent maps held, not everything it ever saw.
   */
  private retire(): void {
    const cutoff = this.tick - RETIRE_AFTER_UPDATES;
    for (const [id, seen] of this.lastSeen) {
      if (seen > cutoff) continue;
      this.lastSeen.delete(id);
      const at = this.slotOf.get(id);
      if (!at) continue;
      this.slotOf.delete(id);
      const isl = this.islands.get(at.island);
      if (!isl) continue;
      isl.slots[at.slot] = "";
      while (isl.slots.length && isl.slots[isl.slots.length - 1] === "") isl.slots.pop();
      if (isl.slots.length === 0) this.islands.delete(isl.id);
    }
  }

  /** The first layout: try every sensible shelf width and keep the one that fills the viewport best. */
  private packAll(list: Island[]): void {
    const total = list.reduce((s, i) => s + i.w + ISLAND_GAP, 0);
    const widest = Math.max(...list.map((i) => i.w));
    let best: { pos: { x: number; y: number }[]; k: number } | undefined;
    for (let step = 0; step <= 40; step++) {
      const width = widest + ((total - widest) * step) / 40;
      const pos = shelfPack(list, width);
      const k = fitScale(union(list.map((isl, i) => ({ ...pos[i]!, w: isl.w, h: isl.h }))), this.aspect);
      if (!best || k > best.k * 1.0001) best = { pos, k };
    }
    list.forEach((isl, i) => Object.assign(isl, best!.pos[i]));
  }

  /** A later island: the free spot (right of, or below, what is drawn) that keeps the map closest to the viewport's shape. */
  private placeAmong(isl: Island, fixed: readonly Island[]): void {
    const b = union(fixed);
    const candidates: { x: number; y: number }[] = [];
    // Beside each island on the right edge of a shelf, and at the start of a new shelf below.
    for (const o of fixed) candidates.push({ x: o.x + o.w + ISLAND_GAP, y: o.y }, { x: o.x, y: o.y + o.h + ISLAND_GAP });
    candidates.push({ x: b.x + b.w + ISLAND_GAP, y: b.y }, { x: b.x, y: b.y + b.h + ISLAND_GAP });
    let best: { x: number; y: number; k: number } | undefined;
    for (const c of candidates) {
      const box = { ...c, w: isl.w, h: isl.h };
      if (fixed.some((o) => overlaps(padded(box), o))) continue;
      const k = fitScale(union([...fixed, box]), this.aspect);
      if (!best || k > best.k * 1.0001) best = { ...c, k };
    }
    if (!best) return;
    isl.x = best.x;
    isl.y = best.y;
  }

  private result(moved: boolean): LayoutResult {
    const nodes = new Map<string, PlacedNode>();
    for (const isl of this.islands.values()) {
      isl.slots.forEach((id, slot) => {
        if (id === "") return;
        const col = slot % isl.cols;
        const row = Math.floor(slot / isl.cols);
        nodes.set(id, {
          id,
          island: isl.id,
          x: isl.x + PAD + col * (CARD_W + GAP_X),
          y: isl.y + HEADER + row * (CARD_H + GAP_Y),
        });
      });
    }
    return {
      islands: [...this.islands.values()].map((i) => ({ ...i, slots: [...i.slots] })),
      nodes,
      bounds: union([...this.islands.values()]),
      moved,
    };
  }
}

/** An island's box grown by half the gap on each side, so neighbours keep a gap between them. */
function padded(b: Box): Box {
  return { x: b.x - ISLAND_GAP / 2 + 1, y: b.y - ISLAND_GAP / 2 + 1, w: b.w + ISLAND_GAP - 2, h: b.h + ISLAND_GAP - 2 };
}

/** Whether two axis-aligned islands overlap (used by tests and the debug overlay). */
export function overlaps(a: Pick<Island, "x" | "y" | "w" | "h">, b: Pick<Island, "x" | "y" | "w" | "h">): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Fit zoom never goes past this: a map of three cards should not fill the screen with giant text. */
export const FIT_MAX_ZOOM = 1.25;

/** Zoom transform that fits `bounds` into a viewport with a margin, up to FIT_MAX_ZOOM. */
export function fitTransform(bounds: { x: number; y: number; w: number; h: number }, width: number, height: number, margin = 20): { x: number; y: number; k: number } {
  if (bounds.w <= 0 || bounds.h <= 0 || width <= 0 || height <= 0) return { x: width / 2, y: height / 2, k: 1 };
  const k = Math.min(FIT_MAX_ZOOM, (width - margin * 2) / bounds.w, (height - margin * 2) / bounds.h);
  return { k, x: (width - bounds.w * k) / 2 - bounds.x * k, y: (height - bounds.h * k) / 2 - bounds.y * k };
}
