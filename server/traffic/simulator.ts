// The live simulator: the scenario's traffic entries, each at its rate, sent through the one datapath;
// every flow record the datapath emits goes on the bus. `trace` uses the same Datapath class.
import type { PoliciesResponse, PolicyPreviewResponse } from "../../lib/api-types";

import type { FlowEnvelope } from "../../lib/flow/types";
import type { FlowBus } from "../bus";
import { Datapath, type PolicyChange } from "../datapath";
import { previewPolicyChangeOffThread } from "../datapath/preview-thread";
import { parsePolicyTextOffThread } from "../datapath/policy/parse-thread";
import { RateScheduler } from "./rate-scheduler";

export interface SimulatorOptions {
  /** total requests per second across all traffic entries; default: the scenario's own rates */
  rate?: number;
  tickMs?: number;
  watchPolicies?: boolean;
  /** flows accepted but not yet stored; while it exceeds maxBacklog the simulator pauses */
  backlog?: () => number;
  maxBacklog?: number;
}

/** flows per bus batch: large enough to spread per-batch costs, small enough to add no visible delay */
const PUBLISH_CHUNK = 256;

/** An RFC 3339 time with its fraction padded to nanoseconds, so that times compare as strings. */
function timeKey(t: string | undefined): string {
  if (!t) return "";
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(t);
  return m ? `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}Z` : t;
}

export class Simulator {
  readonly scenarioName: string;
  running = false;
  requests = 0;
  errors = 0;
  lastError: string | undefined;
  /** ticks skipped because the store was behind */
  throttledTicks = 0;
  /** requests given up because ticks kept running out of time for more than a second of backlog (the configured rate exceeds this machine) */
  get skippedRequests(): number {
    return Math.floor(this.scheduler.discarded);
  }
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private readonly scheduler: RateScheduler;
  /** whether the last step ran out of time and left requests in the backlog */
  private outOfTime = false;
  /** flows stamped later than the latest tick, in time order, waiting for a tick to reach them */
  private held: { f: FlowEnvelope; i: number; t: string }[] = [];
  /** the latest tick's time: a clock stepping back never lets a flow out of order */
  private horizonMs = 0;
  private seq = 0;
  /** the scenario's traffic, fixed for the simulator's life (read once, not on every tick) */
  private readonly entries: ReturnType<Datapath["trafficEntries"]>;

  constructor(readonly datapath: Datapath, private readonly bus: FlowBus, private readonly opts: SimulatorOptions = {}) {
    this.scenarioName = datapath.scenario.metadata?.name ?? "scenario";
    const entries = datapath.trafficEntries();
    this.entries = entries;
    this.scheduler = new RateScheduler(entries.map((e) => e.rate ?? 1), opts.rate);
  }

  requestRate(): number {
    return this.scheduler.totalRate();
  }

