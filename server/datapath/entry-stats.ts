// Packet, byte and last-hit counters of policy-map entries, per endpoint. A compiled map is shared
// by every endpoint with the same compile inputs, but Cilium keeps one BPF policy map per endpoint,
// each counting its own packets, so `cilium bpf policy get <endpoint>` and the inspection API show
// one endpoint's traffic. The counters therefore live here, outside the shared entries: one flat
// array per endpoint and direction, indexed by the entry's position in the map.
import type { MapEntry, PolicyMapDir } from "./policy-map";

const PACKETS = 0;
const BYTES = 1;
const LAST_HIT = 2;
const WIDTH = 3;

export class EntryStats {
  /** [packets, bytes, lastHit] per entry; allocated on the first hit, so idle endpoints cost nothing */
  private data: Float64Array | null = null;

  constructor(private map: PolicyMapDir) {}

  hit(e: MapEntry, bytes: number, ms: number): void {
    let d = this.data;
    if (d === null) this.data = d = new Float64Array(this.map.size * WIDTH);
    const o = e.index * WIDTH;
    d[o + PACKETS]++;
    d[o + BYTES] += bytes;
    if (ms > d[o + LAST_HIT]) d[o + LAST_HIT] = ms;
  }

  packets(e: MapEntry): number {
    return this.data?.[e.index * WIDTH + PACKETS] ?? 0;
  }

  bytes(e: MapEntry): number {
    return this.data?.[e.index * WIDTH + BYTES] ?? 0;
  }

  /** ms since the epoch of the last hit, 0 for never */
  lastHit(e: MapEntry): number {
    return this.data?.[e.index * WIDTH + LAST_HIT] ?? 0;
  }

  /**
   * The endpoint's map was recompiled: entries that survive (same key, same action) keep their
   * counters, as the BPF map keeps them when the agent only syncs the difference; new ones start at 0.
   */
  rebase(map: PolicyMapDir): void {
    if (map === this.map) return;
    const old = this.map;
    const d = this.data;
    this.map = map;
    this.data = null;
    if (d === null) return;
    for (const e of map.all()) {
      const o = old.find(e.identity, e.proto, e.portLo, e.portHi, e.wildcardPort);
      if (!o || o.deny !== e.deny || d[o.index * WIDTH + PACKETS] === 0) continue;
      const nd = (this.data ??= new Float64Array(map.size * WIDTH));
      for (let k = 0; k < WIDTH; k++) nd[e.index * WIDTH + k] = d[o.index * WIDTH + k];
    }
  }
}
