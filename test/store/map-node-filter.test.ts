// The service map's selection as a filter: `map_node` and `map_edge` pick exactly the stored flows the
// map counted for that node or edge (plus, for an edge, the replies back), in SQL and in the JS filter
// alike, with every other filter of the page still applied.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQuery } from "../../lib/filter/match";
import { fromSearchParams } from "../../lib/filter/parse-params";
import { FilterError } from "../../lib/filter/types";
import { mapNodeIdOf, splitEdgeId, workloadFromPodName, workloadNodeParts } from "../../lib/flow/map-node";
import type { Endpoint, Flow } from "../../lib/flow/types";
import { queryToSql } from "../../server/store/filter-sql";
import { MAP_NODE_FN } from "../../server/store/sql-functions";
import { storedFlowsDb } from "../helpers/stored-flows";

const web: Endpoint = { identity: 1001, namespace: "shop", pod_name: "web-7d9f-abcde", labels: ["k8s:app=web"], workloads: [{ name: "web", kind: "Deployment" }] };
const api: Endpoint = { identity: 1002, namespace: "shop", pod_name: "api-5c6b-xyz12", labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] };
// same namespace, neither workload nor pod: drawn as "shop/(unknown)"
const bare: Endpoint = { identity: 1003, namespace: "shop", labels: ["k8s:run=debug"] };
// api as a record taken on another node shows it (Hubble leaves out workloads there): the pod name's
// workload groups it with api's other records
const apiRemote: Endpoint = { identity: 1002, namespace: "shop", pod_name: "api-7d4b9c8f6-x2x9z", labels: ["k8s:app=api"] };
// a bare pod is a workload of its own
const debug: Endpoint = { identity: 1005, namespace: "shop", pod_name: "debug", labels: ["k8s:run=debug"] };
const host: Endpoint = { identity: 1, labels: ["reserved:host"] };
// an ingress proxy's upstream connection: the node's address under web's identity, so no namespace or
// pod; the identity's labels still name the namespace (not world)
const proxied: Endpoint = { identity: 1001, labels: ["k8s:app=web", "k8s:io.kubernetes.pod.namespace=shop"] };
const world: Endpoint = { identity: 2, labels: ["reserved:world"] };
const cidr: Endpoint = { identity: 16777217, labels: ["cidr:10.96.0.0/12", "reserved:world"] };
// a namespace from an imported export that looks like a CIDR node's id when joined with its workload
const odd: Endpoint = { identity: 1004, namespace: "cidr:10.96.0.0", pod_name: "x", workloads: [{ name: "12", kind: "Deployment" }] };

const FLOWS: Flow[] = [
  { uuid: "web-api", source: web, destination: api, verdict: "FORWARDED", is_reply: false, l4: { TCP: { source_port: 40000, destination_port: 8080 } } },
  { uuid: "api-web-reply", source: api, destination: web, verdict: "FORWARDED", is_reply: true, l4: { TCP: { source_port: 8080, destination_port: 40000 } } },
  // a request the other way is not the edge web->api (its map edge is api->web)
  { uuid: "api-web", source: api, destination: web, verdict: "DROPPED", is_reply: false, l4: { TCP: { source_port: 41000, destination_port: 80 } } },
  { uuid: "web-github", source: web, destination: world, destination_names: ["api.github.com"], verdict: "FORWARDED" },
  { uuid: "web-world", source: web, destination: world, verdict: "DROPPED" },
  { uuid: "host-api", source: host, destination: api, verdict: "FORWARDED" },
  { uuid: "bare-cidr", source: bare, destination: cidr, verdict: "FORWARDED" },
  { uuid: "odd-web", source: odd, destination: web, verdict: "FORWARDED" },
  { uuid: "web-api-remote", source: web, destination: apiRemote, verdict: "FORWARDED", is_reply: false },
  { uuid: "debug-api", source: debug, destination: apiRemote, verdict: "DROPPED", is_reply: false },
  { uuid: "proxy-api", source: proxied, destination: api, verdict: "FORWARDED", is_reply: false },
].map((f, i) => ({ time: `2024-05-01T10:00:${String(i).padStart(2, "0")}.000Z`, ...f }) as Flow);

