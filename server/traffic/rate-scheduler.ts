// Turns per-entry rates (requests per second, fractions allowed) into whole requests due per tick.
// Credit accumulates between ticks so a rate of 0.2/s sends one request every 5 s, exactly.
export class RateScheduler {
  private readonly rates: number[];
  private readonly credit: number[];
  /** never more than this many seconds of backlog at once (after a stall, we skip rather than burst) */
  private readonly maxBacklogS = 1;
  /** requests given up because the backlog was at its bound */
  discarded = 0;

  constructor(rates: number[], totalRate?: number) {
    const sum = rates.reduce((a, b) => a + b, 0);
    const scale = totalRate !== undefined && sum > 0 ? totalRate / sum : 1;
    this.rates = rates.map((r) => Math.max(0, r * scale));
    // Stagger the first requests so entries do not all fire on the same tick.
    this.credit = this.rates.map((_, i) => (i * 0.618) % 1);
  }

  totalRate(): number {
    return this.rates.reduce((a, b) => a + b, 0);
  }

  /** [entry index, requests due] for the time that passed */
  due(elapsedMs: number): [number, number][] {
    const dt = Math.max(0, elapsedMs) / 1000;
    const out: [number, number][] = [];
    for (let i = 0; i < this.rates.length; i++) {
      const rate = this.rates[i]!;
      let c = this.credit[i]! + rate * dt;
      const cap = Math.max(1, rate * this.maxBacklogS);
      if (c > cap) {
        this.discarded += c - cap;
        c = cap;
      }
      const n = Math.floor(c);
      this.credit[i] = c - n;
      if (n > 0) out.push([i, n]);
    }
    return out;
  }

  /** Requests that were due but not sent go back into the backlog, to be sent by a later tick. */
  refund(index: number, count: number): void {
    this.credit[index]! += count;
  }
}
