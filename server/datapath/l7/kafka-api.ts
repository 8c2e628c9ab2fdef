// Kafka API key names as Cilium's policy spells them (pkg/policy/api/kafka APIKeyMap), the role
// expansion (GetAPIKeys) and the request kinds that carry topics (isTopicAPIKey).
export const KAFKA_API_KEYS: Record<string, number> = {
  produce: 0,
  fetch: 1,
  offsets: 2,
  metadata: 3,
  leaderandisr: 4,
  stopreplica: 5,
  updatemetadata: 6,
  controlledshutdown: 7,
  offsetcommit: 8,
  offsetfetch: 9,
  findcoordinator: 10,
  joingroup: 11,
  heartbeat: 12,
  leavegroup: 13,
  syncgroup: 14,
  describegroups: 15,
  listgroups: 16,
  saslhandshake: 17,
  apiversions: 18,
  createtopics: 19,
  deletetopics: 20,
  deleterecords: 21,
  initproducerid: 22,
  offsetforleaderepoch: 23,
  addpartitionstotxn: 24,
  addoffsetstotxn: 25,
  endtxn: 26,
  writetxnmarkers: 27,
  txnoffsetcommit: 28,
  describeacls: 29,
  createacls: 30,
  deleteacls: 31,
  describeconfigs: 32,
  alterconfigs: 33,
};

const KEY_NAMES = new Map<number, string>(Object.entries(KAFKA_API_KEYS).map(([k, v]) => [v, k]));

/** Name Hubble shows in `kafka.api_key` (Cilium's ApiKeyToString): the policy name or the number. */
export function kafkaApiKeyName(key: number): string {
  return KEY_NAMES.get(key) ?? String(key);
}

/** Names a traffic spec may use: Cilium's plus Kafka's own spelling of ListOffsets. */
const SPEC_ALIASES: Record<string, number> = { listoffsets: 2, "list-offsets": 2, offsetsrequest: 2 };

export function kafkaApiKeyFromSpec(k: string | number): number | undefined {
  if (typeof k === "number") return Number.isInteger(k) && k >= 0 && k <= 0x7fff ? k : undefined;
  const lower = k.trim().toLowerCase();
  if (/^\d+$/.test(lower)) return kafkaApiKeyFromSpec(Number(lower));
  return KAFKA_API_KEYS[lower] ?? SPEC_ALIASES[lower];
}

export const KAFKA_ROLES: Record<string, readonly number[]> = {
  produce: [0, 3, 18],
  consume: [1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18],
};

export const TOPIC_API_KEYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 19, 20, 21, 23, 24, 27, 28, 34, 35, 37]);

/** Kafka error code the proxy answers refused requests with. */
export const TOPIC_AUTHORIZATION_FAILED = 29;
