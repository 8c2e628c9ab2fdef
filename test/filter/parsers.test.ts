// The three filter front-ends: hubble-style CLI flags, URL parameters, and Hubble UI free text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQuery } from "../../lib/filter/match";
import { expandShortFlags, parseObserveArgs } from "../../lib/filter/parse-cli";
import { fromSearchParams, toSearchParams } from "../../lib/filter/parse-params";
import { formatUiEntry, parseUiEntry, parseUiFilter, uiViewToQuery } from "../../lib/filter/parse-ui";
import { FilterError, type FlowQuery } from "../../lib/filter/types";
import { FLOWS } from "./flows";
import { parseTimeArg } from "../../lib/filter/time";

const ids = (query: FlowQuery) => FLOWS.filter(compileQuery(query, { now: Date.parse("2024-05-01T10:00:10Z") })).map((f) => f.uuid);

function throwsField(fn: () => unknown, field: string | RegExp) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FilterError, `expected FilterError, got ${e}`);
    if (typeof field === "string") assert.equal(e.field, field, e.message);
    else assert.match(e.field, field);
    return;
  }
  assert.fail(`expected a FilterError naming ${field}`);
}

test("CLI: either-side flag builds a source/destination pair, other flags go to both", () => {
  const { query } = parseObserveArgs(["--namespace", "payments", "--verdict", "DROPPED"]);
  assert.deepEqual(query.whitelist, [
    { source_pod: ["payments/"], verdict: ["DROPPED"] },
    { destination_pod: ["payments/"], verdict: ["DROPPED"] },
  ]);
  assert.deepEqual(ids(query), ["f1"]);
});

test("CLI: --pod defaults to namespace default, --from/--to AND into one filter", () => {
  assert.deepEqual(parseObserveArgs(["--pod", "xwing"]).query.whitelist, [{ source_pod: ["default/xwing"] }, { destination_pod: ["default/xwing"] }]);
  const { query } = parseObserveArgs(["--from-pod", "payments/web", "--to-port", "80"]);
  assert.deepEqual(query.whitelist, [{ source_pod: ["payments/web"], destination_port: ["80"] }]);
  assert.deepEqual(ids(query), ["f2"]);
});

test("CLI: same flag twice ORs", () => {
  const { query } = parseObserveArgs(["--verdict", "DROPPED", "--verdict", "forwarded", "--to-port", "443", "--to-port", "8080"]);
  assert.deepEqual(query.whitelist, [{ destination_port: ["443", "8080"], verdict: ["DROPPED", "FORWARDED"] }]);
  assert.deepEqual(ids(query), ["f1", "f5"]);
});

test("CLI: --not negates only the next flag; negated flags share one blacklist filter", () => {
  const { query } = parseObserveArgs(["--not", "--http-method", "GET", "--not", "--to-namespace", "shop"]);
  assert.deepEqual(query.whitelist, []);
  assert.deepEqual(query.blacklist, [{ destination_pod: ["shop/"], http_method: ["GET"] }]);
  assert.deepEqual(ids(query), ["f1", "f3", "f4", "f5", "f6"]);
  const mixed = parseObserveArgs(["--from-namespace", "payments", "--not", "--verdict", "FORWARDED"]).query;
  assert.deepEqual(ids(mixed), ["f1"]);
});

test("CLI: --type with sub-type, --since relative, --last/--first, unknown flags passed through", () => {
  const r = parseObserveArgs(["-o", "json", "--type", "trace:to-endpoint", "--since", "5m", "--follow", "--last", "7", "extra"], { now: Date.parse("2024-05-01T10:05:00Z") });
  assert.deepEqual(r.rest, ["-o", "json", "--follow", "extra"]);
  assert.deepEqual(r.query.whitelist, [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }]);
  assert.equal(r.query.since, "2024-05-01T10:00:00.000Z");
  assert.equal(r.query.limit, 7);
  assert.equal(r.query.first, undefined);
  assert.deepEqual(ids(r.query), ["f6"]);
  const f = parseObserveArgs(["--first", "3"]).query;
  assert.equal(f.limit, 3);
  assert.equal(f.first, true);
});

