// Cilium's DNS name selectors (pkg/fqdn/matchpattern): names compared lower-case in FQDN form;
// matchPattern `*` = zero or more DNS characters within one label, a leading `**.` = one or more
// whole labels, a pattern of only stars matches every name.
import { toFqdn } from "../dns-constants";
import type { DnsRule } from "../proxy-types";
import { compileFullRegex, type FullMatcher } from "./regex";

const LABEL_CHARS = "[-a-zA-Z0-9_]";
const MATCH_ALL = `(?:${LABEL_CHARS}+[.])+|[.]`;

export const DNS_NAME_CHARS = /^[-a-zA-Z0-9._]+$/;
export const DNS_PATTERN_CHARS = /^[-a-zA-Z0-9._*]+$/;

/** The (unanchored; compileFullRegex anchors it) regex for a matchPattern. */
export function matchPatternRegex(pattern: string): string {
  const p = pattern.trim().toLowerCase();
  if (/^\*+\.?$/.test(p)) return MATCH_ALL;
  let fqdn = toFqdn(p);
  let prefix = "";
  const multi = /^\*\*+\./.exec(fqdn);
  if (multi) {
    prefix = `(?:${LABEL_CHARS}+[.])+`;
    fqdn = fqdn.slice(multi[0].length);
  }
  const body = fqdn.replace(/\*+/g, "*").replace(/\./g, "[.]").replace(/\*/g, `${LABEL_CHARS}*`);
  return prefix + body;
}

const patternCache = new Map<string, FullMatcher>();

function isLabelChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || (c >= 65 && c <= 90);
}

/** Glob match of one label: `*` = any run of DNS label characters (two-pointer, linear). */
function labelMatches(pat: string, s: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (p < pat.length && pat.charCodeAt(p) !== 42 && pat[p] === s[i]) {
      p++;
      i++;
    } else if (p < pat.length && pat.charCodeAt(p) === 42) {
      star = p++;
      mark = i;
    } else if (star >= 0 && isLabelChar(s.charCodeAt(mark))) {
      p = star + 1;
      i = ++mark;
    } else return false;
  }
  while (p < pat.length && pat.charCodeAt(p) === 42) p++;
  return p === pat.length;
}

/**
 * The same language as matchPatternRegex, matched label by label without a regex engine: the
 * proxy checks every query name, and labels cannot contain dots, so globs never cross labels.
 */
export function compileMatchPattern(pattern: string): FullMatcher {
  let m = patternCache.get(pattern);
  if (!m) {
    const p = pattern.trim().toLowerCase();
    if (/^\*+\.?$/.test(p)) {
      const all = compileFullRegex(MATCH_ALL);
      m = { pattern, test: (s) => all.test(s) };
    } else {
      let fqdn = toFqdn(p);
      const multi = /^\*\*+\./.exec(fqdn);
      if (multi) fqdn = fqdn.slice(multi[0].length);
      const labels = fqdn.slice(0, -1).split(".").map((l) => l.replace(/\*+/g, "*"));
      const anyPrefix = multi !== null;
      m = {
        pattern,
        test: (name) => {
          if (!name.endsWith(".")) return false;
          const parts = name.slice(0, -1).split(".");
          const extra = parts.length - labels.length;
          if (anyPrefix ? extra < 1 : extra !== 0) return false;
          for (let i = 0; i < extra; i++) {
            const l = parts[i];
            if (l.length === 0) return false;
            for (let j = 0; j < l.length; j++) if (!isLabelChar(l.charCodeAt(j))) return false;
          }
          for (let i = 0; i < labels.length; i++) if (!labelMatches(labels[i], parts[extra + i])) return false;
          return true;
        },
      };
    }
    patternCache.set(pattern, m);
  }
  return m;
}

/** `qname` must already be in FQDN form, lower-case (as the DNS parser returns it). */
export function dnsRuleMatches(rule: DnsRule, qname: string): boolean {
  if (rule.matchName !== undefined && rule.matchName !== "") return toFqdn(rule.matchName) === qname;
  if (rule.matchPattern !== undefined && rule.matchPattern !== "") return compileMatchPattern(rule.matchPattern).test(qname);
  return false;
}
