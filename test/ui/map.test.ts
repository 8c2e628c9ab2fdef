import { test } from "node:test";
import assert from "node:assert/strict";
import { CARD_H, CARD_W, FIT_MAX_ZOOM, MapLayout, fitTransform, overlaps } from "../../lib/ui/map-layout";
import { EDGE_TONES, edgeTone, edgeWidth, groupOf, isHidden, visibleGraph } from "../../lib/ui/map-model";
import { filterParams, mapParams } from "../../lib/ui/api-query";
import { DEFAULT_HIDE, parseView } from "../../lib/ui/view-state";
import { compileQuery } from "../../lib/filter/match";
import { fromSearchParams } from "../../lib/filter/parse-params";
import { edge, node, stored } from "./fixtures";

function bigMap(namespaces = 20, perNs = 15) {
  const nodes = [];
  const edges = [];
  for (let n = 0; n < namespaces; n++) {
    for (let w = 0; w < perNs; w++) nodes.push(node(`ns${n}/wl${w}`));
    for (let w = 1; w < perNs; w++) edges.push(edge(`ns${n}/wl0`, `ns${n}/wl${w}`));
    edges.push(edge(`ns${n}/wl1`, `ns${(n + 1) % namespaces}/wl2`));
  }
  nodes.push(node("reserved:world", { kind: "world", label: "world" }), node("fqdn:api.github.com", { kind: "fqdn", label: "api.github.com" }));
  nodes.push(node("reserved:host", { kind: "host", label: "host" }));
  edges.push(edge("ns0/wl3", "fqdn:api.github.com"));
  return { nodes, edges };
}

test("300 workloads in 20 namespaces: islands never overlap and cards stay inside their island", () => {
  const { nodes, edges } = bigMap();
  const r = new MapLayout().update(nodes, edges);
  assert.equal(r.nodes.size, nodes.length);
  assert.equal(r.islands.filter((i) => i.kind === "namespace").length, 20);
  for (let i = 0; i < r.islands.length; i++)
    for (let j = i + 1; j < r.islands.length; j++) assert.ok(!overlaps(r.islands[i]!, r.islands[j]!), `${r.islands[i]!.id} overlaps ${r.islands[j]!.id}`);
  const byId = new Map(r.islands.map((i) => [i.id, i]));
  for (const p of r.nodes.values()) {
    const isl = byId.get(p.island)!;
    assert.ok(p.x >= isl.x && p.x + CARD_W <= isl.x + isl.w && p.y >= isl.y && p.y + CARD_H <= isl.y + isl.h, `${p.id} outside ${isl.id}`);
  }
  // readable: the whole map is not absurdly elongated
  assert.ok(r.bounds.w / r.bounds.h < 4 && r.bounds.h / r.bounds.w < 4, `aspect ${r.bounds.w}x${r.bounds.h}`);
});

test("the same data gives the same picture", () => {
  const { nodes, edges } = bigMap(5, 6);
  const a = new MapLayout().update(nodes, edges);
  const b = new MapLayout().update([...nodes].reverse(), edges);
  for (const [id, p] of a.nodes) assert.deepEqual(b.nodes.get(id), p);
});

test("live updates never move existing cards", () => {
  const { nodes, edges } = bigMap(6, 8);
  const layout = new MapLayout();
  const first = layout.update(nodes, edges);
  // a new workload in an existing namespace, a new namespace, and a node vanishing from this window
  const more = [...nodes.filter((n) => n.id !== "ns2/wl5"), node("ns1/new-wl"), node("brand-new/x"), node("brand-new/y")];
  const second = layout.update(more, [...edges, edge("brand-new/x", "ns1/new-wl")]);
  assert.equal(second.moved, false);
  for (const [id, p] of first.nodes) assert.deepEqual(second.nodes.get(id), p, `${id} moved`);
  assert.ok(second.nodes.get("ns1/new-wl"));
  const isl = second.islands.find((i) => i.id === "ns:brand-new")!;
  for (const other of second.islands) if (other !== isl) assert.ok(!overlaps(isl, other), `new island overlaps ${other.id}`);
});

