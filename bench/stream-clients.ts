// Child process of bench/stream.bench.ts: N WebSocket clients with different filters; reports the
// delivery latency of every flow (receive time minus the flow's decision time) when told to stop.
import WebSocket from "ws";

const [url, nStr, durationStr] = process.argv.slice(2);
const n = Number(nStr);
// Like a team of users: a couple watch everything, a few watch all drops, most watch one namespace
// (its traffic, its drops, or one direction of it) among the 20 the publisher spreads flows over.
function filterFor(i: number): string {
  if (i < 2) return "";
  if (i < 6) return "verdict=DROPPED";
  const ns = `ns-${i % 20}`;
  switch (i % 4) {
    case 0: return `namespace=${ns}`;
    case 1: return `namespace=${ns}&verdict=DROPPED`;
    case 2: return `from_pod=${ns}/`;
    default: return `to_pod=${ns}/`;
  }
}
const latencies: number[] = [];
let received = 0;
const sockets: WebSocket[] = [];

for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url);
  ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", filter: filterFor(i) })));
  ws.on("message", (data) => {
    const now = Date.now();
    const msg = JSON.parse(data.toString());
    if (msg.type !== "flows") return;
    for (const f of msg.flows) {
      received++;
      // sample to keep memory flat
      if (received % 7 === 0) latencies.push(now - Date.parse(f.time));
    }
  });
  sockets.push(ws);
}

setTimeout(() => {
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  process.stdout.write(JSON.stringify({ received, samples: latencies.length, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] }) + "\n");
  for (const s of sockets) s.terminate();
  process.exit(0);
}, Number(durationStr) * 1000);
