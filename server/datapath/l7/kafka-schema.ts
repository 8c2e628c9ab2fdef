// Message layouts of the Kafka APIs the proxy understands, transcribed from Apache Kafka's
// clients/src/main/resources/common/message/*.json: each field with the versions it exists in.
// One table drives both the encoder and the parser, in classic and flexible (compact) forms.

/** [first version, last version] inclusive */
export type Versions = readonly [number, number];
const ALL: Versions = [0, 0x7fff];
const from = (v: number): Versions => [v, 0x7fff];
const only = (a: number, b = a): Versions => [a, b];

export type Primitive = "int8" | "int16" | "int32" | "int64" | "bool" | "uuid" | "string" | "bytes";

export interface PrimitiveField {
  name: string;
  type: Primitive;
  /** "int32[]" style arrays of a primitive */
  array?: boolean;
  v: Versions;
  nullable?: Versions;
}
export interface StructArrayField {
  name: string;
  type: "struct[]";
  fields: Field[];
  v: Versions;
  nullable?: Versions;
}
export type Field = PrimitiveField | StructArrayField;

export interface ApiSchema {
  key: number;
  name: string;
  /** versions this implementation can encode and parse */
  versions: Versions;
  firstFlexible: number;
  request: Field[];
  response: Field[];
}

const p = (name: string, type: Primitive, v: Versions = ALL, nullable?: Versions): PrimitiveField => ({ name, type, v, nullable });
const pa = (name: string, type: Primitive, v: Versions = ALL, nullable?: Versions): PrimitiveField => ({ name, type, v, array: true, nullable });
const s = (name: string, fields: Field[], v: Versions = ALL, nullable?: Versions): StructArrayField => ({ name, type: "struct[]", fields, v, nullable });

export const PRODUCE: ApiSchema = {
  key: 0,
  name: "Produce",
  versions: [0, 12],
  firstFlexible: 9,
  request: [
    p("transactional_id", "string", from(3), from(3)),
    p("acks", "int16"),
    p("timeout_ms", "int32"),
    s("topic_data", [p("name", "string"), s("partition_data", [p("index", "int32"), p("records", "bytes", ALL, ALL)])]),
  ],
  response: [
    s("responses", [
      p("name", "string"),
      s("partition_responses", [
        p("index", "int32"),
        p("error_code", "int16"),
        p("base_offset", "int64"),
        p("log_append_time_ms", "int64", from(2)),
        p("log_start_offset", "int64", from(5)),
        s("record_errors", [p("batch_index", "int32"), p("batch_index_error_message", "string", ALL, ALL)], from(8)),
        p("error_message", "string", from(8), from(8)),
      ]),
    ]),
    p("throttle_time_ms", "int32", from(1)),
  ],
};

export const FETCH: ApiSchema = {
  key: 1,
  name: "Fetch",
  versions: [0, 12],
  firstFlexible: 12,
  request: [
    p("replica_id", "int32"),
    p("max_wait_ms", "int32"),
    p("min_bytes", "int32"),
    p("max_bytes", "int32", from(3)),
    p("isolation_level", "int8", from(4)),
    p("session_id", "int32", from(7)),
    p("session_epoch", "int32", from(7)),
    s("topics", [
      p("topic", "string"),
      s("partitions", [
        p("partition", "int32"),
        p("current_leader_epoch", "int32", from(9)),
        p("fetch_offset", "int64"),
        p("last_fetched_epoch", "int32", from(12)),
        p("log_start_offset", "int64", from(5)),
        p("partition_max_bytes", "int32"),
      ]),
    ]),
    s("forgotten_topics_data", [p("topic", "string"), pa("partitions", "int32")], from(7)),
    p("rack_id", "string", from(11)),
  ],
  response: [
    p("throttle_time_ms", "int32", from(1)),
    p("error_code", "int16", from(7)),
    p("session_id", "int32", from(7)),
    s("responses", [
      p("topic", "string"),
      s("partitions", [
        p("partition_index", "int32"),
        p("error_code", "int16"),
        p("high_watermark", "int64"),
        p("last_stable_offset", "int64", from(4)),
        p("log_start_offset", "int64", from(5)),
        s("aborted_transactions", [p("producer_id", "int64"), p("first_offset", "int64")], from(4), from(4)),
        p("preferred_read_replica", "int32", from(11)),
        p("records", "bytes", ALL, ALL),
      ]),
    ]),
  ],
};

