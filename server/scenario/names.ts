// What Kubernetes, Cilium and the protocols themselves accept as names and values. Each check returns
// the problem in words (for "PATH: MESSAGE") or undefined when the value is fine.
import { describe } from "./check";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** a label name, or a label value: alphanumerics, "-", "_", "." inside (k8s.io/apimachinery IsQualifiedName) */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** RFC 1123 subdomain (Kubernetes object names such as ServiceAccounts, label key prefixes) */
export function dnsSubdomainProblem(s: string, what = "DNS subdomain"): string | undefined {
  if (s === "") return "must not be empty";
  if (s.length > 253) return `${describe(s)} is ${s.length} characters long; a ${what} has at most 253`;
  if (!DNS1123_SUBDOMAIN.test(s)) return `${describe(s)} is not a valid ${what} (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)`;
  return undefined;
}

/** RFC 1123 label (namespace names) */
export function dnsLabelProblem(s: string, what = "name"): string | undefined {
  if (s === "") return "must not be empty";
  if (s.length > 63) return `${describe(s)} is ${s.length} characters long; a ${what} has at most 63`;
  if (!DNS1123_LABEL.test(s)) return `${describe(s)} is not a valid ${what} (lower-case letters, digits and "-", starting and ending with a letter or digit)`;
  return undefined;
}

/** a label key: [prefix/]name, prefix a DNS subdomain ≤ 253, name ≤ 63 (IsQualifiedName) */
export function labelKeyProblem(k: string): string | undefined {
  const slash = k.indexOf("/");
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  const name = slash < 0 ? k : k.slice(slash + 1);
  const bad = `${describe(k)} is not a valid label key`;
  if (prefix !== undefined) {
    if (prefix === "") return `${bad}: the prefix before "/" is empty`;
    if (prefix.length > 253) return `${bad}: its prefix is ${prefix.length} characters long (at most 253)`;
    if (!DNS1123_SUBDOMAIN.test(prefix)) return `${bad}: prefix ${describe(prefix)} is not a DNS subdomain (lower-case letters, digits, "-" and ".")`;
  }
  if (name === "") return `${bad}: the name part is empty`;
  if (name.length > 63) return `${bad}: its name part is ${name.length} characters long (at most 63)`;
  if (!QUALIFIED_NAME.test(name)) return `${bad} (a name of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, with an optional DNS-subdomain prefix and "/")`;
  return undefined;
}

/** a label value: empty, or ≤ 63 characters of the label name alphabet */
export function labelValueProblem(v: string): string | undefined {
  if (v === "") return undefined;
  if (v.length > 63) return `${describe(v)} is not a valid label value: it is ${v.length} characters long (at most 63)`;
  if (!QUALIFIED_NAME.test(v)) return `${describe(v)} is not a valid label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit, or empty)`;
  return undefined;
}

/** Cilium's cluster name rule (pkg/clustermesh/types): ≤ 32 lower-case alphanumerics and "-", alphanumeric at both ends */
export function ciliumClusterNameProblem(s: string): string | undefined {
  if (s === "") return "must not be empty";
  if (s.length > 32) return `${describe(s)} is ${s.length} characters long; a Cilium cluster name has at most 32`;
  if (!DNS1123_LABEL.test(s)) return `${describe(s)} is not a valid Cilium cluster name (lower-case letters, digits and "-", starting and ending with a letter or digit)`;
  return undefined;
}

/** RFC 9110 token: HTTP methods and header field names */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function httpTokenProblem(s: string, what: string): string | undefined {
  if (s === "") return `must not be empty`;
  if (!TOKEN.test(s)) {
    const bad = [...s].find((ch) => !TOKEN.test(ch))!;
    return `${describe(s)} is not a valid HTTP ${what}: ${describe(bad)} is not allowed in an RFC 9110 token`;
  }
  return undefined;
}

/** a header field value: no CR, LF or NUL (RFC 9110 §5.5), and one octet per character */
export function httpFieldValueProblem(v: string): string | undefined {
  const ctl = /[\r\n\0]/.exec(v);
  if (ctl) return `${describe(v)} contains ${describe(ctl[0])}, which a header value cannot carry`;
  const wide = /[^\u0000-\u00ff]/u.exec(v);
  if (wide) return `${describe(v)} contains ${describe(wide[0])}, which is not a single octet`;
  return undefined;
}

/**
 * An origin-form request target (RFC 9112 §3.2.1): "/" then visible ASCII. Whitespace and control
 * characters end or corrupt the request line; other characters are sent percent-encoded by clients.
 */
export function httpPathProblem(p: string): string | undefined {
  if (!p.startsWith("/")) return `must start with "/", got ${describe(p)}`;
  const bad = /[^\x21-\x7e]/u.exec(p);
  if (!bad) return undefined;
  const ch = bad[0];
  if (/[\x00-\x20\x7f]/.test(ch)) return `${describe(p)} contains ${describe(ch)}: a request target cannot carry whitespace or control characters (percent-encode them)`;
  const enc = [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  return `${describe(p)} contains ${describe(ch)}, which is not ASCII: percent-encode it (${enc})`;
}

/** Host / :authority: host [":" port] as RFC 3986 spells it */
export function httpHostProblem(h: string): string | undefined {
  if (h === "") return "must not be empty (leave host out to send the service or workload name)";
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return `${describe(h)} is not a host name or address with an optional ":port"`;
  if (m[2] !== undefined && Number(m[2]) > 65535) return `${describe(h)} has port ${m[2]}, more than 65535`;
  return undefined;
}

/**
 * A DNS name as a resolver sends it: labels of 1–63 octets, at most 253 characters without the final
 * dot, no empty label except the root ("." alone, when `allowRoot`). Characters are those of host
 * names plus "_" (service records) and, in queries, "*"; an internationalised name is written in its
 * xn-- form.
 */
export function dnsNameProblem(name: string, opts: { allowRoot?: boolean; allowStar?: boolean } = {}): string | undefined {
  if (name === "") return "must not be empty";
  if (name === ".") return opts.allowRoot ? undefined : `"." is the DNS root, not a host name`;
  const chars = opts.allowStar ? /[^A-Za-z0-9_.*-]/u : /[^A-Za-z0-9_.-]/u;
  const bad = chars.exec(name);
  if (bad) return `${describe(name)} is not a DNS name: ${describe(bad[0])} is not allowed (letters, digits, "-", "_" and "."${opts.allowStar ? `, "*"` : ""}; internationalised names in their xn-- form)`;
  const body = name.endsWith(".") ? name.slice(0, -1) : name;
  if (body.length > 253) return `${describe(name)} is ${body.length} characters long; a DNS name has at most 253`;
  const labels = body.split(".");
  if (labels.some((l) => l === "")) return `${describe(name)} is not a DNS name: it has an empty label`;
  const long = labels.find((l) => l.length > 63);
  if (long) return `${describe(name)} is not a DNS name: label ${describe(long)} is ${long.length} characters long; a label has at most 63`;
  return undefined;
}

/** Kafka topic names (Kafka's Topic.validate): 1–249 of [a-zA-Z0-9._-], not "." or ".." */
export function kafkaTopicProblem(t: string): string | undefined {
  if (t === "") return "must not be empty";
  if (t === "." || t === "..") return `${describe(t)} is not a valid Kafka topic name`;
  if (t.length > 249) return `is ${t.length} characters long; a Kafka topic name has at most 249`;
  if (!/^[a-zA-Z0-9._-]+$/.test(t)) return `${describe(t)} is not a valid Kafka topic name (letters, digits, ".", "_" and "-")`;
  return undefined;
}