test("groups: namespaces, outside peers and cluster entities", () => {
  assert.equal(groupOf(node("shop/api")).id, "ns:shop");
  assert.equal(groupOf(node("fqdn:x.io", { kind: "fqdn" })).kind, "outside");
  assert.equal(groupOf(node("cidr:1.2.3.0/24", { kind: "cidr" })).kind, "outside");
  assert.equal(groupOf(node("reserved:host", { kind: "host" })).kind, "cluster");
});

test("hide toggles remove host, kube-dns and world peers and their edges", () => {
  const nodes = [
    node("shop/api"),
    node("kube-system/coredns", { labels: ["k8s:k8s-app=kube-dns"] }),
    node("reserved:host", { kind: "host" }),
    node("reserved:world", { kind: "world" }),
    node("fqdn:a.io", { kind: "fqdn" }),
  ];
  const edges = [edge("shop/api", "kube-system/coredns"), edge("reserved:host", "shop/api"), edge("shop/api", "fqdn:a.io")];
  const all = visibleGraph(nodes, edges, DEFAULT_HIDE);
  assert.equal(all.nodes.length, 5);
  const g = visibleGraph(nodes, edges, { host: true, kubeDns: true, world: true, remoteNode: false });
  assert.deepEqual(g.nodes.map((n) => n.id), ["shop/api"]);
  assert.equal(g.edges.length, 0);
  assert.ok(isHidden(nodes[1]!, { ...DEFAULT_HIDE, kubeDns: true }));
});

test("edge tone by verdict mix, width by rate", () => {
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3 } }), "forwarded");
  assert.equal(edgeTone({ verdicts: { DROPPED: 3 } }), "dropped");
  assert.equal(edgeTone({ verdicts: { AUDIT: 1 } }), "audit");
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3, DROPPED: 1 } }), "mixed");
  // the source allowed it out, the destination dropped every packet: blocked
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3, DROPPED: 3 }, delivered: 0 }), "dropped");
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3, DROPPED: 1 }, delivered: 2 }), "mixed");
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3, AUDIT: 1, DROPPED: 1 }, delivered: 0 }), "mixed");
});

test("audited traffic is drawn in the audit tone, not as mixed; mixed is allowed + dropped", () => {
  // an audited connection also yields forwarded trace events (prometheus → kafka in the audit: 85 + 170)
  assert.equal(edgeTone({ verdicts: { FORWARDED: 170, AUDIT: 85 }, delivered: 85 }), "audit");
  assert.equal(edgeTone({ verdicts: { FORWARDED: 170, AUDIT: 85 } }), "audit");
  assert.equal(edgeTone({ verdicts: { REDIRECTED: 4, AUDIT: 2 } }), "audit");
  assert.equal(edgeTone({ verdicts: { AUDIT: 2, DROPPED: 1 } }), "mixed");
  assert.equal(edgeTone({ verdicts: { FORWARDED: 3, ERROR: 1 } }), "error");
  assert.equal(edgeTone({ verdicts: { REDIRECTED: 3, DROPPED: 1 }, delivered: 2 }), "mixed");
  // the legend names every tone an edge can take, each with its meaning
  const legend = new Set(EDGE_TONES.map((t) => t.tone));
  for (const verdicts of [{ FORWARDED: 1 }, { DROPPED: 1 }, { AUDIT: 1, FORWARDED: 1 }, { FORWARDED: 1, DROPPED: 1 }, { ERROR: 1 }])
    assert.ok(legend.has(edgeTone({ verdicts })), JSON.stringify(verdicts));
  assert.match(EDGE_TONES.find((t) => t.tone === "mixed")!.meaning, /allowed.*dropped/);
});

test("edge width by rate", () => {
  assert.ok(edgeWidth(100, 100) > edgeWidth(1, 100));
  assert.ok(edgeWidth(0, 100) > 0);
  assert.ok(edgeWidth(1000, 1000) <= 7);
});

