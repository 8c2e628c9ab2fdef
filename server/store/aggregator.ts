// Aggregate queries off the main thread (see ../threads/request-thread.ts): the aggregate thread
// (aggregate-worker.ts) reads every row of a window on its own read-only connection, and callers await
// its answer.
import { RequestThread } from "../threads/request-thread";
import type { ServiceMap } from "../../lib/api-types";
import type { FlowQuery } from "../../lib/filter/types";
import type { NamespaceCount, PolicyVerdictGroup } from "./aggregate-queries";
import type { AggregateQuery } from "./aggregate-worker";

export class Aggregator {
  private readonly thread: RequestThread<AggregateQuery, unknown>;

  constructor(dbPath: string) {
    this.thread = new RequestThread(new URL("./aggregate-worker.ts", import.meta.url), "aggregate query", { dbPath });
  }

  /** flows with time_ms in [sinceMs, untilMs] counted per (policies column, verdict); see aggregate-queries.ts */
  policyVerdictGroups(sinceMs: number, untilMs: number): Promise<PolicyVerdictGroup[]> {
    return this.thread.request({ query: "policyVerdictGroups", sinceMs, untilMs }) as Promise<PolicyVerdictGroup[]>;
  }

  /** flows per namespace they touch; see aggregate-queries.ts */
  namespaceCounts(): Promise<NamespaceCount[]> {
    return this.thread.request({ query: "namespaceCounts" }) as Promise<NamespaceCount[]>;
  }

  /** the service map of the flows matching `filter` with time_ms in [sinceMs, untilMs]; see service-map.ts */
  serviceMap(filter: FlowQuery, sinceMs: number, untilMs: number): Promise<ServiceMap> {
    return this.thread.request({ query: "serviceMap", filter, sinceMs, untilMs }) as Promise<ServiceMap>;
  }

  /** Stops the thread; requests still waiting are refused. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
