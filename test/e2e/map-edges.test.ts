// Service-map edges are readable where they meet cards: each edge starts on its source card's border and
// ends, arrowhead tip first, on its target card's border (never inside a card); where a line passes over
// a card it does not connect, that stretch is drawn again above the card; and the clicks still go where
// they should (a card under a crossing edge selects the card, an edge's line selects the edge).
// All from the page's real geometry: SVG path points mapped to the screen and the cards' client rects.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceMap } from "../../lib/api-types";
import { startE2E } from "./harness";
import { until } from "./ui-helpers";

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
interface P {
  x: number;
  y: number;
}

/** How far `p` is inside `r` (positive) or outside it (negative): the distance to its border. */
function depth(r: Box, p: P): number {
  const inX = Math.min(p.x - r.left, r.right - p.x);
  const inY = Math.min(p.y - r.top, r.bottom - p.y);
  if (inX >= 0 && inY >= 0) return Math.min(inX, inY);
  const ox = Math.max(r.left - p.x, 0, p.x - r.right);
  const oy = Math.max(r.top - p.y, 0, p.y - r.bottom);
  return -Math.hypot(ox, oy);
}

test("map edges end on their cards' borders with the arrowhead there, stay visible over other cards, and clicks still work", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    // no card glides while we measure
    await page.emulateMedia({ reducedMotion: "reduce" });
    // tsx names the helper functions inside page.evaluate callbacks with its own `__name`
    await page.addInitScript("globalThis.__name = (f) => f");
    const map = await until(
      "the default scenario's service map",
      async () => {
        const m = (await (await fetch(`${server.url}/api/service-map`)).json()) as ServiceMap;
        return m.nodes.length >= 15 && m.edges.length >= 15 ? m : undefined;
      },
      60_000,
    );
    await page.goto(server.url + "/?pane=map");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="map-node"]').length >= n, map.nodes.length, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-edge"]').length >= 15, undefined, { timeout: 30_000 });
    const ends = Object.fromEntries(map.edges.map((e) => [e.id, [e.source, e.target]]));

    // One snapshot of the page's geometry (edges that appeared after our API read are skipped).
    const snap = await page.evaluate((ends) => {
      const root = document.querySelector('[data-testid="service-map"] svg > g') as SVGGElement;
      const k = root.getScreenCTM()!.a / (root.ownerSVGElement!.getScreenCTM()!.a || 1);
      const screen = (el: SVGGraphicsElement, p: DOMPoint) => {
        const q = p.matrixTransform(el.getScreenCTM()!);
        return { x: q.x, y: q.y };
      };
      const nodes = [...document.querySelectorAll<SVGGElement>('[data-testid="map-node"]')];
      const cards: Record<string, { left: number; top: number; right: number; bottom: number }> = {};
      for (const n of nodes) {
        const r = n.querySelector("rect")!.getBoundingClientRect();
        cards[n.dataset.id!] = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      }
      const lastNode = nodes[nodes.length - 1]!;
      const above = (el: Element | null) => !!el && !!(lastNode.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
      const edges = [];
      for (const g of document.querySelectorAll<SVGGElement>('[data-testid="map-edge"]')) {
        const id = g.dataset.id!;
        if (!ends[id]) continue;
        const hit = g.querySelector<SVGPathElement>("path.hit")!;
        const len = hit.getTotalLength();
        const arrow = document.querySelector<SVGPathElement>(`[data-testid="edge-arrow"][data-id="${CSS.escape(id)}"]`);
        const over = document.querySelector<SVGGElement>(`[data-testid="edge-over"][data-id="${CSS.escape(id)}"]`);
        const samples = [];
        for (let i = 1; i < 80; i++) samples.push(screen(hit, hit.getPointAtLength((len * i) / 80)));
        edges.push({
          id,
          start: screen(hit, hit.getPointAtLength(0)),
          end: screen(hit, hit.getPointAtLength(len)),
          tip: arrow ? screen(arrow, arrow.getPointAtLength(0)) : undefined,
          arrowAbove: above(arrow),
          overAbove: above(over),
          overSame: over?.querySelector("path")?.getAttribute("d") === hit.getAttribute("d"),
          samples,
        });
      }
      return { k, cards, edges };
    }, ends);

    assert.ok(snap.edges.length >= 15, `${snap.edges.length} edges measured`);
    // 1 layout px of gap (clear of the card's stroke), in screen px, plus rounding
    const near = 1.5 * snap.k + 0.75;
    let crossingsSeen = 0;
    for (const e of snap.edges) {
      const [src, dst] = ends[e.id]!;
      const a = snap.cards[src!];
      const b = snap.cards[dst!];
      assert.ok(a && b, `${e.id}: both cards drawn`);
      // The end point is on the target card's border: not inside it, and no gap to speak of.
      const dEnd = depth(b, e.end);
      assert.ok(dEnd <= 0.25 && dEnd >= -near, `${e.id} ends ${(-dEnd).toFixed(2)} px ${dEnd > 0 ? "inside" : "outside"} ${dst}'s border (allowed ${near.toFixed(2)} outside)`);
      const dStart = depth(a, e.start);
      assert.ok(dStart <= 0.25 && dStart >= -near, `${e.id} starts ${(-dStart).toFixed(2)} px ${dStart > 0 ? "inside" : "outside"} ${src}'s border`);
      // The arrowhead's tip is the edge's end, and is drawn above the cards.
      assert.ok(e.tip, `${e.id} has an arrowhead`);
      assert.ok(Math.hypot(e.tip.x - e.end.x, e.tip.y - e.end.y) <= 0.75, `${e.id}: arrow tip at the edge's end`);
      assert.ok(e.arrowAbove, `${e.id}: arrowhead painted above the cards`);
      for (const p of e.samples) {
        // never under its own cards
        assert.ok(depth(a, p) <= 0.5 && depth(b, p) <= 0.5, `${e.id}: point (${p.x.toFixed(1)}, ${p.y.toFixed(1)}) inside its own card`);
        // over another card: that stretch is drawn above the cards
        for (const [id, r] of Object.entries(snap.cards)) {
          if (id === src || id === dst || depth(r, p) <= 1) continue;
          crossingsSeen++;
          assert.ok(e.overAbove && e.overSame, `${e.id} passes over ${id} at (${p.x.toFixed(1)}, ${p.y.toFixed(1)}) and is drawn above it there`);
        }
      }
    }
    await e2e.screenshot("map-edges");

    // At 1280 px the labels of crossing edges crowd together: those drawn overlap neither each other
    // nor a card, and a label left out shows when its edge's card is hovered.
    await page.setViewportSize({ width: 1280, height: 800 });
    const labelsAt1280 = async () =>
      page.evaluate(() => {
        const box = (r: DOMRect) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
        const labels = [...document.querySelectorAll<SVGTextElement>("text.edge-label")].map((t) => ({
          id: (t.closest("[data-id]") as SVGGElement).dataset.id!,
          text: t.textContent ?? "",
          box: box(t.getBoundingClientRect()),
        }));
        const cards = [...document.querySelectorAll<SVGGElement>('[data-testid="map-node"]')].map((n) => ({ id: n.dataset.id!, box: box(n.querySelector("rect")!.getBoundingClientRect()) }));
        const edges = [...document.querySelectorAll<SVGGElement>('[data-testid="map-edge"]')].map((g) => g.dataset.id!);
        return { labels, cards, edges };
      });
    const meet = (a: Box, b: Box, slack = 0.5) => a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack;
    const crowded = await until(
      "the map fitted to 1280 px",
      async () => {
        const s = await labelsAt1280();
        return s.labels.length > 0 && s.labels[0]!.box.right - s.labels[0]!.box.left > 0 ? s : undefined;
      },
      10_000,
    );
    assert.ok(crowded.labels.length >= 8, `${crowded.labels.length} of ${crowded.edges.length} edge labels drawn at 1280 px`);
    for (const [i, a] of crowded.labels.entries()) {
      for (const c of crowded.cards) assert.ok(!meet(a.box, c.box), `label ${a.text} of ${a.id} covers card ${c.id}`);
      for (const b of crowded.labels.slice(i + 1)) assert.ok(!meet(a.box, b.box), `labels ${a.text} (${a.id}) and ${b.text} (${b.id}) overlap`);
    }
    const left = map.edges.filter((e) => e.ports.length > 0 && crowded.edges.includes(e.id) && !crowded.labels.some((l) => l.id === e.id));
    if (left.length > 0) {
      const out = left[0]!;
      await page.hover(`[data-testid="map-node"][data-id="${out.source}"]`);
      await page.waitForSelector(`.edges-top [data-id="${out.id}"] text.edge-label`, { timeout: 5_000 });
      await page.mouse.move(2, 790);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // Clicks: a point on an edge away from cards selects the edge. The resize above makes the map fit
    // again and live flows may move cards, so the point is found afresh right before each click, and a
    // click that landed while the map moved (on a card, or on nothing) is tried again.
    const edgePoint = () =>
      page.evaluate(() => {
        for (const g of document.querySelectorAll<SVGGElement>('[data-testid="map-edge"]')) {
          const hit = g.querySelector<SVGPathElement>("path.hit")!;
          const len = hit.getTotalLength();
          for (let i = 10; i < 30; i++) {
            const q = hit.getPointAtLength((len * i) / 40).matrixTransform(hit.getScreenCTM()!);
            const el = document.elementFromPoint(q.x, q.y);
            if ((el?.closest('[data-testid="map-edge"]') as SVGGElement | null)?.dataset.id === g.dataset.id) return { id: g.dataset.id!, x: q.x, y: q.y };
          }
        }
        return undefined;
      });
    assert.ok(await edgePoint(), "some edge has a clickable point");
    await until("an edge to take the click", async () => {
      const target = await edgePoint();
      if (!target) return false;
      await page.mouse.click(target.x, target.y);
      return page.waitForURL((u) => u.searchParams.get("edge") === target.id, { timeout: 2_000 }).then(() => true, () => false);
    });
    // ...and a card with an edge drawn over it is still the card's to click. The side panel that the
    // edge opened makes the map fit again, and live flows may move cards: the point is found afresh
    // right before each click, and a click that landed while the map moved is tried again.
    const crossingPoint = () =>
      page.evaluate(() => {
        for (const g of document.querySelectorAll<SVGGElement>('[data-testid="edge-over"]')) {
          const path = g.querySelector("path")!;
          const len = path.getTotalLength();
          for (let i = 1; i < 80; i++) {
            const q = path.getPointAtLength((len * i) / 80).matrixTransform(path.getScreenCTM()!);
            const node = document.elementFromPoint(q.x, q.y)?.closest('[data-testid="map-node"]') as SVGGElement | null;
            if (node) return { id: node.dataset.id!, x: q.x, y: q.y };
          }
        }
        return undefined;
      });
    const first = await crossingPoint();
    if (crossingsSeen > 0) assert.ok(first, "a point where an edge is drawn over a card");
    if (first) {
      await until("a card under an edge to take the click", async () => {
        const crossed = await crossingPoint();
        if (!crossed) return false;
        await page.mouse.click(crossed.x, crossed.y);
        return page.waitForURL((u) => u.searchParams.get("node") === crossed.id, { timeout: 2_000 }).then(() => true, () => false);
      });
    }
  } finally {
    await e2e.close();
  }
});
