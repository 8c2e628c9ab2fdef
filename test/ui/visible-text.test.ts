import { test } from "node:test";
import assert from "node:assert/strict";
import { visible, visibleDeep, visibleName } from "../../lib/ui/visible-text";
import { COLUMNS } from "../../lib/ui/columns";
import { stored } from "./fixtures";

test("bidirectional controls are shown as escapes; other text, and unchanged objects, stay as they are", () => {
  assert.equal(visible("ns\u202Eexe.txt\u202C"), "ns<U+202E>exe.txt<U+202C>");
  assert.equal(visible("a\u2066b\u2069\u200F\u061C"), "a<U+2066>b<U+2069><U+200F><U+061C>");
  assert.equal(visible("<img src=x> café 日本"), "<img src=x> café 日本");
  const plain = { a: ["x", { b: "y" }] };
  assert.equal(visibleDeep(plain), plain, "nothing to change: the same object");
  const v = visibleDeep({ [`k\u202E`]: [`v\u202E`] });
  assert.deepEqual(v, { "k<U+202E>": ["v<U+202E>"] });
});

test("zero-width, joiner, BOM, soft hyphen, tag and filler characters are shown too: no lookalike names", () => {
  assert.equal(visible("pay\u200Bments"), "pay<U+200B>ments");
  assert.equal(visible("payments\u2060"), "payments<U+2060>");
  assert.equal(visible("\uFEFFa\u00ADb\u200C\u200D"), "<U+FEFF>a<U+00AD>b<U+200C><U+200D>");
  assert.equal(visible("x\u{E0041}y"), "x<U+E0041>y", "a tag character (outside the BMP) as one escape");
  assert.equal(visible("a\u3164b"), "a<U+3164>b");
  assert.equal(visible("line\nbreak\u0007"), "line<U+000A>break<U+0007>");
  // combining marks and letters in other scripts are what they look like
  assert.equal(visible("e\u0301 ñ Ωmega"), "e\u0301 ñ Ωmega");
});

test("table cells show a spoofed namespace as an escape", () => {
  const f = stored(1, { source: { namespace: "ns\u202Eexe.txt", pod_name: "client-0" } });
  const src = COLUMNS.find((c) => c.id === "source")!;
  assert.equal(src.text(f), "ns<U+202E>exe.txt/client-0");
});

test("names (namespaces, pods, DNS names) show any character outside ASCII as an escape: a homoglyph namespace is told apart", () => {
  assert.equal(visibleName("payments"), "payments");
  assert.equal(visibleName("p\u0430yments"), "p<U+0430>yments");
  assert.equal(visibleName("pay\u200Bments"), "pay<U+200B>ments");
  assert.equal(visibleName("caf\u00e9 \u{1F600}"), "caf<U+00E9> <U+1F600>");
  const cell = (ns: string, names?: string[]) => COLUMNS.find((c) => c.id === "destination")!.text(stored(1, { destination: { namespace: ns, pod_name: "ledger-0" }, destination_names: names }));
  assert.equal(cell("payments"), "payments/ledger-0");
  assert.equal(cell("p\u0430yments"), "p<U+0430>yments/ledger-0");
  assert.notEqual(cell("p\u0430yments"), cell("payments"));
  // a world peer named by DNS: the name the same way
  const world = stored(2, { destination: { identity: 2, labels: ["reserved:world"] }, destination_names: ["\u0430pi.github.com"] });
  assert.equal(COLUMNS.find((c) => c.id === "destination")!.text(world), "<U+0430>pi.github.com");
  // free text keeps its letters (only invisible characters are escaped there)
  assert.equal(visible("caf\u00e9"), "caf\u00e9");
});

test("the Policy and L7 columns show lookalike policy names and DNS queries as escapes", () => {
  const col = (id: string) => COLUMNS.find((c) => c.id === id)!;
  const f = stored(3, {
    verdict: "DROPPED",
    ingress_denied_by: [{ name: "allow-p\u0430yments", namespace: "shop", kind: "CiliumNetworkPolicy" }],
    Type: "L7",
    l7: { type: "REQUEST", dns: { query: "g\u043Eogle.com." } },
  });
  assert.match(col("policy").text(f), /allow-p<U\+0430>yments/);
  assert.match(col("l7").text(f), /g<U\+043E>ogle\.com\./);
});
