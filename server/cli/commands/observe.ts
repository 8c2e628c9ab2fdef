// `observe`: `hubble observe` against Flowscope's history and live stream, or offline over an export
// file (--input-file). Same flags, same output formats, the same filter implementation as the server.
import fs from "node:fs";
import { isUtf8 } from "node:buffer";
import WebSocket from "ws";
import type { FlowsPage, NodesResponse, StoredFlow } from "../../../lib/api-types";
import { expandShortFlags, parseObserveArgs, rawFiltersYaml } from "../../../lib/filter/parse-cli";
import { toSearchParams } from "../../../lib/filter/parse-params";
import { compileQuery } from "../../../lib/filter/match";
import { FilterError, type FlowQuery } from "../../../lib/filter/types";
import { HubbleImporter } from "../../../lib/flow/import";
import { LINE_TOO_LONG, MAX_NDJSON_LINE_BYTES, ndjsonLines } from "../../../lib/flow/ndjson-lines";
import { toHubbleJson } from "../../../lib/flow/json";
import { timestampMs } from "../../../lib/flow/time";
import { withoutExtensions } from "../../../lib/flow/strip-extensions";
import { DICT_SEPARATOR, formatFlow, formatLostEvents, formatTable, TIME_FORMATS, timeFormatNamed, type LostEvents, type PrintFormat, type PrintOptions } from "../../../lib/flow/print";
import type { FlowEnvelope } from "../../../lib/flow/types";
import type { ServerMessage } from "../../../lib/stream-protocol";
import { authHeaders, getJson, takeRemoteFlags, type Remote } from "../remote";

const HELP = `usage: npm run -s cli -- observe [filters] [-o compact|dict|json|table] [--last N | --first N | --all]
                                 [--since T] [--until T] [--follow] [--input-file FILE] [--server URL]
                                 [--color auto|always|never] [--print-raw-filters] [-s]

Filters are hubble observe's: --namespace/-n, --pod, --from-pod/--to-pod, --label/-l, --from-label/--to-label,
--verdict, --drop-reason-desc, --type/-t, --protocol, --port/--from-port/--to-port, --http-method,
--http-status, --http-path, --http-url, --fqdn/--from-fqdn/--to-fqdn, --ip/--from-ip/--to-ip,
--identity/--from-identity/--to-identity, --service/--from-service/--to-service,
--workload/--from-workload/--to-workload, --cluster/--from-cluster/--to-cluster, --http-header, --dns-query,
--traffic-direction, --node-name, --node-label, --interface, --encrypted/--unencrypted, --uuid, --ip-version,
--tcp-flags, --snat-ip, --trace-id, --ip-trace-id, --cel-expression (Hubble's experimental CEL over _flow, e.g.
"_flow.verdict == Verdict.DROPPED && has(_flow.l7.http)"), --policy (Flowscope), and --not before any of them. The same flag twice ORs its values; different flags AND.
Output: --print-node-name, --print-policy-names (verdicts name the deciding policies), --numeric
(or --ip-translation=false: IPs instead of pod names), --time-format StampMilli|RFC3339|RFC3339Milli|
RFC3339Micro|RFC3339Nano|RFC1123Z (in UTC), --color auto|always|never (compact and dict output; auto =
when standard output is a terminal). -o also takes hubble's aliases jsonpb, JSON and tab.
--since/--until: a duration before now (5m, 1h30m) or 2006-01-02, 2006-01-02T15Z07:00, 2006-01-02T15:04Z07:00,
RFC 3339 (any fraction) or RFC 1123Z (Mon, 02 Jan 2006 15:04:05 -0700).
--print-raw-filters prints the allowlist/denylist FlowFilters as YAML and exits without contacting the server.
-s/--silent-errors leaves out warnings on standard error (lost flows while following, bad lines in --input-file).
Filter flags hubble cannot combine (e.g. --ip with --pod, --from-pod with --namespace) are refused.
Default: the last 20 flows, compact output. --input-file reads a \`hubble observe -o json\` export offline.
As through Hubble Relay, --last N, --first N and the default 20 are N flows from each node, merged in time
order; over an --input-file they count the file's flows.`;

type Output = PrintFormat | "json" | "jsonpb";

type ColorWhen = "auto" | "always" | "never";

interface Options {
  output: Output;
  follow: boolean;
  inputFile?: string;
  print: PrintOptions;
  color: ColorWhen;
  printRawFilters: boolean;
  silentErrors: boolean;
}

// hubble's handleFlowArgs: `case "json", "JSON"` and `case "tab", "table"`
const OUTPUT_ALIASES: Record<string, Output> = { compact: "compact", dict: "dict", json: "json", JSON: "json", jsonpb: "jsonpb", table: "table", tab: "table" };

