// The service map tells a blocked path from a partly refused one: the source's own egress verdict
// (ALLOWED) is not delivery, so api → ledger-db, which ledger-db's ingress policy refuses, has nothing
// delivered while frontend → api has; api's L7 endpoints that its rules refuse are marked denied; the
// SQL grouping and the in-memory one (residual filters) agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceMap } from "../../lib/api-types";
import { edgeTone } from "../../lib/ui/map-model";
import { startTestServer, getJson, waitFor } from "../helpers/server";

test("service map: delivered counts separate a blocked path from a mixed one, refused L7 endpoints are marked, with and without residual filters", async () => {
  const s = await startTestServer({ rate: 400 });
  try {
    const since = new Date(Date.now() - 1000).toISOString();
    await waitFor("both edges", async () => {
      s.ctx.store.flush();
      const m = await getJson<ServiceMap>(`${s.url}/api/service-map?since=${since}`);
      const ids = m.body.edges.map((e) => e.id);
      const api = m.body.nodes.find((n) => n.id === "production/api");
      return ids.includes("production/api->payments/ledger-db") && ids.includes("production/frontend->production/api") && api?.l7.some((l) => /^DELETE .*\/api\/orders\/17$/.test(l)) && api.l7.some((l) => /^GET .*\/api\/products$/.test(l)) ? true : undefined;
    });
    const until = new Date().toISOString();
    s.ctx.store.flush();
    const window = `since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
    const sql = (await getJson<ServiceMap>(`${s.url}/api/service-map?${window}`)).body;
    // a filter SQL cannot settle (the IP version: no column holds it): grouped in memory from the records
    const residual = (await getJson<ServiceMap>(`${s.url}/api/service-map?${window}&not.ip_version=IPv6`)).body;
    for (const m of [sql, residual]) {
      const blocked = m.edges.find((e) => e.id === "production/api->payments/ledger-db")!;
      assert.ok(blocked.verdicts.FORWARDED && blocked.verdicts.DROPPED, JSON.stringify(blocked.verdicts));
      assert.equal(blocked.delivered, 0, "ledger-db refused every connection: only api's egress verdicts were forwarded");
      assert.equal(edgeTone(blocked), "dropped");
      const open = m.edges.find((e) => e.id === "production/frontend->production/api")!;
      assert.ok(open.delivered! > 0);
      // api's L7 endpoints: the ones its L7 rules refuse are marked, the ones they allow are not
      const api = m.nodes.find((n) => n.id === "production/api")!;
      const del = api.l7.find((l) => /^DELETE .*\/api\/orders\/17$/.test(l))!;
      assert.ok(api.l7_denied?.includes(del), `${del} is marked denied: ${JSON.stringify(api.l7_denied)}`);
      const allowed = api.l7.filter((x) => /^GET .*\/api\/products$/.test(x));
      assert.equal(allowed.length, 1);
      assert.ok(!api.l7_denied?.includes(allowed[0]!), `${allowed[0]} is not denied`);
    }
    const pick = (m: ServiceMap) => m.edges.map((e) => [e.id, e.delivered, e.flows]).sort();
    assert.deepEqual(pick(residual), pick(sql));
  } finally {
    await s.close();
  }
});
