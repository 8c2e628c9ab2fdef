// The proxy's verdict for one parsed request against the L7 grants that apply to this peer on
// this port (§2.5: null = a rule without L7 also covers the peer, so everything is allowed).
// Allowed when any rule of any grant matches (the lists are merged, entries OR-ed); denied
// otherwise. Attribution: the grants whose rules matched, or every grant in force on a denial.
import type { Policy } from "../../../../lib/flow/types";
import type { HttpRequestView } from "../http-message";
import { TOPIC_API_KEYS } from "../kafka-api";
import type { KafkaRequest } from "../parse/kafka";
import type { L7Grant } from "../proxy-types";
import { dnsRuleMatches } from "./dns";
import { hasHeaderActions, httpRuleApply, httpRuleMatches } from "./http";
import { compileKafkaRule, kafkaRuleAdmits } from "./kafka";

export interface L7Decision {
  allowed: boolean;
  decidedBy: Policy[];
  rule?: string;
}

const ALLOW_ALL: L7Decision = Object.freeze({ allowed: true, decidedBy: [] }) as L7Decision;

function policies(grants: L7Grant[]): Policy[] {
  const out: Policy[] = [];
  for (const g of grants) if (!out.includes(g.policy)) out.push(g.policy);
  return out;
}

function denied(grants: L7Grant[]): L7Decision {
  return { allowed: false, decidedBy: policies(grants) };
}

/**
 * Without headerMatches the first matching rule decides. With any, every rule runs, as Envoy's
 * cilium.l7policy filter does, so that each matching rule's header actions change the request
 * (`req` is changed in place: the forwarded request and its Hubble record carry the result).
 */
export function decideHttp(grants: L7Grant[] | null, req: HttpRequestView): L7Decision {
  if (grants === null) return ALLOW_ALL;
  const actions = grants.some((g) => g.rules.http?.some(hasHeaderActions));
  let rule: string | undefined;
  const matched: L7Grant[] = [];
  for (const g of grants) {
    const list = g.rules.http;
    if (!list) continue;
    let hit = false;
    for (let i = 0; i < list.length; i++) {
      if (actions ? httpRuleApply(list[i], req) : httpRuleMatches(list[i], req)) {
        rule ??= `${g.rulePath}.http[${i}]`;
        hit = true;
        if (!actions) break;
      }
    }
    if (hit) matched.push(g);
  }
  return matched.length ? { allowed: true, decidedBy: policies(matched), rule } : denied(grants);
}

export function decideDns(grants: L7Grant[] | null, qname: string): L7Decision {
  if (grants === null) return ALLOW_ALL;
  let rule: string | undefined;
  const matched: L7Grant[] = [];
  for (const g of grants) {
    const list = g.rules.dns;
    if (!list) continue;
    for (let i = 0; i < list.length; i++) {
      if (dnsRuleMatches(list[i], qname)) {
        rule ??= `${g.rulePath}.dns[${i}]`;
        matched.push(g);
        break;
      }
    }
  }
  return matched.length ? { allowed: true, decidedBy: policies(matched), rule } : denied(grants);
}

export function decideKafka(grants: L7Grant[] | null, req: KafkaRequest): L7Decision {
  if (grants === null) return ALLOW_ALL;
  const topicKind = TOPIC_API_KEYS.has(req.apiKey);
  // topics still waiting for a rule; unparsed topic lists can only pass topic-less rules
  const remaining = new Set((req.topics ?? []).map((t) => t.name));
  const contributors: { grant: L7Grant; path: string }[] = [];
  for (const g of grants) {
    const list = g.rules.kafka;
    if (!list) continue;
    for (let i = 0; i < list.length; i++) {
      const c = compileKafkaRule(list[i]);
      if (!kafkaRuleAdmits(c, req.apiKey, req.apiVersion, req.clientId)) continue;
      const path = `${g.rulePath}.kafka[${i}]`;
      if (c.topic === "" || !topicKind) return { allowed: true, decidedBy: [g.policy], rule: path };
      if (remaining.delete(c.topic)) {
        contributors.push({ grant: g, path });
        if (remaining.size === 0) {
          return { allowed: true, decidedBy: policies(contributors.map((x) => x.grant)), rule: contributors[0].path };
        }
      }
    }
  }
  return denied(grants);
}