const storedDb = () => storedFlowsDb(FLOWS);

test("the store's map node function and the JS filter name each side's node alike", () => {
  const { db, stored } = storedDb();
  const sql = db
    .prepare(
      `SELECT uuid, ${MAP_NODE_FN}(src_namespace, src_workload, src_identity, (SELECT labels FROM fragments WHERE id = src_ep), src_names) AS src,
              ${MAP_NODE_FN}(dst_namespace, dst_workload, dst_identity, (SELECT labels FROM fragments WHERE id = dst_ep), dst_names) AS dst FROM flows ORDER BY id`,
    )
    .all() as { uuid: string; src: string; dst: string }[];
  const js = stored.map((f) => ({ uuid: f.uuid!, src: mapNodeIdOf(f.source, f.source_names), dst: mapNodeIdOf(f.destination, f.destination_names) }));
  assert.deepEqual(sql, js);
  const byUuid = Object.fromEntries(js.map((r) => [r.uuid, `${r.src}->${r.dst}`]));
  assert.deepEqual(byUuid, {
    "web-api": "shop/web->shop/api",
    "api-web-reply": "shop/api->shop/web",
    "api-web": "shop/api->shop/web",
    "web-github": "shop/web->fqdn:api.github.com",
    "web-world": "shop/web->reserved:world",
    "host-api": "reserved:host->shop/api",
    "bare-cidr": "shop/(unknown)->cidr:10.96.0.0/12",
    "odd-web": "cidr:10.96.0.0/12->shop/web",
    "web-api-remote": "shop/web->shop/api",
    "debug-api": "shop/debug->shop/api",
    "proxy-api": "shop/(unknown)->shop/api",
  });
});

const CASES: [string, string, string[]][] = [
  ["a workload node, either side, with or without workloads in the record", "map_node=shop/api", ["web-api", "api-web-reply", "api-web", "host-api", "web-api-remote", "debug-api", "proxy-api"]],
  ["an edge and the replies back along it", "map_edge=shop/web->shop/api", ["web-api", "api-web-reply", "web-api-remote"]],
  ["a bare pod's node", "map_node=shop/debug", ["debug-api"]],
  ["the reverse edge: its requests, and replies the other way", "map_edge=shop/api->shop/web", ["api-web"]],
  ["an FQDN node", "map_node=fqdn:api.github.com", ["web-github"]],
  ["world is what has no better name", "map_node=reserved:world", ["web-world"]],
  ["a reserved identity", "map_edge=reserved:host->shop/api", ["host-api"]],
  ["a node without a workload, and a pod identity on an address that is no pod's", "map_node=shop/(unknown)", ["bare-cidr", "proxy-api"]],
  // both the CIDR peer and the odd namespace are drawn as this id, as the map merges them
  ["a CIDR node, and a workload whose name reads the same", "map_node=cidr:10.96.0.0/12", ["bare-cidr", "odd-web"]],
  ["the page's other filters still apply", "map_node=shop/api&verdict=DROPPED", ["api-web", "debug-api"]],
  ["namespace (either side) AND the node (either side)", "namespace=shop&map_edge=shop/web->shop/api", ["web-api", "api-web-reply", "web-api-remote"]],
  ["free text narrows the edge", "map_edge=shop/web->shop/api&q=" + encodeURIComponent("verdict=FORWARDED"), ["web-api", "api-web-reply", "web-api-remote"]],
  ["an edge with replies excluded by the page", "map_edge=shop/web->shop/api&reply=false", ["web-api", "web-api-remote"]],
  ["two edges OR", "map_edge=shop/web->shop/api&map_edge=reserved:host->shop/api", ["web-api", "api-web-reply", "host-api", "web-api-remote"]],
  ["a node and an edge AND", "map_node=reserved:host&map_edge=reserved:host->shop/api", ["host-api"]],
  ["a node nothing is drawn as", "map_node=shop/nothing", []],
  ["the selection contradicts the page: nothing, not everything", "map_edge=shop/web->shop/api&reply=true&verdict=DROPPED", []],
];

