-- Records keep their repeated parts (endpoints, policy lists, the decision extension) once, in
-- "fragments", and refer to them from "body"; the label columns move to the endpoint fragments.
-- Rows of the previous layout are moved to "flows_v1" here and converted by the server at start
-- (server/store/legacy-upgrade.ts), which needs the record encoder that SQL does not have.

DROP INDEX "flows_uuid_key";
DROP INDEX "flows_time_ms_idx";
DROP INDEX "flows_verdict_id_idx";
DROP INDEX "flows_src_namespace_id_idx";
DROP INDEX "flows_dst_namespace_id_idx";
DROP INDEX "flows_src_pod_idx";
DROP INDEX "flows_dst_pod_idx";
DROP INDEX "flows_drop_reason_desc_id_idx";
ALTER TABLE "flows" RENAME TO "flows_v1";

-- CreateTable
CREATE TABLE "fragments" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "json" TEXT NOT NULL,
    "labels" TEXT
);

-- CreateTable
CREATE TABLE "flows" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid" TEXT NOT NULL,
    "time_ms" BIGINT NOT NULL,
    "node_name" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "drop_reason_desc" TEXT,
    "event_type" INTEGER NOT NULL,
    "event_sub_type" INTEGER,
    "flow_type" TEXT NOT NULL,
    "traffic_direction" TEXT,
    "is_reply" BOOLEAN,
    "policy_match_type" INTEGER,
    "src_namespace" TEXT,
    "src_pod" TEXT,
    "src_workload" TEXT,
    "src_identity" INTEGER,
    "src_ip" TEXT,
    "src_port" INTEGER,
    "src_ep" INTEGER,
    "src_names" TEXT,
    "dst_namespace" TEXT,
    "dst_pod" TEXT,
    "dst_workload" TEXT,
    "dst_identity" INTEGER,
    "dst_ip" TEXT,
    "dst_port" INTEGER,
    "dst_ep" INTEGER,
    "dst_names" TEXT,
    "dst_service" TEXT,
    "protocol" TEXT,
    "l7_protocol" TEXT,
    "l7_type" TEXT,
    "http_method" TEXT,
    "http_status" INTEGER,
    "http_url" TEXT,
    "dns_query" TEXT,
    "policies" TEXT,
    "body" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "fragments_json_key" ON "fragments"("json");

-- CreateIndex
CREATE UNIQUE INDEX "flows_uuid_key" ON "flows"("uuid");

-- CreateIndex
CREATE INDEX "flows_time_ms_idx" ON "flows"("time_ms");

-- CreateIndex
CREATE INDEX "flows_verdict_id_idx" ON "flows"("verdict", "id");

-- CreateIndex
CREATE INDEX "flows_src_namespace_id_idx" ON "flows"("src_namespace", "id");

-- CreateIndex
CREATE INDEX "flows_dst_namespace_id_idx" ON "flows"("dst_namespace", "id");

-- CreateIndex
CREATE INDEX "flows_src_pod_idx" ON "flows"("src_pod");

-- CreateIndex
CREATE INDEX "flows_dst_pod_idx" ON "flows"("dst_pod");

-- CreateIndex
CREATE INDEX "flows_drop_reason_desc_id_idx" ON "flows"("drop_reason_desc", "id");