function takeOwnFlags(rest: string[]): Options {
  const o: Options = { output: "compact", follow: false, print: {}, color: "auto", printRawFilters: false, silentErrors: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : rest[++i]);
    switch (flag) {
      case "-o":
      case "--output": {
        const v = value();
        const out = v === undefined ? undefined : OUTPUT_ALIASES[v];
        if (!out) throw new FilterError("--output", `expected compact, dict, json (JSON, jsonpb) or table (tab), got ${JSON.stringify(v)}`);
        o.output = out;
        break;
      }
      case "--color": {
        // hubble lower-cases the value (color.go newColorer)
        const raw = value();
        const v = raw?.toLowerCase();
        if (v !== "auto" && v !== "always" && v !== "never") throw new FilterError("--color", `expected auto, always or never, got ${JSON.stringify(raw)}`);
        o.color = v;
        break;
      }
      case "--print-raw-filters":
        o.printRawFilters = true;
        break;
      case "-s":
      case "--silent-errors":
        o.silentErrors = true;
        break;
      case "-f":
      case "--follow":
        o.follow = true;
        break;
      case "--print-node-name":
        o.print.nodeName = true;
        break;
      case "--print-policy-names":
        o.print.policyNames = true;
        break;
      case "--time-format": {
        const v = value();
        const f = v ? timeFormatNamed(v) : undefined;
        if (!f) throw new FilterError("--time-format", `expected one of ${TIME_FORMATS.join(", ")}, got ${JSON.stringify(v)}`);
        o.print.timeFormat = f;
        break;
      }
      case "--numeric":
        o.print.numeric = true;
        break;
      case "--ip-translation": {
        // a bare flag turns it on; hubble's spelling to turn it off is --ip-translation=false
        const v = eq > 0 ? a.slice(eq + 1) : "true";
        if (v !== "true" && v !== "false") throw new FilterError("--ip-translation", `expected true or false, got ${JSON.stringify(v)}`);
        o.print.numeric = v === "false";
        break;
      }
      case "--input-file": {
        const v = value();
        if (!v) throw new FilterError("--input-file", "needs a file name (or - for standard input)");
        o.inputFile = v;
        break;
      }
      default:
        throw new FilterError(flag, `unknown flag ${JSON.stringify(a)} (see --help)`);
    }
  }
  return o;
}

/** a `lost_events` line of an export: the GetFlowsResponse as read */
interface LostEventsLine {
  lost_events: LostEvents;
  time?: string;
  node_name?: string;
  raw: Record<string, unknown>;
}

function lostEventsOf(skipped: HubbleImporter["skipped"]): LostEventsLine | undefined {
  if (skipped?.what !== "lost_events") return undefined;
  const r = skipped.record;
  const body = (r.lost_events ?? r.lostEvents) as LostEvents | undefined;
  if (!body || typeof body !== "object") return undefined;
  const lost = { ...body, num_events_lost: body.num_events_lost ?? (body as { numEventsLost?: string }).numEventsLost };
  return { lost_events: lost, time: typeof r.time === "string" ? r.time : undefined, node_name: typeof r.node_name === "string" ? r.node_name : undefined, raw: r };
}

class Printer {
  private tableRows: (FlowEnvelope | LostEvents)[] = [];
  private printed = 0;
  constructor(
    private readonly output: Output,
    private readonly opts: PrintOptions = {},
  ) {}
  print(env: FlowEnvelope): void {
    // without Flowscope's extensions Any, which Hubble's readers cannot resolve (lib/flow/strip-extensions.ts)
    if (this.output === "json" || this.output === "jsonpb") process.stdout.write(withoutExtensions(toHubbleJson(env)) + "\n");
    else if (this.output === "table") this.tableRows.push(env);
    else {
      // dict records are separated as hubble separates them, also when they arrive one by one (--follow)
      if (this.output === "dict" && this.printed > 0) process.stdout.write(DICT_SEPARATOR + "\n");
      process.stdout.write(formatFlow(env, this.output, this.opts) + "\n");
    }
    this.printed++;
  }
  /** lost events as hubble prints them among the flows (printer.go WriteLostEvent) */
  printLost(l: LostEventsLine): void {
    if (this.output === "json" || this.output === "jsonpb") process.stdout.write(JSON.stringify(l.raw) + "\n");
    else if (this.output === "table") this.tableRows.push(l.lost_events);
    else {
      if (this.output === "dict" && this.printed > 0) process.stdout.write(DICT_SEPARATOR + "\n");
      process.stdout.write(formatLostEvents(l.lost_events, this.output, this.opts) + "\n");
    }
    this.printed++;
  }
  end(): void {
    if (this.output === "table" && this.tableRows.length) process.stdout.write(formatTable(this.tableRows, this.opts) + "\n");
  }
}

