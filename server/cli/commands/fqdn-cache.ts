// `fqdn-cache list`: the names one node's DNS proxy learned and the IPs toFQDNs policies select through
// them, printed as `cilium-dbg fqdn cache list` prints them on that node (each agent keeps its own cache).
import { getJson } from "../remote";
import { pickNode, printBlock, runInspect, takeFlagsOrUsage } from "./endpoint";
import { tabwrite } from "../tabwriter";
import type { EndpointsResponse } from "../../../lib/inspect-types";
import type { FqdnCacheEntry } from "../../datapath/fqdn-cache";

const USAGE = `usage: npm run -s cli -- fqdn-cache list [--node NODE | --all-nodes] [-o json|table] [--server URL]
  Prints one node's DNS cache as \`cilium-dbg fqdn cache list\` prints it there (default: the scenario's
  first node); --all-nodes prints every node's, each after a "# node NAME" line.`;

/** one node's entries: tabwriter(5, 0, 3), names in FQDN form, expiry as strfmt.DateTime prints it */
export function fqdnCacheTable(entries: FqdnCacheEntry[]): string {
  let text = "Endpoint\tSource\tFQDN\tTTL\tExpirationTime\tIPs\t\n";
  for (const e of entries) {
    const name = e.name.endsWith(".") ? e.name : `${e.name}.`;
    text += `${e.endpointId}\t${e.source === "dns-proxy" ? "lookup" : e.source}\t${name}\t${e.ttl}\t${new Date(e.expiresAt).toISOString()}\t${e.ips.join(",")}\t\n`;
  }
  return tabwrite(text, { minwidth: 5, tabwidth: 0, padding: 3 });
}

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, argsIn) => {
    const taken = takeFlagsOrUsage(argsIn, ["--node"], ["--all-nodes"], USAGE);
    if (!taken) return 2;
    const { flags, rest: args } = taken;
    if (args[0] !== "list" || args.length > 1 || (flags.has("--node") && flags.has("--all-nodes"))) {
      console.error(USAGE);
      return 2;
    }
    const [body, eps] = await Promise.all([
      getJson<{ entries: FqdnCacheEntry[] }>(remote, "/api/fqdn-cache"),
      getJson<EndpointsResponse>(remote, "/api/endpoints"),
    ]);
    let nodes: string[];
    try {
      nodes = flags.has("--all-nodes") ? eps.nodes : [pickNode(eps.nodes, flags.get("--node") as string | undefined)];
    } catch (err) {
      console.error(`fqdn-cache list: ${(err as Error).message}`);
      return 2;
    }
    const entries = body.entries.filter((e) => nodes.includes(e.node));
    if (output === "json") {
      console.log(JSON.stringify(entries, null, 2));
      return 0;
    }
    nodes.forEach((node, i) => {
      if (flags.has("--all-nodes")) console.log(`${i ? "\n" : ""}# node ${node}`);
      printBlock(fqdnCacheTable(entries.filter((e) => e.node === node)));
    });
    return 0;
  });
}