test("CLI: --identity takes a number or a reserved identity name, as hubble's parseIdentity", () => {
  assert.deepEqual(parseObserveArgs(["--from-identity", "world"]).query.whitelist, [{ source_identity: [2] }]);
  assert.deepEqual(parseObserveArgs(["--to-identity", "kube-apiserver"]).query.whitelist, [{ destination_identity: [7] }]);
  assert.deepEqual(parseObserveArgs(["--from-identity", "1003"]).query.whitelist, [{ source_identity: [1003] }]);
  assert.throws(() => parseObserveArgs(["--identity", "everyone"]), /--identity: invalid identity "everyone" \(a number or a reserved name: unknown, host, world/);
});

test("CLI: errors name the flag", () => {
  throwsField(() => parseObserveArgs(["--to-port", "99999"]), "--to-port");
  throwsField(() => parseObserveArgs(["--label", "app=a", "--from-label", "app=b"]), "--from-label");
  throwsField(() => parseObserveArgs(["--verdict", "NOPE"]), "--verdict");
  throwsField(() => parseObserveArgs(["--not"]), "--not");
  throwsField(() => parseObserveArgs(["--not", "--since", "5m"]), "--not");
  throwsField(() => parseObserveArgs(["--type", "bogus"]), "--type");
  throwsField(() => parseObserveArgs(["--http-path", "(a+)+$"]), "--http-path");
  throwsField(() => parseObserveArgs(["--ip", "10.0.0.300"]), "--ip");
  throwsField(() => parseObserveArgs(["--http-status", "600"]), "--http-status");
  throwsField(() => parseObserveArgs(["--since", "yesterday"]), "--since");
  throwsField(() => parseObserveArgs(["--first", "2", "--last", "3"]), "--first");
  throwsField(() => parseObserveArgs(["--drop-reason-desc", "NOT_A_REASON"]), "--drop-reason-desc");
  throwsField(() => parseObserveArgs(["--label", "app in (a"]), "--label");
  throwsField(() => parseObserveArgs(["--allowlist", '{"verdikt":["DROPPED"]}']), /verdikt/);
});

test("URL params: filters, exclusions, paging", () => {
  const query = fromSearchParams("namespace=payments&verdict=DROPPED&limit=50&order=asc");
  assert.deepEqual(ids(query), ["f1"]);
  assert.equal(query.limit, 50);
  assert.equal(query.first, true);
  assert.deepEqual(ids(fromSearchParams("not.verdict=FORWARDED")), ["f1", "f5"]);
  assert.deepEqual(ids(fromSearchParams({ from_label: "app=web", to_port: ["80", "53"] })), ["f2", "f4"]);
  assert.deepEqual(ids(fromSearchParams("policy=CiliumClusterwideNetworkPolicy//deny-world")), ["f5"]);
  assert.deepEqual(ids(fromSearchParams(`allow=${encodeURIComponent('{"destination_ip":["10.0.0.0/16"]}')}&deny=${encodeURIComponent('{"reply":[true]}')}`)), ["f1", "f2"]);

  // "+" typed unencoded in a URL query decodes to a space; the status prefix still means 5+
  assert.deepEqual(fromSearchParams("http_status=5+").whitelist, fromSearchParams("http_status=5%2B").whitelist);
  assert.deepEqual(ids(fromSearchParams("http_status=5+")), ids(fromSearchParams("http_status=5%2B")));
  throwsField(() => fromSearchParams("http_status=5+0"), "http_status");
});

test("URL params: errors name the parameter", () => {
  throwsField(() => fromSearchParams("verdit=DROPPED"), "verdit");
  throwsField(() => fromSearchParams("to_port=abc"), "to_port");
  throwsField(() => fromSearchParams("not.since=5m"), "not.since");
  throwsField(() => fromSearchParams("since=yesterday"), "since");
  throwsField(() => fromSearchParams("allow={bad"), "allow");
  throwsField(() => fromSearchParams("limit=-1"), "limit");
  throwsField(() => fromSearchParams("limit=99999", { maxLimit: 10000 }), "limit");
  throwsField(() => fromSearchParams("dns_query=(x|xy)*"), "dns_query");
});

test("names without a namespace: any namespace as URL parameters and UI terms, \"default\" in raw FlowFilters and for the CLI's --pod/--service", () => {
  assert.deepEqual(fromSearchParams("pod=api").whitelist, [{ source_pod: ["/api"] }, { destination_pod: ["/api"] }]);
  assert.deepEqual(fromSearchParams("to_service=api").whitelist, [{ destination_service: ["/api"] }]);
  assert.deepEqual(ids(fromSearchParams("to_pod=api")), ["f2"]);
  assert.deepEqual(ids(fromSearchParams(`allow=${encodeURIComponent(JSON.stringify({ destination_pod: ["api"] }))}`)), []);
  assert.deepEqual(ids(uiViewToQuery({ namespaces: [], text: "to:pod=api" })), ["f2"]);
  assert.deepEqual(parseObserveArgs(["--to-service", "api"]).query.whitelist, [{ destination_service: ["default/api"] }]);
  // a raw filter's bare name keeps its meaning through the URL form (as raw JSON: `to_pod=api` would widen it)
  const raw: FlowQuery = { whitelist: [{ destination_pod: ["api"] }], blacklist: [] };
  assert.deepEqual(fromSearchParams(toSearchParams(raw)), raw);
  assert.deepEqual(fromSearchParams(toSearchParams(fromSearchParams("to_pod=api"))).whitelist, [{ destination_pod: ["/api"] }]);
});

test("URL params: toSearchParams is the inverse of fromSearchParams", () => {
  const queries: FlowQuery[] = [
    fromSearchParams("namespace=payments&verdict=DROPPED"),
    fromSearchParams("from_pod=payments/web&to_label=app%3Dx&not.verdict=FORWARDED&policy=deny-all&since=2024-05-01T10:00:00Z&limit=10"),
    fromSearchParams("namespace=payments&from_pod=web"),
    { whitelist: [{ verdict: ["DROPPED"] }, { source_pod: ["shop/"] }, { http_status_code: ["5+"] }], blacklist: [{ destination_port: ["53"] }, { reply: [true] }] },
    parseObserveArgs(["--type", "trace:to-endpoint", "--not", "--label", "k8s:app in (a,b)"]).query,
    fromSearchParams("namespace=payments&node=kind-worker&limit=5"),
    fromSearchParams("verdict=DROPPED&node="),
  ];
  for (const query of queries) {
    const back = fromSearchParams(toSearchParams(query));
    assert.deepEqual(back, query, toSearchParams(query).toString());
  }
  // the simple case stays readable
  assert.equal(toSearchParams(queries[0]).toString(), "namespace=payments&verdict=DROPPED");
});

test("node= narrows everything else to one node's flows (exactly its name; empty: flows naming none)", () => {
  const nodes = [...new Set(FLOWS.map((f) => f.node_name ?? ""))];
  assert.ok(nodes.length > 1, `the example flows come from ${nodes.length} nodes`);
  const [one] = nodes as [string];
  const pick = (params: string) => ids(fromSearchParams(params));
  assert.deepEqual(pick(`node=${encodeURIComponent(one)}`), FLOWS.filter((f) => (f.node_name ?? "") === one).map((f) => f.uuid));
  // ANDed with every allow filter, including the two sides of an either-side one
  const either = fromSearchParams(`namespace=payments&node=${encodeURIComponent(one)}`);
  assert.equal(either.whitelist.length, 2);
  const want = ids(fromSearchParams("namespace=payments")).filter((u) => pick(`node=${encodeURIComponent(one)}`).includes(u));
  assert.ok(want.length > 0 && want.length < ids(fromSearchParams("namespace=payments")).length);
  assert.deepEqual(ids(either), want);
  // a pattern is not a node name here (node_name= takes patterns)
  assert.deepEqual(pick("node=*"), []);
  throwsField(() => fromSearchParams("node=a&node=b"), "node");
});

test("UI free text: grammar and serialisation", () => {
  assert.deepEqual(parseUiEntry("!from:pod=payments/web"), { negative: true, direction: "from", kind: "pod", value: "payments/web" });
  assert.deepEqual(parseUiEntry("app=frontend"), { negative: false, direction: "either", kind: "label", value: "app=frontend" });
  assert.deepEqual(parseUiEntry("to:dns=*.github.com"), { negative: false, direction: "to", kind: "dns", value: "*.github.com" });
  for (const t of ["!from:pod=payments/web", "to:identity=42", "label=k8s:app=x", "workload=Deployment/api", "policy=ns/p"]) {
    assert.equal(formatUiEntry(parseUiEntry(t)), t);
  }
  throwsField(() => parseUiFilter("ip=notanip"), /ip=notanip/);
  throwsField(() => parseUiFilter("identity=abc"), /identity=abc/);
  throwsField(() => parseUiFilter("from:policy=x"), /policy/);
  // what hubble observe --namespace users type is the namespace's pods, not a label named "namespace"
  assert.deepEqual(parseUiEntry("namespace=payments"), { negative: false, direction: "either", kind: "pod", value: "payments/" });
  assert.deepEqual(parseUiEntry("!to:ns=kube-system"), { negative: true, direction: "to", kind: "pod", value: "kube-system/" });
  assert.deepEqual(ids(uiViewToQuery({ text: "from:namespace=shop" })), ids(uiViewToQuery({ text: "from:pod=shop/" })));
  throwsField(() => parseUiFilter("namespace=a/b"), /namespace=a\/b/);
  throwsField(() => parseUiFilter("namespace="), "filter");
});

test("UI free text: hubble observe's flag spellings mean what the flags mean, not labels that never match", () => {
  const e = (negative: boolean, direction: string, kind: string, value: string) => ({ negative, direction, kind, value });
  assert.deepEqual(parseUiEntry("to:fqdn=api.github.com"), e(false, "to", "dns", "api.github.com"));
  assert.deepEqual(parseUiEntry("to-fqdn=*.github.com"), e(false, "to", "dns", "*.github.com"));
  assert.deepEqual(parseUiEntry("!from-pod=payments/"), e(true, "from", "pod", "payments/"));
  assert.deepEqual(parseUiEntry("to-label=app=db"), e(false, "to", "label", "app=db"));
  assert.deepEqual(parseUiEntry("from-namespace=shop"), e(false, "from", "pod", "shop/"));
  assert.deepEqual(parseUiEntry("http-status=5+"), e(false, "either", "http_status", "5+"));
  assert.deepEqual(ids(uiViewToQuery({ text: "to-fqdn=*.github.com" })), ids(uiViewToQuery({ text: "to:dns=*.github.com" })));
  // a label key that only looks like a flag, and Hubble UI's plain label terms, stay labels
  assert.deepEqual(parseUiEntry("service=payments"), e(false, "either", "label", "service=payments"));
  assert.deepEqual(parseUiEntry("app-name=x"), e(false, "either", "label", "app-name=x"));
  assert.deepEqual(parseUiEntry("app.kubernetes.io/name=web"), e(false, "either", "label", "app.kubernetes.io/name=web"));
  // selectors of several requirements, whose keys have "/" and whose values do not
  for (const sel of ["app=web,app.kubernetes.io/part-of=shop", "k8s:app=web,k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default", "k8s:app=web,!app.kubernetes.io/component", "app=web,cidr:10.0.0.0/8", "cluster=prod", "interface=eth0", "encrypted=true"]) {
    assert.deepEqual(parseUiEntry(sel), e(false, "either", "label", sel), sel);
  }
  assert.deepEqual(parseUiEntry("label=app=web,app.kubernetes.io/name=x"), e(false, "either", "label", "app=web,app.kubernetes.io/name=x"));
  // what cannot be a label, or has no term here, is refused by name
  throwsField(() => parseUiFilter("to:service=payments/ledger-db"), /to:service=payments\/ledger-db/);
  throwsField(() => parseUiFilter("to-service=payments/ledger-db"), /to-service/);
  throwsField(() => parseUiFilter("ip-version=v4"), /ip-version/);
  // TCP flags as the flag and the parameter spell them, checked like them
  assert.deepEqual(parseUiEntry("tcp-flags=fin,ack"), e(false, "either", "tcp_flags", "fin,ack"));
  assert.deepEqual(parseUiEntry("!tcp_flags=SYN"), e(true, "either", "tcp_flags", "SYN"));
  throwsField(() => parseUiFilter("tcp_flags=SYN,BOGUS"), /tcp_flags=SYN,BOGUS/);
  throwsField(() => parseUiFilter("to:tcp_flags=SYN"), /to:tcp_flags=SYN/);
  assert.deepEqual(ids(uiViewToQuery({ text: "tcp-flags=syn" })), ["f1"]);
  assert.deepEqual(ids(uiViewToQuery({ text: "tcp-flags=syn,ack" })), []);
  throwsField(() => parseUiFilter("app=web,tier=a/b"), /tier=a\/b/);
  throwsField(() => parseUiFilter("from:to-pod=x"), /from:to-pod=x/);
});

test("UI view: namespaces + verdict + free text", () => {
  assert.deepEqual(ids(uiViewToQuery({ namespaces: ["payments"], verdicts: ["DROPPED"] })), ["f1"]);
  assert.deepEqual(ids(uiViewToQuery({ text: "to:dns=*.github.com" })), ["f5"]);
  // positive terms OR
  assert.deepEqual(ids(uiViewToQuery({ text: "policy=db-allow identity=1003" })), ["f1", "f2", "f3"]);
  // a negative term hides
  assert.deepEqual(ids(uiViewToQuery({ namespaces: ["payments"], text: "!to:pod=kube-system/ !label=app=db" })), ["f2", "f3"]);
  assert.deepEqual(ids(uiViewToQuery({ namespaces: ["payments"], text: "from:label=app=api" })), ["f3"]);
  assert.deepEqual(ids(fromSearchParams("namespace=shop&q=" + encodeURIComponent("to:label=app=web"))), ["f3"]);
});

test("time arguments: Go durations (us, ns, .5h), out-of-range dates refused, service map takes the same forms", () => {
  const now = Date.parse("2024-05-01T10:00:00Z");
  assert.equal(parseTimeArg(".5h", "since", now), now - 1_800_000);
  assert.equal(parseTimeArg("1h30m", "since", now), now - 5_400_000);
  assert.equal(parseTimeArg("500us", "since", now), now - 0.5);
  assert.equal(parseTimeArg("2024-05-01T09:00:00Z", "since", now), Date.parse("2024-05-01T09:00:00Z"));
  for (const bad of ["2024-13-45T99:99:99Z", "2024-02-30", "2024-05-01T24:00:00Z", "5 minutes"]) {
    assert.throws(() => parseTimeArg(bad, "until", now), (e: unknown) => e instanceof FilterError && e.field === "until", bad);
  }
});

test("UI free text: identity takes reserved names, as the CLI and hubble do", () => {
  assert.deepEqual(parseUiEntry("from:identity=world"), { negative: false, direction: "from", kind: "identity", value: "world" });
  const q = uiViewToQuery({ text: "to:identity=world" });
  assert.deepEqual(q.whitelist, [{ destination_identity: [2] }]);
  assert.throws(() => parseUiEntry("identity=everyone"), /invalid identity "everyone"/);
});

test("UI free text: flow attributes build the same filter as their URL parameters", () => {
  assert.deepEqual(uiViewToQuery({ text: "http_status=5+" }).whitelist, fromSearchParams(new URLSearchParams("http_status=5%2B")).whitelist);
  assert.deepEqual(uiViewToQuery({ text: "!type=drop" }).blacklist, fromSearchParams(new URLSearchParams("type=drop")).whitelist);
  assert.deepEqual(uiViewToQuery({ text: "to:port=53" }).whitelist, [{ destination_port: ["53"] }]);
});

test("CLI: attached short values as pflag reads them (-npayments, -n=payments, -ojson)", () => {
  assert.deepEqual(expandShortFlags(["-npayments", "-n=shop", "-ojson", "-f", "--verdict", "DROPPED", "-A"]), ["-n", "payments", "-n", "shop", "-o", "json", "-f", "--verdict", "DROPPED", "-A"]);
  assert.deepEqual(parseObserveArgs(expandShortFlags(["-npayments"])).query.whitelist, parseObserveArgs(["--namespace", "payments"]).query.whitelist);
});

test("UI text typed as a comma-separated list says terms are separated by spaces", () => {
  assert.throws(() => parseUiFilter("app=frontend, verdict=DROPPED"), (e: Error) => e instanceof FilterError && /separate filter terms with spaces/.test(e.message));
  assert.throws(() => parseUiFilter("app=web,,tier=x"), (e: Error) => e instanceof FilterError && !/separate filter terms/.test(e.message));
});

test("UI free text: positive entries OR, each its own whitelist filter, as Hubble UI sends them; a negative entry excludes from all", () => {
  // f1, f2, f4 come from 10.0.1.5; f1, f3, f6 go to payments; f3 is from identity 1003
  assert.deepEqual(ids(uiViewToQuery({ text: "from:ip=10.0.1.5" })), ["f1", "f2", "f4"]);
  assert.deepEqual(ids(uiViewToQuery({ text: "from:ip=10.0.1.5 to:pod=payments/" })), ["f1", "f2", "f3", "f4", "f6"], "the union, not the intersection (f1)");
  assert.deepEqual(ids(uiViewToQuery({ text: "from:ip=10.0.1.5 from:identity=1003 tcp-flags=syn" })), ["f1", "f2", "f3", "f4"]);
  assert.deepEqual(ids(uiViewToQuery({ text: "from:ip=10.0.1.5 !to:pod=payments/" })), ["f2", "f4"]);
  // the URL's q parameter is the same text, read the same way
  assert.deepEqual(ids(fromSearchParams(new URLSearchParams({ q: "from:ip=10.0.1.5 to:pod=payments/" }))), ["f1", "f2", "f3", "f4", "f6"]);
});
