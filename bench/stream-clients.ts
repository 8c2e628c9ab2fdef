// Child process of bench/stream.bench.ts: one WebSocket client per filter given; reports the delivery
// latency of every flow (receive time minus the flow's decision time) when told to stop.
import WebSocket from "ws";

const [url, filtersJson, durationStr] = process.argv.slice(2);
/** one filter (URL query text) per client, chosen by the parent from the scenario it runs */
const filters = JSON.parse(filtersJson!) as string[];
const n = filters.length;
const filterFor = (i: number): string => filters[i]!;
const FLOWS_MESSAGE = Buffer.from('{"type":"flows"');
const TIME_KEY = Buffer.from('"flow":{"time":"');
const QUOTE = 0x22;
const latencies: number[] = [];
let received = 0;
const sockets: WebSocket[] = [];

// Measuring starts once every client is subscribed: until then this process is busy starting up on
// the same 2 cores, which says nothing about the server.
let subscribed = 0;
let measuring = false;
const STATUS_MESSAGE = Buffer.from('{"type":"status"');

let cpuAtStart: NodeJS.CpuUsage | undefined;

function start(): void {
  measuring = true;
  cpuAtStart = process.cpuUsage();
  process.stdout.write("ready\n");
  setTimeout(report, Number(durationStr) * 1000);
}

for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url);
  let ready = false;
  ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", filter: filterFor(i) })));
  ws.on("message", (data: Buffer) => {
    const now = Date.now();
    if (!ready && data.indexOf(STATUS_MESSAGE) === 0) {
      ready = true;
      if (++subscribed === n) start();
    } else if (!ready) {
      // a rejected filter would leave this client out of the measurement: stop instead
      process.stderr.write(`client ${i} (filter ${JSON.stringify(filterFor(i))}) was not subscribed: ${data.toString().slice(0, 300)}\n`);
      process.exit(1);
    }
    if (!measuring) return;
    // Only each flow's time is needed, and it is the first field of every flow: find it in the bytes
    // rather than parse the whole message, so that this process (on the same 2 cores) measures the
    // server's delivery and not its own JSON parsing.
    if (data.indexOf(FLOWS_MESSAGE) !== 0) return;
    for (let at = data.indexOf(TIME_KEY); at >= 0; at = data.indexOf(TIME_KEY, at + TIME_KEY.length)) {
      received++;
      // sample to keep memory flat
      if (received % 7 === 0) {
        const start = at + TIME_KEY.length;
        latencies.push(now - Date.parse(data.toString("latin1", start, data.indexOf(QUOTE, start))));
      }
    }
  });
  sockets.push(ws);
}

function report(): void {
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuShare = (cpu.user + cpu.system) / 1e6 / Number(durationStr);
  process.stdout.write(JSON.stringify({ received, samples: latencies.length, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1], cpuShare }) + "\n");
  for (const s of sockets) s.terminate();
  process.exit(0);
}
