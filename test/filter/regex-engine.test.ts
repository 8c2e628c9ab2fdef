// Filter regexes from clients: patterns that backtrack without end are refused, and on the server the
// accepted ones run in RE2 (linear time), so adjacent quantifiers cannot stall the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import RE2 from "re2";
import "../../server/filter-regex-engine";
import { compileSafeRegExp } from "../../lib/filter/regex";
import { FilterError } from "../../lib/filter/types";
import { compileQuery, requestPath } from "../../lib/filter/match";

test("a quantified group repeated {N} times is refused like (x*)+, naming the field", () => {
  for (const p of ["(.*){20}!", "(a+){2}", "(a*b?){3,}"]) {
    assert.throws(() => compileSafeRegExp(p, "http_url"), (e: unknown) => e instanceof FilterError && e.field === "http_url" && /nested quantifiers/.test(e.message), p);
  }
  assert.ok(compileSafeRegExp("(ab){2}", "http_url").test("xabab"));
  assert.ok(compileSafeRegExp("(a+)?b", "http_url").test("aab"));
});

test("the server matches with RE2: flags and group syntax carry over, and adjacent quantifiers stay linear", () => {
  const adjacent = compileSafeRegExp(".*.*.*.*.*!", "http_url");
  assert.ok(adjacent instanceof RE2, "RE2 is the server's engine");
  assert.equal(adjacent.test("http://x/" + "a".repeat(100_000)), false);
  assert.equal(adjacent.test("http://x/a!"), true);
  assert.ok(compileSafeRegExp("(?i)^/API/", "http_path").test("/api/v1"));
  assert.ok(compileSafeRegExp("(?s)a.b", "http_path").test("a\nb"));
  assert.ok(compileSafeRegExp("(?P<v>v[0-9]+)/orders", "http_path").test("/api/v2/orders"));
  assert.ok(compileSafeRegExp("^api\\.github\\.com\\.?$", "dns_query").test("api.github.com."));
});

test("http_path matches the request path as Go's ParseRequestURI gives it: decoded, dot segments kept", () => {
  assert.equal(requestPath("http://h/api/../admin/users"), "/api/../admin/users");
  assert.equal(requestPath("http://h/caf%C3%A9/x%2Fy?q=1#f"), "/café/x/y");
  assert.equal(requestPath("http://h?x=1"), "");
  assert.equal(requestPath("http://h/%E0"), undefined, "a malformed escape matches nothing");
  const q = (path: string) => compileQuery({ whitelist: [{ http_path: [path] }], blacklist: [] });
  const flow = (url: string) => ({ l7: { type: "REQUEST" as const, http: { method: "GET", url } } });
  assert.equal(q("^/admin")(flow("http://h/api/../admin/users")), false);
  assert.equal(q("x/y$")(flow("http://h/caf%C3%A9/x%2Fy")), true);
});
