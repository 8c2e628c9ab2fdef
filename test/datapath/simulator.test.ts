// The live simulator: rates are honoured, and a tick that runs out of time skips (and counts) the rest
// instead of blocking the event loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowBus } from "../../server/bus";
import { Datapath } from "../../server/datapath";
import { Simulator } from "../../server/traffic/simulator";

test("the simulator sends the scenario's rate through the datapath onto the bus", () => {
  const dp = Datapath.fromScenarioFile("server/scenarios/star-wars/scenario.yaml");
  const bus = new FlowBus(0);
  let flows = 0;
  bus.subscribe((b) => (flows += b.length));
  const sim = new Simulator(dp, bus, { rate: 10 });
  // 10 requests/s for 1 s, in 20 ms steps
  let sent = 0;
  for (let t = 0; t < 50; t++) sent += sim.step(20);
  assert.ok(sent >= 9 && sent <= 11, `about 10 requests in one second, got ${sent}`);
  assert.ok(flows > sent, "each request yields several flow records");
  assert.equal(sim.skippedRequests, 0);
});

test("a tick with no time left skips the due requests and counts them", () => {
  const dp = Datapath.fromScenarioFile("server/scenarios/star-wars/scenario.yaml");
  const sim = new Simulator(dp, new FlowBus(0), { rate: 1000 });
  const sent = sim.step(500, Date.now(), -1);
  assert.equal(sent, 0);
  assert.ok(sim.skippedRequests >= 400, `skipped ${sim.skippedRequests}`);
});
