// One endpoint, one port, one L7 parser. Cilium merges every rule selecting an endpoint into one L4
// filter per port and protocol and direction, whatever the peers, and that filter has one parser:
// HTTP rules from one policy and Kafka (or DNS) rules from another on the same port cannot be merged
// (pkg/policy/l4.go mergePortProto: "cannot merge conflicting L7 parsers (kafka/http)"), so the
// endpoint's policy cannot be computed and the endpoint keeps the policy it had before. Modelled here
// as: policies are merged in load order, and one whose L7 rules clash with those merged before it
// (or with its own) is left out of this endpoint's maps, and said so.
import type { Cluster, Pod } from "../cluster/model";
import type { PolicyRecord, Rule } from "./policy/types";
import type { Direction } from "./compiler";
import { resolvePorts } from "./compiler";
import { PROTO_NAMES } from "./policy-map";

export interface L7ParserConflict {
  /** the policy left out of the endpoint's maps */
  policy: PolicyRecord;
  /** the policy whose rules of another parser it met on the port (itself when its own rules clash) */
  with: PolicyRecord;
  dir: Direction;
  /** "80/TCP", or "8000-8080/TCP" */
  port: string;
  /** the left-out policy's parser, then the one already there */
  parsers: [string, string];
  /** the field paths of the two port rules */
  paths: [string, string];
}

interface Claim {
  parser: string;
  policy: PolicyRecord;
  path: string;
}

/** L7 ports each policy's rules claim on this endpoint, as "dir|proto|lo|hi" → parser */
function claimsOf(rules: Rule[], ep: Pod, cluster: Cluster): Map<PolicyRecord, Map<string, Claim[]>> {
  const out = new Map<PolicyRecord, Map<string, Claim[]>>();
  for (const rule of rules) {
    for (const dir of ["ingress", "egress"] as const) {
      for (const pr of rule[dir]) {
        if (pr.deny || pr.empty || !pr.toPorts) continue;
        for (const portRule of pr.toPorts) {
          if (!portRule.l7) continue;
          for (const sel of portRule.ports) {
            for (const range of resolvePorts(sel, dir, ep, cluster)) {
              let byPort = out.get(rule.policy);
              if (!byPort) out.set(rule.policy, (byPort = new Map()));
              const key = `${dir}|${range.proto}|${range.lo}|${range.hi}`;
              const list = byPort.get(key) ?? [];
              list.push({ parser: portRule.l7.kind, policy: rule.policy, path: portRule.l7.path });
              byPort.set(key, list);
            }
          }
        }
      }
    }
  }
  return out;
}

function portText(key: string): { dir: Direction; port: string } {
  const [dir, proto, lo, hi] = key.split("|");
  return { dir: dir as Direction, port: `${lo === hi ? lo : `${lo}-${hi}`}/${PROTO_NAMES[Number(proto)] ?? proto}` };
}

/**
 * The policies (in `rules` order) that can be merged into one endpoint's maps, and a record for each
 * one that cannot. `rules` are the rules selecting the endpoint, in policy load order.
 */
export function mergeableRules(rules: Rule[], ep: Pod, cluster: Cluster): { rules: Rule[]; conflicts: L7ParserConflict[] } {
  if (!rules.some((r) => r.ingress.some((p) => p.toPorts?.some((t) => t.l7)) || r.egress.some((p) => p.toPorts?.some((t) => t.l7)))) return { rules, conflicts: [] };
  const claims = claimsOf(rules, ep, cluster);
  const merged = new Map<string, Claim>();
  const conflicts: L7ParserConflict[] = [];
  const left = new Set<PolicyRecord>();
  for (const [policy, byPort] of claims) {
    let clash: L7ParserConflict | undefined;
    for (const [key, list] of byPort) {
      const first = merged.get(key) ?? list[0]!;
      // this policy's claim of another parser than the one merged first (its own first, if none was)
      const mine = list.find((c) => c.parser !== first.parser);
      if (mine) {
        clash = { policy, with: first.policy, ...portText(key), parsers: [mine.parser, first.parser], paths: [mine.path, first.path] };
        break;
      }
    }
    if (clash) {
      conflicts.push(clash);
      left.add(policy);
      continue;
    }
    for (const [key, list] of byPort) if (!merged.has(key)) merged.set(key, list[0]!);
  }
  return { rules: left.size ? rules.filter((r) => !left.has(r.policy)) : rules, conflicts };
}

/** One line for a conflict, as lint, trace and the API report it. */
export function conflictText(c: L7ParserConflict, endpoint: string): string {
  const name = (p: PolicyRecord) => `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
  const where = c.with === c.policy ? `its own ${c.parsers[1]} rules (${c.paths[1]})` : `the ${c.parsers[1]} rules of ${name(c.with)} (${c.paths[1]})`;
  return `${name(c.policy)} is left out of ${endpoint}'s policy: its ${c.parsers[0]} rules on ${c.dir} port ${c.port} meet ${where}, and Cilium cannot merge two L7 parsers on one port ("cannot merge conflicting L7 parsers (${c.parsers[0]}/${c.parsers[1]})"); the endpoint keeps the policy it had without it`;
}
