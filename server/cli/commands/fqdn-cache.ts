// `fqdn-cache list`: the names the DNS proxy learned and the IPs toFQDNs policies select through them,
// like `cilium-dbg fqdn cache list`.
import { getJson, takeRemoteFlags } from "../remote";

interface Entry {
  endpoint?: number | string;
  name: string;
  ips?: string[];
  ip?: string;
  ttl?: number;
  expiresAt?: string;
  source?: string;
}

export async function run(argv: string[]): Promise<number> {
  const { remote, rest } = takeRemoteFlags(argv);
  const [sub, ...more] = rest;
  if (sub !== "list") {
    console.error("usage: npm run -s cli -- fqdn-cache list [-o json|table] [--server URL]");
    return 2;
  }
  const json = more.includes("json") && (more.includes("-o") || more.includes("--output"));
  const body = await getJson<{ entries: Entry[] }>(remote, "/api/fqdn-cache");
  if (json) {
    console.log(JSON.stringify(body.entries, null, 2));
    return 0;
  }
  const rows = [["Endpoint", "FQDN", "TTL", "ExpirationTime", "IPs", "Source"]];
  for (const e of body.entries) {
    rows.push([String(e.endpoint ?? ""), e.name, String(e.ttl ?? ""), e.expiresAt ?? "", (e.ips ?? (e.ip ? [e.ip] : [])).join(","), e.source ?? "lookup"]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd());
  return 0;
}