export const LIST_OFFSETS: ApiSchema = {
  key: 2,
  name: "ListOffsets",
  versions: [0, 10],
  firstFlexible: 6,
  request: [
    p("replica_id", "int32"),
    p("isolation_level", "int8", from(2)),
    s("topics", [
      p("name", "string"),
      s("partitions", [
        p("partition_index", "int32"),
        p("current_leader_epoch", "int32", from(4)),
        p("timestamp", "int64"),
        p("max_num_offsets", "int32", only(0)),
      ]),
    ]),
    p("timeout_ms", "int32", from(10)),
  ],
  response: [
    p("throttle_time_ms", "int32", from(2)),
    s("topics", [
      p("name", "string"),
      s("partitions", [
        p("partition_index", "int32"),
        p("error_code", "int16"),
        pa("old_style_offsets", "int64", only(0)),
        p("timestamp", "int64", from(1)),
        p("offset", "int64", from(1)),
        p("leader_epoch", "int32", from(4)),
      ]),
    ]),
  ],
};

export const METADATA: ApiSchema = {
  key: 3,
  name: "Metadata",
  versions: [0, 12],
  firstFlexible: 9,
  request: [
    s("topics", [p("topic_id", "uuid", from(10)), p("name", "string", ALL, from(10))], ALL, from(1)),
    p("allow_auto_topic_creation", "bool", from(4)),
    p("include_cluster_authorized_operations", "bool", only(8, 10)),
    p("include_topic_authorized_operations", "bool", from(8)),
  ],
  response: [
    p("throttle_time_ms", "int32", from(3)),
    s("brokers", [p("node_id", "int32"), p("host", "string"), p("port", "int32"), p("rack", "string", from(1), from(1))]),
    p("cluster_id", "string", from(2), from(2)),
    p("controller_id", "int32", from(1)),
    s("topics", [
      p("error_code", "int16"),
      p("name", "string", ALL, from(12)),
      p("topic_id", "uuid", from(10)),
      p("is_internal", "bool", from(1)),
      s("partitions", [
        p("error_code", "int16"),
        p("partition_index", "int32"),
        p("leader_id", "int32"),
        p("leader_epoch", "int32", from(7)),
        pa("replica_nodes", "int32"),
        pa("isr_nodes", "int32"),
        pa("offline_replicas", "int32", from(5)),
      ]),
      p("topic_authorized_operations", "int32", from(8)),
    ]),
    p("cluster_authorized_operations", "int32", only(8, 10)),
  ],
};

export const OFFSET_COMMIT: ApiSchema = {
  key: 8,
  name: "OffsetCommit",
  versions: [0, 9],
  firstFlexible: 8,
  request: [
    p("group_id", "string"),
    p("generation_id_or_member_epoch", "int32", from(1)),
    p("member_id", "string", from(1)),
    p("group_instance_id", "string", from(7), from(7)),
    p("retention_time_ms", "int64", only(2, 4)),
    s("topics", [
      p("name", "string"),
      s("partitions", [
        p("partition_index", "int32"),
        p("committed_offset", "int64"),
        p("committed_leader_epoch", "int32", from(6)),
        p("commit_timestamp", "int64", only(1)),
        p("committed_metadata", "string", ALL, ALL),
      ]),
    ]),
  ],
  response: [
    p("throttle_time_ms", "int32", from(3)),
    s("topics", [p("name", "string"), s("partitions", [p("partition_index", "int32"), p("error_code", "int16")])]),
  ],
};

