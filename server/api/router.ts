// The REST API under /api. Every handler validates its input and answers errors as
// {"error": "...", "field": "..."} with a 4xx status; the server never crashes on a bad request.
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FlowsPage, NamespacesResponse, NodesResponse, PoliciesResponse, ServerStatus } from "../../lib/api-types";
import { FilterError, type FlowQuery } from "../../lib/filter/types";
import { badlyEncodedParam, parseSearchParams } from "../../lib/filter/params";
import { compileQuery } from "../../lib/filter/match";
import { MIN_TIME_MS, parseTimeArg } from "../../lib/filter/time";
import type { FlowBus } from "../bus";
import type { FlowStore } from "../store/flow-store";
import type { StreamServer } from "../stream/stream-server";
import type { Simulator } from "../traffic/simulator";
import { decoded, firstBadUtf8Byte, HttpError, intParam, readBody, sendError, sendJson } from "./http-util";
import { exportNdjson, exportBundle } from "./export-routes";
import { importHubble } from "./import-route";
import { inspectRoutes } from "./inspect-routes";
import { policyStats } from "./policy-stats";

export interface ApiContext {
  store: FlowStore;
  bus: FlowBus;
  stream: StreamServer;
  simulator?: Simulator;
  startedAt: number;
  version: string;
  /** how long a page may check rows one by one (Config.scanMs; the reader's default when unset) */
  scanMs?: number;
}

const MAX_PAGE = 10_000;
const RESERVED_PARAMS = ["limit", "cursor", "order", "token", "extensions"];
/** parameters of one value on any route: a repeat is a 400 naming it, not a silent pick of the first */
const SINGLE_VALUED = ["limit", "cursor", "order", "first", "since", "until", "extensions", "token", "node"];
/** names the filter parser lets through for other callers, which no route here implements */
const UNSUPPORTED_PARAMS: Record<string, string> = {
  follow: "follow is not supported by the REST API: subscribe to the WebSocket stream at /api/stream for live flows",
  format: "format is not supported: the API answers JSON (GET /api/export writes NDJSON)",
};

