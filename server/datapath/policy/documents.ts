// Policy files → PolicyRecords. Each YAML document is validated on its own: an invalid one becomes a
// warning naming file, document, line and field path, and the others load (as Cilium keeps enforcing
// the policies it accepted).
import { readdirSync, statSync } from "node:fs";
import { readTextFile } from "../../scenario/read-text";
import { join as joinPath } from "node:path";
import { Checker, join } from "../../scenario/check";
import { lineOf, parseAllYamlWithPositions } from "../../scenario/yaml-positions";
import { stableUuid } from "../../cluster/hash";
import { parseRule, type RuleContext } from "./parse-rule";
import { parseKnpSpec } from "./parse-knp";
import type { PolicyKind, PolicyRecord, PolicyWarning, Rule } from "./types";
import { CIDR_GROUP_API_VERSIONS, CIDR_GROUP_KIND, parseCidrGroupSpec, type CidrGroup } from "./cidr-group";

const KINDS: Record<string, { kind: PolicyKind; apiVersions: string[] }> = {
  CiliumNetworkPolicy: { kind: "CiliumNetworkPolicy", apiVersions: ["cilium.io/v2"] },
  CiliumClusterwideNetworkPolicy: { kind: "CiliumClusterwideNetworkPolicy", apiVersions: ["cilium.io/v2"] },
  NetworkPolicy: { kind: "NetworkPolicy", apiVersions: ["networking.k8s.io/v1"] },
};
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function policyKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}

export function derivedFromLabels(kind: PolicyKind, name: string, namespace: string | undefined, uid: string): string[] {
  const l = [
    `k8s:io.cilium.k8s.policy.derived-from=${kind}`,
    `k8s:io.cilium.k8s.policy.name=${name}`,
    ...(namespace === undefined ? [] : [`k8s:io.cilium.k8s.policy.namespace=${namespace}`]),
    `k8s:io.cilium.k8s.policy.uid=${uid}`,
  ];
  return l.sort();
}

export interface PolicyText {
  policies: PolicyRecord[];
  warnings: PolicyWarning[];
  /** CiliumCIDRGroup documents, which live in policy files but are not policies */
  cidrGroups: CidrGroup[];
}

export function parsePolicyText(text: string, source: string): PolicyText {
  const policies: PolicyRecord[] = [];
  const cidrGroups: CidrGroup[] = [];
  const warnings: PolicyWarning[] = [];
  // the documents read so far by key, with their name's line: a later one of the same key replaces it
  const byKey = new Map<string, { rec: PolicyRecord | CidrGroup; line: number | undefined }>();
  const docs = parseAllYamlWithPositions(text);
  docs.forEach((doc, i) => {
    const docNo = i + 1;
    const warn = (path: string, message: string, line: number | undefined, meta: Partial<PolicyWarning> = {}) => {
      const who = meta.kind ? ` (${meta.kind} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? "?"})` : "";
      warnings.push({
        file: source,
        source,
        document: docNo,
        ...(line !== undefined ? { line } : {}),
        ...meta,
        path,
        message,
        text: `${source}: document ${docNo}${who}${line !== undefined ? `, line ${line}` : ""}: ${path ? `${path}: ` : ""}${message}`,
      });
    };
    if (doc.syntaxErrors.length) {
      for (const e of doc.syntaxErrors) {
        const m = /^line (\d+): (.*)$/.exec(e);
        warn("", `YAML syntax error: ${m ? m[2] : e}`, m ? Number(m[1]) : doc.startLine);
      }
      return;
    }
    if (doc.value === null || doc.value === undefined) return;
    const c = new Checker();
    const rec = parseDocument(c, doc.value, source, docNo, doc.text);
    const raw = doc.value as Record<string, unknown>;
    const meta = (raw && typeof raw === "object" ? (raw.metadata as Record<string, unknown>) : undefined) ?? {};
    const info: Partial<PolicyWarning> = {
      ...(typeof raw?.kind === "string" ? { kind: raw.kind } : {}),
      ...(typeof meta.name === "string" ? { name: meta.name } : {}),
      ...(typeof meta.namespace === "string" ? { namespace: meta.namespace } : rec && "namespace" in rec && rec.namespace ? { namespace: rec.namespace } : {}),
    };
    if (!c.ok || !rec) {
      for (const iss of c.issues) warn(iss.path, iss.message, lineOf(doc.lines, iss.path) ?? doc.startLine, info);
      return;
    }
    // Two documents of the same kind, namespace and name: as `kubectl apply -f` of the file would, the
    // later one replaces the earlier, which is reported (at the earlier one: it is the one not in force).
    const key = rec.kind === CIDR_GROUP_KIND ? `${CIDR_GROUP_KIND}//${rec.name}` : (rec as PolicyRecord).key;
    const prev = byKey.get(key);
    if (prev) {
      if (prev.rec.kind === CIDR_GROUP_KIND) cidrGroups.splice(cidrGroups.indexOf(prev.rec as CidrGroup), 1);
      else policies.splice(policies.indexOf(prev.rec as PolicyRecord), 1);
      const ns = "namespace" in prev.rec ? prev.rec.namespace : undefined;
      const message = `document ${docNo} replaces this document (same kind, namespace and name): document ${docNo} is the one in force`;
      warnings.push({
        file: source,
        source,
        document: prev.rec.documentIndex,
        ...(prev.line !== undefined ? { line: prev.line } : {}),
        kind: prev.rec.kind,
        name: prev.rec.name,
        ...(ns ? { namespace: ns } : {}),
        path: "metadata.name",
        message,
        text: `${source}: document ${prev.rec.documentIndex} (${prev.rec.kind} ${ns ? `${ns}/` : ""}${prev.rec.name})${prev.line !== undefined ? `, line ${prev.line}` : ""}: metadata.name: ${message}`,
      });
    }
    byKey.set(key, { rec, line: lineOf(doc.lines, "metadata.name") ?? doc.startLine });
    if (rec.kind === CIDR_GROUP_KIND) cidrGroups.push(rec);
    else policies.push(rec);
  });
  return { policies, warnings, cidrGroups };
}

