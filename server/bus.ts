// The one bus every flow passes through after the datapath. It stamps each flow with the next row id
// (which is also the stream cursor and the SQLite primary key) and hands the batch to every subscriber
// synchronously: store, stream and metrics see the same flows, in the same order and the same bytes.
// The JSON line is made at most once per flow, on first use: with no stream client, nobody needs it
// (the store writes its own, shorter form). When the store has encoded the flow first, the line is
// that encoding with its shared parts filled in, not a second encoding.
import type { FlowEnvelope } from "../lib/flow/types";
import type { StoredFlow } from "../lib/api-types";
import { toHubbleJson } from "../lib/flow/json";

/** what turns the store's encoding of a record back into its JSON line (server/store/fragments.ts) */
export interface StoredExpander {
  expand(body: string): string;
  expandBytes(head: string, body: string): Buffer;
}

/**
 * A flow's JSON line without the parsed record: what outlives the publish (the stream's ring and
 * client queues). Keeping the record itself that long made every flow's object graph survive two
 * young-generation collections: copying it was most of the stream's GC time.
 */
export interface FlowLine {
  readonly id: number;
  /** the line as `hubble observe -o json` prints it */
  readonly json: string;
  /** the stream's bytes for the flow: `{"id":"N",` then the line after its opening brace, as UTF-8 */
  wire(): Buffer;
}

/** the start of a flow's stream message: its id, before the record's own fields */
export function wireHead(id: number): string {
  return `{"id":"${id}",`;
}

/** a line whose text is at hand (e.g. a row read back from SQLite) */
export class TextLine implements FlowLine {
  private bytes: Buffer | undefined;

  constructor(
    readonly id: number,
    readonly json: string,
  ) {}

  wire(): Buffer {
    return (this.bytes ??= jsonLineBytes(wireHead(this.id), this.json));
  }
}

/**
 * A line kept as the store's encoding until it is sent; from then on only as its wire bytes, which
 * live outside the JS heap: the ring's lines then cost the young-generation collector almost nothing.
 */
class StoredLine implements FlowLine {
  private body: string | undefined;
  private bytes: Buffer | undefined;

  constructor(
    readonly id: number,
    body: string,
    private readonly expander: StoredExpander,
  ) {
    this.body = body;
  }

  get json(): string {
    if (this.body !== undefined) return this.expander.expand(this.body);
    return "{" + this.bytes!.toString("utf8", wireHead(this.id).length);
  }

  wire(): Buffer {
    if (this.bytes === undefined) {
      this.bytes = this.expander.expandBytes(wireHead(this.id), this.body!);
      this.body = undefined;
    }
    return this.bytes;
  }
}

export interface SequencedFlow {
  readonly id: number;
  readonly envelope: FlowEnvelope;
  /** the envelope in `hubble observe -o json` bytes, serialised once for every stream client */
  readonly json: string;
  /** the flow as a line only, made once and shared by everyone who keeps it past the publish */
  line?(): FlowLine;
  /** the store's encoding of the record, from which the JSON line can be made without encoding again */
  attachStored?(body: string, expander: StoredExpander): void;
}

class BusFlow implements SequencedFlow {
  private text: string | undefined;
  private stored: string | undefined;
  private expander: StoredExpander | undefined;
  private kept: FlowLine | undefined;

  constructor(
    readonly id: number,
    readonly envelope: FlowEnvelope,
  ) {}

  attachStored(body: string, expander: StoredExpander): void {
    if (this.text !== undefined) return;
    this.stored = body;
    this.expander = expander;
  }

  get json(): string {
    if (this.text === undefined) {
      this.text = this.stored !== undefined ? this.expander!.expand(this.stored) : toHubbleJson(this.envelope);
    }
    return this.text;
  }

  line(): FlowLine {
    if (this.kept === undefined) {
      if (this.text === undefined && this.stored !== undefined) this.kept = new StoredLine(this.id, this.stored, this.expander!);
      else this.kept = new TextLine(this.id, this.json);
    }
    return this.kept;
  }
}

/** `json` (a JSON object's text) as UTF-8 with its opening brace replaced by `head` (ASCII) */
function jsonLineBytes(head: string, json: string): Buffer {
  const rest = json.slice(1);
  const b = Buffer.allocUnsafe(head.length + Buffer.byteLength(rest));
  b.write(head, 0, "latin1");
  b.write(rest, head.length);
  return b;
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
