import { test } from "node:test";
import assert from "node:assert/strict";
import { CardIndex, DEFAULT_BEND, EDGE_GAP, bezierAt, edgeGeometry, routeEdges, subCurve, type Pt } from "../../lib/ui/map-edges";
import { CARD_H, CARD_W, MapLayout } from "../../lib/ui/map-layout";
import { edge, node } from "./fixtures";

const pts = (d: string): Pt[] =>
  [...d.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));

/** Distance from a point outside the card to its border; negative when inside. */
function outside(card: Pt, p: Pt): number {
  const ox = Math.max(card.x - p.x, 0, p.x - (card.x + CARD_W));
  const oy = Math.max(card.y - p.y, 0, p.y - (card.y + CARD_H));
  if (ox === 0 && oy === 0) return -Math.min(p.x - card.x, card.x + CARD_W - p.x, p.y - card.y, card.y + CARD_H - p.y);
  return Math.hypot(ox, oy);
}

test("a sub-curve is the same curve between its ends", () => {
  const c = [
    { x: 0, y: 0 },
    { x: 50, y: 100 },
    { x: 100, y: 0 },
  ];
  const s = subCurve(c, 0.2, 0.7);
  for (const u of [0, 0.25, 0.5, 1]) {
    const a = bezierAt(s, u);
    const b = bezierAt(c, 0.2 + 0.5 * u);
    assert.ok(Math.hypot(a.x - b.x, a.y - b.y) < 1e-9);
  }
});

test("edges start and end on their cards' borders, with the arrow's tip at the end and the line behind it", () => {
  const nodes = new Map([
    ["a", { x: 0, y: 0 }],
    ["b", { x: 198, y: 0 }],
    ["c", { x: 396, y: 0 }],
    ["d", { x: 0, y: 64 }],
    ["e", { x: 396, y: 200 }],
  ]);
  const edges = [
    ["a", "c"],
    ["c", "a"],
    ["d", "c"],
    ["a", "e"],
    ["e", "d"],
    ["b", "b"],
  ].map(([s, t]) => ({ id: `${s}>${t}`, source: s!, target: t!, width: 3 }));
  const geo = routeEdges(edges, nodes, nodes.keys());
  for (const e of edges) {
    const g = geo.get(e.id)!;
    const a = nodes.get(e.source)!;
    const b = nodes.get(e.target)!;
    for (const [card, p, what] of [
      [a, g.start, "start"],
      [b, g.end, "end"],
    ] as const) {
      const d = outside(card, p);
      assert.ok(d >= 0 && d <= EDGE_GAP + 0.01, `${e.id} ${what} is ${d.toFixed(3)} px outside its card`);
    }
    const tip = pts(g.arrow)[0]!;
    assert.ok(Math.hypot(tip.x - g.end.x, tip.y - g.end.y) < 0.1, `${e.id}: the arrow's tip is the edge's end`);
    const curve = pts(g.d);
    for (let i = 1; i < 50; i++) {
      const p = bezierAt(curve, i / 50);
      assert.ok(outside(a, p) >= 0 && outside(b, p) >= 0, `${e.id} passes under its own card`);
    }
  }
  // a→c is bent around b (which sits between them), and c→a the other way: both clear of b, apart
  const b = nodes.get("b")!;
  for (const id of ["a>c", "c>a"])
    for (let i = 1; i < 50; i++) assert.ok(outside(b, bezierAt(pts(geo.get(id)!.d), i / 50)) >= 0, `${id} passes under b`);
  assert.ok(bezierAt(pts(geo.get("a>c")!.d), 0.5).y * bezierAt(pts(geo.get("c>a")!.d), 0.5).y < 0, "A→B and B→A on either side");
});

test("on a 300-card map, routing leaves far fewer edges over cards they do not connect than one fixed bend", () => {
  const nodes = [];
  const edges = [];
  for (let n = 0; n < 20; n++) {
    for (let w = 0; w < 15; w++) nodes.push(node(`ns${n}/wl${w}`));
    for (let w = 1; w < 15; w++) edges.push(edge(`ns${n}/wl0`, `ns${n}/wl${w}`));
    edges.push(edge(`ns${n}/wl1`, `ns${(n + 1) % 20}/wl2`));
  }
  const layout = new MapLayout().update(nodes, edges);
  const geo = routeEdges(
    edges.map((e) => ({ id: e.id, source: e.source, target: e.target, width: 2 })),
    layout.nodes,
    nodes.map((n) => n.id),
  );
  assert.equal(geo.size, edges.length);
  const index = new CardIndex(nodes.map((n) => layout.nodes.get(n.id)!));
  const fixed = edges.map((e) => edgeGeometry(layout.nodes.get(e.source)!, layout.nodes.get(e.target)!, 2, { index, bends: [DEFAULT_BEND] }));
  // samples over other cards, summed: how much of the edges' length lies over cards they do not connect
  const over = (list: { crossings: number }[]) => list.reduce((n, g) => n + g.crossings, 0);
  const routed = over([...geo.values()]);
  assert.ok(routed < over(fixed) * 0.7, `${routed} samples over other cards when routed, ${over(fixed)} with one bend`);

  // the next refresh with the same cards reuses every edge's geometry
  const cache = { byKey: new Map() };
  const input = edges.map((e) => ({ id: e.id, source: e.source, target: e.target, width: 2 }));
  const first = routeEdges(input, layout.nodes, nodes.map((n) => n.id), cache);
  const again = routeEdges(input, layout.nodes, nodes.map((n) => n.id), cache);
  for (const e of edges) assert.deepEqual(again.get(e.id), first.get(e.id));
  assert.deepEqual(first.get(edges[0]!.id), geo.get(edges[0]!.id));
});