test("a selected edge or node narrows the table's query through the server, never the map's own", () => {
  const view = parseView(new URLSearchParams("ns=shop&verdict=FORWARDED&edge=shop/frontend->shop/api&node=shop/api"));
  const p = filterParams(view, 0);
  // one selection: the edge wins, as the map's side panel shows one
  assert.equal(p.get("map_edge"), "shop/frontend->shop/api");
  assert.equal(p.get("map_node"), null);
  assert.equal(mapParams(view, 0).get("map_edge"), null, "the map is not narrowed by its own selection");
  assert.equal(mapParams(view, 0).get("namespace"), "shop");
  const keep = compileQuery(fromSearchParams(p));
  const f = stored(1);
  assert.equal(keep(f.flow), true, "a request along the edge");
  assert.equal(keep(stored(2, { is_reply: true, source: f.flow.destination, destination: f.flow.source }).flow), true, "a reply back");
  assert.equal(keep(stored(3, { source: f.flow.destination, destination: f.flow.source }).flow), false, "a request the other way is another edge");
  assert.equal(keep(stored(4, { destination: { namespace: "shop", pod_name: "db-0", workloads: [{ name: "db" }] } }).flow), false);
  const byNode = compileQuery(fromSearchParams(filterParams(parseView(new URLSearchParams("node=shop/api")), 0)));
  assert.equal(byNode(stored(5, { source: f.flow.destination, destination: f.flow.source }).flow), true, "from the node");
  assert.equal(byNode(stored(6, { destination: { namespace: "other", pod_name: "api-0", workloads: [{ name: "api" }] } }).flow), false, "same name, other namespace");
});

test("a link's edge that is not one is dropped from the view, and says why", () => {
  const v = parseView(new URLSearchParams("edge=shop/frontend"));
  assert.equal(v.edge, undefined);
  assert.match(v.problems?.join(" ") ?? "", /edge "shop\/frontend" ignored/);
  assert.equal(filterParams(v, 0).get("map_edge"), null);
});

test("fit zooms out to show everything and zooms in no further than FIT_MAX_ZOOM", () => {
  const t = fitTransform({ x: 0, y: 0, w: 4000, h: 2000 }, 1000, 500);
  assert.ok(t.k < 0.25);
  assert.equal(fitTransform({ x: 0, y: 0, w: 100, h: 100 }, 1000, 800).k, FIT_MAX_ZOOM);
  const m = fitTransform({ x: -50, y: 10, w: 800, h: 200 }, 1000, 300);
  // centred: equal room left and right
  assert.ok(Math.abs(m.x + -50 * m.k - (1000 - (m.x + 750 * m.k))) < 1e-6);
});

test("the default scenario's map fills a wide, short map pane at a readable zoom", () => {
  // 19 nodes like the default scenario: 7 outside peers, namespaces of 6, 3, 2, 1 and 1 workloads
  const nodes = [
    node("reserved:world", { kind: "world", label: "world" }),
    ...["a.io", "b.io", "c.io"].map((n) => node(`fqdn:${n}`, { kind: "fqdn", label: n })),
    ...["1.2.3.4/32", "5.6.7.8/32", "9.9.9.9/32"].map((c) => node(`cidr:${c}`, { kind: "cidr", label: c })),
    ...["frontend", "api", "checkout", "postgres", "redis", "notification"].map((w) => node(`production/${w}`)),
    ...["gateway", "fraud", "ledger"].map((w) => node(`payments/${w}`)),
    node("streaming/kafka"),
    node("streaming/processor"),
    node("monitoring/prometheus"),
    node("kube-system/coredns"),
  ];
  const layout = new MapLayout();
  layout.setAspect(1440 / 350);
  const r = layout.update(nodes, []);
  const k = fitTransform(r.bounds, 1440, 350).k;
  assert.ok(k >= 0.7, `fit zoom ${k.toFixed(2)} leaves 13px labels unreadable`);
  for (let i = 0; i < r.islands.length; i++)
    for (let j = i + 1; j < r.islands.length; j++) assert.ok(!overlaps(r.islands[i]!, r.islands[j]!));
  // islands are sized to their content: a one-workload namespace is one card wide
  const one = r.islands.find((i) => i.id === "ns:monitoring")!;
  assert.ok(one.w < CARD_W * 1.5, `monitoring island ${one.w} wide`);
});
