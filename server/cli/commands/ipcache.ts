// `ipcache list`: IP / prefix → identity as one node's BPF ipcache holds it, printed exactly as
// `cilium-dbg bpf ipcache list` does on that node (cilium-dbg/cmd/bpf_ipcache_list.go, TablePrinter in
// cilium-dbg/cmd/helpers.go, RemoteEndpointInfo.String in pkg/maps/ipcache/ipcache.go).
import type { IpcacheResponse, IpcacheRow } from "../../../lib/inspect-types";
import { parseCidr } from "../../cluster/ip";
import { getJson } from "../remote";
import { tabwrite } from "../tabwriter";
import { printBlock, runInspect, takeFlagsOrUsage } from "./endpoint";

const USAGE = `usage: npm run -s cli -- ipcache list [--node NODE] [-o json|table] [--server URL]
  Prints the ipcache of one node (--node, default the scenario's first node) as
  \`cilium-dbg bpf ipcache list\` prints it there. -o json prints /api/ipcache, which also says where
  each entry comes from (pod, node, kube-apiserver, cidr, fqdn) and the pod's node.`;

/**
 * RemoteEndpointInfo.String() of Cilium 1.18+ (the cilium_ipcache_v2 map): no IPsec here (encryptkey 0);
 * a pod on another node carries its node's IP as tunnel endpoint and the hastunnel flag, everything
 * else 0.0.0.0 and no flags.
 */
export function ipcacheValue(e: IpcacheRow): string {
  return `identity=${e.identity} encryptkey=0 tunnelendpoint=${e.tunnelEndpoint ?? "0.0.0.0"} flags=${e.tunnelEndpoint ? "hastunnel" : "<none>"}`;
}

function sortKey(prefix: string): [number, number] {
  const c = parseCidr(prefix);
  return "error" in c ? [Number.MAX_SAFE_INTEGER, 0] : [c.addr, c.len];
}

/** TablePrinter: tabwriter(5, 0, 3), header "%s\t%s\n", rows "%s\t%s\t\n" */
export function ipcacheTable(entries: IpcacheRow[]): string {
  // cilium-dbg ranges over a Go map (random order); here: by address, then prefix length
  const rows = [...entries].sort((a, b) => {
    const [x, y] = [sortKey(a.prefix), sortKey(b.prefix)];
    return x[0] - y[0] || x[1] - y[1] || a.prefix.localeCompare(b.prefix);
  });
  let text = "IP PREFIX/ADDRESS\tIDENTITY\n";
  for (const e of rows) text += `${e.prefix}\t${ipcacheValue(e)}\t\n`;
  return tabwrite(text, { minwidth: 5, tabwidth: 0, padding: 3 });
}

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, argsIn) => {
    const taken = takeFlagsOrUsage(argsIn, ["--node"], [], USAGE);
    if (!taken) return 2;
    const { flags, rest: args } = taken;
    if ((args[0] !== "list" && args[0] !== "ls") || args.length > 1) {
      console.error(args.length > 1 ? `unexpected argument ${JSON.stringify(args[1])}\n${USAGE}` : USAGE);
      return 2;
    }
    const node = flags.get("--node") as string | undefined;
    const body = await getJson<IpcacheResponse>(remote, `/api/ipcache${node ? `?node=${encodeURIComponent(node)}` : ""}`);
    if (output === "json") {
      console.log(JSON.stringify(body, null, 2));
      return 0;
    }
    if (body.entries.length === 0) {
      console.error("No entries found.");
      return 0;
    }
    printBlock(ipcacheTable(body.entries));
    return 0;
  });
}
