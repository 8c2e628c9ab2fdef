// The one bus every flow passes through after the datapath. It stamps each flow with the next row id
// (which is also the stream cursor and the SQLite primary key) and hands the batch to every subscriber
// synchronously: store, stream and metrics see the same flows, in the same order and the same bytes.
// The JSON line is made at most once per flow, on first use: with no stream client, nobody needs it
// (the store writes its own, shorter form). When the store has encoded the flow first, the line is
// that encoding with its shared parts filled in, not a second encoding.
import type { FlowEnvelope } from "../lib/flow/types";
import type { StoredFlow } from "../lib/api-types";
import { toHubbleJson } from "../lib/flow/json";

export interface SequencedFlow {
  readonly id: number;
  readonly envelope: FlowEnvelope;
  /** the envelope in `hubble observe -o json` bytes, serialised once for every stream client */
  readonly json: string;
  /** the store's encoding of the record and how to turn it into the JSON line (see server/store/fragments.ts) */
  attachStored?(body: string, expand: (body: string) => string): void;
}

class BusFlow implements SequencedFlow {
  private text: string | undefined;
  private stored: string | undefined;
  private expand: ((body: string) => string) | undefined;

  constructor(
    readonly id: number,
    readonly envelope: FlowEnvelope,
  ) {}

  attachStored(body: string, expand: (body: string) => string): void {
    if (this.text !== undefined) return;
    this.stored = body;
    this.expand = expand;
  }

  get json(): string {
    if (this.text === undefined) {
      this.text = this.stored !== undefined ? this.expand!(this.stored) : toHubbleJson(this.envelope);
      this.stored = undefined;
      this.expand = undefined;
    }
    return this.text;
  }
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
    const batch: SequencedFlow[] = envelopes.map((envelope) => new BusFlow(this.nextId++, envelope));
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

export function parseStored(id: number, envelopeJson: string): StoredFlow {
  const env = JSON.parse(envelopeJson) as FlowEnvelope;
  return { id: String(id), flow: env.flow, node_name: env.node_name, time: env.time };
}
