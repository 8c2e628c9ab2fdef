// The map's hide toggles narrow the table, the stream and exports too: they become deny terms of the
// API query. Checked against the default scenario's real flows, not hand-made ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Datapath } from "../../server/datapath";
import { DEFAULT_SCENARIO } from "../../server/config";
import { compileQuery, fromSearchParams } from "../../lib/filter";
import { filterParams } from "../../lib/ui/api-query";
import { defaultView, DEFAULT_HIDE, type HiddenPeers } from "../../lib/ui/view-state";
import type { Endpoint, Flow } from "../../lib/flow/types";

function scenarioFlows(): Flow[] {
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const flows: Flow[] = [];
  // twice: the first pass fills the FQDN cache, so the second reaches outside names too
  for (let pass = 0; pass < 2; pass++) for (const e of dp.trafficEntries()) flows.push(...dp.process(e, new Date(), { explain: false }).flows.map((x) => x.flow));
  // The default scenario has no node traffic: kubelet probes from the host and a peer node's health
  // checks, as Hubble records them.
  const base = flows[0]!;
  flows.push({ ...base, source: { ID: 0, identity: 1, labels: ["reserved:host"] } });
  flows.push({ ...base, destination: { ID: 0, identity: 6, labels: ["reserved:remote-node"] } });
  return flows;
}

const isHost = (ep?: Endpoint) => ep?.identity === 1;
const isRemoteNode = (ep?: Endpoint) => ep?.identity === 6;
const isOutside = (ep?: Endpoint) => !!ep?.labels?.some((l) => /^reserved:world(-ipv[46])?$/.test(l));
const isKubeDns = (ep?: Endpoint) => !!ep?.labels?.some((l) => /(^|:)k8s-app=kube-dns$/.test(l));

test("each hide toggle leaves out exactly the flows with that peer on either side", () => {
  const flows = scenarioFlows();
  const cases: [keyof HiddenPeers, (ep?: Endpoint) => boolean][] = [["host", isHost], ["remoteNode", isRemoteNode], ["world", isOutside], ["kubeDns", isKubeDns]];
  for (const [key, touches] of cases) {
    const keep = compileQuery(fromSearchParams(filterParams({ ...defaultView(), hide: { ...DEFAULT_HIDE, [key]: true } }, 0)));
    const hidden = flows.filter((f) => touches(f.source) || touches(f.destination));
    assert.ok(hidden.length > 0, `there are flows with a ${key} peer`);
    for (const f of flows) assert.equal(keep(f), !hidden.includes(f), `${key}: ${f.Summary} ${f.source?.labels} → ${f.destination?.labels}`);
  }
});

test("hide toggles combine with the user's own filters: both narrow", () => {
  const flows = scenarioFlows();
  const v = { ...defaultView(), verdict: "FORWARDED" as const, hide: { ...DEFAULT_HIDE, world: true, kubeDns: true } };
  const keep = compileQuery(fromSearchParams(filterParams(v, 0)));
  const kept = flows.filter(keep);
  assert.ok(kept.length > 0);
  for (const f of kept) {
    assert.equal(f.verdict, "FORWARDED");
    for (const ep of [f.source, f.destination]) assert.ok(!isOutside(ep) && !isKubeDns(ep));
  }
  const q = filterParams(v, 0).get("q")!;
  assert.match(q, /!label=reserved:world/);
  assert.equal(filterParams(defaultView(), 0).get("q"), null, "no toggle, no terms");
});
