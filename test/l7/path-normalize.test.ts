// Envoy's path normalization under Cilium's http-normalize-path (on by default): the canonicalizer's
// own cases from Envoy's path_utility tests, and what it means for policy: a path rule sees the
// normalized path, an escaped slash is redirected and never forwarded, a NUL is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeRequestPath } from "../../server/datapath/l7/path-normalize";
import { makeDatapath, trace, STAR_WARS, pA2 } from "../datapath/helpers";

test("canonicalization follows Envoy's PathUtil cases", () => {
  const cases: [string, string][] = [
    ["/xyz", "/xyz"],
    ["/a/b/../c", "/a/c"],
    ["/a/b/./c", "/a/b/c"],
    ["a/b/../c", "/a/c"],
    ["/a/b/../../../../c", "/c"],
    ["/a/..\\c", "/c"],
    ["/%c0%af", "/%c0%af"],
    ["/a/b/%2E%2E/c", "/a/c"],
    ["/a/b/%2e%2e/c", "/a/c"],
    ["/a/b/%2E./c", "/a/c"],
    ["/a/b/%2E/c", "/a/b/c"],
    ["..", "/"],
    ["/../a/b", "/a/b"],
    ["/./a/b", "/a/b"],
    ["/A/B/C", "/A/B/C"],
    // unreserved characters are unescaped, characters a path may not hold are escaped
    ["/%41dmin", "/Admin"],
    ["/a b", "/a%20b"],
    // dots inside names are not segments
    ["/a/.b/..c/c..", "/a/.b/..c/c.."],
    // merge_slashes, outside the query only
    ["//admin", "/admin"],
    ["/a//b?a=///c", "/a/b?a=///c"],
    ["/x?y=../z", "/x?y=../z"],
  ];
  for (const [input, want] of cases) assert.deepEqual(normalizeRequestPath(input), { path: want, action: "continue" }, input);
});

test("escaped slashes are unescaped and redirected; a NUL is refused", () => {
  assert.deepEqual(normalizeRequestPath("/a/%2F%2f/c"), { path: "/a/c", action: "redirect" });
  assert.deepEqual(normalizeRequestPath("/public%2F..%2Fadmin?q=1"), { path: "/admin?q=1", action: "redirect" });
  assert.deepEqual(normalizeRequestPath("/x?next=%2F"), { path: "/x?next=%2F", action: "continue" }, "the query is not touched");
  for (const p of ["/xyz/.%00../abc", "/xyz/%00.%00./abc", "/xyz/AAAAA%%0000/abc"]) assert.equal(normalizeRequestPath(p).action, "reject", p);
});

const landing = (path: string) => ({ from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" as const, http: { method: "POST", path } });

test("path rules see the normalized path: dot segments cannot slip past a prefix rule", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2("/v1/.*") });
  for (const path of ["/v1/../exhaust-port", "/v1/%2e%2e/exhaust-port", "/v1/./../exhaust-port"]) {
    const r = trace(dp, landing(path));
    assert.equal(r.verdict, "DROPPED", path);
    assert.equal(r.response?.http_code, 403, path);
    const req = r.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow;
    assert.equal(req.l7?.http?.url, "http://deathstar/exhaust-port", `the record shows the path the rules saw (${path})`);
  }
  // and a path made clean by normalization is allowed
  for (const path of ["//v1//request-landing", "/v1/x/../request-landing", "/%76%31/request-landing"]) {
    const r = trace(dp, landing(path));
    assert.equal(r.verdict, "FORWARDED", path);
    assert.equal(r.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.l7?.http?.url, "http://deathstar/v1/request-landing", path);
  }
});

test("an escaped slash gets Envoy's 307 and is not forwarded, even where the rule would allow it", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2("/v1/.*") });
  const r = trace(dp, landing("/v1%2Frequest-landing"));
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.response?.http_code, 307);
  const res = r.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  assert.deepEqual(res.l7?.http?.headers?.find((h) => h.key === "Location"), { key: "Location", value: "/v1/request-landing" });
  assert.match(r.explanation.join("\n"), /escaped slash.*http-normalize-path/);
  // a NUL cannot be normalized: 400
  const bad = trace(dp, landing("/v1/%00"));
  assert.equal(bad.verdict, "DROPPED");
  assert.equal(bad.response?.http_code, 400);
});