/**
 * hubble's --color: auto colours when standard output is a terminal (fatih/color's NoColor: not a TTY,
 * TERM=dumb or NO_COLOR set turn it off); only compact and dict output are ever coloured.
 */
function useColor(when: ColorWhen, output: Output): boolean {
  if (output !== "compact" && output !== "dict") return false;
  if (when === "always") return true;
  if (when === "never") return false;
  return process.stdout.isTTY === true && process.env.TERM !== "dumb" && !process.env.NO_COLOR;
}

async function observeFile(file: string, query: FlowQuery, printer: Printer, silent: boolean): Promise<number> {
  const match = compileQuery(query);
  const importer = new HubbleImporter(false);
  if (file !== "-") {
    // a pipe is a stream like standard input; a device or a folder is no export (/dev/zero never ends)
    const st = fs.statSync(file);
    if (!st.isFile() && !st.isFIFO()) throw new FilterError("--input-file", `${file} is not a file (${st.isDirectory() ? "a folder" : st.isSocket() ? "a socket" : "a device"})`);
  }
  const input = file === "-" ? process.stdin : fs.createReadStream(file);
  const matched: (FlowEnvelope | LostEventsLine)[] = [];
  const last = query.first ? undefined : query.limit;
  const since = query.since ? Date.parse(query.since) : undefined;
  const until = query.until ? Date.parse(query.until) : undefined;
  for await (const bytes of ndjsonLines(input, MAX_NDJSON_LINE_BYTES)) {
    if (bytes === LINE_TOO_LONG) {
      importer.refuse(`line is longer than ${MAX_NDJSON_LINE_BYTES} bytes`);
      continue;
    }
    if (!isUtf8(bytes)) {
      importer.refuse("not valid UTF-8");
      continue;
    }
    const env = importer.push(bytes.toString("utf8"));
    let item: FlowEnvelope | LostEventsLine;
    if (env) {
      if (!match(env.flow)) continue;
      item = env;
    } else {
      // hubble's reader passes lost events on like flows (io_reader_observer.go): the time window
      // applies, and an allow list does not let a record without a flow through
      const lost = lostEventsOf(importer.skipped);
      if (!lost) continue;
      const t = Date.parse(lost.time ?? "");
      if ((since !== undefined && !(t >= since)) || (until !== undefined && !(t <= until)) || query.whitelist.length > 0) continue;
      item = lost;
    }
    if (query.first && query.limit !== undefined && matched.length >= query.limit) break;
    matched.push(item);
    // --last N keeps a sliding window so a huge file needs no more memory than N flows.
    if (last !== undefined && matched.length > last) matched.shift();
  }
  for (const item of matched) {
    if ("lost_events" in item) printer.printLost(item);
    else printer.print(item);
  }
  printer.end();
  if (silent) return 0;
  for (const e of importer.result.errors.slice(0, 20)) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
  if (importer.result.errorCount > 20) process.stderr.write(`… and ${importer.result.errorCount - 20} more bad lines\n`);
  return 0;
}

function envelopeOf(s: StoredFlow): FlowEnvelope {
  return { flow: s.flow, node_name: s.node_name, time: s.time };
}

/**
 * The stored flows matching `params`: the first (ascending) or newest `limit` of them, paged through
 * 10,000 at a time. With `each`, every flow goes there as its page arrives and only the last is kept.
 */
async function fetchFlows(remote: Remote, params: URLSearchParams, limit: number, ascending: boolean, each?: (s: StoredFlow) => void): Promise<StoredFlow[]> {
  const out: StoredFlow[] = [];
  let taken = 0;
  let cursor: string | undefined;
  while (taken < limit) {
    const p = new URLSearchParams(params);
    p.set("limit", String(Math.min(limit - taken, 10_000)));
    p.set("order", ascending ? "asc" : "desc");
    if (cursor) p.set("cursor", cursor);
    const page = await getJson<FlowsPage>(remote, `/api/flows?${p}`);
    taken += page.flows.length;
    if (each) {
      for (const s of page.flows) each(s);
      if (page.flows.length) out[0] = page.flows[page.flows.length - 1]!;
    } else out.push(...page.flows);
    if (!page.nextCursor || page.flows.length === 0) break;
    cursor = page.nextCursor;
  }
  return out;
}

function withNode(params: URLSearchParams, node: string): URLSearchParams {
  const p = new URLSearchParams(params);
  p.set("node", node);
  return p;
}

/**
 * The nodes to ask one by one for N flows each, as Hubble Relay does; undefined when there is one node
 * (or none) and one query answers, or when the server tracks only part of a very long list of nodes.
 */
