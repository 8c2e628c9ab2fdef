// Deterministic names and numbers: the same scenario must yield the same pod names, endpoint IDs and
// identities on every start, so flows stored yesterday still line up with today's cluster.

export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// Kubernetes' pod-template-hash alphabet (no vowels, so hashes never spell words)
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function safeHash(s: string, len: number): string {
  let out = "";
  let h = fnv1a(s);
  let round = 0;
  while (out.length < len) {
    out += ALPHABET[h % ALPHABET.length];
    h = Math.floor(h / ALPHABET.length);
    if (h < ALPHABET.length) h = fnv1a(`${s}#${++round}`);
  }
  return out;
}

/** deterministic UUID-shaped id (for policy uids) */
export function stableUuid(s: string): string {
  const hex = [0, 1, 2, 3].map((i) => fnv1a(s, 0x811c9dc5 + i * 7919).toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
