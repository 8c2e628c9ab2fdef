// Filters on endpoints (labels, workloads, cluster), addresses and names are answered by SQL alone,
// through the SQL functions, and agree with the JS filter on every stored record: records without an
// endpoint, label lists longer than the fragments' `labels` column, endpoints too large to share,
// IPv6 addresses spelled two ways, name and policy lists longer than a text column used to keep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQuery } from "../../lib/filter/match";
import type { FlowFilter, FlowQuery } from "../../lib/filter/types";
import type { Endpoint, Flow } from "../../lib/flow/types";
import { queryToSql } from "../../server/store/filter-sql";
import { MAX_FRAGMENT_LENGTH } from "../../server/store/fragments";
import { storedFlowsDb } from "../helpers/stored-flows";

const many = Array.from({ length: 60 }, (_, i) => `k8s:padding-label-${String(i).padStart(2, "0")}=${"v".repeat(90)}`);

function ep(e: Endpoint): Endpoint {
  return { identity: 1000, namespace: "prod", ...e };
}

const client = ep({ labels: ["k8s:app=client"], pod_name: "client-1" });
const server = ep({ labels: ["k8s:app=server"], pod_name: "server-1" });
const CLIENT_SERVER = ["dns", "dns-empty", "http", "http-encoded", "many-policies"];

const FLOWS: Flow[] = [
  { uuid: "plain", node_name: "east/worker-1", IP: { source: "10.0.1.5", destination: "2001:db8:0:0::7", ipVersion: "IPv6" }, destination_names: ["db.internal."], source: ep({ labels: ["k8s:app=web", "k8s:tier=front"], pod_name: "web-1", workloads: [{ name: "web", kind: "Deployment" }] }), destination: ep({ labels: ["k8s:app=db"], pod_name: "db-0", cluster_name: "east" }) },
  // no destination endpoint at all: `!key` and cluster "" match it, as an absent endpoint has no labels
  { uuid: "no-destination", source: ep({ labels: ["k8s:app=web"], pod_name: "web-2" }) },
  // the label sought is past the 4,096 characters the fragments' labels column keeps
  { uuid: "long-labels", IP: { source: "10.0.2.9", destination: "10.0.1.5", ipVersion: "IPv4" }, destination_names: [...Array.from({ length: 12 }, (_, i) => `host-${i}.${"a".repeat(100)}.example.com`), "api.github.com"], source: ep({ labels: [...many, "k8s:app=batch"], pod_name: "batch-1", workloads: [{ name: "nightly", kind: "CronJob" }] }), destination: ep({ labels: ["k8s:app=db"], cluster_name: "west" }) },
  // an endpoint whose JSON is larger than a fragment may be: cut until it is one
  { uuid: "huge", source: ep({ labels: ["k8s:app=huge", ...Array.from({ length: 300 }, (_, i) => `k8s:x${i}=${"y".repeat(150)}`)], pod_name: "huge-1" }), destination: ep({ labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] }) },
  { uuid: "dns", source: client, destination: server, l7: { type: "REQUEST", dns: { query: `${"sub.".repeat(150)}example.com.`, qtypes: ["A"] } } },
  { uuid: "dns-empty", source: client, destination: server, l7: { type: "REQUEST", dns: { query: "", qtypes: ["A"] } } },
  { uuid: "http", source: client, destination: server, l7: { type: "REQUEST", http: { method: "GET", url: `http://api.prod:8080/v1/orders/42?${"q=1&".repeat(700)}`, protocol: "HTTP/1.1" } } },
  { uuid: "http-encoded", source: client, destination: server, l7: { type: "REQUEST", http: { method: "GET", url: "/files/a%20b", protocol: "HTTP/1.1" } } },
  // deciding policies whose names run past the 4 KiB the policies column used to keep
  { uuid: "many-policies", source: client, destination: server, egress_allowed_by: Array.from({ length: 60 }, (_, i) => ({ name: `policy-${i}-${"p".repeat(90)}`, namespace: "prod", kind: "CiliumNetworkPolicy" })) },
  { uuid: "world", node_name: "worker-2", IP: { source: "10.0.1.6", destination: "140.82.112.3", ipVersion: "IPv4" }, destination_names: ["", "github.com"], source: ep({ labels: ["k8s:app=web"], pod_name: "web-1" }), destination: { identity: 2, labels: ["reserved:world"] } },
].map((f, i) => ({ time: `2024-05-01T10:00:0${i}.000Z`, verdict: "FORWARDED", ...f }) as Flow);

const storedDb = () => storedFlowsDb(FLOWS);

const q = (whitelist: FlowFilter[], blacklist: FlowFilter[] = []): FlowQuery => ({ whitelist, blacklist });