async function nodesToAsk(remote: Remote, silent: boolean): Promise<string[] | undefined> {
  const { nodes, complete } = await getJson<NodesResponse>(remote, "/api/nodes");
  if (!complete) {
    if (!silent) process.stderr.write(`the history names more nodes than the server keeps track of: --first/--last count flows over all nodes, not per node\n`);
    return undefined;
  }
  return nodes.length > 1 ? nodes : undefined;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let parsed;
  let opts: Options;
  let remote;
  try {
    const r = takeRemoteFlags(expandShortFlags(argv));
    remote = r.remote;
    parsed = parseObserveArgs(r.rest);
    opts = takeOwnFlags(parsed.rest);
  } catch (err) {
    console.error(`observe: ${(err as Error).message}`);
    return 2;
  }
  const query = parsed.query;
  // hubble sends --until only when not following (flows.go getFlowsRequest): a stream has no end
  if (opts.follow) query.until = undefined;
  // combinations hubble observe refuses (flows.go getFlowsRequest / handleFlowArgs)
  const conflict =
    opts.follow && query.first ? "cannot set both --first and --follow" : opts.follow && opts.output === "table" ? "table output format is not compatible with follow mode" : undefined;
  if (conflict) {
    console.error(`observe: ${conflict}`);
    return 2;
  }
  if (opts.printRawFilters) {
    // hubble: "Print allowlist/denylist filters and exit without sending the request to Hubble server"
    process.stdout.write(rawFiltersYaml(query));
    return 0;
  }
  const printer = new Printer(opts.output, { ...opts.print, color: useColor(opts.color, opts.output) });
  if (opts.inputFile) {
    try {
      return await observeFile(opts.inputFile, query, printer, opts.silentErrors);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      console.error(`observe: ${e.code === "ENOENT" ? `--input-file: no such file: ${opts.inputFile}` : e.message}`);
      return e instanceof FilterError || e.code === "ENOENT" ? 2 : 1;
    }
  }

  const params = toSearchParams({ ...query, limit: undefined, first: undefined });
  let lastId: string | undefined;
  if (!(opts.follow && query.limit === undefined && !query.since)) {
    // hubble observe (flows.go getFlowsRequest): the last 20 only when nothing bounds the request;
    // --all, or a --since/--until window without --last/--first, prints every matching flow
    const limit = query.limit ?? (parsed.all || query.since !== undefined || query.until !== undefined ? Infinity : 20);
    const ascending = query.first === true || limit === Infinity;
    const nodes = limit === Infinity ? undefined : await nodesToAsk(remote, opts.silentErrors);
    if (nodes) {
      // Relay asks every node for N flows and merges what they send in time order
      const merged: StoredFlow[] = [];
      for (const node of nodes) merged.push(...(await fetchFlows(remote, withNode(params, node), limit, ascending)));
      merged.sort((a, b) => timestampMs(a.time) - timestampMs(b.time) || Number(a.id) - Number(b.id));
      for (const s of merged) printer.print(envelopeOf(s));
      // the stream goes on after the newest of them, whichever node it came from
      if (merged.length) lastId = String(Math.max(...merged.map((s) => Number(s.id))));
    } else if (ascending) {
      // oldest first, printed page by page: memory stays flat for millions
      lastId = (await fetchFlows(remote, params, limit, true, (s) => printer.print(envelopeOf(s)))).at(-1)?.id;
    } else {
      // the newest N, reversed to print oldest first as hubble does
      const ordered = (await fetchFlows(remote, params, limit, false)).reverse();
      for (const s of ordered) printer.print(envelopeOf(s));
      lastId = ordered.at(-1)?.id;
    }
  }
  printer.end();
  if (!opts.follow) return 0;

  if (lastId === undefined) {
    const status = await getJson<FlowsPage>(remote, "/api/flows?limit=1");
    lastId = status.flows[0]?.id ?? "0";
  }
  const wsUrl = remote.server.replace(/^http/, "ws") + "/api/stream";
  const ws = new WebSocket(wsUrl, { headers: authHeaders(remote) });
  return new Promise<number>((resolve) => {
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", filter: params.toString(), cursor: lastId })));
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as ServerMessage;
      if (msg.type === "flows") for (const s of msg.flows) printer.print(envelopeOf(s));
      else if (msg.type === "lost_events") {
        if (!opts.silentErrors) process.stderr.write(`lost ${msg.num_events_lost} flows (ids ${msg.first}–${msg.last}): this terminal did not keep up\n`);
      } else if (msg.type === "error") process.stderr.write(`server: ${msg.error}\n`);
    });
    ws.on("close", (code, reason) => {
      if (code !== 1000) process.stderr.write(`stream closed: ${code} ${reason.toString()}\n`);
      resolve(code === 1000 ? 0 : 1);
    });
    ws.on("error", (err) => {
      process.stderr.write(`stream error: ${err.message}\n`);
      resolve(1);
    });
    process.once("SIGINT", () => {
      ws.close(1000);
    });
  });
}
