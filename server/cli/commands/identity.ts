// `identity list` / `identity get ID`: security identities and their labels, reserved ones included,
// exactly as `cilium-dbg identity list|get` prints them (cilium-dbg/cmd/identity_list.go,
// identity_get.go). `identity list --endpoints` is cilium-dbg's per-node view: the identities of one
// node's endpoints with how many of them use each (REFCOUNT).
import type { EndpointsResponse, IdentitiesResponse, IdentityInfo } from "../../../lib/inspect-types";
import { getJson } from "../remote";
import { tabwrite } from "../tabwriter";
import { pickNode, printBlock, runInspect, takeFlagsOrUsage } from "./endpoint";

const USAGE = `usage: npm run -s cli -- identity list [--endpoints [--node NODE]] [-o json|table] [--server URL]
       npm run -s cli -- identity get ID [-o json|table] [--server URL]
  list: every identity (ID, LABELS) sorted by ID, as \`cilium-dbg identity list\`.
  --endpoints: the identities of one node's endpoints with their REFCOUNT, as
  \`cilium-dbg identity list --endpoints\` on that node (--node, default the scenario's first node).
  -o json prints /api/identities (/api/identities/ID for get), which also names each identity's endpoints;
  with --endpoints it prints {"node", "identities": [{"id", "labels", "refcount"}]}.`;

/** cilium-dbg's identity table: tabwriter(2, 0, 3), "ID\tLABELS", one label per line, sorted by ID */
export function identityTable(list: IdentityInfo[]): string {
  let text = "ID\tLABELS\n";
  for (const i of [...list].sort((a, b) => a.id - b.id)) {
    [...i.labels].sort().forEach((l, n) => {
      text += n === 0 ? `${i.id}\t${l}\n` : `\t${l}\n`;
    });
  }
  return tabwrite(text, { minwidth: 2, tabwidth: 0, padding: 3 });
}

interface IdentityRefs {
  id: number;
  labels: string[];
  refcount: number;
}

/** `identity list --endpoints`: tabwriter(5, 0, 3), "ID\tLABELS\tREFCOUNT" */
export function identityEndpointsTable(list: IdentityRefs[]): string {
  let text = "ID\tLABELS\tREFCOUNT\n";
  for (const i of list) {
    [...i.labels].sort().forEach((l, n) => {
      text += n === 0 ? `${i.id}\t${l}\t${i.refcount}\t\n` : `\t${l}\t\n`;
    });
  }
  return tabwrite(text, { minwidth: 5, tabwidth: 0, padding: 3 });
}

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, argsIn) => {
    const taken = takeFlagsOrUsage(argsIn, ["--node"], ["--endpoints"], USAGE);
    if (!taken) return 2;
    const { flags, rest: args } = taken;
    const [sub, id, ...extra] = args;
    if ((sub === "list" || sub === "ls") && id === undefined) {
      if (flags.has("--endpoints")) return listEndpoints(remote, output, flags.get("--node") as string | undefined);
      if (flags.has("--node")) {
        console.error(`identity list: --node goes with --endpoints (identities are cluster-wide)\n${USAGE}`);
        return 2;
      }
      const body = await getJson<IdentitiesResponse>(remote, "/api/identities");
      if (output === "json") console.log(JSON.stringify(body, null, 2));
      else printBlock(identityTable(body.identities));
      return 0;
    }
    if (sub === "get" && id !== undefined && extra.length === 0 && flags.size === 0) {
      if (!/^\d+$/.test(id)) {
        console.error(`identity get: ID must be a number, got ${JSON.stringify(id)}`);
        return 2;
      }
      const body = await getJson<IdentityInfo>(remote, `/api/identities/${id}`);
      if (output === "json") console.log(JSON.stringify(body, null, 2));
      else printBlock(identityTable([body]));
      return 0;
    }
    console.error(USAGE);
    return 2;
  });
}

async function listEndpoints(remote: Parameters<typeof getJson>[0], output: "json" | "table", wanted: string | undefined): Promise<number> {
  const [eps, ids] = await Promise.all([getJson<EndpointsResponse>(remote, "/api/endpoints"), getJson<IdentitiesResponse>(remote, "/api/identities")]);
  let node: string;
  try {
    node = pickNode(eps.nodes, wanted);
  } catch (err) {
    console.error(`identity list: ${(err as Error).message}`);
    return 2;
  }
  // the agent's identity manager counts its endpoints per identity, the host endpoint included
  const counts = new Map<number, number>();
  for (const e of eps.endpoints) if (e.node === node) counts.set(e.identity, (counts.get(e.identity) ?? 0) + 1);
  const labelsOf = new Map(ids.identities.map((i) => [i.id, i.labels]));
  const list: IdentityRefs[] = [...counts].sort(([a], [b]) => a - b).map(([id, refcount]) => ({ id, labels: labelsOf.get(id) ?? [], refcount }));
  if (output === "json") console.log(JSON.stringify({ node, identities: list }, null, 2));
  else printBlock(identityEndpointsTable(list));
  return 0;
}
