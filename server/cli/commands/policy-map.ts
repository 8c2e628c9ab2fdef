// `policy-map get ENDPOINT` (id or namespace/pod): one row per policy-map entry with its counters and
// the policies that made it, like `cilium-dbg bpf policy get` plus attribution.
import type { EndpointsResponse, PolicyMapResponse } from "../../../lib/inspect-types";
import { getJson, type Remote } from "../remote";
import { policyText, renderTable, runInspect } from "./endpoint";

const USAGE = "usage: npm run -s cli -- policy-map get ENDPOINT [-o json|table] [--server URL]\n  ENDPOINT: endpoint id or namespace/pod";

async function endpointId(remote: Remote, ref: string): Promise<number | undefined> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const { endpoints } = await getJson<EndpointsResponse>(remote, "/api/endpoints");
  return endpoints.find((e) => `${e.namespace}/${e.pod}` === ref)?.id;
}

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    const [sub, ref, ...extra] = args;
    if (sub !== "get" || ref === undefined || extra.length) {
      console.error(USAGE);
      return 2;
    }
    if (!/^\d+$/.test(ref) && !/^[^/\s]+\/[^/\s]+$/.test(ref)) {
      console.error(`policy-map get: ENDPOINT must be an endpoint id or namespace/pod, got ${JSON.stringify(ref)}`);
      return 2;
    }
    const id = await endpointId(remote, ref);
    if (id === undefined) {
      console.error(`policy-map get: no endpoint for pod ${ref} (see \`endpoint list\`)`);
      return 1;
    }
    const body = await getJson<PolicyMapResponse>(remote, `/api/endpoints/${id}/policy-map`);
    if (output === "json") {
      console.log(JSON.stringify(body, null, 2));
      return 0;
    }
    const ep = body.endpoint;
    console.log(`# endpoint ${ep.id} ${ep.namespace}/${ep.pod} identity ${ep.identity}; ingress enforcement ${ep.ingress.enforcement}, egress enforcement ${ep.egress.enforcement}; policy revision ${body.revision}`);
    if (body.rows.length === 0) {
      console.log("(no entries)");
      return 0;
    }
    console.log(
      renderTable(
        ["DIRECTION", "IDENTITY", "LABELS (source:key[=value])", "PORT/PROTO", "L7 REDIRECT", "ENTRY TYPE", "PACKETS", "BYTES", "LAST HIT", "POLICIES"],
        body.rows.map((r) => [
          r.direction.charAt(0).toUpperCase() + r.direction.slice(1), String(r.identity), r.identity === "ANY" ? ["reserved:unknown (any)"] : r.identityLabels,
          r.protocol === "ANY" && r.port === "ANY" ? "ANY" : `${r.port}/${r.protocol}`, r.l7Redirect ? "yes" : "no", r.action, r.packets, r.bytes, r.lastHit ?? "never",
          r.policies.map((p) => `${policyText(p)} ${p.path}`),
        ]),
      ),
    );
    return 0;
  });
}