const CASES: [string, FlowQuery, string[]][] = [
  ["label any source", q([{ source_label: ["app=web"] }]), ["plain", "no-destination", "world"]],
  ["label past the labels column", q([{ source_label: ["app=batch"] }]), ["long-labels"]],
  ["label kept on a cut endpoint", q([{ source_label: ["k8s:app=huge"] }]), ["huge"]],
  ["!key matches an absent endpoint", q([{ destination_label: ["!app"] }]), ["no-destination", "world"]],
  ["notin", q([{ destination_label: ["app notin (db)"] }]), ["no-destination", "huge", ...CLIENT_SERVER, "world"]],
  ["set-based with source", q([{ destination_label: ["k8s:app in (db,api)"] }]), ["plain", "long-labels", "huge"]],
  ["reserved label", q([{ destination_label: ["reserved:world"] }]), ["world"]],
  ["workload by name", q([{ source_workload: [{ name: "nightly" }] }]), ["long-labels"]],
  ["workload by kind, any case", q([{ destination_workload: [{ kind: "deployment" }] }]), ["huge"]],
  ["cluster name", q([{ destination_cluster_name: ["east", "west"] }]), ["plain", "long-labels"]],
  ["cluster name empty matches no cluster", q([{ destination_cluster_name: [""] }]), ["no-destination", "huge", ...CLIENT_SERVER, "world"]],
  ["label AND workload on one side", q([{ source_label: ["app=web"], source_workload: [{ name: "web" }] }]), ["plain"]],
  ["either side", q([{ source_label: ["app=api"] }, { destination_label: ["app=api"] }]), ["huge"]],
  ["negated label", q([], [{ destination_label: ["app=db"] }]), ["no-destination", "huge", ...CLIENT_SERVER, "world"]],
  ["negated !key excludes absent endpoints", q([], [{ destination_label: ["!app"] }]), ["plain", "long-labels", "huge", ...CLIENT_SERVER]],
  ["IPv6 address spelled otherwise", q([{ destination_ip: ["2001:db8::7"] }]), ["plain"]],
  ["CIDR either side", q([{ source_ip: ["10.0.1.0/24"] }, { destination_ip: ["10.0.1.0/24"] }]), ["plain", "long-labels", "world"]],
  ["negated CIDR keeps records without addresses", q([], [{ source_ip: ["10.0.0.0/8"] }]), ["no-destination", "huge", ...CLIENT_SERVER]],
  ["FQDN glob", q([{ destination_fqdn: ["*.github.com"] }]), ["long-labels"]],
  ["FQDN past 1,024 characters of names", q([{ destination_fqdn: ["api.github.com"] }]), ["long-labels"]],
  ["FQDN trailing dot and case", q([{ destination_fqdn: ["DB.internal"] }]), ["plain"]],
  ["FQDN * matches any name, not an empty one", q([{ destination_fqdn: ["*"] }]), ["plain", "long-labels", "world"]],
  ["DNS query regex past 512 characters", q([{ dns_query: ["example\\.com\\.$"] }]), ["dns"]],
  // an empty query is not in the stored record at all (protojson leaves empty strings out)
  ["DNS query regex and an empty query", q([{ dns_query: ["^$"] }]), []],
  ["HTTP path regex, query string left out", q([{ http_path: ["^/v1/orders/\\d+$"] }]), ["http"]],
  ["HTTP path regex on the decoded path", q([{ http_path: ["^/files/a b$"] }]), ["http-encoded"]],
  ["HTTP URL regex past 2,048 characters", q([{ http_url: ["q=1&$"] }]), ["http"]],
  ["negated HTTP path keeps records without one", q([{ source_label: ["app=web"] }], [{ http_path: ["^/"] }]), ["plain", "no-destination", "world"]],
  ["node name in any cluster", q([{ node_name: ["worker-1"] }]), ["plain"]],
  ["node name without a cluster is in default", q([{ node_name: ["default/"] }]), ["world"]],
  ["node name glob", q([{ node_name: ["east/worker-*", "*/worker-2"] }]), ["plain", "world"]],
  ["negated node name keeps records without one", q([], [{ node_name: ["worker-*"] }]), ["no-destination", "long-labels", "huge", ...CLIENT_SERVER]],
  ["a policy past 4 KiB of policy names", q([{ policy: [`prod/policy-59-${"p".repeat(90)}`] }]), ["many-policies"]],
  ["label with a pod filter", q([{ source_label: ["app=web"], source_pod: ["prod/web-1"] }]), ["plain", "world"]],
];

test("label, workload, cluster, address, name, regex and policy filters are exact in SQL and agree with the JS filter on the stored records", () => {
  const { db, stored } = storedDb();
  // the cut endpoint is a fragment now, and kept the label the case looks for
  const huge = stored.find((f) => f.uuid === "huge")!;
  assert.ok(JSON.stringify(huge.source).length < MAX_FRAGMENT_LENGTH);
  assert.ok(huge.source!.labels!.includes("k8s:app=huge"));
  // every record's source endpoint is a fragment
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM flows WHERE src_ep IS NULL").get() as { n: number }).n, 0);
  for (const [name, query, want] of CASES) {
    const { where, params, residual } = queryToSql(query);
    assert.equal(residual, undefined, `${name}: must be answered by SQL alone`);
    const got = (db.prepare(`SELECT uuid FROM flows WHERE ${where} ORDER BY id`).all(...params) as { uuid: string }[]).map((r) => r.uuid);
    assert.deepEqual(got, want, name);
    assert.deepEqual(stored.filter(compileQuery(query)).map((f) => f.uuid), want, `${name} (JS filter)`);
  }
});

test("a label selector is bound, never spliced into SQL", () => {
  const { where, params } = queryToSql(q([{ source_label: ["k8s:app=web"] }]));
  assert.ok(!where.includes("app=web"));
  assert.ok(params.some((p) => typeof p === "string" && p.includes("k8s:app=web")));
});
