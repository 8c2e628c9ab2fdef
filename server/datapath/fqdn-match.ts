// toFQDNs / DNS-rule name matching (pkg/fqdn/matchpattern): names compare lower-case in FQDN form.

const ALLOWED = /^[-a-zA-Z0-9_.*]+$/;
const LABEL = "[-a-zA-Z0-9_]";

export function toFqdn(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n : `${n}.`;
}

/** returns an error text, or undefined when the name/pattern is acceptable */
export function validateFqdn(s: string, pattern: boolean): string | undefined {
  if (s.length === 0) return "must not be empty";
  if (s.length > 255) return `is longer than 255 characters`;
  const chars = pattern ? ALLOWED : /^[-a-zA-Z0-9_.]+$/;
  if (!chars.test(s)) return `"${s}" contains characters outside a-z A-Z 0-9 . - _${pattern ? " *" : ""}`;
  return undefined;
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

export function patternToRegExp(pattern: string): RegExp {
  const p = toFqdn(pattern);
  // Only stars (and the FQDN dot) match everything, as Cilium's isWildcard: "*.*" is two labels, not all names.
  if (/^\*+\.$/.test(p)) return new RegExp(`^((${LABEL}+[.])+|[.])$`);
  let prefix = "";
  let rest = p;
  const lead = /^\*{2,}\./.exec(p);
  if (lead) {
    prefix = `(${LABEL}+[.])+`;
    rest = p.slice(lead[0].length);
  }
  const body = rest
    .replace(/\*+/g, "*")
    .split("*")
    .map(escape)
    .join(`${LABEL}*`);
  return new RegExp(`^${prefix}${body}$`);
}

export function nameToRegExp(name: string): RegExp {
  return new RegExp(`^${escape(toFqdn(name))}$`);
}

export function fqdnMatches(re: RegExp, name: string): boolean {
  return re.test(toFqdn(name));
}
