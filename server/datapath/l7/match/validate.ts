// Validation of a toPorts[].rules object as policy YAML spells it, reusable by the policy parser.
// Each problem names its field path, e.g. "rules.http[0].path: invalid regular expression ...".
import { KAFKA_API_KEYS, KAFKA_ROLES } from "../kafka-api";
import { DNS_NAME_CHARS, DNS_PATTERN_CHARS, matchPatternRegex } from "./dns";
import { regexProblem } from "./regex";

const HTTP_KEYS = new Set(["method", "path", "host", "headers", "headerMatches"]);
const HEADER_MATCH_KEYS = new Set(["name", "value", "mismatch", "secret"]);
const MISMATCH = new Set(["LOG", "ADD", "DELETE", "REPLACE"]);
const KAFKA_KEYS = new Set(["role", "apiKey", "apiVersion", "clientID", "topic"]);
const DNS_KEYS = new Set(["matchName", "matchPattern"]);
const TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unknownKeys(obj: Record<string, unknown>, allowed: Set<string>, path: string, out: string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.has(k)) out.push(`${path}.${k}: unknown field (allowed: ${[...allowed].join(", ")})`);
}

function optString(obj: Record<string, unknown>, key: string, path: string, out: string[]): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    out.push(`${path}.${key}: must be a string, got ${typeof v}`);
    return undefined;
  }
  return v;
}

function validateHttp(rule: unknown, path: string, out: string[]): void {
  if (!isObject(rule)) {
    out.push(`${path}: must be an object`);
    return;
  }
  unknownKeys(rule, HTTP_KEYS, path, out);
  for (const key of ["method", "path", "host"]) {
    const v = optString(rule, key, path, out);
    if (v) {
      const problem = regexProblem(v);
      if (problem) out.push(`${path}.${key}: ${problem}`);
    }
  }
  if (rule.headers !== undefined) {
    if (!Array.isArray(rule.headers)) out.push(`${path}.headers: must be a list of "Name" or "Name: value" strings`);
    else
      rule.headers.forEach((h, i) => {
        if (typeof h !== "string" || h.trim() === "") out.push(`${path}.headers[${i}]: must be a non-empty string "Name" or "Name: value"`);
      });
  }
  if (rule.headerMatches !== undefined) {
    if (!Array.isArray(rule.headerMatches)) {
      out.push(`${path}.headerMatches: must be a list`);
      return;
    }
    rule.headerMatches.forEach((m, i) => {
      const p = `${path}.headerMatches[${i}]`;
      if (!isObject(m)) {
        out.push(`${p}: must be an object`);
        return;
      }
      unknownKeys(m, HEADER_MATCH_KEYS, p, out);
      const name = optString(m, "name", p, out);
      if (!name) out.push(`${p}.name: required`);
      optString(m, "value", p, out);
      const mismatch = optString(m, "mismatch", p, out);
      if (mismatch !== undefined && !MISMATCH.has(mismatch)) out.push(`${p}.mismatch: must be one of LOG, ADD, DELETE, REPLACE, got ${JSON.stringify(mismatch)}`);
      if (m.secret !== undefined) {
        if (!isObject(m.secret)) out.push(`${p}.secret: must be an object {namespace, name}`);
        else {
          unknownKeys(m.secret, new Set(["namespace", "name"]), `${p}.secret`, out);
          if (!optString(m.secret, "name", `${p}.secret`, out)) out.push(`${p}.secret.name: required`);
          optString(m.secret, "namespace", `${p}.secret`, out);
        }
      }
    });
  }
}

