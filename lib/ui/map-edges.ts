// Service-map edge geometry. An edge is a Bézier curve that starts on its source card's border and ends,
// with its arrowhead's tip, on its target card's border, so the arrow shows which card it enters. Of a
// few bends (always to the right of travel when the reverse edge exists, so A→B and B→A stay apart) the
// one that passes over the fewest other cards is kept. Where an edge still crosses a card it does not
// connect, the map draws that stretch again above the cards (see ServiceMap), so it is never hidden.
import { CARD_H, CARD_W } from "./map-layout";

export interface Pt {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface EdgeGeometry {
  /** the whole edge, border to border: the click target and the stretch drawn again above other cards */
  d: string;
  /** the drawn line: the edge less the part under its arrowhead */
  line: string;
  /** the arrowhead triangle, tip first; the tip is on the target card's border */
  arrow: string;
  start: Pt;
  end: Pt;
  /** where the label goes */
  mx: number;
  my: number;
  /**
   * whether the label is drawn when the map shows every label: not when it would cover a card or a
   * busier edge's label wherever it went along its edge (it still shows when its edge is lit or selected)
   */
  labelShown: boolean;
  /** samples of the edge over cards it does not connect, for the chosen bend */
  crossings: number;
}

/** How far outside a card's border an edge starts and its arrow's tip sits (layout px): clear of the card's stroke. */
export const EDGE_GAP = 1;

const lerp = (a: Pt, b: Pt, t: number): Pt => ({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t });

/** A point of a Bézier curve of any degree (closed form for the quadratic and cubic ones drawn here). */
export function bezierAt(p: readonly Pt[], t: number): Pt {
  const u = 1 - t;
  if (p.length === 3) {
    const [a, b, c] = p as [Pt, Pt, Pt];
    return { x: u * u * a.x + 2 * u * t * b.x + t * t * c.x, y: u * u * a.y + 2 * u * t * b.y + t * t * c.y };
  }
  if (p.length === 4) {
    const [a, b, c, d] = p as [Pt, Pt, Pt, Pt];
    const k0 = u * u * u;
    const k1 = 3 * u * u * t;
    const k2 = 3 * u * t * t;
    const k3 = t * t * t;
    return { x: k0 * a.x + k1 * b.x + k2 * c.x + k3 * d.x, y: k0 * a.y + k1 * b.y + k2 * c.y + k3 * d.y };
  }
  let pts = p.slice();
  while (pts.length > 1) pts = pts.slice(1).map((q, i) => lerp(pts[i]!, q, t));
  return pts[0]!;
}

function splitAt(p: readonly Pt[], t: number): [Pt[], Pt[]] {
  const left: Pt[] = [];
  const right: Pt[] = [];
  let pts = p.slice();
  while (pts.length) {
    left.push(pts[0]!);
    right.unshift(pts[pts.length - 1]!);
    pts = pts.slice(1).map((q, i) => lerp(pts[i]!, q, t));
  }
  return [left, right];
}

/** The part of a curve between t0 and t1, as a curve of the same degree. */
export function subCurve(p: readonly Pt[], t0: number, t1: number): Pt[] {
  const [head] = splitAt(p, t1);
  return splitAt(head, t1 > 0 ? t0 / t1 : 0)[1];
}

export function cardRect(p: Pt): Rect {
  return { x: p.x, y: p.y, w: CARD_W, h: CARD_H };
}

function inside(r: Rect, p: Pt, pad = 0): boolean {
  return p.x > r.x - pad && p.x < r.x + r.w + pad && p.y > r.y - pad && p.y < r.y + r.h + pad;
}

/**
 * The parameter where the curve leaves `r` (from t=from toward t=to): the first point, scanning from
 * `from`, that is out of the rectangle grown by `pad`, refined by bisection.
 */
function leave(p: readonly Pt[], r: Rect, pad: number, from: number, to: number): number {
  const N = 24;
  let prev = from;
  for (let i = 1; i <= N; i++) {
    const t = from + ((to - from) * i) / N;
    if (!inside(r, bezierAt(p, t), pad)) {
      let a = prev; // inside
      let b = t; // outside
      for (let k = 0; k < 18; k++) {
        const m = (a + b) / 2;
        if (inside(r, bezierAt(p, m), pad)) a = m;
        else b = m;
      }
      return b;
    }
    prev = t;
  }
  return to;
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const pathOf = (p: readonly Pt[]) =>
  p.length === 3
    ? `M${r1(p[0]!.x)},${r1(p[0]!.y)} Q${r1(p[1]!.x)},${r1(p[1]!.y)} ${r1(p[2]!.x)},${r1(p[2]!.y)}`
    : `M${r1(p[0]!.x)},${r1(p[0]!.y)} C${p
        .slice(1)
        .map((q) => `${r1(q.x)},${r1(q.y)}`)
        .join(" ")}`;

/** Arrowhead size for a line of width `w`. */
export function arrowSize(w: number): { len: number; half: number } {
  return { len: 5 + 1.5 * w, half: 2.5 + 0.9 * w };
}

/** An edge's path, cut to its cards' borders, before it gets a width. */
export interface EdgeRoute {
  c: Pt[];
  label: Pt;
  crossings: number;
}

/** Line, arrowhead and label place for a curve already cut to the cards' borders. */
export function finish({ c, label, crossings }: EdgeRoute, width: number): EdgeGeometry {
  const start = c[0]!;
  const end = c[c.length - 1]!;
  const chord = Math.hypot(end.x - start.x, end.y - start.y);
  const size = arrowSize(width);
  // Two cards a gap apart: the arrow takes at most half of what is between them.
  const len = Math.max(2, Math.min(size.len, chord * 0.5));
  const half = (size.half * len) / size.len;
  // The point `len` back along the curve from the tip (distance to the tip grows toward t=0).
  const back = (d: number) => {
    let a = 0;
    let b = 1;
    for (let k = 0; k < 18; k++) {
      const m = (a + b) / 2;
      const q = bezierAt(c, m);
      if (Math.hypot(end.x - q.x, end.y - q.y) > d) a = m;
      else b = m;
    }
    return a;
  };
  const tb = back(len);
  const base = bezierAt(c, tb);
  const ux = (end.x - base.x) / (Math.hypot(end.x - base.x, end.y - base.y) || 1);
  const uy = (end.y - base.y) / (Math.hypot(end.x - base.x, end.y - base.y) || 1);
  const bx = end.x - ux * len;
  const by = end.y - uy * len;
  // The line runs a little into the arrowhead, so no seam shows between them.
  const line = subCurve(c, 0, back(len * 0.85));
  return {
    d: pathOf(c),
    line: pathOf(line),
    arrow: `M${r1(end.x)},${r1(end.y)} L${r1(bx - uy * half)},${r1(by + ux * half)} L${r1(bx + uy * half)},${r1(by - ux * half)} Z`,
    start,
    end,
    mx: label.x,
    my: label.y,
    labelShown: true,
    crossings,
  };
}

/** Cards by grid cell, to find the ones near a point quickly. */
export class CardIndex {
  private cells = new Map<string, { id: string; r: Rect }[]>();
  private static CELL = 256;
  constructor(cards: Iterable<{ id: string; x: number; y: number }>) {
    for (const c of cards) {
      const r = cardRect(c);
      for (let cx = Math.floor(r.x / CardIndex.CELL); cx <= Math.floor((r.x + r.w) / CardIndex.CELL); cx++)
        for (let cy = Math.floor(r.y / CardIndex.CELL); cy <= Math.floor((r.y + r.h) / CardIndex.CELL); cy++) {
          const k = `${cx},${cy}`;
          let list = this.cells.get(k);
          if (!list) this.cells.set(k, (list = []));
          list.push({ id: c.id, r });
        }
    }
  }
  /** Whether the box touches any card. */
  touches(r: Rect): boolean {
    const C = CardIndex.CELL;
    for (let cx = Math.floor(r.x / C); cx <= Math.floor((r.x + r.w) / C); cx++)
      for (let cy = Math.floor(r.y / C); cy <= Math.floor((r.y + r.h) / C); cy++)
        if (this.cells.get(`${cx},${cy}`)?.some((c) => c.r.x < r.x + r.w && r.x < c.r.x + c.r.w && c.r.y < r.y + r.h && r.y < c.r.y + c.r.h)) return true;
    return false;
  }
  /** Whether `p` is on a card other than those in `except`. */
  over(p: Pt, except: readonly string[]): boolean {
    const list = this.cells.get(`${Math.floor(p.x / CardIndex.CELL)},${Math.floor(p.y / CardIndex.CELL)}`);
    if (!list) return false;
    for (const c of list) if (inside(c.r, p) && !except.includes(c.id)) return true;
    return false;
  }
}

const SAMPLES = 24;

/** Points of the curve, about every `step` px of its chord (at least `min`), that are on cards other than `except`. */
function countOver(c: readonly Pt[], index: CardIndex, except: readonly string[], step = 0, min = SAMPLES): number {
  const a = c[0]!;
  const z = c[c.length - 1]!;
  const n = step > 0 ? Math.max(min, Math.ceil(Math.hypot(z.x - a.x, z.y - a.y) / step)) : min;
  let k = 0;
  for (let i = 1; i < n; i++) if (index.over(bezierAt(c, i / n), except)) k++;
  return k;
}

/** Width of a character of an edge label (10.5 px monospace), and how far above its line it sits. */
const LABEL_CHAR = 6.4;
const LABEL_H = 13;

/** Where along an edge its label is tried: the middle first, then further out on alternate sides. */
const LABEL_TS = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82];

/** The box a label of `chars` characters covers at `p` (centred on x, drawn 4 px above the line: ServiceMap). */
function labelBox(p: Pt, chars: number): Rect {
  const w = chars * LABEL_CHAR + 6;
  return { x: p.x - w / 2, y: p.y - 4 - LABEL_H, w, h: LABEL_H + 3 };
}

const intersects = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Where the label goes along curve `c`: the middle, or the nearest place to it where the label covers
 * no card (a label on a card hid the card's own text); the middle when there is none.
 */
function labelPlace(c: readonly Pt[], chars: number, index?: CardIndex): Pt {
  const mid = bezierAt(c, 0.5);
  if (!index || chars <= 0) return mid;
  for (const t of LABEL_TS) {
    const p = bezierAt(c, t);
    if (!index.touches(labelBox(p, chars))) return p;
  }
  return mid;
}

/**
 * Labels that would overlap are not drawn on top of each other, where two busy edges cross or run
 * side by side (unreadable, and each hid the other). The busiest edges choose first; each label takes
 * the first place along its edge that covers neither a card nor a label already placed, and a label
 * with no such place is left out of the all-labels view (shown when its edge is lit or selected).
 */
function placeLabels(
  items: readonly { id: string; route: EdgeRoute; chars: number; width: number; loop: boolean }[],
  index: CardIndex,
  out: Map<string, EdgeGeometry>,
): void {
  const order = items.filter((x) => x.chars > 0).sort((a, b) => b.width - a.width || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const placed: Rect[] = [];
  for (const it of order) {
    const g = out.get(it.id)!;
    const spots = it.loop ? [it.route.label] : LABEL_TS.map((t) => bezierAt(it.route.c, t));
    const spot = spots.find((p) => {
      const box = labelBox(p, it.chars);
      return !index.touches(box) && !placed.some((q) => intersects(q, box));
    });
    if (spot === undefined) {
      g.labelShown = false;
      continue;
    }
    placed.push(labelBox(spot, it.chars));
    g.mx = spot.x;
    g.my = spot.y;
  }
}

/**
 * Geometry of an edge between two different cards. `bends` are offsets of the curve's control point to
 * the right of travel as fractions of the distance between the cards' centres (negative: to the left);
 * with an index of the cards, the bend passing over the fewest other cards wins (the first on a tie).
 */
export function edgeGeometry(
  a: { id: string; x: number; y: number },
  b: { id: string; x: number; y: number },
  width: number,
  opts: { index?: CardIndex; bends?: readonly number[]; labelChars?: number } = {},
): EdgeGeometry {
  return finish(edgeRoute(a, b, opts), width);
}

export function edgeRoute(
  a: { id: string; x: number; y: number },
  b: { id: string; x: number; y: number },
  opts: { index?: CardIndex; bends?: readonly number[]; labelChars?: number } = {},
): EdgeRoute {
  const ra = cardRect(a);
  const rb = cardRect(b);
  const s = { x: a.x + CARD_W / 2, y: a.y + CARD_H / 2 };
  const t = { x: b.x + CARD_W / 2, y: b.y + CARD_H / 2 };
  const dx = t.x - s.x;
  const dy = t.y - s.y;
  const dist = Math.hypot(dx, dy) || 1;
  const bends = opts.bends?.length ? opts.bends : [DEFAULT_BEND];
  let best: { full: Pt[]; crossings: number } | undefined;
  for (const f of bends) {
    // The default bend stays a gentle curve (at most 40 px off); the alternatives swing wider.
    const off = Math.sign(f) * Math.min(Math.abs(f) * dist, Math.abs(f) <= DEFAULT_BEND ? 40 : 200);
    const ctrl = { x: (s.x + t.x) / 2 - (dy / dist) * off, y: (s.y + t.y) / 2 + (dx / dist) * off };
    const full = [s, ctrl, t];
    // centre to centre: the stretches on the edge's own cards do not count
    const crossings = opts.index && bends.length > 1 ? countOver(full, opts.index, [a.id, b.id], 12) : 0;
    if (!best || crossings < best.crossings) best = { full, crossings };
    if (crossings === 0) break;
  }
  const full = best!.full;
  const t0 = leave(full, ra, EDGE_GAP, 0, 1);
  const t1 = leave(full, rb, EDGE_GAP, 1, t0);
  const c = t1 > t0 ? subCurve(full, t0, t1) : full;
  // The chosen curve checked finely: a corner of a card can fall between the coarse samples.
  const crossings = opts.index ? countOver(c, opts.index, [a.id, b.id], 8) : 0;
  return { c, label: labelPlace(c, opts.labelChars ?? 0, opts.index), crossings };
}

export const DEFAULT_BEND = 0.12;

/** An edge from a card to itself: a loop off its top-right corner into its right side. */
export function selfLoopRoute(a: { id?: string; x: number; y: number }, index?: CardIndex): EdgeRoute {
  const c = [
    { x: a.x + CARD_W - 30, y: a.y - EDGE_GAP },
    { x: a.x + CARD_W + 10, y: a.y - 40 },
    { x: a.x + CARD_W + 40, y: a.y + 10 },
    { x: a.x + CARD_W + EDGE_GAP, y: a.y + 20 },
  ];
  return { c, label: { x: a.x + CARD_W + 22, y: a.y - 14 }, crossings: index && a.id ? countOver(c, index, [a.id], 8) : 0 };
}

/**
 * Geometry for every edge of the map. The reverse of an edge being drawn too, only bends to the right of
 * travel are tried, so the two stay apart; otherwise either side.
 */
export function routeEdges(
  edges: readonly { id: string; source: string; target: string; width: number; labelChars?: number }[],
  nodes: ReadonlyMap<string, { x: number; y: number }>,
  visibleIds: Iterable<string>,
  cache?: EdgeCache,
): Map<string, EdgeGeometry> {
  const cards: { id: string; x: number; y: number }[] = [];
  for (const id of visibleIds) {
    const p = nodes.get(id);
    if (p) cards.push({ id, x: p.x, y: p.y });
  }
  // A live map refreshes every few seconds with the same cards: then every edge whose ends and label
  // are unchanged keeps its route (only its width, from its rate, changes).
  const cardsKey = cards.map((c) => `${c.id}@${c.x},${c.y}`).sort().join("\n");
  const reuse = cache && cache.cardsKey === cardsKey ? cache.byKey : new Map<string, EdgeRoute>();
  const next = new Map<string, EdgeRoute>();
  let index: CardIndex | undefined;
  const pairs = new Set(edges.map((e) => `${e.source}\u0000${e.target}`));
  const out = new Map<string, EdgeGeometry>();
  const labelled: { id: string; route: EdgeRoute; chars: number; width: number; loop: boolean }[] = [];
  for (const e of edges) {
    const a = nodes.get(e.source);
    const b = nodes.get(e.target);
    if (!a || !b) continue;
    const twoWay = pairs.has(`${e.target}\u0000${e.source}`);
    const key = `${e.source}\u0000${e.target}\u0000${e.labelChars ?? 0}\u0000${twoWay}`;
    let r = reuse.get(key);
    if (!r) {
      index ??= new CardIndex(cards);
      if (e.source === e.target) r = selfLoopRoute({ id: e.source, ...a }, index);
      else {
        const bends = twoWay ? [DEFAULT_BEND, 0.3, 0.5] : [DEFAULT_BEND, -DEFAULT_BEND, 0.3, -0.3, 0.5, -0.5];
        r = edgeRoute({ id: e.source, ...a }, { id: e.target, ...b }, { index, bends, labelChars: e.labelChars });
      }
    }
    next.set(key, r);
    out.set(e.id, finish(r, e.width));
    labelled.push({ id: e.id, route: r, chars: e.labelChars ?? 0, width: e.width, loop: e.source === e.target });
  }
  placeLabels(labelled, index ?? new CardIndex(cards), out);
  if (cache) {
    cache.cardsKey = cardsKey;
    cache.byKey = next;
  }
  return out;
}

/** What routeEdges keeps between calls (one per map). */
export interface EdgeCache {
  cardsKey?: string;
  byKey: Map<string, EdgeRoute>;
}
