// The most recent flows in memory, by id, so live subscribers and short resumes never touch SQLite.
import type { FlowLine } from "../bus";

export class RingBuffer {
  private readonly items: (FlowLine | undefined)[];
  private head = 0; // next write position
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array(capacity);
  }

  push(batch: readonly FlowLine[]): void {
    for (const f of batch) {
      this.items[this.head] = f;
      this.head = (this.head + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
  }

  /** id of the oldest flow held, or undefined when empty */
  firstId(): number | undefined {
    if (this.size === 0) return undefined;
    return this.items[(this.head - this.size + this.capacity) % this.capacity]!.id;
  }

  lastId(): number | undefined {
    if (this.size === 0) return undefined;
    return this.items[(this.head - 1 + this.capacity) % this.capacity]!.id;
  }

  /** Flows with id > afterId, oldest first, at most `limit`. Ids are consecutive, so this is O(limit). */
  after(afterId: number, limit: number): FlowLine[] {
    const first = this.firstId();
    if (first === undefined) return [];
    const skip = Math.max(0, afterId - first + 1);
    const out: FlowLine[] = [];
    for (let i = skip; i < this.size && out.length < limit; i++) {
      out.push(this.items[(this.head - this.size + i + this.capacity) % this.capacity]!);
    }
    return out;
  }
}
