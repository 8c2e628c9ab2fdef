// Filter semantics against hand-computed expectations, and the SQL translation agreeing with matchFlow
// on a real in-memory SQLite table.
import { test } from "node:test";
import assert from "node:assert/strict";
import type Database from "better-sqlite3";
import { compileQuery } from "../../lib/filter/match";
import type { FlowQuery } from "../../lib/filter/types";
import type { Flow } from "../../lib/flow/types";
import { queryToSql } from "../../server/store/filter-sql";
import { FragmentRegistry, INSERT_FRAGMENT_SQL } from "../../server/store/fragments";
import { flowToRow, INSERT_ROW_SQL } from "../../server/store/row";
import { FLOWS } from "./flows";
import { migratedMemoryDb } from "../helpers/memory-db";

const q = (whitelist: FlowQuery["whitelist"], blacklist: FlowQuery["blacklist"] = [], extra: Partial<FlowQuery> = {}): FlowQuery => ({ whitelist, blacklist, ...extra });

export const CASES: [string, FlowQuery, string[]][] = [
  ["empty query keeps all", q([]), ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["verdict", q([{ verdict: ["DROPPED"] }]), ["f1", "f5"]],
  ["namespace either side", q([{ source_pod: ["payments/"] }, { destination_pod: ["payments/"] }]), ["f1", "f2", "f3", "f4", "f6"]],
  ["namespace AND verdict", q([{ source_pod: ["payments/"], verdict: ["DROPPED"] }, { destination_pod: ["payments/"], verdict: ["DROPPED"] }]), ["f1"]],
  ["blacklist only (--not --verdict FORWARDED)", q([], [{ verdict: ["FORWARDED"] }]), ["f1", "f5"]],
  ["pod prefix minus port", q([{ source_pod: ["payments/web"] }], [{ destination_port: ["53"] }]), ["f1", "f2"]],
  ["label in (…)", q([{ source_label: ["app in (api,db)"] }]), ["f3", "f6"]],
  ["label !key", q([{ destination_label: ["!tier"] }]), ["f1", "f2", "f3", "f4", "f5"]],
  ["label with source AND second requirement", q([{ source_label: ["k8s:app=web,tier=front"] }]), ["f1"]],
  ["label != ", q([{ source_label: ["app!=web"] }]), ["f3", "f5", "f6"]],
  ["destination CIDR", q([{ destination_ip: ["10.0.0.0/16"] }]), ["f1", "f2", "f3", "f6"]],
  ["exact IP", q([{ source_ip: ["10.0.4.4"] }]), ["f5"]],
  ["http status 5+", q([{ http_status_code: ["5+"] }]), ["f3"]],
  ["http status exact miss", q([{ http_status_code: ["404"] }]), []],
  ["http path regex", q([{ http_path: ["^/orders/\\d+$"] }]), ["f2", "f3"]],
  ["dns query regex", q([{ dns_query: ["github"] }]), ["f4"]],
  ["node name without cluster", q([{ node_name: ["worker-1"] }]), ["f1", "f4", "f5"]],
  ["node name cluster/", q([{ node_name: ["kind/"] }]), ["f1", "f2", "f3", "f4", "f5"]],
  ["node name glob", q([{ node_name: ["worker-*"] }]), ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["policy by name (default deny)", q([{ policy: ["db-allow"] }]), ["f1"]],
  ["policy ns/name", q([{ policy: ["payments/web-egress"] }]), ["f2"]],
  ["policy Kind/ns/name cluster-wide", q([{ policy: ["CiliumClusterwideNetworkPolicy//deny-world"] }]), ["f5"]],
  ["policy wrong namespace", q([{ policy: ["shop/web-egress"] }]), []],
  ["reply false counts drops", q([{ reply: [false] }]), ["f1", "f2", "f4", "f5"]],
  ["reply true", q([{ reply: [true] }]), ["f3", "f6"]],
  ["event type trace", q([{ event_type: [{ type: 4 }] }]), ["f6"]],
  ["event type with sub type", q([{ event_type: [{ type: 1, match_sub_type: true, sub_type: 181 }] }]), ["f5"]],
  ["protocol udp", q([{ protocol: ["udp"] }]), ["f4"]],
  ["protocol http (L7)", q([{ protocol: ["http"] }]), ["f2", "f3"]],
  ["fqdn glob", q([{ destination_fqdn: ["*.github.com"] }]), ["f5"]],
  ["identity", q([{ source_identity: [1001] }]), ["f1", "f2", "f4"]],
  ["whitelist filters OR", q([{ verdict: ["DROPPED"] }, { source_pod: ["shop/"] }]), ["f1", "f3", "f5"]],
  ["any blacklist filter excludes", q([], [{ verdict: ["DROPPED"] }, { destination_port: ["53"] }]), ["f2", "f3", "f6"]],
  ["blacklist fields AND", q([], [{ http_method: ["GET"], destination_pod: ["shop/"] }]), ["f1", "f3", "f4", "f5", "f6"]],
  ["allow and deny combined", q([{ source_pod: ["payments/"] }], [{ protocol: ["http", "dns"] }]), ["f1", "f6"]],
  ["deny with CIDR (residual)", q([{ verdict: ["FORWARDED"] }], [{ destination_ip: ["10.0.1.0/24"] }]), ["f2", "f4"]],
  ["time window inclusive", q([], [], { since: "2024-05-01T10:00:02.300Z", until: "2024-05-01T10:00:04.500Z" }), ["f3", "f4", "f5"]],
  ["direction AND port", q([{ traffic_direction: ["EGRESS"], destination_port: ["443"] }]), ["f5"]],
  ["tcp flags", q([{ tcp_flags: [{ SYN: true }] }]), ["f1"]],
  ["pod any namespace", q([{ destination_pod: ["/api"] }]), ["f2"]],
  // Hubble's ParseNamespaceName: a name without a namespace is in "default" (api-5 is in shop)
  ["pod without a namespace is in default", q([{ destination_pod: ["api"] }]), []],
  ["pod without a namespace, negated", q([], [{ source_pod: ["web"] }]), ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["uuid", q([{ uuid: ["f4", "f6"] }]), ["f4", "f6"]],
  ["trace id (whole)", q([{ trace_id: ["4bf92f3577b34da6a3ce929d0e0e4736"] }]), ["f3"]],
  ["trace id prefix is no match", q([{ trace_id: ["4bf92f35"] }]), []],
  // hubble's filterByIPTraceID compares GetTraceId(), which is 0 on a record without one
  ["IP trace id (uint64 beyond 2^53)", q([{ ip_trace_id: ["12460542740415775846"] }]), ["f4"]],
  ["IP trace id one off is no match", q([{ ip_trace_id: ["12460542740415775845"] }]), []],
  ["IP trace id 0 is every record without one", q([{ ip_trace_id: ["0"] }]), ["f1", "f2", "f3", "f5", "f6"]],
  // hubble's node label, interface and encryption filters (flows from a real export carry them)
  ["node label selector", q([{ node_labels: ["topology.kubernetes.io/zone=zone-a"] }]), ["f1"]],
  ["node label set-based", q([{ node_labels: ["kubernetes.io/hostname in (worker-1,worker-3)"] }]), ["f1", "f6"]],
  ["node label !key matches a flow without node labels", q([{ node_labels: ["!topology.kubernetes.io/zone"] }]), ["f2", "f3", "f4", "f5", "f6"]],
  ["interface by name", q([{ interface: [{ name: "lxc_health" }] }]), ["f6"]],
  ["interface by index", q([{ interface: [{ index: 27 }] }]), ["f1"]],
  ["interface: every field given must match", q([{ interface: [{ index: 27, name: "lxc_health" }] }]), []],
  ["encrypted", q([{ encrypted: [true] }]), ["f6"]],
  ["unencrypted includes flows that do not say", q([{ encrypted: [false] }]), ["f1", "f2", "f3", "f4", "f5"]],
];

function ids(query: FlowQuery): string[] {
  const m = compileQuery(query);
  return FLOWS.filter(m).map((f) => f.uuid!);
}

test("matchFlow: table of hand-computed expectations", () => {
  for (const [name, query, want] of CASES) assert.deepEqual(ids(query), want, name);
});

/** An in-memory database with the committed migrations applied, holding FLOWS as the store writes them. */
function createDb(): Database.Database {
  const db = migratedMemoryDb();
  db.exec("DROP TABLE flows_v1");
  const fragments = new FragmentRegistry(db);
  const rows = FLOWS.map((f, i) => flowToRow(i + 1, { flow: f, time: f.time ?? "", node_name: f.node_name ?? "" }, fragments));
  const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);
  for (const fr of fragments.takeNew()) insertFragment.run(fr);
  const ins = db.prepare(INSERT_ROW_SQL);
  for (const r of rows) ins.run(r);
  (db as Database.Database & { fragments?: FragmentRegistry }).fragments = fragments;
  return db;
}

function bodyFlow(db: Database.Database, body: string): Flow {
  const fragments = (db as Database.Database & { fragments?: FragmentRegistry }).fragments!;
  return (JSON.parse(fragments.expand(body)) as { flow: Flow }).flow;
}

test("queryToSql + residual gives the same answers as matchFlow on SQLite", () => {
  const db = createDb();
  let exactCount = 0;
  for (const [name, query, want] of CASES) {
    const { where, params, residual } = queryToSql(query);
    assert.ok(!/'(payments|shop|GET|db-allow)'/.test(where), `${name}: values must be bound, not inlined`);
    const rows = db.prepare(`SELECT uuid, body FROM flows WHERE ${where} ORDER BY id`).all(...(params as unknown[])) as { uuid: string; body: string }[];
    const got = rows.filter((r) => !residual || residual(bodyFlow(db, r.body))).map((r) => r.uuid);
    assert.deepEqual(got, want, name);
    if (!residual) exactCount++;
  }
  // most of the table must be answered by SQL alone, or the translation is not doing its job
  assert.ok(exactCount >= 25, `only ${exactCount} cases were exact in SQL`);
});

test("SQL is exact (no residual) for the common namespace/verdict and policy queries", () => {
  assert.equal(queryToSql(CASES[3][1]).residual, undefined);
  assert.equal(queryToSql(q([{ policy: ["payments/web-egress"] }])).residual, undefined);
  assert.equal(queryToSql(q([{ destination_ip: ["10.0.0.0/16"] }])).residual, undefined);
  assert.equal(queryToSql(q([{ source_label: ["app in (web,api)"], destination_fqdn: ["*.github.com"] }])).residual, undefined);
  assert.equal(queryToSql(q([{ http_path: ["^/x"] }, { dns_query: ["x"] }])).residual, undefined);
  assert.notEqual(queryToSql(q([{ http_header: [{ key: "x", value: "y" }] }])).residual, undefined);
});

test("LIKE wildcards in values are escaped", () => {
  const db = createDb();
  const { where, params } = queryToSql(q([{ policy: ["%"] }, { source_label: ["k8s:app=w_b"] }]));
  const rows = db.prepare(`SELECT uuid FROM flows WHERE ${where}`).all(...(params as unknown[]));
  assert.equal(rows.length, 0);
});