/** Filters from the query string; paging parameters are not filters. */
export function queryFromParams(params: URLSearchParams): FlowQuery {
  for (const [k, why] of Object.entries(UNSUPPORTED_PARAMS)) if (params.has(k)) throw new HttpError(400, why, k);
  const filterParams = new URLSearchParams();
  for (const [k, v] of params) if (!RESERVED_PARAMS.includes(k)) filterParams.append(k, v);
  try {
    return parseSearchParams(filterParams);
  } catch (err) {
    if (err instanceof FilterError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}

function cursorParam(params: URLSearchParams): number | undefined {
  const raw = params.get("cursor");
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, `cursor must be a flow id from a previous page, got ${JSON.stringify(raw)}`, "cursor");
  return n;
}

function orderParam(params: URLSearchParams, query: FlowQuery): "asc" | "desc" {
  const raw = params.get("order");
  if (raw === null || raw === "") return query.first ? "asc" : "desc";
  if (raw !== "asc" && raw !== "desc") throw new HttpError(400, `order must be asc or desc, got ${JSON.stringify(raw)}`, "order");
  return raw;
}

function getFlows(ctx: ApiContext, params: URLSearchParams): FlowsPage {
  if (params.has("extensions")) {
    throw new HttpError(400, "extensions is a parameter of /api/export and /api/export/bundle: flows from /api/flows always carry their extensions", "extensions");
  }
  const query = queryFromParams(params);
  const limit = intParam(params, "limit", query.limit ?? 100, 1, MAX_PAGE);
  ctx.store.flush();
  const page = ctx.store.reader.page(query, { limit, cursor: cursorParam(params), order: orderParam(params, query), scanMs: ctx.scanMs });
  return { flows: page.flows, ...(page.nextCursor !== undefined ? { nextCursor: String(page.nextCursor) } : {}), ...(page.scanStopped ? { scanStopped: true } : {}), history: ctx.store.historyId };
}

function getStatus(ctx: ApiContext): ServerStatus {
  const bounds = ctx.store.reader.timeBounds();
  return {
    version: ctx.version,
    historyId: ctx.store.historyId,
    uptimeMs: Date.now() - ctx.startedAt,
    storedFlows: ctx.store.storedFlows(),
    oldestFlowTime: bounds.oldest !== undefined ? new Date(bounds.oldest).toISOString() : undefined,
    newestFlowTime: bounds.newest !== undefined ? new Date(bounds.newest).toISOString() : undefined,
    ingestRate: ctx.store.ingestRate(),
    ingestLag: ctx.store.writer.lag,
    databaseBytes: ctx.store.databaseBytes(),
    storeError: ctx.store.writer.lastError,
    storeDropped: ctx.store.writer.dropped,
    retention: { maxFlows: ctx.store.retention.maxFlows, maxAgeMs: ctx.store.retention.maxAgeMs },
    simulator: ctx.simulator
      ? {
          running: ctx.simulator.running,
          scenario: ctx.simulator.scenarioName,
          rate: ctx.simulator.requestRate(),
          skippedRequests: ctx.simulator.skippedRequests,
          throttledTicks: ctx.simulator.throttledTicks,
          errors: ctx.simulator.errors,
          lastError: ctx.simulator.lastError,
        }
      : { running: false, scenario: "", rate: 0, skippedRequests: 0, throttledTicks: 0, errors: 0 },
    policyRevision: ctx.simulator?.datapath.revision() ?? 0,
    websocketClients: ctx.stream.clientCount,
  };
}

async function getNamespaces(ctx: ApiContext): Promise<NamespacesResponse> {
  ctx.store.flush();
  // a scan of the whole history: on the aggregate thread, so this one keeps serving
  const rows = await ctx.store.namespaceCounts();
  const known = new Set(rows.map((r) => r.namespace));
  // Namespaces of the modelled cluster appear even before they have flows.
  for (const ns of ctx.simulator?.namespaces() ?? []) if (!known.has(ns)) rows.push({ namespace: ns, flows: 0 });
  rows.sort((a, b) => a.namespace.localeCompare(b.namespace));
  return { namespaces: rows };
}

function requireSimulator(ctx: ApiContext): Simulator {
  if (!ctx.simulator) throw new HttpError(404, "no scenario is loaded (the simulator is off)");
  return ctx.simulator;
}

function getPolicies(ctx: ApiContext): PoliciesResponse {
  const sim = requireSimulator(ctx);
  return sim.policiesResponse();
}

/** The YAML of a policy change; an empty body is a mistake, not a change that does nothing. */
function policyBody(raw: Buffer): string {
  // decoding would quietly turn a bad byte into U+FFFD and apply a policy nobody wrote
  if (!isUtf8(raw)) throw new HttpError(400, `body: not valid UTF-8 (at byte ${firstBadUtf8Byte(raw)} of the body)`, "body");
  const body = raw.toString("utf8");
  if (body.trim() === "") throw new HttpError(400, "body: expected policy YAML (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or CiliumCIDRGroup documents)", "body");
  return body;
}

type Handler = (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpMatchArray) => Promise<void> | void;

/**
 * A route. `params`, when given, lists every query parameter it reads (besides token): any other is a 400
 * naming it, so that a filter it does not take (`/api/endpoints?node=x`) is not silently ignored. Routes
 * that take filters check their parameters themselves.
 */
export interface Route {
  method: string;
  pattern: RegExp;
  params?: readonly string[];
  handler: Handler;
}

/** paging and format parameters the service map has no use for: refused rather than ignored */
const SERVICE_MAP_REFUSED = ["limit", "cursor", "order", "first", "extensions"];

const routes: Route[] = [
  { method: "GET", pattern: /^\/api\/flows$/, handler: (ctx, _q, res, url) => sendJson(res, 200, getFlows(ctx, url.searchParams)) },
  {
    method: "GET",
    pattern: /^\/api\/flows\/([^/]+)$/,
    params: [],
    handler: (ctx, _q, res, _u, m) => {
      ctx.store.flush();
      const uuid = decoded(m[1], "uuid");
      const flow = ctx.store.reader.byUuid(uuid);
      if (!flow) throw new HttpError(404, `no flow with uuid ${JSON.stringify(uuid.slice(0, 80))}`);
      sendJson(res, 200, flow);
    },
  },
  { method: "GET", pattern: /^\/api\/status$/, params: [], handler: (ctx, _q, res) => sendJson(res, 200, getStatus(ctx)) },
  { method: "GET", pattern: /^\/api\/namespaces$/, params: [], handler: async (ctx, _q, res) => sendJson(res, 200, await getNamespaces(ctx)) },
  { method: "GET", pattern: /^\/api\/nodes$/, params: [], handler: async (ctx, _q, res) => sendJson(res, 200, (await ctx.store.nodeNames()) satisfies NodesResponse) },
  {
    method: "GET",
    pattern: /^\/api\/service-map$/,
    handler: async (ctx, _q, res, url) => {
      const p = url.searchParams;
      for (const k of SERVICE_MAP_REFUSED) {
        if (p.has(k)) throw new HttpError(400, `${k} is not supported by the service map, which aggregates every matching flow in the window: bound it with since and until`, k);
      }
      const query = queryFromParams(p);
      const now = Date.now();
      const until = query.until ? timeOrThrow(query.until, "until") : now;
      // the default window may not start before the earliest time a query can hold
      const since = query.since ? timeOrThrow(query.since, "since") : Math.max(MIN_TIME_MS, until - 5 * 60_000);
      if (since > until) throw new HttpError(400, "since is after until", "since");
      // checked here, where a bad filter is a 400 naming it; the aggregate thread would only fail
      compileQuery(query);
      ctx.store.flush();
      sendJson(res, 200, await ctx.store.serviceMap({ ...query, since: undefined, until: undefined }, since, until));
    },
  },
  { method: "GET", pattern: /^\/api\/policies$/, params: [], handler: (ctx, _q, res) => sendJson(res, 200, getPolicies(ctx)) },
  {
    method: "GET",
    pattern: /^\/api\/policies\/stats$/,
    // reads every row of the window: on the aggregate thread's own connection, so neither this thread
    // nor ingest's cached pages pay for it
    handler: async (ctx, _q, res, url) => sendJson(res, 200, await policyStats(ctx.store, url.searchParams)),
  },
  {
    method: "PUT",
    pattern: /^\/api\/policies$/,
    params: [],
    handler: async (ctx, req, res) => {
      const sim = requireSimulator(ctx);
      const body = policyBody(await readBody(req, 1024 * 1024));
      const result = await sim.upsertPolicyYaml(body, "api");
      sendJson(res, result.applied.length > 0 || result.appliedCidrGroups.length > 0 || result.warnings.length === 0 ? 200 : 400, result);
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/policies\/preview$/,
    params: [],
    handler: async (ctx, req, res) => {
      const sim = requireSimulator(ctx);
      const result = await sim.previewPolicyYaml(policyBody(await readBody(req, 1024 * 1024)));
      // nothing valid to try: the warnings say why
      sendJson(res, result.applied.length === 0 && result.appliedCidrGroups.length === 0 ? 400 : 200, result);
    },
  },
  {
    method: "DELETE",
    pattern: /^\/api\/policies\/([^/]+)\/([^/]*)\/([^/]+)$/,
    params: [],
    handler: async (ctx, _q, res, _u, m) => {
      const sim = requireSimulator(ctx);
      const [kind, ns, name] = [decoded(m[1], "kind"), decoded(m[2], "namespace"), decoded(m[3], "name")];
      if (!(await sim.deletePolicy(kind!, ns || undefined, name!))) throw new HttpError(404, `no policy ${kind}/${ns}/${name}`);
      sendJson(res, 200, { deleted: { kind, namespace: ns || undefined, name }, revision: sim.datapath.revision() });
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/policies\/([^/]+)\/flows$/,
    handler: (ctx, _q, res, url, m) => {
      const params = new URLSearchParams(url.searchParams);
      // a second policy here would be ORed with the path's, answering for both
      if (params.has("policy")) throw new HttpError(400, "the policy is named in the path: /api/policies/NAME/flows takes no policy parameter (use /api/flows?policy=A&policy=B for several)", "policy");
      params.append("policy", decoded(m[1], "policy"));
      sendJson(res, 200, getFlows(ctx, params));
    },
  },
  { method: "GET", pattern: /^\/api\/fqdn-cache$/, params: [], handler: (ctx, _q, res) => sendJson(res, 200, { entries: requireSimulator(ctx).datapath.fqdnCache() }) },
  { method: "GET", pattern: /^\/api\/export$/, handler: (ctx, _q, res, url) => exportNdjson(ctx, res, url.searchParams) },
  { method: "GET", pattern: /^\/api\/export\/bundle$/, handler: (ctx, _q, res, url) => exportBundle(ctx, res, url.searchParams) },
  { method: "POST", pattern: /^\/api\/import$/, params: [], handler: (ctx, req, res) => importHubble(ctx, req, res) },
  ...inspectRoutes,
];

/** the same time forms /api/flows takes (RFC 3339, epoch ms, durations like 5m) */
function timeOrThrow(v: string, field: string): number {
  try {
    return parseTimeArg(v, field);
  } catch (err) {
    if (err instanceof FilterError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}

/** Repeated single-valued parameters, and parameters a route does not take, are a 400 naming them. */
function checkParams(url: URL, allowed: readonly string[] | undefined): void {
  const bad = badlyEncodedParam(url.search.slice(1));
  if (bad !== undefined) throw new HttpError(400, `parameter ${JSON.stringify(bad)} is not valid percent-encoded UTF-8`, bad);
  const params = url.searchParams;
  for (const k of new Set(params.keys())) {
    if (allowed !== undefined && k !== "token" && !allowed.includes(k)) {
      const takes = allowed.length ? `it takes ${allowed.join(", ")}` : "it takes no parameters";
      throw new HttpError(400, `unknown parameter ${JSON.stringify(k.slice(0, 60))}: ${url.pathname} does not use it (${takes})`, k);
    }
    if (SINGLE_VALUED.includes(k)) {
      const n = params.getAll(k).length;
      if (n > 1) throw new HttpError(400, `${k} is given ${n} times: it takes one value`, k);
    }
  }
}

export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  try {
    let pathMatched = false;
    for (const r of routes) {
      const m = url.pathname.match(r.pattern);
      if (!m) continue;
      pathMatched = true;
      // HEAD is GET without the body (Node leaves the body out of a HEAD answer itself)
      if (r.method !== req.method && !(req.method === "HEAD" && r.method === "GET" && !url.pathname.startsWith("/api/export"))) continue;
      checkParams(url, r.params);
      await r.handler(ctx, req, res, url, m);
      return;
    }
    if (pathMatched) throw new HttpError(405, `${req.method} is not supported on ${url.pathname}`);
    throw new HttpError(404, `no API route ${url.pathname}`);
  } catch (err) {
    if (!res.headersSent) sendError(res, err);
    else res.destroy(err as Error);
  }
}
