// A TCP connection after its handshake, as Hubble shows it under Cilium's default monitor aggregation
// (medium, TRACE_AGGREGATE_ACTIVE_CT): a TO_* trace of an established connection is sent only for a
// packet whose direction shows a TCP flag it has not shown before (or after the 5 s report interval,
// which a simulated request never lasts). A short request/response connection so shows the client's
// first ACK and first ACK+PSH, the server's first ACK+PSH and a FIN each way; the ACKs in between and
// the last one add no flag. Each such packet passes the points its direction's first packet passed, so
// its records are the handshake's, re-stamped.
import type { FlowEnvelope } from "../../lib/flow/types";
import { retraced, type TcpFlags } from "./flow-builder";

const ACK: TcpFlags = Object.freeze({ ACK: true });
const ACK_PSH: TcpFlags = Object.freeze({ PSH: true, ACK: true });
const ACK_FIN: TcpFlags = Object.freeze({ FIN: true, ACK: true });

/** a connection's handshake as traced: the SYN's trace records and the SYN-ACK's, in the order taken */
export interface Handshake {
  fwd: FlowEnvelope[];
  reply: FlowEnvelope[];
}

/** the SYN's and the SYN-ACK's trace records among a request's records, either list possibly empty */
export function synTraces(flows: readonly FlowEnvelope[]): Handshake {
  const fwd: FlowEnvelope[] = [];
  const reply: FlowEnvelope[] = [];
  for (const e of flows) {
    const f = e.flow;
    if (f.event_type?.type !== 4 || f.l4?.TCP?.flags?.SYN !== true) continue;
    (f.is_reply === true ? reply : fwd).push(e);
  }
  return { fwd, reply };
}

/** the handshake among a request's records, or null when the SYN or the SYN-ACK was never traced */
export function handshakeTraces(flows: readonly FlowEnvelope[]): Handshake | null {
  const h = synTraces(flows);
  return h.fwd.length > 0 && h.reply.length > 0 ? h : null;
}

/** the client's first ACK and its request (ACK+PSH), traced where its SYN was; `next` stamps each record */
export function clientSends<C>(flows: FlowEnvelope[], h: Handshake, clock: C, next: (clock: C) => string): void {
  for (const f of h.fwd) flows.push(retraced(f, next(clock), ACK, "TCP Flags: ACK"));
  for (const f of h.fwd) flows.push(retraced(f, next(clock), ACK_PSH, "TCP Flags: ACK, PSH"));
}

/** the client's data (ACK+PSH) alone, traced where its SYN was: a connection opened before, reported again */
export function clientSendsData<C>(flows: FlowEnvelope[], h: Handshake, clock: C, next: (clock: C) => string): void {
  for (const f of h.fwd) flows.push(retraced(f, next(clock), ACK_PSH, "TCP Flags: ACK, PSH"));
}

/** the server's answer (ACK+PSH), traced where its SYN-ACK was */
export function serverAnswers<C>(flows: FlowEnvelope[], h: Handshake, clock: C, next: (clock: C) => string): void {
  for (const f of h.reply) flows.push(retraced(f, next(clock), ACK_PSH, "TCP Flags: ACK, PSH"));
}

/** the answer (ACK+PSH) where the SYN-ACK was traced, then the client's FIN and the server's */
export function serverAnswersAndBothClose<C>(flows: FlowEnvelope[], h: Handshake, clock: C, next: (clock: C) => string): void {
  serverAnswers(flows, h, clock, next);
  for (const f of h.fwd) flows.push(retraced(f, next(clock), ACK_FIN, "TCP Flags: ACK, FIN"));
  for (const f of h.reply) flows.push(retraced(f, next(clock), ACK_FIN, "TCP Flags: ACK, FIN"));
}

/** the explanation line: which packets were traced, and why not the others */
export function connectionNote(connection: string, h: Handshake): string {
  return `connection ${connection}: ACK, then ACK+PSH from the client, ACK+PSH from the server and ACK+FIN each way are traced where the handshake was (${h.fwd.length + h.reply.length} points); monitor aggregation "medium" reports only packets with flags new to their direction`;
}
