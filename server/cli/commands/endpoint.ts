// `endpoint list`: the endpoints of the simulated cluster like `cilium-dbg endpoint list`, with the
// policies that turned enforcement on. Also home of the small table/output helpers the other
// inspection commands (identity, ipcache, policy-map, policy) share.
import type { EndpointsResponse, PolicyRef } from "../../../lib/inspect-types";
import { getJson, takeRemoteFlags, type Remote } from "../remote";

export type Output = "table" | "json";

/** -o/--output json|table (default table); the remaining arguments */
export function takeOutput(args: string[]): { output: Output; rest: string[] } {
  const rest: string[] = [];
  let output: Output = "table";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | undefined;
    if (a === "-o" || a === "--output") {
      v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value: json or table`);
    } else if (a.startsWith("--output=")) v = a.slice("--output=".length);
    else if (a.startsWith("-o=")) v = a.slice(3);
    else {
      rest.push(a);
      continue;
    }
    if (v !== "json" && v !== "table") throw new Error(`-o must be json or table, got ${JSON.stringify(v)}`);
    output = v;
  }
  return { output, rest };
}

/** a table cell; an array prints one value per line, as cilium-dbg prints labels */
export type Cell = string | number | string[];

export function renderTable(header: string[], rows: Cell[][]): string {
  const lines: string[][] = [header];
  for (const r of rows) {
    const cells = r.map((c) => (Array.isArray(c) ? (c.length ? c : [""]) : [String(c)]));
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) lines.push(cells.map((c) => c[i] ?? ""));
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join("   ").trimEnd()).join("\n");
}

export function policyText(p: PolicyRef): string {
  const short = p.kind === "CiliumNetworkPolicy" ? "cnp" : p.kind === "CiliumClusterwideNetworkPolicy" ? "ccnp" : p.kind === "NetworkPolicy" ? "knp" : p.kind;
  return `${short}:${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
}

/** parses the command line, runs `body`, and turns usage mistakes into exit code 2 */
export async function runInspect(argv: string[], usage: string, body: (remote: Remote, output: Output, args: string[]) => Promise<number>): Promise<number> {
  let remote: Remote;
  let output: Output;
  let args: string[];
  try {
    ({ remote, rest: args } = takeRemoteFlags(argv));
    ({ output, rest: args } = takeOutput(args));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  return body(remote, output, args);
}

const USAGE = "usage: npm run -s cli -- endpoint list [-o json|table] [--server URL]";

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    if (args[0] !== "list" || args.length > 1) {
      console.error(USAGE);
      return 2;
    }
    const body = await getJson<EndpointsResponse>(remote, "/api/endpoints");
    if (output === "json") {
      console.log(JSON.stringify(body, null, 2));
      return 0;
    }
    console.log(
      renderTable(
        ["ENDPOINT", "POD", "NAMESPACE", "IDENTITY", "IPv4", "NODE", "POLICY (ingress) ENFORCEMENT", "POLICY (egress) ENFORCEMENT", "ENFORCED BY"],
        body.endpoints.map((e) => [
          e.id, e.pod, e.namespace, e.identity, e.ips.join(","), e.node, e.ingress.enforcement, e.egress.enforcement,
          [...e.ingress.enabledBy.map((p) => `ingress ${policyText(p)}`), ...e.egress.enabledBy.map((p) => `egress ${policyText(p)}`)],
        ]),
      ),
    );
    return 0;
  });
}