function parseDocument(c: Checker, v: unknown, source: string, docNo: number, yaml: string): PolicyRecord | CidrGroup | undefined {
  const o = c.obj(v, "", ["apiVersion", "kind", "metadata", "spec", "specs", "status"], ["apiVersion", "kind", "metadata"]);
  const kindText = typeof o.kind === "string" ? o.kind : undefined;
  if (kindText === CIDR_GROUP_KIND) return parseCidrGroupDocument(c, o, source, docNo, yaml);
  const k = kindText ? KINDS[kindText] : undefined;
  if (kindText !== undefined && !k) {
    c.err("kind", `unsupported kind "${kindText}" (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or CiliumCIDRGroup)`);
    return undefined;
  }
  if (!k) return undefined;
  if (typeof o.apiVersion === "string" && !k.apiVersions.includes(o.apiVersion)) c.err("apiVersion", `must be ${k.apiVersions.join(" or ")} for ${k.kind}, got "${o.apiVersion}"`);
  const md = c.obj(o.metadata, "metadata", ["name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp"], ["name"]);
  const name = c.str(md.name, "metadata.name") ?? "";
  if (name && (!NAME.test(name) || name.length > 253)) c.err("metadata.name", `"${name}" is not a valid Kubernetes name`);
  c.strMap(md.labels, "metadata.labels");
  c.strMap(md.annotations, "metadata.annotations");
  const clusterwide = k.kind === "CiliumClusterwideNetworkPolicy";
  let namespace: string | undefined = c.str(md.namespace, "metadata.namespace");
  if (clusterwide) {
    if (namespace !== undefined) c.err("metadata.namespace", "CiliumClusterwideNetworkPolicy is cluster-scoped and takes no namespace");
    namespace = undefined;
  } else namespace = namespace ?? "default";
  const uid = c.str(md.uid, "metadata.uid") ?? stableUuid(policyKey(k.kind, namespace, name));
  const labels = derivedFromLabels(k.kind, name, namespace, uid);
  const rec: PolicyRecord = {
    key: policyKey(k.kind, namespace, name),
    kind: k.kind,
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    uid,
    source,
    documentIndex: docNo,
    yaml,
    revision: 0,
    labels,
    hubble: {},
    rules: [],
  };
  const ctx: RuleContext = { c, policy: rec, namespace, clusterwide };
  const rules: Rule[] = [];
  if (k.kind === "NetworkPolicy") {
    if (o.specs !== undefined) c.err("specs", "NetworkPolicy has no specs; use spec");
    if (o.spec === undefined) c.err("spec", "is required");
    else {
      const r = parseKnpSpec(ctx, o.spec, "spec", namespace!);
      if (r) rules.push(r);
    }
  } else {
    if (o.spec === undefined && o.specs === undefined) c.err("spec", "one of spec or specs is required");
    if (o.spec !== undefined) {
      const r = parseRule(ctx, o.spec, "spec");
      if (r) rules.push(r);
    }
    c.arr(o.specs, "specs").forEach((s, i) => {
      const r = parseRule(ctx, s, join("specs", i));
      if (r) rules.push(r);
    });
  }
  if (!c.ok) return undefined;
  rec.rules = rules;
  return rec;
}

