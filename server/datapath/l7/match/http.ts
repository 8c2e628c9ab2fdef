// Cilium PortRuleHTTP against a parsed request: method/path/host as full regexes (Envoy
// safe_regex on :method, :path, :authority), `headers` ("Name" = present, "Name: value" = exact)
// and `headerMatches` (mismatch action unset = must match; LOG/ADD/DELETE/REPLACE = the rule
// still matches and Envoy acts on the header instead). All fields of one rule are AND-ed.
import { indexHeaders, type HttpRequestView } from "../http-message";
import type { HeaderMatch, HttpRule } from "../proxy-types";
import { compileFullRegex, type FullMatcher } from "./regex";

interface HeaderCheck {
  name: string;
  value?: string;
}

/** a headerMatches entry: checked after the rule's other fields match, and acted on when it does not */
interface HeaderAction extends HeaderCheck {
  mismatch?: HeaderMatch["mismatch"];
}

interface CompiledHttpRule {
  method?: FullMatcher;
  path?: FullMatcher;
  host?: FullMatcher;
  headers: HeaderCheck[];
  headerMatches: HeaderAction[];
  /** a secret-only headerMatches value that cannot be resolved: Cilium gives the rule a matcher that never passes */
  never: boolean;
}

const compiled = new WeakMap<HttpRule, CompiledHttpRule>();

/** "Name" or "Name: value"; Cilium splits on the first space and trims the colon. */
export function parseHeaderRule(h: string): { name: string; value?: string } {
  const s = h.trim();
  const sp = s.indexOf(" ");
  if (sp < 0) return { name: s.replace(/:$/, "") };
  return { name: s.slice(0, sp).replace(/:$/, ""), value: s.slice(sp + 1).trim() };
}

export function compileHttpRule(rule: HttpRule): CompiledHttpRule {
  let c = compiled.get(rule);
  if (!c) {
    // Secrets live in the cluster, not in the scenario: a secret-only match cannot be resolved.
    const never = (rule.headerMatches ?? []).some((m) => m.secret !== undefined && m.value === undefined);
    c = {
      method: rule.method ? compileFullRegex(rule.method) : undefined,
      path: rule.path ? compileFullRegex(rule.path) : undefined,
      host: rule.host ? compileFullRegex(rule.host) : undefined,
      headers: (rule.headers ?? []).map((h) => {
        const { name, value } = parseHeaderRule(h);
        return { name: name.toLowerCase(), value };
      }),
      headerMatches: (rule.headerMatches ?? []).map((m) => ({ name: m.name.toLowerCase(), value: m.value, mismatch: m.mismatch })),
      never,
    };
    compiled.set(rule, c);
  }
  return c;
}

function headerPresent(check: HeaderCheck, req: HttpRequestView): boolean {
  const values = req.lower.get(check.name);
  if (!values) return false;
  if (check.value === undefined) return true;
  // Envoy sees repeated headers joined by ","
  return values.includes(check.value) || (values.length > 1 && values.join(",") === check.value);
}

/** method, path, host and `headers`: what Envoy's route-style header matchers check */
function baseMatches(c: CompiledHttpRule, req: HttpRequestView): boolean {
  if (c.never) return false;
  if (c.method && !c.method.test(req.method)) return false;
  if (c.path && !c.path.test(req.path)) return false;
  if (c.host && !c.host.test(req.authority)) return false;
  for (const h of c.headers) if (!headerPresent(h, req)) return false;
  return true;
}

/** Whether the rule admits the request, leaving the request as it is (mismatch actions set = lenient). */
export function httpRuleMatches(rule: HttpRule, req: HttpRequestView): boolean {
  const c = compileHttpRule(rule);
  if (!baseMatches(c, req)) return false;
  for (const h of c.headerMatches) if (h.mismatch === undefined && !headerPresent(h, req)) return false;
  return true;
}

export function hasHeaderActions(rule: HttpRule): boolean {
  return (rule.headerMatches?.length ?? 0) > 0;
}

function setHeaders(req: HttpRequestView, headers: [string, string][]): void {
  req.headers = headers;
  req.lower = indexHeaders(headers);
}

/**
 * The rule against the request as cilium.l7policy's HttpNetworkPolicyRule::HeaderMatches runs it once
 * the other fields matched: each headerMatches entry that does not match fails the rule (no action),
 * is only logged (LOG), or changes the request before it is forwarded and logged: ADD appends the
 * value, REPLACE sets it, DELETE removes a header present with another value. Returns whether the rule
 * admits the request; the changes are made either way, and later rules see them.
 */
export function httpRuleApply(rule: HttpRule, req: HttpRequestView): boolean {
  const c = compileHttpRule(rule);
  if (!baseMatches(c, req)) return false;
  let accepted = true;
  for (const h of c.headerMatches) {
    if (headerPresent(h, req)) continue;
    const value = h.value ?? "";
    switch (h.mismatch) {
      case undefined:
        accepted = false;
        break;
      case "LOG":
        break;
      case "ADD":
        setHeaders(req, [...req.headers, [h.name, value]]);
        break;
      case "REPLACE":
        setHeaders(req, [...req.headers.filter(([k]) => k.toLowerCase() !== h.name), [h.name, value]]);
        break;
      case "DELETE":
        // a presence-only match that failed has nothing to remove
        if (h.value !== undefined && req.lower.has(h.name)) setHeaders(req, req.headers.filter(([k]) => k.toLowerCase() !== h.name));
        break;
    }
  }
  return accepted;
}