function validateKafka(rule: unknown, path: string, out: string[]): void {
  if (!isObject(rule)) {
    out.push(`${path}: must be an object`);
    return;
  }
  unknownKeys(rule, KAFKA_KEYS, path, out);
  const role = optString(rule, "role", path, out);
  const apiKey = optString(rule, "apiKey", path, out);
  const apiVersion = optString(rule, "apiVersion", path, out);
  optString(rule, "clientID", path, out);
  const topic = optString(rule, "topic", path, out);
  if (role && apiKey) out.push(`${path}: cannot set both role ${JSON.stringify(role)} and apiKey ${JSON.stringify(apiKey)}`);
  if (role && !(role.toLowerCase() in KAFKA_ROLES)) out.push(`${path}.role: invalid Kafka role ${JSON.stringify(role)} (produce or consume)`);
  if (apiKey && !(apiKey.toLowerCase() in KAFKA_API_KEYS)) out.push(`${path}.apiKey: invalid Kafka apiKey ${JSON.stringify(apiKey)}`);
  if (apiVersion && (!/^\d+$/.test(apiVersion) || Number(apiVersion) > 32767)) {
    out.push(`${path}.apiVersion: invalid Kafka apiVersion ${JSON.stringify(apiVersion)} (an integer 0-32767 as a string)`);
  }
  if (topic) {
    if (topic.length > 255) out.push(`${path}.topic: longer than 255 characters`);
    else if (!TOPIC_CHARS.test(topic)) out.push(`${path}.topic: invalid Kafka topic name ${JSON.stringify(topic)} (allowed: a-z A-Z 0-9 . _ -)`);
  }
}

function validateDns(rule: unknown, path: string, out: string[]): void {
  if (!isObject(rule)) {
    out.push(`${path}: must be an object`);
    return;
  }
  unknownKeys(rule, DNS_KEYS, path, out);
  const name = optString(rule, "matchName", path, out);
  const pattern = optString(rule, "matchPattern", path, out);
  if (name && pattern) out.push(`${path}: only one of matchName or matchPattern is allowed`);
  if (!name && !pattern) out.push(`${path}: one of matchName or matchPattern is required`);
  if (name) {
    if (name.length > 255) out.push(`${path}.matchName: longer than 255 characters`);
    else if (!DNS_NAME_CHARS.test(name.trim())) out.push(`${path}.matchName: invalid DNS name ${JSON.stringify(name)} (allowed: a-z A-Z 0-9 . - _)`);
  }
  if (pattern) {
    if (pattern.length > 255) out.push(`${path}.matchPattern: longer than 255 characters`);
    else if (!DNS_PATTERN_CHARS.test(pattern.trim())) out.push(`${path}.matchPattern: invalid pattern ${JSON.stringify(pattern)} (allowed: a-z A-Z 0-9 . - _ *)`);
    else {
      const problem = regexProblem(matchPatternRegex(pattern));
      if (problem) out.push(`${path}.matchPattern: ${problem}`);
    }
  }
}

/**
 * Problems with a `rules` object (empty when valid). `rules` is a union: exactly one of http,
 * kafka, dns; each is a list whose entries are OR-ed.
 */
export function validateL7Rules(rules: unknown, path = "rules"): string[] {
  const out: string[] = [];
  if (!isObject(rules)) return [`${path}: must be an object with one of http, kafka, dns`];
  const kinds = Object.keys(rules).filter((k) => rules[k] !== undefined && rules[k] !== null);
  for (const k of kinds) {
    if (k === "l7proto" || k === "l7") out.push(`${path}.${k}: generic L7 (proxylib) rules are not supported`);
    else if (k !== "http" && k !== "kafka" && k !== "dns") out.push(`${path}.${k}: unknown field (allowed: http, kafka, dns)`);
  }
  const present = kinds.filter((k) => k === "http" || k === "kafka" || k === "dns");
  if (present.length > 1) out.push(`${path}: only one of http, kafka, dns may be set, got ${present.join(" and ")}`);
  const check: Record<string, (r: unknown, p: string, o: string[]) => void> = { http: validateHttp, kafka: validateKafka, dns: validateDns };
  for (const k of present) {
    const list = rules[k];
    if (!Array.isArray(list)) {
      out.push(`${path}.${k}: must be a list`);
      continue;
    }
    list.forEach((r, i) => check[k](r, `${path}.${k}[${i}]`, out));
  }
  return out;
}