  namespaces(): string[] {
    return this.datapath.scenario.namespaces.map((n: { name: string }) => n.name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tickMs = this.opts.tickMs ?? 20;
    const sliceMs = tickMs * 0.75;
    let last = Date.now();
    const maxBacklog = this.opts.maxBacklog ?? 100_000;
    // Backpressure: a rate the disk cannot sustain must not turn into an unbounded in-memory queue.
    const storeBehind = () => this.opts.backlog !== undefined && this.opts.backlog() > maxBacklog;
    // A tick that ran out of time leaves requests in the backlog; further slices of at most sliceMs
    // send them as soon as the event loop has turned (I/O, the stream, the API run in between),
    // rather than waiting for the next tick while the CPU idles.
    let draining = false;
    const drain = () => {
      draining = false;
      if (!this.running || storeBehind()) return;
      this.step(0, Date.now(), sliceMs);
      if (this.outOfTime) {
        draining = true;
        setImmediate(drain);
      }
    };
    this.timer = setInterval(() => {
      const now = Date.now();
      if (storeBehind()) {
        this.throttledTicks++;
        last = now;
        return;
      }
      this.step(now - last, now, sliceMs);
      last = now;
      if (this.outOfTime && !draining) {
        draining = true;
        setImmediate(drain);
      }
    }, tickMs);
    if (this.opts.watchPolicies !== false) {
      this.stopWatch = this.datapath.watchPolicyFiles(() => undefined);
    }
  }

  /**
   * Sends the requests due in `elapsedMs`; exposed so tests can drive time themselves. A tick spends at
   * most `budgetMs` of CPU so the API and the stream stay responsive whatever rate was asked for;
   * requests that do not fit wait for the next ticks, up to a second's worth; beyond that they are
   * skipped and counted.
   */
  step(elapsedMs: number, now = Date.now(), budgetMs = Infinity): number {
    const entries = this.entries;
    const due = this.scheduler.due(elapsedMs);
    let sent = 0;
    const when = new Date(now);
    const deadline = performance.now() + budgetMs;
    // Published in chunks rather than per request: every subscriber (store, each stream client,
    // metrics) pays a fixed cost per batch, and a request makes only a handful of flows. A tick's flows
    // go out in time order, as a node's ring buffer holds them: a response is stamped its latency after
    // its request, later than the next requests of the tick.
    const pending: FlowEnvelope[] = [];
    let outOfTime = false;
    for (const [index, count] of due) {
      const entry = entries[index];
      if (!entry) continue;
      for (let i = 0; i < count; i++) {
        if (outOfTime || ((sent & 15) === 0 && performance.now() > deadline)) {
          outOfTime = true;
          // Back into the backlog: a tick that lost time to GC or a busy CPU is made up by the next
          // ones, and only a backlog beyond its bound (a rate this machine cannot reach) is given up.
          this.scheduler.refund(index, count - i);
          break;
        }
        try {
          const result = this.datapath.process(entry, when, { explain: false });
          for (const f of result.flows) pending.push(f);
          sent++;
        } catch (err) {
          // One bad traffic entry must not stop the others; the error is visible in /api/status.
          this.errors++;
          this.lastError = `traffic[${index}]: ${(err as Error).message}`;
        }
      }
    }
    // Flows stamped after this tick (a request's records run on past its start; a response is stamped
    // its latency later, Envoy's 503 for an unreachable upstream two seconds later) wait for the tick
    // that reaches their time: what the bus sees is in time order across ticks, as a ring buffer holds it.
    const horizon = timeKey(new Date(Math.max(now, this.horizonMs)).toISOString());
    this.horizonMs = Math.max(now, this.horizonMs);
    if (pending.length || this.held.length) {
      let keyed = this.held;
      for (const f of pending) keyed.push({ f, i: this.seq++, t: timeKey(f.time ?? f.flow.time) });
      keyed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.i - b.i));
      let due = 0;
      while (due < keyed.length && keyed[due]!.t <= horizon) due++;
      this.held = keyed.slice(due);
      keyed = keyed.slice(0, due);
      this.publishInChunks(keyed.map((x) => x.f));
    }
    this.outOfTime = outOfTime;
    this.requests += sent;
    return sent;
  }

  private publishInChunks(flows: FlowEnvelope[]): void {
    for (let k = 0; k < flows.length; k += PUBLISH_CHUNK) this.bus.publish(flows.slice(k, k + PUBLISH_CHUNK));
  }

  /** Publishes the flows still waiting for their time (stop() does, so none is lost). */
  flushHeld(): void {
    const held = this.held;
    this.held = [];
    this.publishInChunks(held.map((x) => x.f));
  }

  stop(): void {
    this.flushHeld();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopWatch?.();
    this.running = false;
  }

  policiesResponse(): PoliciesResponse {
    return {
      revision: this.datapath.revision(),
      policies: this.datapath.policies(),
      cidrGroups: this.datapath.cidrGroups(),
      warnings: [
        ...this.datapath.warnings,
        ...this.datapath.l7ParserConflicts().map((c) => ({ source: c.policy.source, document: c.policy.documentIndex, path: c.path, message: c.message })),
      ],
    } as PoliciesResponse;
  }

  /**
   * Applies policy YAML. Large texts are parsed off the main thread (parse-thread.ts), so changes are
   * applied one after another in the order they were asked for, whatever each one's parse takes.
   */
  upsertPolicyYaml(yaml: string, source: string): Promise<PolicyChange> {
    const parsed = parsePolicyTextOffThread(yaml, source);
    return this.inOrder(() => parsed.then((p) => this.datapath.applyPolicyText(p)));
  }

  /**
   * the scenario's traffic with and without `yaml` applied; the live policies stay as they are. Parsed
   * and replayed off the main thread: a change of thousands of rules takes seconds to compile.
   */
  async previewPolicyYaml(yaml: string): Promise<PolicyPreviewResponse> {
    const change = await parsePolicyTextOffThread(yaml, "preview");
    return previewPolicyChangeOffThread(this.datapath, change);
  }

  deletePolicy(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    return this.inOrder(async () => this.datapath.deletePolicy(kind, namespace, name));
  }

  /** policy changes applied so far, in order (never rejects) */
  private policyChanges: Promise<unknown> = Promise.resolve();

  private inOrder<T>(change: () => Promise<T>): Promise<T> {
    const done = this.policyChanges.then(change);
    this.policyChanges = done.catch(() => undefined);
    return done;
  }
}
