import { test } from "node:test";
import assert from "node:assert/strict";
import { visible, visibleDeep } from "../../lib/ui/visible-text";
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

test("table cells show a spoofed namespace as an escape", () => {
  const f = stored(1, { source: { namespace: "ns\u202Eexe.txt", pod_name: "client-0" } });
  const src = COLUMNS.find((c) => c.id === "source")!;
  assert.equal(src.text(f), "ns<U+202E>exe.txt/client-0");
});