test("edge labels shown in the all-labels view never cover a card or each other; the busiest edges keep theirs", () => {
  // Two rows of cards with every card of one row linked to every card of the other: the lines cross
  // between the rows, where their middles (and labels) crowd together.
  const nodes = new Map<string, Pt>();
  for (let i = 0; i < 4; i++) {
    nodes.set(`top${i}`, { x: i * (CARD_W + 40), y: 0 });
    nodes.set(`bottom${i}`, { x: i * (CARD_W + 40), y: 140 });
  }
  const label = "8080/TCP · HTTP";
  const edges = [];
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) edges.push({ id: `top${i}>bottom${j}`, source: `top${i}`, target: `bottom${j}`, width: 1 + ((i * 4 + j) % 7), labelChars: label.length });
  const geo = routeEdges(edges, nodes, nodes.keys());
  // the label's box as ServiceMap draws it: centred on mx, baseline 4 px above my, 10.5 px monospace
  const box = (g: { mx: number; my: number }) => ({ x: g.mx - (label.length * 6.4) / 2, y: g.my - 4 - 11, w: label.length * 6.4, h: 13 });
  const meet = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  // drawn at their middles, labels would overlap
  const middles = edges.map((e) => box({ mx: bezierAt(pts(geo.get(e.id)!.d), 0.5).x, my: bezierAt(pts(geo.get(e.id)!.d), 0.5).y }));
  assert.ok(middles.some((a, i) => middles.slice(i + 1).some((b) => meet(a, b))), "the crowded case: middles overlap");
  const shown = edges.filter((e) => geo.get(e.id)!.labelShown);
  const hidden = edges.filter((e) => !geo.get(e.id)!.labelShown);
  assert.ok(hidden.length > 0, "16 crossing edges leave some labels out");
  assert.ok(shown.length >= 6, `${shown.length} of 16 labels shown`);
  for (const [i, a] of shown.entries()) {
    const ba = box(geo.get(a.id)!);
    for (const card of nodes.values()) assert.ok(!meet(ba, { x: card.x, y: card.y, w: CARD_W, h: CARD_H }), `${a.id}'s label covers a card`);
    for (const b of shown.slice(i + 1)) assert.ok(!meet(ba, box(geo.get(b.id)!)), `${a.id}'s and ${b.id}'s labels overlap`);
  }
  const busiest = [...edges].sort((a, b) => b.width - a.width || (a.id < b.id ? -1 : 1))[0]!;
  assert.ok(geo.get(busiest.id)!.labelShown, "the busiest edge's label is shown");
  // a label left out still has a place on its edge, for when its edge is lit or selected
  for (const e of hidden) {
    const g = geo.get(e.id)!;
    const c = pts(g.d);
    const d = Math.min(...Array.from({ length: 101 }, (_, k) => bezierAt(c, k / 100)).map((q) => Math.hypot(q.x - g.mx, q.y - g.my)));
    assert.ok(d < 2, `${e.id}'s label is ${d.toFixed(1)} px from its edge`);
  }
  // the same input places the same labels (a live map refreshes without labels jumping)
  const again = routeEdges(edges, nodes, nodes.keys());
  for (const e of edges) assert.deepEqual(again.get(e.id), geo.get(e.id));
});

test("an edge alone keeps its label at its middle", () => {
  const nodes = new Map<string, Pt>([
    ["a", { x: 0, y: 0 }],
    ["b", { x: 500, y: 0 }],
  ]);
  const geo = routeEdges([{ id: "a>b", source: "a", target: "b", width: 2, labelChars: 8 }], nodes, nodes.keys()).get("a>b")!;
  const mid = bezierAt(pts(geo.d), 0.5);
  assert.ok(geo.labelShown);
  assert.ok(Math.hypot(geo.mx - mid.x, geo.my - mid.y) < 0.5, `label at (${geo.mx}, ${geo.my}), middle (${mid.x}, ${mid.y})`);
});
