import fs from "node:fs";
import { MapLayout, fitTransform } from "../../lib/ui/map-layout";
const d = JSON.parse(fs.readFileSync("/tmp/map.json", "utf8"));
for (const [w, h] of [[1440, 352], [1280, 300], [1920, 480], [1000, 800]]) {
  const l = new MapLayout(); l.setAspect(w / h);
  const r = l.update(d.nodes, d.edges);
  console.log(w, h, JSON.stringify(r.bounds), fitTransform(r.bounds, w, h).k.toFixed(3), r.islands.map((i) => `${i.id}@${i.x},${i.y} ${i.w}x${i.h}`).join(" | "));
}
