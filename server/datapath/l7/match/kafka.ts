// Cilium PortRuleKafka (pkg/kafka/policy.go): role or apiKey selects API keys, apiVersion and
// clientID must be equal when set, and the topic constraint applies only to request kinds that
// carry topics. A request naming several topics is allowed only when every topic is matched by
// some rule (the rules are consulted cumulatively), so that logic lives in the decision, not here.
import { KAFKA_API_KEYS, KAFKA_ROLES } from "../kafka-api";
import type { KafkaRule } from "../proxy-types";

export interface CompiledKafkaRule {
  /** null: every API key */
  apiKeys: ReadonlySet<number> | null;
  /** -1: every version */
  apiVersion: number;
  clientID: string;
  topic: string;
}

const compiled = new WeakMap<KafkaRule, CompiledKafkaRule>();

export function compileKafkaRule(rule: KafkaRule): CompiledKafkaRule {
  let c = compiled.get(rule);
  if (!c) {
    let apiKeys: Set<number> | null = null;
    if (rule.role) apiKeys = new Set(KAFKA_ROLES[rule.role.toLowerCase()] ?? []);
    else if (rule.apiKey) {
      const k = KAFKA_API_KEYS[rule.apiKey.toLowerCase()];
      apiKeys = new Set(k === undefined ? [] : [k]);
    }
    c = {
      apiKeys,
      apiVersion: rule.apiVersion ? Number(rule.apiVersion) : -1,
      clientID: rule.clientID ?? "",
      topic: rule.topic ?? "",
    };
    compiled.set(rule, c);
  }
  return c;
}

/** API key, version and client checks (everything except the topic). */
export function kafkaRuleAdmits(c: CompiledKafkaRule, apiKey: number, apiVersion: number, clientId: string | null): boolean {
  if (c.apiKeys && !c.apiKeys.has(apiKey)) return false;
  if (c.apiVersion >= 0 && c.apiVersion !== apiVersion) return false;
  if (c.clientID !== "" && c.clientID !== (clientId ?? "")) return false;
  return true;
}
