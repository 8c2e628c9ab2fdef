// `trace`: send one request (flags) or a list (--requests FILE) through the datapath of a scenario and
// print what happened: one JSON object per request (-o json), hubble-style lines (-o compact), or the
// verdict, each side's decision, the steps and the flows for a person to read (-o text).
import { existsSync } from "node:fs";
import { readTextFile } from "../../scenario/read-text";
import { Checker } from "../../scenario/check";
import { checkRequest } from "../../scenario/request";
import { parseRequestsFile } from "../../scenario/load";
import { ScenarioError, type TrafficRequest } from "../../scenario/types";
import { Datapath, RequestError } from "../../datapath";
import { formatCompact } from "../../../lib/flow/print";
import { toHubbleJson } from "../../../lib/flow/json";
import { formatTraceText } from "./trace-text";

const USAGE = `usage: trace --scenario FILE [--policies PATH]... [--audit] [-o json|compact|text] REQUEST
REQUEST: --from NS/WORKLOAD | --from-ip IP
         --to NS/WORKLOAD | --to-ip IP | --to-fqdn NAME | --to-service NS/NAME
         --port N --protocol TCP|UDP|SCTP|ICMP [--icmp-type N]
         [--http-method M --http-path P [--http-host H] [--http-header 'Name: value']...]
         [--grpc /pkg.Service/Method]
         [--kafka-api-key K --kafka-topic T [--kafka-topic T2] [--kafka-client-id C] [--kafka-api-version V]]
         [--dns-query NAME [--dns-type A]]
      or --requests FILE (YAML or JSON list of requests, fields as in scenario traffic entries)`;

class UsageError extends Error {}

interface Parsed {
  scenario?: string;
  policies: string[];
  audit: boolean;
  output: "json" | "compact" | "text";
  requestsFile?: string;
  req: Record<string, unknown>;
  help: boolean;
}

function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { policies: [], audit: false, output: "json", req: {}, help: false };
  const http: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  const kafka: Record<string, unknown> = {};
  const topics: string[] = [];
  const dns: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    if (a.startsWith("--") && a.includes("=")) {
      inline = a.slice(a.indexOf("=") + 1);
      a = a.slice(0, a.indexOf("="));
    }
    const val = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = val();
      if (!/^\d+$/.test(v)) throw new UsageError(`${a} needs a number, got "${v}"`);
      return Number(v);
    };
    switch (a) {
      case "-h": case "--help": p.help = true; break;
      case "--scenario": p.scenario = val(); break;
      case "--policies": p.policies.push(val()); break;
      case "--audit": p.audit = true; break;
      case "-o": case "--output": {
        const o = val();
        if (o !== "json" && o !== "compact" && o !== "text") throw new UsageError(`-o must be json, compact or text, got "${o}"`);
        p.output = o;
        break;
      }
      case "--requests": p.requestsFile = val(); break;
      case "--from": p.req.from = val(); break;
      case "--from-ip": p.req.from = { ip: val() }; break;
      case "--to": p.req.to = val(); break;
      case "--to-ip": p.req.toIP = val(); break;
      case "--to-fqdn": p.req.toFQDN = val(); break;
      case "--to-service": p.req.toService = val(); break;
      case "--port": p.req.port = num(); break;
      case "--protocol": p.req.protocol = val().toUpperCase(); break;
      case "--icmp-type": p.req.icmpType = num(); break;
      case "--http-method": http.method = val(); break;
      case "--http-path": http.path = val(); break;
      case "--http-host": http.host = val(); break;
      case "--http-header": {
        const h = val();
        const c = h.indexOf(":");
        if (c <= 0) throw new UsageError(`--http-header must look like 'Name: value', got "${h}"`);
        headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
        break;
      }
      case "--grpc": {
        const g = val();
        const m = /^\/?([^/]+)\/([^/]+)$/.exec(g);
        if (!m) throw new UsageError(`--grpc must look like /pkg.Service/Method, got "${g}"`);
        p.req.grpc = { service: m[1], method: m[2] };
        break;
      }
      case "--kafka-api-key": { const k = val(); kafka.apiKey = /^\d+$/.test(k) ? Number(k) : k; break; }
      case "--kafka-topic": topics.push(val()); break;
      case "--kafka-client-id": kafka.clientId = val(); break;
      case "--kafka-api-version": kafka.apiVersion = num(); break;
      case "--dns-query": dns.query = val(); break;
      case "--dns-type": dns.type = val(); break;
      default:
        throw new UsageError(`unknown option "${a}"`);
    }
  }
  if (Object.keys(headers).length) http.headers = headers;
  if (Object.keys(http).length) p.req.http = http;
  if (topics.length) kafka.topics = topics;
  if (Object.keys(kafka).length) p.req.kafka = kafka;
  if (Object.keys(dns).length) p.req.dns = dns;
  return p;
}

