// Hubble's glob-like patterns for node names and FQDNs, turned into anchored RegExps. `*` matches within
// the DNS character set, so these never backtrack badly.
import { FilterError } from "./types";

const FQDN_CHARS = "[-0-9_a-z]+(?:\\.[-0-9_a-z]+)*";

function fqdnPatternSource(pattern: string, field: string): string {
  let p = pattern.trim().toLowerCase();
  if (p.endsWith(".")) p = p.slice(0, -1);
  if (p === "") throw new FilterError(field, "empty pattern");
  if (!/^[-a-z0-9_.*]+$/.test(p)) {
    throw new FilterError(field, `only letters, digits, "-", "_", "." and "*" are allowed in ${JSON.stringify(pattern)}`);
  }
  return p.replace(/\./g, "\\.").replace(/\*/g, "[-.0-9_a-z]*");
}

/** FQDN filter (`*.cilium.io`): case-insensitive, one trailing dot ignored on both sides. */
export function compileFqdnPatterns(patterns: string[], field: string): (names: readonly string[] | undefined) => boolean {
  const re = new RegExp(`^(?:${patterns.map((p) => fqdnPatternSource(p, field)).join("|")})$`);
  return (names) => {
    if (!names) return false;
    for (const n of names) {
      const canon = (n.endsWith(".") ? n.slice(0, -1) : n).toLowerCase();
      if (re.test(canon)) return true;
    }
    return false;
  };
}

/**
 * Node name patterns: `cluster/node` where each side is an FQDN pattern and an empty side matches all;
 * without a slash the pattern is the node part in any cluster. Flow node names without a cluster are
 * taken to be in cluster "default", as Hubble does.
 */
export function compileNodeNamePatterns(patterns: string[], field: string): (nodeName: string | undefined) => boolean {
  const alts = patterns.map((pattern) => {
    if (typeof pattern !== "string" || pattern === "") throw new FilterError(field, "empty node name pattern");
    const parts = pattern.split("/");
    if (parts.length > 2) throw new FilterError(field, `too many slashes in pattern ${JSON.stringify(pattern)}`);
    const [cluster, node] = parts.length === 2 ? parts : ["", parts[0]];
    const c = cluster === "" ? FQDN_CHARS : fqdnPatternSource(cluster, field);
    const n = node === "" ? FQDN_CHARS : fqdnPatternSource(node, field);
    return `${c}/${n}`;
  });
  const re = new RegExp(`^(?:${alts.join("|")})$`);
  return (nodeName) => {
    if (!nodeName) return false;
    const full = nodeName.includes("/") ? nodeName : `default/${nodeName}`;
    return re.test(full.toLowerCase());
  };
}
