// Shape validation of one request (a scenario traffic entry or a `trace` request). Whether the named
// workloads exist is checked later against the cluster model.
import { dnsTypeNumber } from "../datapath/l7/dns-constants";
import { Checker, describe, join } from "./check";
import type { RequestProtocol, TrafficEntry, TrafficRequest } from "./types";
import { parseIPv4 } from "../cluster/ip";
import { resolveKafkaSpec } from "../datapath/l7/encode/kafka";
import { kafkaApiKeyFromSpec, kafkaApiKeyName } from "../datapath/l7/kafka-api";
import { dnsNameProblem, httpFieldValueProblem, httpHostProblem, httpPathProblem, httpTokenProblem, kafkaTopicProblem } from "./names";

const REQUEST_FIELDS = ["from", "to", "toService", "toFQDN", "toIP", "port", "protocol", "icmpType", "http", "grpc", "kafka", "dns"];
const PROTOCOLS: readonly RequestProtocol[] = ["TCP", "UDP", "SCTP", "ICMP"];
/** Kafka requests the simulated client sends with a topic list (server/datapath/l7/encode/kafka.ts) */
const TOPIC_REQUESTS: ReadonlySet<number> = new Set([0, 1, 2, 3, 8, 9]);
const WORKLOAD_REF = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function checkRequest(c: Checker, v: unknown, path: string, withRate: boolean): TrafficEntry {
  const o = c.obj(v, path, withRate ? [...REQUEST_FIELDS, "rate"] : REQUEST_FIELDS, ["from"]);
  const req: TrafficEntry = { from: "", rate: 0 };
  if (!withRate) delete (req as Partial<TrafficEntry>).rate;

  if (typeof o.from === "string") {
    if (!WORKLOAD_REF.test(o.from)) c.err(join(path, "from"), `must be "namespace/workload" or { ip: ADDRESS }, got "${o.from}"`);
    req.from = o.from;
  } else if (o.from !== undefined) {
    const f = c.obj(o.from, join(path, "from"), ["ip"], ["ip"]);
    const ip = c.str(f.ip, join(path, "from.ip"));
    if (ip !== undefined && parseIPv4(ip) === undefined) c.err(join(path, "from.ip"), `"${ip}" is not an IPv4 address`);
    req.from = { ip: ip ?? "" };
  }

  // `to` may also be an object naming the destination kind, which reads naturally in YAML lists.
  let to = o.to;
  if (c.isObj(to)) {
    const t = c.obj(to, join(path, "to"), ["toService", "toFQDN", "toIP", "ip", "service", "fqdn"]);
    for (const [k, dst] of [["toService", "toService"], ["service", "toService"], ["toFQDN", "toFQDN"], ["fqdn", "toFQDN"], ["toIP", "toIP"], ["ip", "toIP"]] as const) {
      if (t[k] !== undefined) (o as Record<string, unknown>)[dst] = t[k];
    }
    to = undefined;
  }
  const dests: string[] = [];
  if (to !== undefined) {
    const s = c.str(to, join(path, "to"));
    if (s !== undefined) {
      if (!WORKLOAD_REF.test(s)) c.err(join(path, "to"), `must be "namespace/workload" or "namespace/service", got "${s}"`);
      req.to = s;
      dests.push("to");
    }
  }
  if (o.toService !== undefined) {
    const s = c.str(o.toService, join(path, "toService"));
    if (s !== undefined && !WORKLOAD_REF.test(s)) c.err(join(path, "toService"), `must be "namespace/service", got "${s}"`);
    req.toService = s;
    dests.push("toService");
  }
  if (o.toFQDN !== undefined) {
    const s = c.str(o.toFQDN, join(path, "toFQDN"));
    const bad = s === undefined ? undefined : dnsNameProblem(s);
    if (bad) c.err(join(path, "toFQDN"), bad);
    req.toFQDN = s?.replace(/\.$/, "").toLowerCase();
    dests.push("toFQDN");
  }
  if (o.toIP !== undefined) {
    const s = c.str(o.toIP, join(path, "toIP"));
    if (s !== undefined && parseIPv4(s) === undefined) c.err(join(path, "toIP"), `"${s}" is not an IPv4 address`);
    req.toIP = s;
    dests.push("toIP");
  }
  if (dests.length > 1) c.err(path, `give only one destination, got ${dests.join(" and ")}`);

  const proto = o.protocol === undefined ? undefined : c.oneOf(o.protocol, join(path, "protocol"), PROTOCOLS, { ignoreCase: true });
  if (proto) req.protocol = proto;
  const port = c.num(o.port, join(path, "port"), { int: true, min: 1, max: 65535 });
  if (port !== undefined) req.port = port;
  const icmpType = c.num(o.icmpType, join(path, "icmpType"), { int: true, min: 0, max: 255 });
  if (icmpType !== undefined) req.icmpType = icmpType;

  const l7Kinds = ["http", "grpc", "kafka", "dns"].filter((k) => o[k] !== undefined);
  if (l7Kinds.length > 1) c.err(path, `at most one L7 kind per request, got ${l7Kinds.join(" and ")}`);
  if (o.http !== undefined) {
    const p = join(path, "http");
    const h = c.obj(o.http, p, ["method", "path", "host", "headers"]);
    // omitted: GET and "/"; given, they must be what a client can send
    const method = c.str(h.method, join(p, "method"));
    const badMethod = method === undefined ? undefined : httpTokenProblem(method, "method");
    if (badMethod) c.err(join(p, "method"), badMethod === "must not be empty" ? "must not be empty (leave method out for GET)" : badMethod);
    // sent as written: methods are case-sensitive (RFC 9110 §9.1), so a rule for GET does not allow "get"
    req.http = { method: method ?? "GET", path: c.str(h.path, join(p, "path")) ?? "/" };
    const badPath = httpPathProblem(req.http.path);
    if (badPath) c.err(join(p, "path"), badPath);
    const host = c.str(h.host, join(p, "host"));
    if (host !== undefined) {
      const bad = httpHostProblem(host);
      if (bad) c.err(join(p, "host"), bad);
      req.http.host = host;
    }
    if (h.headers !== undefined) {
      req.http.headers = c.strMap(h.headers, join(p, "headers"));
      for (const [name, value] of Object.entries(req.http.headers)) {
        const at = join(join(p, "headers"), name);
        const badName = httpTokenProblem(name, "header name");
        if (badName) c.err(at, badName === "must not be empty" ? "a header name must not be empty" : badName);
        const badValue = httpFieldValueProblem(value);
        if (badValue) c.err(at, badValue);
      }
    }
  }
  if (o.grpc !== undefined) {
    const p = join(path, "grpc");
    const g = c.obj(o.grpc, p, ["service", "method"], ["service", "method"]);
    req.grpc = { service: c.str(g.service, join(p, "service")) ?? "", method: c.str(g.method, join(p, "method")) ?? "" };
    // sent as :path /<service>/<method>: a protobuf full name and an identifier
    if (typeof g.service === "string") {
      if (req.grpc.service === "") c.err(join(p, "service"), "must not be empty");
      else if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(req.grpc.service))
        c.err(join(p, "service"), `${describe(req.grpc.service)} is not a gRPC service name (a protobuf full name such as shop.v1.Items)`);
    }
    if (typeof g.method === "string") {
      if (req.grpc.method === "") c.err(join(p, "method"), "must not be empty");
      else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(req.grpc.method)) c.err(join(p, "method"), `${describe(req.grpc.method)} is not a gRPC method name (letters, digits and "_")`);
    }
  }
  if (o.kafka !== undefined) {
    const p = join(path, "kafka");
    const k = c.obj(o.kafka, p, ["apiKey", "apiVersion", "clientId", "topics", "topic"], ["apiKey"]);
    const apiKey = typeof k.apiKey === "number" ? k.apiKey : c.str(k.apiKey, join(p, "apiKey"));
    req.kafka = { apiKey: apiKey ?? "" };
    // the request header carries both as int16
    const av = c.num(k.apiVersion, join(p, "apiVersion"), { int: true, min: 0, max: 32767 });
    if (av !== undefined) req.kafka.apiVersion = av;
    const numericKey = typeof apiKey === "number" ? apiKey : apiKey !== undefined && /^\s*-?\d+\s*$/.test(apiKey) ? Number(apiKey) : undefined;
    if (numericKey !== undefined && (!Number.isInteger(numericKey) || numericKey < 0 || numericKey > 32767)) {
      c.err(join(p, "apiKey"), `must be 0–32767 (the request header carries it as int16), got ${numericKey}`);
    } else if (apiKey !== undefined && (k.apiVersion === undefined || av !== undefined)) {
      // what the client side of the proxy cannot encode is refused here, not simulated as a drop
      try {
        resolveKafkaSpec(req.kafka);
      } catch (e) {
        const msg = (e as Error).message.replace(/^kafka: /, "");
        c.err(join(p, /apiVersion/.test(msg) ? "apiVersion" : "apiKey"), msg);
      }
    }
    const cid = c.str(k.clientId, join(p, "clientId"));
    if (cid !== undefined) {
      if (Buffer.byteLength(cid, "utf8") > 32767) c.err(join(p, "clientId"), "is longer than the 32767 bytes a Kafka request header holds");
      req.kafka.clientId = cid;
    }
    const topics = c.arr(k.topics, join(p, "topics")).map((t, i) => {
      const at = join(join(p, "topics"), i);
      const name = c.str(t, at);
      const bad = name === undefined ? undefined : kafkaTopicProblem(name);
      if (bad) c.err(at, bad);
      return name ?? "";
    });
    const one = c.str(k.topic, join(p, "topic"));
    if (one !== undefined) {
      const bad = kafkaTopicProblem(one);
      if (bad) c.err(join(p, "topic"), bad);
      topics.push(one);
    }
    if (topics.length) {
      req.kafka.topics = topics;
      // only these request kinds are sent with their topics; any other would lose them on the wire
      const key = kafkaApiKeyFromSpec(req.kafka.apiKey);
      if (key !== undefined && !TOPIC_REQUESTS.has(key))
        c.err(join(p, k.topics !== undefined ? "topics" : "topic"), `${kafkaApiKeyName(key)} requests carry no topics (topics are sent with produce, fetch, listoffsets, metadata, offsetcommit and offsetfetch)`);
    }
  }
  if (o.dns !== undefined) {
    const p = join(path, "dns");
    const d = c.obj(o.dns, p, ["query", "type"], ["query"]);
    const query = c.str(d.query, join(p, "query"));
    const badQuery = query === undefined ? undefined : dnsNameProblem(query, { allowRoot: true, allowStar: true });
    if (badQuery) c.err(join(p, "query"), badQuery);
    req.dns = { query: query ?? "", type: (c.str(d.type, join(p, "type")) ?? "A").toUpperCase() };
    if (dnsTypeNumber(req.dns.type ?? "A") === undefined) c.err(join(p, "type"), `unknown DNS record type "${req.dns.type}" (a name such as A, AAAA, SRV, or TYPE0-TYPE65535)`);
  }

  if (req.protocol === "ICMP") {
    if (req.port !== undefined) c.err(join(path, "port"), "ICMP has no port; use icmpType");
    if (l7Kinds.length) c.err(path, "ICMP requests cannot carry L7 fields");
  } else if (o.port === undefined && !req.dns) {
    c.err(join(path, "port"), "is required (except for ICMP and DNS requests)");
  }
  if (req.icmpType !== undefined && req.protocol !== "ICMP") c.err(join(path, "icmpType"), "only valid with protocol ICMP");
  if (!req.to && !req.toService && !req.toFQDN && !req.toIP && !req.dns) c.err(path, "needs a destination: to, toService, toFQDN or toIP");

  if (withRate) {
    // requests per second; far beyond what one process can simulate, a typo rather than a load
    const rate = c.num(o.rate, join(path, "rate"), { min: 0, max: 1_000_000, required: true });
    req.rate = rate ?? 0;
  }
  return req;
}
