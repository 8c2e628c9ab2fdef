// `fqdn-cache list`: the names the DNS proxy learned and the IPs toFQDNs policies select through them,
// like `cilium-dbg fqdn cache list`.
import { getJson } from "../remote";
import { renderTable, runInspect } from "./endpoint";

import type { FqdnCacheEntry } from "../../datapath/fqdn-cache";

const USAGE = "usage: npm run -s cli -- fqdn-cache list [-o json|table] [--server URL]";

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    if (args[0] !== "list" || args.length > 1) {
      console.error(USAGE);
      return 2;
    }
    const body = await getJson<{ entries: FqdnCacheEntry[] }>(remote, "/api/fqdn-cache");
    if (output === "json") {
      console.log(JSON.stringify(body.entries, null, 2));
      return 0;
    }
    const rows = body.entries.map((e) => [String(e.endpointId), e.source === "dns-proxy" ? "lookup" : e.source, e.name, String(e.ttl), new Date(e.expiresAt).toISOString(), e.ips.join(",")]);
    console.log(renderTable(["Endpoint", "Source", "FQDN", "TTL", "ExpirationTime", "IPs"], rows));
    return 0;
  });
}