test("map_node and map_edge are exact in SQL and agree with the JS filter", () => {
  const { db, stored } = storedDb();
  for (const [name, params, want] of CASES) {
    const query = fromSearchParams(params);
    const { where, params: bound, residual } = queryToSql(query);
    assert.equal(residual, undefined, `${name}: must be answered by SQL alone`);
    const got = (db.prepare(`SELECT uuid FROM flows WHERE ${where} ORDER BY id`).all(...bound) as { uuid: string }[]).map((r) => r.uuid);
    assert.deepEqual(got, want, name);
    assert.deepEqual(stored.filter(compileQuery(query)).map((f) => f.uuid), want, `${name} (JS filter)`);
  }
});

test("free text that contradicts the page's structured filters matches nothing rather than everything", () => {
  const { db, stored } = storedDb();
  const query = fromSearchParams("verdict=DROPPED&q=" + encodeURIComponent("verdict=FORWARDED"));
  const { where, params } = queryToSql(query);
  assert.deepEqual(db.prepare(`SELECT uuid FROM flows WHERE ${where}`).all(...params), []);
  assert.deepEqual(stored.filter(compileQuery(query)), []);
});

test("a workload node is decided on the indexed columns; other nodes by the map's function, bound", () => {
  const wl = queryToSql(fromSearchParams("map_node=shop/api"));
  assert.ok(!wl.where.includes(MAP_NODE_FN), wl.where);
  assert.ok(wl.params.includes("shop") && wl.params.includes("api"));
  const fqdn = queryToSql(fromSearchParams("map_node=" + encodeURIComponent("fqdn:evil' OR 1=1 --")));
  assert.ok(fqdn.where.includes(MAP_NODE_FN) && !fqdn.where.includes("evil"), fqdn.where);
  // a term every whitelist filter has is taken out of their OR, so SQLite walks its index once
  const crossed = queryToSql(fromSearchParams("namespace=shop&verdict=DROPPED&map_edge=shop/web->shop/api"));
  assert.equal(crossed.where.split("verdict = ?").length - 1, 1, crossed.where);
  assert.equal(workloadNodeParts("cidr:10.0.0.0/8"), undefined);
  assert.equal(workloadNodeParts("ns/(unknown)"), undefined);
  assert.equal(workloadNodeParts("a/b/c"), undefined);
  assert.deepEqual(workloadNodeParts("shop/api"), { namespace: "shop", workload: "api" });
});

test("bad selections are refused, naming the parameter", () => {
  for (const [params, msg] of [
    ["map_edge=shop/web", /map_edge: invalid edge/],
    ["map_edge=a->b->c", /map_edge: invalid edge/],
    ["map_edge=->b", /map_edge: invalid edge/],
    ["map_node=", /map_node: empty map node id/],
    [`map_node=${"x".repeat(2000)}`, /map_node: map node id of 2000 characters/],
    ["not.map_node=shop/api", /not\.map_node: unknown filter parameter/],
  ] as const) {
    assert.throws(() => fromSearchParams(params), (e: unknown) => e instanceof FilterError && msg.test(e.message), params);
  }
  assert.throws(() => compileQuery({ whitelist: [{ source_map_node: [7 as unknown as string] }], blacklist: [] }), /source_map_node: expected strings/);
  assert.deepEqual(splitEdgeId("reserved:host->shop/api"), { source: "reserved:host", target: "shop/api" });
});

test("a pod name gives the workload it was generated for, when the record names none", () => {
  const cases: [string, string][] = [
    ["api-7d4b9c8f6-x2x9z", "api"], // Deployment: template hash, then the random suffix
    ["productpage-v1-6b746f74dc-9rcxx", "productpage-v1"],
    ["coredns-558bd4d5db-w2m67", "coredns"],
    ["node-local-dns-88zrp", "node-local-dns"], // DaemonSet: the random suffix alone
    ["web-0", "web"], // StatefulSet ordinal
    ["postgres-primary-2", "postgres-primary"], // a word is no template hash
    ["server-bb2dq5n85r-1", "server"], // the simulator's pods
    ["debug", "debug"],
    ["my-app", "my-app"], // "app" has vowels: not a generated suffix
  ];
  for (const [pod, want] of cases) assert.equal(workloadFromPodName(pod), want, pod);
});
