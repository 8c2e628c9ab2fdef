// `fqdn-cache list`: the names the DNS proxy learned and the IPs toFQDNs policies select through them,
// like `cilium-dbg fqdn cache list`.
import { getJson, takeRemoteFlags } from "../remote";

import type { FqdnCacheEntry } from "../../datapath/fqdn-cache";

export async function run(argv: string[]): Promise<number> {
  const { remote, rest } = takeRemoteFlags(argv);
  const [sub, ...more] = rest;
  if (sub !== "list") {
    console.error("usage: npm run -s cli -- fqdn-cache list [-o json|table] [--server URL]");
    return 2;
  }
  const json = more.includes("json") && (more.includes("-o") || more.includes("--output"));
  const body = await getJson<{ entries: FqdnCacheEntry[] }>(remote, "/api/fqdn-cache");
  if (json) {
    console.log(JSON.stringify(body.entries, null, 2));
    return 0;
  }
  const rows = [["Endpoint", "Source", "FQDN", "TTL", "ExpirationTime", "IPs"]];
  for (const e of body.entries) {
    rows.push([String(e.endpointId), e.source === "dns-proxy" ? "lookup" : e.source, e.name, String(e.ttl), new Date(e.expiresAt).toISOString(), e.ips.join(",")]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd());
  return 0;
}
