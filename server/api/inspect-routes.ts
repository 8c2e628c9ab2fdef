// Datapath inspection routes (like cilium-dbg): endpoints, per-endpoint policy maps with hit counters,
// identities, the ipcache and the selector cache. Answers are typed in lib/inspect-types.ts.
import type { ServerResponse } from "node:http";
import type { Datapath } from "../datapath";
import { endpointsView, identitiesView, identityView, InspectError, ipcacheView, policyMapView, selectorsView } from "../datapath/inspect";
import type { ApiContext, Route } from "./router";
import { decoded, HttpError, sendJson } from "./http-util";

function datapathOf(ctx: ApiContext): Datapath {
  if (!ctx.simulator) throw new HttpError(404, "no scenario is loaded (the simulator is off), so there is no datapath to inspect");
  return ctx.simulator.datapath;
}

/** runs a view, turning its lookup errors into HTTP errors that name the endpoint/identity/field */
function answer<T>(res: ServerResponse, view: () => T): void {
  let body: T;
  try {
    body = view();
  } catch (err) {
    if (err instanceof InspectError) throw new HttpError(err.status, err.message, err.field);
    throw err;
  }
  sendJson(res, 200, body);
}

// Each route lists the parameters it takes (see Route): the views are whole tables, and a parameter one
// does not take (`/api/endpoints?node=x`) is a 400 rather than an answer that looks filtered and is not.
export const inspectRoutes: Route[] = [
  { method: "GET", pattern: /^\/api\/endpoints$/, params: [], handler: (ctx, _q, res) => answer(res, () => endpointsView(datapathOf(ctx))) },
  {
    method: "GET",
    pattern: /^\/api\/endpoints\/([^/]+)\/policy-map$/,
    params: [],
    handler: (ctx, _q, res, _u, m) => answer(res, () => policyMapView(datapathOf(ctx), decoded(m[1], "id"))),
  },
  { method: "GET", pattern: /^\/api\/identities$/, params: [], handler: (ctx, _q, res) => answer(res, () => identitiesView(datapathOf(ctx))) },
  { method: "GET", pattern: /^\/api\/identities\/([^/]+)$/, params: [], handler: (ctx, _q, res, _u, m) => answer(res, () => identityView(datapathOf(ctx), decoded(m[1], "id"))) },
  {
    method: "GET",
    pattern: /^\/api\/ipcache$/,
    params: ["node"],
    handler: (ctx, _q, res, url) => answer(res, () => ipcacheView(datapathOf(ctx), url.searchParams.get("node") || undefined)),
  },
  { method: "GET", pattern: /^\/api\/selectors$/, params: [], handler: (ctx, _q, res) => answer(res, () => selectorsView(datapathOf(ctx))) },
];
