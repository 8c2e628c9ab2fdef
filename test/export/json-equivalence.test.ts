// toHubbleJson must print the same bytes as the straightforward encoder it replaced. That encoder is
// kept below, verbatim apart from names, as the reference; generated flows cover what a fast path could
// get wrong: escaping (HTML, control, U+2028/9, surrogates), zero values, aliases, key order, 64-bit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodeMessage, enumName, ENUMS, formatTimestamp, SCHEMA, toHubbleJson, type FieldSpec, type FieldType } from "../../lib/flow/json";
import { makeFlow } from "../helpers/flows";
import { FLOWS } from "../filter/flows";

// ---- reference: the previous implementation of lib/flow/json.ts's encoder ----

function refEnumZero(enumType: string): string {
  return enumType === "DropReason" ? "DROP_REASON_UNKNOWN" : ENUMS[enumType][0];
}

const REF_NEEDS_CARE = /[\ud800-\udfff<>&\u2028\u2029]/;
function refQuote(s: string): string {
  if (!REF_NEEDS_CARE.test(s)) return JSON.stringify(s);
  return JSON.stringify(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"))
    .replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function refGet(obj: Record<string, unknown>, f: FieldSpec): unknown {
  const v = obj[f.name];
  return v !== undefined ? v : f.json !== f.name ? obj[f.json] : undefined;
}

function refUint64(v: unknown): string | undefined {
  if (typeof v === "bigint") return v === 0n ? undefined : v.toString();
  if (typeof v === "number") return v === 0 ? undefined : String(v);
  if (typeof v === "string") return v === "" || v === "0" ? undefined : v;
  return undefined;
}

function refAnyValue(v: unknown): string {
  if (v === null || typeof v !== "object") return typeof v === "string" ? refQuote(v) : JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(refAnyValue).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  keys.sort((a, b) => (a === "@type" ? -1 : b === "@type" ? 1 : 0));
  return `{${keys.map((k) => `${refQuote(k)}:${refAnyValue(o[k])}`).join(",")}}`;
}

function refEncodeField(type: FieldType, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof type === "string") {
    switch (type) {
      case "string":
        return typeof v === "string" && v !== "" ? refQuote(v) : undefined;
      case "int":
      case "uint":
        return typeof v === "number" && v !== 0 ? String(Math.trunc(v)) : typeof v === "string" && v !== "" && v !== "0" ? String(Number(v)) : undefined;
      case "uint64": {
        const s = refUint64(v);
        return s === undefined ? undefined : refQuote(s);
      }
      case "bool":
        return v === true ? "true" : undefined;
      case "boolvalue":
        return typeof v === "boolean" ? String(v) : undefined;
      case "int32value":
        return typeof v === "number" ? String(v) : undefined;
      case "timestamp":
        return typeof v === "string" && v !== "" ? refQuote(formatTimestamp(v)) : undefined;
      case "any":
        return typeof v === "object" ? refAnyValue(v) : undefined;
    }
  }
  if ("enum" in type) {
    const name = enumName(type.enum, v);
    return name === undefined || name === refEnumZero(type.enum) ? undefined : refQuote(name);
  }
  if ("msg" in type) return typeof v === "object" ? refEncodeMessage(type.msg, v as Record<string, unknown>) : undefined;
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const item = type.repeated;
  return `[${v.map((x) => (item === "string" ? refQuote(String(x)) : refEncodeMessage(item.msg, (x ?? {}) as Record<string, unknown>))).join(",")}]`;
}

function refEncodeMessage(msg: string, obj: Record<string, unknown>): string {
  let out = "{";
  for (const f of SCHEMA[msg]) {
    const s = refEncodeField(f.type, refGet(obj, f));
    if (s !== undefined) out += (out.length > 1 ? "," : "") + f.key + s;
  }
  return out + "}";
}

const reference = (env: unknown): string => refEncodeMessage("GetFlowsResponse", env as Record<string, unknown>);

// ---- generated flows ----

/** Deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXTS = [
  "", "web", "k8s:app=web", "k8s:io.kubernetes.pod.namespace=payments", "reserved:world", "10.0.1.5", "fd00::1",
  "<script>alert(1)</script>", "a&b", "x > y", "quote \" and \\ backslash", "tab\there", "new\nline", "nul\u0000byte", "bell\u0007\u001f",
  "line\u2028sep", "para\u2029sep", "café", "名前空間", "emoji 🚀 pair", "lone \ud800 high", "lone \udc00 low", "end high \udbff", "\udfff",
  "del\u007f", "€ euro", "/orders?id=1&x=<2>", "GET /a?x=<b>&c \u2028", "x".repeat(300), "a<".repeat(200),
];
const TIMES = [
  "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.1Z", "2024-05-01T10:00:00.120Z", "2024-05-01T10:00:00.000001Z", "2024-05-01T10:00:00.000000001Z",
  "2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.100000000Z", "2024-05-01T10:00:00.000000000Z", "2024-05-01T12:00:00.5+02:00",
  "2024-05-01t10:00:00.25z", "2024-05-01T10:00:00.1234567891Z", "not a time", "2024-13-45T99:99:99Z", "2024-05-01T10:00:00-00:30", "",
];

function generate(seed: number): Record<string, unknown> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const maybe = (p: number) => r() < p;
  const text = () => pick(TEXTS);
  const int = () => pick<unknown>([0, 1, 7, 133, 65535, -3, 2.7, "42", "0", "", "007", Number.NaN]);
  const u64 = () => pick<unknown>([0, 6, 1678100, "18446744073709551615", "0", "", 12n, 0n, 2 ** 53]);
  const en = (e: string) => {
    const names = Object.values(ENUMS[e]);
    const nums = Object.keys(ENUMS[e]).map(Number);
    return pick<unknown>([pick(names), pick(names), pick(nums), 0, 999, "UNKNOWN_THING", names[0], true]);
  };
  const strings = () => (maybe(0.2) ? [] : Array.from({ length: 1 + Math.floor(r() * 6) }, text));
  const policy = () => {
    const p: Record<string, unknown> = { name: text(), namespace: text(), labels: strings(), revision: u64(), kind: pick(["CiliumNetworkPolicy", "NetworkPolicy", ""]) };
    if (maybe(0.2)) delete p.labels;
    return p;
  };
  const endpoint = () => {
    const ep: Record<string, unknown> = { ID: int(), identity: int(), namespace: text(), labels: strings(), pod_name: text() };
    if (maybe(0.3)) ep.cluster_name = text();
    if (maybe(0.2)) ep.workloads = [{ name: text(), kind: "Deployment" }, { kind: text() }];
    return ep;
  };
  const flow: Record<string, unknown> = {};
  if (maybe(0.9)) flow.time = pick(TIMES);
  if (maybe(0.8)) flow.uuid = `${seed}-${text()}`;
  flow.verdict = en("Verdict");
  if (maybe(0.3)) flow.drop_reason = int();
  if (maybe(0.3)) flow.ethernet = { source: "8e:52:b3:36:14:fd", destination: text() };
  flow.IP = { source: text(), destination: "10.0.0.2", ipVersion: en("IPVersion"), ...(maybe(0.2) ? { encrypted: pick([true, false]) } : {}) };
  const l4 = pick<Record<string, unknown>>([
    { TCP: { source_port: int(), destination_port: 80, flags: { SYN: pick([true, false]), ACK: maybe(0.5), FIN: pick([true, "true", 1]) } } },
    { UDP: { source_port: 5353, destination_port: int() } },
    { ICMPv4: { type: int(), code: 0 } },
    { ICMPv6: { type: 128 } },
    { SCTP: { source_port: 1 } },
    {},
  ]);
  flow.l4 = l4;
  flow.source = endpoint();
  flow.destination = endpoint();
  flow.Type = en("FlowType");
  flow.node_name = text();
  if (maybe(0.3)) flow.node_labels = strings();
  if (maybe(0.3)) flow.source_names = strings();
  if (maybe(0.3)) flow.destination_names = strings();
  if (maybe(0.5)) {
    const l7: Record<string, unknown> = { type: en("L7FlowType"), latency_ns: u64() };
    const kind = pick(["http", "dns", "kafka"]);
    if (kind === "http") l7.http = { code: int(), method: pick(["GET", "POST", ""]), url: text(), protocol: "HTTP/1.1", headers: maybe(0.5) ? [{ key: text(), value: text() }, { key: "x" }] : [] };
    if (kind === "dns") l7.dns = { query: text(), ips: strings(), ttl: int(), cnames: strings(), observation_source: "proxy", rcode: int(), qtypes: ["A", "AAAA"], rrtypes: strings() };
    if (kind === "kafka") l7.kafka = { error_code: int(), api_version: 2, api_key: text(), correlation_id: int(), topic: text() };
    flow.l7 = l7;
  }
  if (maybe(0.3)) flow.reply = pick([true, false]);
  flow.event_type = maybe(0.5) ? { type: int(), sub_type: int() } : { type: 4 };
  if (maybe(0.2)) flow.source_service = { name: text(), namespace: text() };
  flow.traffic_direction = en("TrafficDirection");
  if (maybe(0.3)) flow.policy_match_type = int();
  if (maybe(0.5)) flow.trace_observation_point = en("TraceObservationPoint");
  if (maybe(0.2)) flow.trace_reason = en("TraceReason");
  if (maybe(0.4)) flow.drop_reason_desc = pick<unknown>(["POLICY_DENIED", "DROP_REASON_UNKNOWN", 133, 181, 0, 1, 99999, "CT_MAP_INSERTION_FAILED"]);
  if (maybe(0.7)) flow.is_reply = pick<unknown>([false, true, false, "false", 0]);
  if (maybe(0.2)) flow.debug_capture_point = en("DebugCapturePoint");
  if (maybe(0.2)) flow.interface = { index: int(), name: text() };
  if (maybe(0.2)) flow.proxy_port = int();
  if (maybe(0.2)) flow.trace_context = { parent: { trace_id: text() } };
  if (maybe(0.2)) flow.sock_xlate_point = en("SocketTranslationPoint");
  if (maybe(0.3)) flow.socket_cookie = u64();
  if (maybe(0.3)) flow.cgroup_id = u64();
  if (maybe(0.8)) flow.Summary = text();
  if (maybe(0.5)) {
    flow.extensions = {
      rule: text(),
      ...(maybe(0.5) ? { explanation: strings() } : {}),
      "@type": "type.googleapis.com/flowscope.v1.FlowDecision",
      // JSON.stringify (both encoders) refuses a bigint inside an Any, so none goes in
      default_deny_by: [{ ...policy(), revision: "3" }],
      nested: { n: int(), u: undefined, z: null, b: false, arr: [1, "two", null, { [text()]: text() }] },
    };
  }
  if (maybe(0.4)) flow.egress_allowed_by = [policy(), policy()];
  if (maybe(0.3)) flow.ingress_allowed_by = [policy()];
  if (maybe(0.2)) flow.egress_denied_by = [];
  if (maybe(0.2)) flow.ingress_denied_by = [policy()];
  if (maybe(0.2)) flow.policy_log = strings();
  if (maybe(0.1)) flow.aggregate = { ingress_flow_count: int(), egress_flow_count: 0 };
  if (maybe(0.1)) flow.futureField = { x: 1 };
  // lowerCamel aliases, alone or beside the proto name (which wins)
  if (maybe(0.2)) flow.dropReasonDesc = pick<unknown>([133, "AUTH_REQUIRED"]);
  if (maybe(0.2)) flow.isReply = pick([true, false]);
  if (maybe(0.2)) flow.trafficDirection = pick<unknown>([1, 2, "EGRESS"]);
  if (maybe(0.1)) flow.nodeName = text();
  if (maybe(0.1)) flow.uuid = undefined;
  if (maybe(0.1)) flow.source = null;
  const env: Record<string, unknown> = { flow, node_name: text(), time: maybe(0.7) ? flow.time : pick(TIMES) };
  if (maybe(0.3)) {
    // keys not in declaration order
    const shuffled: Record<string, unknown> = {};
    for (const k of Object.keys(flow).sort(() => r() - 0.5)) shuffled[k] = flow[k];
    env.flow = shuffled;
  }
  if (maybe(0.3)) return { time: env.time, node_name: env.node_name, flow: env.flow };
  return env;
}

function others(): unknown[] {
  const sparse: string[] = ["a"];
  sparse[2] = "c";
  return [
    { lost_events: { source: "HUBBLE_RING_BUFFER", num_events_lost: "12", cpu: 0, first: "2024-01-01T00:00:00.5Z" }, node_name: "n", time: "2024-01-01T00:00:00Z" },
    { lost_events: { source: 1, numEventsLost: 7, cpu: 3 }, nodeName: "n&<" },
    { node_status: { state_change: "NODE_CONNECTED", node_names: ["a", "b<"], message: "hi\u2028" }, time: "2024-01-01T00:00:00Z" },
    { node_status: { state_change: 0, node_names: [] } },
    {},
    { flow: {} },
    { flow: { source: { labels: sparse }, extensions: { "@type": "t", list: [1, , 3] } } }, // eslint-disable-line no-sparse-arrays
    { flow: { source: { labels: [1, null, undefined, true] }, egress_allowed_by: [null, undefined, { name: "p" }], l4: { TCP: [] } } },
    { flow: { time: "2024-01-01T00:00:00Z", l7: { latencyNs: 12, type: 2, http: { headers: [{ key: "k", value: "<v>" }] } } }, time: "2024-01-01T00:00:00Z" },
  ];
}

const EXAMPLES = readFileSync(fileURLToPath(new URL("./hubble-examples.ndjson", import.meta.url)), "utf8").split("\n").filter(Boolean);

test("toHubbleJson prints the reference encoder's bytes for 600 generated flows", () => {
  for (let seed = 1; seed <= 600; seed++) {
    const env = generate(seed);
    assert.equal(toHubbleJson(env), reference(env), `seed ${seed}`);
  }
});

test("toHubbleJson matches the reference again on repeat (caches give the same bytes)", () => {
  for (let round = 0; round < 2; round++) {
    for (let seed = 1; seed <= 200; seed++) {
      const env = generate(seed);
      assert.equal(toHubbleJson(env), reference(env), `seed ${seed}, round ${round}`);
    }
  }
});

test("toHubbleJson matches the reference on builder flows, filter flows, real lines, and edge envelopes", () => {
  const envs: unknown[] = [
    ...Array.from({ length: 50 }, (_, i) => makeFlow({ verdict: i % 3 ? "FORWARDED" : "DROPPED", srcPod: `web-${i}`, port: i })),
    ...FLOWS.map((f) => ({ flow: f, node_name: "n", time: f.time })),
    ...EXAMPLES.map((l) => JSON.parse(l)),
    ...others(),
  ];
  envs.forEach((env, i) => assert.equal(toHubbleJson(env as never), reference(env), `envelope ${i}: ${JSON.stringify(env)?.slice(0, 200)}`));
});

test("encodeMessage matches the reference for every message type on generated parts", () => {
  for (let seed = 1; seed <= 100; seed++) {
    const flow = generate(seed).flow as Record<string, unknown>;
    const parts: [string, unknown][] = [["Flow", flow], ["Endpoint", flow.source], ["IP", flow.IP], ["Layer4", flow.l4], ["Layer7", flow.l7], ["Policy", (flow.egress_allowed_by as unknown[] | undefined)?.[0]]];
    for (const [msg, obj] of parts) {
      if (obj === undefined || obj === null) continue;
      assert.equal(encodeMessage(msg, obj as Record<string, unknown>), refEncodeMessage(msg, obj as Record<string, unknown>), `seed ${seed}, ${msg}`);
    }
  }
});

test("the reference check can fail: a one-byte difference is caught", () => {
  const env = generate(1);
  assert.notEqual(toHubbleJson({ ...env, node_name: "other" }), reference(env));
});
