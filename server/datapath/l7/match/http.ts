// Cilium PortRuleHTTP against a parsed request: method/path/host as full regexes (Envoy
// safe_regex on :method, :path, :authority), `headers` ("Name" = present, "Name: value" = exact)
// and `headerMatches` (mismatch action unset = must match; LOG/ADD/DELETE/REPLACE = the rule
// still matches and Envoy acts on the header instead). All fields of one rule are AND-ed.
import type { HttpRequestView } from "../http-message";
import type { HeaderMatch, HttpRule } from "../proxy-types";
import { compileFullRegex, type FullMatcher } from "./regex";

interface HeaderCheck {
  name: string;
  value?: string;
  /** the check always passes (mismatch action set) */
  lenient: boolean;
  /** the check can never pass (secret-only value that cannot be resolved) */
  impossible: boolean;
}

interface CompiledHttpRule {
  method?: FullMatcher;
  path?: FullMatcher;
  host?: FullMatcher;
  headers: HeaderCheck[];
}

const compiled = new WeakMap<HttpRule, CompiledHttpRule>();

/** "Name" or "Name: value"; Cilium splits on the first space and trims the colon. */
export function parseHeaderRule(h: string): { name: string; value?: string } {
  const s = h.trim();
  const sp = s.indexOf(" ");
  if (sp < 0) return { name: s.replace(/:$/, "") };
  return { name: s.slice(0, sp).replace(/:$/, ""), value: s.slice(sp + 1).trim() };
}

function headerMatchCheck(m: HeaderMatch): HeaderCheck {
  // Secrets live in the cluster, not in the scenario: a secret-only match cannot be resolved.
  const impossible = m.secret !== undefined && m.value === undefined;
  return { name: m.name.toLowerCase(), value: m.value, lenient: m.mismatch !== undefined && !impossible, impossible };
}

export function compileHttpRule(rule: HttpRule): CompiledHttpRule {
  let c = compiled.get(rule);
  if (!c) {
    c = {
      method: rule.method ? compileFullRegex(rule.method) : undefined,
      path: rule.path ? compileFullRegex(rule.path) : undefined,
      host: rule.host ? compileFullRegex(rule.host) : undefined,
      headers: [
        ...(rule.headers ?? []).map((h) => {
          const { name, value } = parseHeaderRule(h);
          return { name: name.toLowerCase(), value, lenient: false, impossible: false };
        }),
        ...(rule.headerMatches ?? []).map(headerMatchCheck),
      ],
    };
    compiled.set(rule, c);
  }
  return c;
}

function headerOk(check: HeaderCheck, req: HttpRequestView): boolean {
  if (check.impossible) return false;
  if (check.lenient) return true;
  const values = req.lower.get(check.name);
  if (!values) return false;
  if (check.value === undefined) return true;
  // Envoy sees repeated headers joined by ","
  return values.includes(check.value) || (values.length > 1 && values.join(",") === check.value);
}

export function httpRuleMatches(rule: HttpRule, req: HttpRequestView): boolean {
  const c = compileHttpRule(rule);
  if (c.method && !c.method.test(req.method)) return false;
  if (c.path && !c.path.test(req.path)) return false;
  if (c.host && !c.host.test(req.authority)) return false;
  for (const h of c.headers) if (!headerOk(h, req)) return false;
  return true;
}