const OFFSET_FETCH_PARTITION_RESPONSE: Field[] = [
  p("partition_index", "int32"),
  p("committed_offset", "int64"),
  p("committed_leader_epoch", "int32", from(5)),
  p("metadata", "string", ALL, ALL),
  p("error_code", "int16"),
];

export const OFFSET_FETCH: ApiSchema = {
  key: 9,
  name: "OffsetFetch",
  versions: [0, 9],
  firstFlexible: 6,
  request: [
    p("group_id", "string", only(0, 7)),
    s("topics", [p("name", "string"), pa("partition_indexes", "int32")], only(0, 7), from(2)),
    s(
      "groups",
      [
        p("group_id", "string"),
        p("member_id", "string", from(9), from(9)),
        p("member_epoch", "int32", from(9)),
        s("topics", [p("name", "string"), pa("partition_indexes", "int32")], ALL, ALL),
      ],
      from(8),
    ),
    p("require_stable", "bool", from(7)),
  ],
  response: [
    p("throttle_time_ms", "int32", from(3)),
    s("topics", [p("name", "string"), s("partitions", OFFSET_FETCH_PARTITION_RESPONSE)], only(0, 7)),
    p("error_code", "int16", only(2, 7)),
    s(
      "groups",
      [p("group_id", "string"), s("topics", [p("name", "string"), s("partitions", OFFSET_FETCH_PARTITION_RESPONSE)]), p("error_code", "int16")],
      from(8),
    ),
  ],
};

export const FIND_COORDINATOR: ApiSchema = {
  key: 10,
  name: "FindCoordinator",
  versions: [0, 4],
  firstFlexible: 3,
  request: [p("key", "string", only(0, 3)), p("key_type", "int8", from(1)), pa("coordinator_keys", "string", from(4))],
  response: [
    p("throttle_time_ms", "int32", from(1)),
    p("error_code", "int16", only(0, 3)),
    p("error_message", "string", only(1, 3), from(1)),
    p("node_id", "int32", only(0, 3)),
    p("host", "string", only(0, 3)),
    p("port", "int32", only(0, 3)),
    s(
      "coordinators",
      [p("key", "string"), p("node_id", "int32"), p("host", "string"), p("port", "int32"), p("error_code", "int16"), p("error_message", "string", ALL, ALL)],
      from(4),
    ),
  ],
};

export const API_VERSIONS: ApiSchema = {
  key: 18,
  name: "ApiVersions",
  versions: [0, 3],
  firstFlexible: 3,
  request: [p("client_software_name", "string", from(3)), p("client_software_version", "string", from(3))],
  response: [
    p("error_code", "int16"),
    s("api_keys", [p("api_key", "int16"), p("min_version", "int16"), p("max_version", "int16")]),
    p("throttle_time_ms", "int32", from(1)),
  ],
};

export const SCHEMAS = new Map<number, ApiSchema>(
  [PRODUCE, FETCH, LIST_OFFSETS, METADATA, OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, API_VERSIONS].map((s) => [s.key, s]),
);

export function inVersions(v: number, r: Versions): boolean {
  return v >= r[0] && v <= r[1];
}

/**
 * First flexible version of APIs whose body is not parsed here, so the request header version
 * (v1 classic, v2 flexible with tagged fields) is still read correctly.
 */
export const FIRST_FLEXIBLE: Record<number, number> = {
  4: 4, 5: 2, 6: 6, 7: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 17: 0x7fff, 19: 5, 20: 4, 21: 2, 22: 2,
  23: 4, 24: 3, 25: 3, 26: 3, 27: 1, 28: 3, 29: 2, 30: 2, 31: 2, 32: 4, 33: 2, 34: 2, 35: 2, 36: 2, 37: 2,
};

export function firstFlexible(apiKey: number): number {
  return SCHEMAS.get(apiKey)?.firstFlexible ?? FIRST_FLEXIBLE[apiKey] ?? 0x7fff;
}
