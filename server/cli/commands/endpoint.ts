// `endpoint list`: one node's endpoints exactly as `cilium-dbg endpoint list` prints them on that node
// (cilium-dbg/cmd/endpoint_list.go), or every node's. Also home of the small table/output helpers the
// other inspection commands (identity, ipcache, policy-map, policy) share.
import type { Enforcement, EndpointSummary, EndpointsResponse, PolicyRef } from "../../../lib/inspect-types";
import { getJson, takeRemoteFlags, type Remote } from "../remote";
import { tabwrite } from "../tabwriter";

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

/**
 * Takes `--NAME VALUE` / `--NAME=VALUE` (value flags) and `--NAME` (switches) out of `args`; throws on
 * a value flag without its value.
 */
export function takeFlags(args: string[], values: string[], switches: string[]): { flags: Map<string, string | true>; rest: string[] } {
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (values.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      flags.set(name, v);
    } else if (switches.includes(a)) flags.set(a, true);
    else rest.push(a);
  }
  return { flags, rest };
}

/** takeFlags, or undefined after printing what was wrong and the usage (the caller exits 2) */
export function takeFlagsOrUsage(args: string[], values: string[], switches: string[], usage: string): { flags: Map<string, string | true>; rest: string[] } | undefined {
  try {
    return takeFlags(args, values, switches);
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return undefined;
  }
}

/** the node whose view to show: --node, else the scenario's first node (as `/api/ipcache` defaults) */
export function pickNode(nodes: string[], wanted: string | undefined): string {
  if (wanted === undefined) return nodes[0]!;
  if (!nodes.includes(wanted)) throw new Error(`unknown node ${JSON.stringify(wanted)}; nodes: ${nodes.join(", ")}`);
  return wanted;
}

// cilium-dbg/cmd/endpoint_list.go
const POLICY_TEXT: Record<Enforcement, string> = { on: "Enabled", off: "Disabled", audit: "Disabled (Audit)" };

/** one node's endpoints as `cilium-dbg endpoint list` prints them: tabwriter(5, 0, 3), sorted by ID */
export function endpointTable(endpoints: EndpointSummary[], headers = true): string {
  let text = "";
  if (headers) {
    text += "ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n";
    text += "\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n";
  }
  for (const e of [...endpoints].sort((a, b) => a.id - b.id)) {
    const labels = e.labels.length ? [...e.labels].sort() : ["no labels"];
    // the simulated cluster is IPv4-only: cilium-dbg prints the endpoint's empty IPv6 address
    const ipv4 = e.ips.find((ip) => !ip.includes(":")) ?? "";
    const ipv6 = e.ips.find((ip) => ip.includes(":")) ?? "";
    labels.forEach((l, i) => {
      text += i === 0
        ? `${e.id}\t${POLICY_TEXT[e.ingress.enforcement]}\t${POLICY_TEXT[e.egress.enforcement]}\t${e.identity}\t${l}\t${ipv6}\t${ipv4}\tready\t\n`
        : `\t\t\t\t${l}\t\t\t\t\n`;
    });
  }
  return tabwrite(text, { minwidth: 5, tabwidth: 0, padding: 3 });
}

/** prints tabwriter output (which ends in a newline) through console.log */
export function printBlock(text: string): void {
  if (text) console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
}

const USAGE = `usage: npm run -s cli -- endpoint list [--node NODE | --all-nodes] [--no-headers] [-o json|table] [--server URL]
  Prints one node's endpoints (the pods on it and its host endpoint) exactly as \`cilium-dbg endpoint list\`
  prints them on that node. --node picks the node (default: the scenario's first node); --all-nodes prints
  every node's table, each after a "# node NAME" line. -o json prints /api/endpoints with only the chosen
  node's endpoints (all of them with --all-nodes), including the policies that turned enforcement on.`;

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, argsIn) => {
    const taken = takeFlagsOrUsage(argsIn, ["--node"], ["--all-nodes", "--no-headers"], USAGE);
    if (!taken) return 2;
    const { flags, rest: args } = taken;
    if ((args[0] !== "list" && args[0] !== "ls") || args.length > 1 || (flags.has("--node") && flags.has("--all-nodes"))) {
      console.error(USAGE);
      return 2;
    }
    const body = await getJson<EndpointsResponse>(remote, "/api/endpoints");
    let nodes: string[];
    try {
      nodes = flags.has("--all-nodes") ? body.nodes : [pickNode(body.nodes, flags.get("--node") as string | undefined)];
    } catch (err) {
      console.error(`endpoint list: ${(err as Error).message}`);
      return 2;
    }
    if (output === "json") {
      console.log(JSON.stringify({ ...body, endpoints: body.endpoints.filter((e) => nodes.includes(e.node)) }, null, 2));
      return 0;
    }
    nodes.forEach((node, i) => {
      if (flags.has("--all-nodes")) console.log(`${i ? "\n" : ""}# node ${node}`);
      printBlock(endpointTable(body.endpoints.filter((e) => e.node === node), !flags.has("--no-headers")));
    });
    return 0;
  });
}