export async function run(argv: string[]): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`trace: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.scenario) {
    console.error(`trace: --scenario is required\n${USAGE}`);
    return 2;
  }
  let dp: Datapath;
  let requests: TrafficRequest[];
  try {
    // A policy path given on the command line that is not there is a typo, not a policy: tracing
    // without it would answer as if the cluster had no such policy.
    for (const p of args.policies) if (!existsSync(p)) throw new UsageError(`--policies ${p}: no such file or folder`);
    dp = Datapath.fromScenarioFile(args.scenario, { extraPolicyPaths: args.policies, audit: args.audit || undefined });
    if (args.requestsFile) {
      if (Object.keys(args.req).length) throw new UsageError("give either --requests FILE or request flags, not both");
      let text: string;
      try {
        text = readTextFile(args.requestsFile);
      } catch (e) {
        throw new UsageError(`cannot read ${args.requestsFile}: ${(e as Error).message}`);
      }
      requests = parseRequestsFile(text, args.requestsFile);
    } else {
      const c = new Checker();
      const r = checkRequest(c, args.req, "", false);
      if (!c.ok) throw new UsageError(`invalid request: ${c.issues.map((i) => `${flagName(i.path)}: ${i.message}`).join("; ")}`);
      requests = [r];
    }
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof UsageError) {
      console.error(`trace: ${e.message}`);
      return 2;
    }
    throw e;
  }
  for (const w of dp.scenario.warnings ?? []) console.error(`trace: warning: ${w.file}${w.line ? `:${w.line}` : ""}: ${w.path}: ${w.message}`);
  for (const w of dp.warnings) console.error(`trace: warning: policy rejected: ${w.text}`);
  const conflicts = dp.l7ParserConflicts().map((c) => `${c.policy.source}: ${c.path}: ${c.message}`);
  for (const c of conflicts) console.error(`trace: warning: ${c}`);
  const warnings = [...dp.warnings.map((w) => w.text), ...conflicts];
  for (const [i, req] of requests.entries()) {
    let r;
    try {
      r = dp.process(req);
    } catch (e) {
      if (e instanceof RequestError) {
        console.error(`trace: request ${requests.length > 1 ? `${i + 1} ` : ""}is invalid: ${e.message}`);
        return 2;
      }
      throw e;
    }
    // flows exactly as stored and exported: Hubble's JSON (protojson timestamps, enum names, 64-bit
    // integers as strings), not the datapath's in-memory objects
    const out = { ...r, flows: r.flows.map((f) => JSON.parse(toHubbleJson(f)) as unknown) };
    if (args.output === "json") console.log(JSON.stringify(warnings.length ? { ...out, warnings } : out));
    else if (args.output === "text") console.log((i > 0 ? "\n" : "") + formatTraceText(r, requests.length > 1 ? i + 1 : undefined));
    else for (const f of r.flows) console.log(formatCompact(f));
  }
  return 0;
}

function flagName(path: string): string {
  const map: Record<string, string> = {
    from: "--from", "from.ip": "--from-ip", to: "--to", toIP: "--to-ip", toFQDN: "--to-fqdn", toService: "--to-service", port: "--port", protocol: "--protocol", icmpType: "--icmp-type",
    "http.method": "--http-method", "http.path": "--http-path", "http.host": "--http-host", "grpc.service": "--grpc", "grpc.method": "--grpc",
    "kafka.apiKey": "--kafka-api-key", "kafka.apiVersion": "--kafka-api-version", "kafka.clientId": "--kafka-client-id", "kafka.topics": "--kafka-topic",
    "dns.query": "--dns-query", "dns.type": "--dns-type",
  };
  if (map[path]) return map[path];
  const header = /^http\.headers\.(.*)$/s.exec(path);
  if (header) return `--http-header ${JSON.stringify(header[1])}`;
  if (/^kafka\.topics\[\d+\]$/.test(path)) return "--kafka-topic";
  return path || "request";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
