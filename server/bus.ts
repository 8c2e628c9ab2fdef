// The one bus every flow passes through after the datapath. It stamps each flow with the next row id
// (which is also the stream cursor and the SQLite primary key), then hands the batch to every
// subscriber synchronously: store, stream and metrics see the same flows in the same order.
import type { FlowEnvelope } from "../lib/flow/types";
import type { StoredFlow } from "../lib/api-types";

export interface SequencedFlow {
  id: number;
  envelope: FlowEnvelope;
}

export type BusListener = (batch: readonly SequencedFlow[]) => void;

export class FlowBus {
  private nextId: number;
  private listeners: BusListener[] = [];
  published = 0;

  constructor(lastId: number) {
    this.nextId = lastId + 1;
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  publish(envelopes: readonly FlowEnvelope[]): SequencedFlow[] {
    if (envelopes.length === 0) return [];
    const batch = envelopes.map((envelope) => ({ id: this.nextId++, envelope }));
    this.published += batch.length;
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (err) {
        // A failing subscriber must not stop the others (or the datapath) from seeing flows.
        console.error("flow bus subscriber failed:", err);
      }
    }
    return batch;
  }

  lastId(): number {
    return this.nextId - 1;
  }
}

export function toStored(f: SequencedFlow): StoredFlow {
  return { id: String(f.id), flow: f.envelope.flow, node_name: f.envelope.node_name, time: f.envelope.time };
}
