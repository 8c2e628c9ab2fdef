// NDJSON export: one `hubble observe -o json` line per envelope, pulled one at a time so memory stays
// flat however many flows are exported (the consumer's backpressure paces the producer).
import { toHubbleJson } from "../../lib/flow/json";
import type { FlowEnvelope } from "../../lib/flow/types";

export async function* ndjsonLines(envelopes: AsyncIterable<FlowEnvelope> | Iterable<FlowEnvelope>): AsyncGenerator<string> {
  for await (const env of envelopes) yield toHubbleJson(env) + "\n";
}
