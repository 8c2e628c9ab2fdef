// Names read from scenario and policy YAML reach every flow record. A file with one character beyond
// Latin-1 anywhere (an arrow in a comment) is a two-byte string in V8, and so is every name sliced out
// of it, and every record built with them: twice the memory, and slower to hand to the writer thread.
// The parsed values are made one-byte where they fit; their text is unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serialize } from "node:v8";
import { parseAllYamlWithPositions } from "../../server/scenario/yaml-positions";
import { Datapath } from "../../server/datapath";
import { DEFAULT_SCENARIO } from "../../server/config";
import fs from "node:fs";

/** V8's serializer writes a one-byte string as one byte per character, a two-byte one as two */
function isOneByte(s: string): boolean {
  return serialize(s).length < s.length + 16;
}

test("strings parsed from YAML with a non-Latin-1 comment are one-byte where they fit, unchanged in text", () => {
  const text = "# frontend → api\nmetadata:\n  name: checkout-service-with-a-long-name\n  labels: {app: café, tier: 前端}\n__proto__: kept\n";
  assert.ok(!isOneByte(text.slice(20)), "the source and its slices are two-byte");
  const [doc] = parseAllYamlWithPositions(text);
  const v = doc!.value as { metadata: { name: string; labels: Record<string, string> } };
  assert.equal(v.metadata.name, "checkout-service-with-a-long-name");
  assert.ok(isOneByte(v.metadata.name));
  assert.equal(v.metadata.labels.app, "café");
  assert.ok(isOneByte(v.metadata.labels.app!), "Latin-1 beyond ASCII fits one byte too");
  assert.equal(v.metadata.labels.tier, "前端", "text beyond Latin-1 is kept as it is");
  assert.ok(Object.hasOwn(v, "__proto__"), "a __proto__ key stays a key");
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});

test("the default scenario, whose comments have arrows, makes one-byte flow records", () => {
  assert.match(fs.readFileSync(DEFAULT_SCENARIO, "utf8"), /→/);
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const flows = dp.trafficEntries().slice(0, 10).flatMap((e) => dp.process(e, new Date(), { explain: false }).flows);
  assert.ok(flows.length > 10);
  for (const f of flows) {
    assert.ok(isOneByte(f.node_name!), `node name ${f.node_name}`);
    if (f.flow.source?.pod_name) assert.ok(isOneByte(f.flow.source.pod_name), `pod ${f.flow.source.pod_name}`);
  }
});
