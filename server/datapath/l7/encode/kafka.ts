// Kafka request frames as a client sends them for a KafkaRequestSpec, and the broker's (or the
// proxy's refusing) response echoing every requested topic/partition with an error code.
import { ByteWriter } from "../bytes";
import { KAFKA_API_KEYS, kafkaApiKeyFromSpec } from "../kafka-api";
import { encodeBody, type KafkaValue } from "../kafka-codec";
import { SCHEMAS, firstFlexible, inVersions } from "../kafka-schema";
import type { KafkaRequestSpec } from "../proxy-types";
import type { KafkaRequest } from "../parse/kafka";

/** Versions a current client would pick; all flexible except where noted. */
export const DEFAULT_KAFKA_VERSIONS: Record<number, number> = { 0: 9, 1: 12, 2: 7, 3: 12, 8: 8, 9: 7, 10: 4, 18: 3 };

const RECORD_BYTES = Buffer.from("flowscope", "utf8");

function requestBody(apiKey: number, version: number, topics: string[] | undefined, group: string): KafkaValue {
  const t = topics ?? [];
  switch (apiKey) {
    case 0:
      return {
        transactional_id: null,
        acks: -1,
        timeout_ms: 30000,
        topic_data: t.map((name) => ({ name, partition_data: [{ index: 0, records: RECORD_BYTES }] })),
      };
    case 1:
      return {
        replica_id: -1,
        max_wait_ms: 500,
        min_bytes: 1,
        max_bytes: 52428800,
        isolation_level: 0,
        session_id: 0,
        session_epoch: -1,
        topics: t.map((topic) => ({
          topic,
          partitions: [{ partition: 0, current_leader_epoch: -1, fetch_offset: 0, last_fetched_epoch: -1, log_start_offset: -1, partition_max_bytes: 1048576 }],
        })),
        forgotten_topics_data: [],
        rack_id: "",
      };
    case 2:
      return {
        replica_id: -1,
        isolation_level: 0,
        topics: t.map((name) => ({ name, partitions: [{ partition_index: 0, current_leader_epoch: -1, timestamp: -1, max_num_offsets: 1 }] })),
        timeout_ms: 30000,
      };
    case 3:
      return {
        topics: topics === undefined ? (version === 0 ? [] : null) : t.map((name) => ({ name })),
        allow_auto_topic_creation: false,
        include_cluster_authorized_operations: false,
        include_topic_authorized_operations: false,
      };
    case 8:
      return {
        group_id: group,
        generation_id_or_member_epoch: -1,
        member_id: "",
        group_instance_id: null,
        retention_time_ms: -1,
        topics: t.map((name) => ({
          name,
          partitions: [{ partition_index: 0, committed_offset: 0, committed_leader_epoch: -1, commit_timestamp: -1, committed_metadata: "" }],
        })),
      };
    case 9: {
      const rows = topics === undefined && version >= 2 ? null : t.map((name) => ({ name, partition_indexes: [0] }));
      if (version >= 8) return { groups: [{ group_id: group, member_id: null, member_epoch: -1, topics: rows }], require_stable: false };
      return { group_id: group, topics: rows, require_stable: false };
    }
    case 10:
      // the consumer group's coordinator (key type 0 = group)
      return { key: group, key_type: 0, coordinator_keys: [group] };
    case 18:
      return { client_software_name: "flowscope", client_software_version: "1.0" };
    default:
      return {};
  }
}

export interface KafkaEncodeOptions {
  correlationId: number;
}

/** Resolves the spec's api key/version; throws a clear error for unknown names or versions. */
export function resolveKafkaSpec(spec: KafkaRequestSpec): { apiKey: number; apiVersion: number } {
  const apiKey = kafkaApiKeyFromSpec(spec.apiKey);
  if (apiKey === undefined) {
    throw new Error(`kafka: unknown apiKey ${JSON.stringify(spec.apiKey)} (names: ${Object.keys(KAFKA_API_KEYS).join(", ")}, listoffsets, or a number)`);
  }
  const schema = SCHEMAS.get(apiKey);
  const apiVersion = spec.apiVersion ?? DEFAULT_KAFKA_VERSIONS[apiKey] ?? 0;
  if (!Number.isInteger(apiVersion) || apiVersion < 0 || apiVersion > 0x7fff) throw new Error(`kafka: invalid apiVersion ${apiVersion}`);
  if (schema && !inVersions(apiVersion, schema.versions)) {
    throw new Error(`kafka: ${schema.name} apiVersion ${apiVersion} not supported (${schema.versions[0]}-${schema.versions[1]})`);
  }
  return { apiKey, apiVersion };
}

export function encodeKafkaRequest(spec: KafkaRequestSpec, opts: KafkaEncodeOptions): Buffer {
  const { apiKey, apiVersion } = resolveKafkaSpec(spec);
  const flexible = apiVersion >= firstFlexible(apiKey);
  const clientId = spec.clientId ?? "flowscope";
  const w = new ByteWriter(128);
  w.u32(0);
  w.i16(apiKey).i16(apiVersion).i32(opts.correlationId);
  if (!(apiKey === 7 && apiVersion === 0)) {
    const id = Buffer.from(clientId, "utf8");
    w.i16(id.length).bytes(id);
  }
  if (flexible) w.uvarint(0);
  const schema = SCHEMAS.get(apiKey);
  if (schema) encodeBody(w, schema.request, apiVersion, flexible, requestBody(apiKey, apiVersion, spec.topics, `${clientId}-group`));
  w.patchU32(0, w.length - 4);
  return w.finish();
}