function parseCidrGroupDocument(c: Checker, o: Record<string, unknown>, source: string, docNo: number, yaml: string): CidrGroup | undefined {
  if (typeof o.apiVersion === "string" && !CIDR_GROUP_API_VERSIONS.includes(o.apiVersion)) c.err("apiVersion", `must be ${CIDR_GROUP_API_VERSIONS.join(" or ")} for ${CIDR_GROUP_KIND}, got "${o.apiVersion}"`);
  if (o.specs !== undefined) c.err("specs", `${CIDR_GROUP_KIND} has no specs; use spec`);
  const md = c.obj(o.metadata, "metadata", ["name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp"], ["name"]);
  const name = c.str(md.name, "metadata.name") ?? "";
  if (name && (!NAME.test(name) || name.length > 253)) c.err("metadata.name", `"${name}" is not a valid Kubernetes name`);
  if (md.namespace !== undefined) c.err("metadata.namespace", `${CIDR_GROUP_KIND} is cluster-scoped and takes no namespace`);
  const labels = c.strMap(md.labels, "metadata.labels");
  c.strMap(md.annotations, "metadata.annotations");
  return parseCidrGroupSpec(c, o.spec, name, labels, source, docNo, yaml);
}

/** policy files under the given files/folders: .yaml, .yml and .json, in sorted order */
export function listPolicyFiles(paths: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const visit = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      missing.push(p);
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const child = joinPath(p, e);
        if (statSync(child).isDirectory()) visit(child);
        else if (/\.(ya?ml|json)$/i.test(e)) files.push(child);
      }
    } else files.push(p);
  };
  paths.forEach(visit);
  return { files, missing };
}

/** The policy files under `paths` and their text; what could not be read is a warning. */
export function readPolicyFileTexts(paths: string[]): { texts: { file: string; text: string }[]; warnings: PolicyWarning[] } {
  const { files, missing } = listPolicyFiles(paths);
  const warnings: PolicyWarning[] = missing.map((m) => ({ file: m, source: m, document: 0, path: "", message: "no such file or folder", text: `${m}: no such file or folder` }));
  const texts: { file: string; text: string }[] = [];
  for (const f of files) {
    try {
      texts.push({ file: f, text: readTextFile(f) });
    } catch (e) {
      const message = `cannot read policy file: ${(e as Error).message}`;
      warnings.push({ file: f, source: f, document: 0, path: "", message, text: `${f}: ${message}` });
    }
  }
  return { texts, warnings };
}

/**
 * The files' parsed texts as one: a later policy or CIDR group of the same name replaces an earlier one,
 * saying so in a warning about the earlier one (the one no longer in force), which names the one in force.
 */
export function combinePolicyFiles(parsed: { file: string; text: PolicyText }[], readWarnings: PolicyWarning[]): PolicyText {
  const policies: PolicyRecord[] = [];
  const groups = new Map<string, CidrGroup>();
  const warnings = [...readWarnings];
  const seen = new Map<string, PolicyRecord>();
  for (const { file: f, text: r } of parsed) {
    for (const p of r.policies) {
      const prev = seen.get(p.key);
      if (prev) {
        const message = `replaced by the ${p.kind} of the same name in ${f} document ${p.documentIndex}, which is the one in force`;
        warnings.push({
          file: prev.source,
          source: prev.source,
          document: prev.documentIndex,
          kind: p.kind,
          name: p.name,
          ...(p.namespace ? { namespace: p.namespace } : {}),
          path: "metadata.name",
          message,
          text: `${prev.source}: document ${prev.documentIndex} (${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}): metadata.name: ${message}`,
        });
        policies.splice(policies.indexOf(prev), 1);
      }
      seen.set(p.key, p);
      policies.push(p);
    }
    for (const g of r.cidrGroups) {
      const prev = groups.get(g.name);
      if (prev) {
        const message = `replaced by the ${CIDR_GROUP_KIND} of the same name in ${f} document ${g.documentIndex}, which is the one in force`;
        warnings.push({ file: prev.source, source: prev.source, document: prev.documentIndex, kind: CIDR_GROUP_KIND, name: g.name, path: "metadata.name", message, text: `${prev.source}: document ${prev.documentIndex} (${CIDR_GROUP_KIND} ${g.name}): metadata.name: ${message}` });
        groups.delete(g.name);
      }
      groups.set(g.name, g);
    }
    warnings.push(...r.warnings);
  }
  return { policies, warnings, cidrGroups: [...groups.values()] };
}
