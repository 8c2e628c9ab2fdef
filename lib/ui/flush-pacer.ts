// Paces how often live flows reach React. Each commit of the table costs a layout of the page, so
// committing per WebSocket message (20/s) or per animation frame starved the frame budget at 2,000
// flows/s. The pacer commits at most once per interval: the first batch after a quiet spell goes out
// at once (sparse traffic stays snappy), later ones wait for the interval to elapse and are coalesced.
// Nothing is dropped: the caller keeps queueing, the pacer only decides when to drain.

export interface PacerClock {
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

const realClock: PacerClock = {
  now: () => (typeof performance !== "undefined" ? performance.now() : Date.now()),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class FlushPacer {
  private last = -Infinity;
  private handle: unknown;
  private armed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: () => void,
    private readonly clock: PacerClock = realClock,
  ) {
    if (!(intervalMs >= 0)) throw new Error(`FlushPacer interval must be a non-negative number of ms, got ${intervalMs}`);
  }

  /** Something is waiting: make sure a flush is scheduled (no-op when one already is). */
  request(): void {
    if (this.armed) return;
    this.armed = true;
    const wait = Math.max(0, this.last + this.intervalMs - this.clock.now());
    this.handle = this.clock.setTimer(() => this.run(), wait);
  }

  /** Flush now (e.g. on resume) and restart the interval from here. */
  flushNow(): void {
    this.cancel();
    this.run();
  }

  cancel(): void {
    if (this.armed) this.clock.clearTimer(this.handle);
    this.armed = false;
  }

  get pending(): boolean {
    return this.armed;
  }

  private run(): void {
    this.armed = false;
    this.last = this.clock.now();
    this.flush();
  }
}