function responseBody(req: KafkaRequest, errorCode: number, broker: { host: string; port: number }): KafkaValue {
  const topics = req.topics ?? [];
  const parts = (t: { partitions: number[] }) => (t.partitions.length ? t.partitions : [0]);
  const ok = errorCode === 0;
  switch (req.apiKey) {
    case 0:
      return {
        responses: topics.map((t) => ({
          name: t.name,
          partition_responses: parts(t).map((index) => ({
            index,
            error_code: errorCode,
            base_offset: ok ? 0 : -1,
            log_append_time_ms: -1,
            log_start_offset: ok ? 0 : -1,
            record_errors: [],
            error_message: null,
          })),
        })),
        throttle_time_ms: 0,
      };
    case 1:
      return {
        throttle_time_ms: 0,
        error_code: 0,
        session_id: 0,
        responses: topics.map((t) => ({
          topic: t.name,
          partitions: parts(t).map((partition_index) => ({
            partition_index,
            error_code: errorCode,
            high_watermark: ok ? 0 : -1,
            last_stable_offset: ok ? 0 : -1,
            log_start_offset: ok ? 0 : -1,
            aborted_transactions: null,
            preferred_read_replica: -1,
            records: Buffer.alloc(0),
          })),
        })),
      };
    case 2:
      return {
        throttle_time_ms: 0,
        topics: topics.map((t) => ({
          name: t.name,
          partitions: parts(t).map((partition_index) => ({
            partition_index,
            error_code: errorCode,
            old_style_offsets: ok ? [0] : [],
            timestamp: -1,
            offset: ok ? 0 : -1,
            leader_epoch: ok ? 0 : -1,
          })),
        })),
      };
    case 3:
      return {
        throttle_time_ms: 0,
        brokers: [{ node_id: 1, host: broker.host, port: broker.port, rack: null }],
        cluster_id: "flowscope",
        controller_id: 1,
        topics: topics.map((t) => ({
          error_code: errorCode,
          name: t.name,
          is_internal: false,
          partitions: ok ? [{ error_code: 0, partition_index: 0, leader_id: 1, leader_epoch: 0, replica_nodes: [1], isr_nodes: [1], offline_replicas: [] }] : [],
          topic_authorized_operations: -2147483648,
        })),
        cluster_authorized_operations: -2147483648,
      };
    case 8:
      return {
        throttle_time_ms: 0,
        topics: topics.map((t) => ({ name: t.name, partitions: parts(t).map((partition_index) => ({ partition_index, error_code: errorCode })) })),
      };
    case 9: {
      const rows = topics.map((t) => ({
        name: t.name,
        partitions: parts(t).map((partition_index) => ({
          partition_index,
          committed_offset: -1,
          committed_leader_epoch: -1,
          metadata: "",
          error_code: errorCode,
        })),
      }));
      if (req.apiVersion >= 8) {
        const groups = ((req.body?.groups as KafkaValue[] | undefined) ?? []).map((g) => ({ group_id: g.group_id, topics: rows, error_code: 0 }));
        return { throttle_time_ms: 0, groups };
      }
      return { throttle_time_ms: 0, topics: rows, error_code: 0 };
    }
    case 10: {
      // a refusal names no coordinator (node -1), as a broker's error answer does
      const node = errorCode ? { node_id: -1, host: "", port: -1 } : { node_id: 0, host: broker.host, port: broker.port };
      if (req.apiVersion >= 4) {
        const keys = (req.body?.coordinator_keys as string[] | undefined) ?? [];
        return { throttle_time_ms: 0, coordinators: keys.map((key) => ({ key, ...node, error_code: errorCode, error_message: null })) };
      }
      return { throttle_time_ms: 0, error_code: errorCode, error_message: null, ...node };
    }
    case 18:
      return {
        error_code: errorCode,
        api_keys: [...SCHEMAS.values()].map((s) => ({ api_key: s.key, min_version: s.versions[0], max_version: s.versions[1] })),
        throttle_time_ms: 0,
      };
    default:
      return {};
  }
}

/** The broker's answer to `req`; a refusal sets `errorCode` (29) on every topic and partition. */
export function encodeKafkaResponse(req: KafkaRequest, errorCode: number, broker = { host: "kafka", port: 9092 }): Buffer {
  const w = new ByteWriter(128);
  w.u32(0).i32(req.correlationId);
  if (req.flexible && req.apiKey !== 18) w.uvarint(0);
  const schema = SCHEMAS.get(req.apiKey);
  if (schema) encodeBody(w, schema.response, req.apiVersion, req.flexible, responseBody(req, errorCode, broker));
  else w.i16(errorCode);
  w.patchU32(0, w.length - 4);
  return w.finish();
}
