// Builds whitelist/blacklist FlowFilters from "flag"-style inputs the way the hubble CLI does: either-side
// flags (--pod, --label, …) go to a left filter as source_* and to a right filter as destination_*;
// --from-*/--to-* and every other flag go to both; left and right collapse into one filter when equal.
// So `--pod a --verdict DROPPED` means "(from a OR to a) AND DROPPED", and repeating a flag ORs values.
import { compileIPFilter } from "./ip";
import { parseLabelSelector } from "./labels";
import { parseNamespacedName, parsePort } from "./match";
import { compileFqdnPatterns } from "./patterns";
import type { FlowFilter, WorkloadFilter } from "./types";
import { FilterError } from "./types";
import { RESERVED_IDENTITY_NAMES } from "../flow/enums";

const RESERVED_IDENTITY_IDS = new Map<string, number>([["unknown", 0], ...Object.entries(RESERVED_IDENTITY_NAMES).map(([id, name]) => [name, Number(id)] as [string, number])]);

export type SidedKind = "namespace" | "pod" | "label" | "ip" | "fqdn" | "identity" | "port" | "workload" | "service" | "cluster";
export type Side = "either" | "from" | "to";

export const SIDED_KINDS: readonly SidedKind[] = ["namespace", "pod", "label", "ip", "fqdn", "identity", "port", "workload", "service", "cluster"];

/** FlowFilter attributes that do not depend on a side. */
export type AttrField = Exclude<keyof FlowFilter,
  | "source_ip" | "source_pod" | "source_fqdn" | "source_label" | "source_service" | "source_workload" | "source_cluster_name" | "source_identity" | "source_port"
  | "destination_ip" | "destination_pod" | "destination_fqdn" | "destination_label" | "destination_service" | "destination_workload" | "destination_cluster_name" | "destination_identity" | "destination_port"
  | "source_map_node" | "destination_map_node" | "map_edge">;

const FIELD_OF: Record<Exclude<SidedKind, "namespace">, string> = {
  pod: "pod",
  label: "label",
  ip: "ip",
  fqdn: "fqdn",
  identity: "identity",
  port: "port",
  workload: "workload",
  service: "service",
  cluster: "cluster_name",
};

export function parseWorkload(value: string, field: string): WorkloadFilter {
  // `kind/name`, `kind:name` (Hubble UI) or a bare name
  const m = /^([^/:]+)[/:]([^/:]+)$/.exec(value);
  if (m) return { kind: m[1], name: m[2] };
  if (!value || /[/:]/.test(value)) throw new FilterError(field, `invalid workload ${JSON.stringify(value)} (expected name or kind/name)`);
  return { name: value };
}

/** Checks one value early so the error names the flag or parameter the user typed. */
/** An identity as a number's text; hubble's parseIdentity takes reserved names too (--identity world). */
export function resolveIdentity(value: string): string {
  if (/^[1-9]\d*$|^0$/.test(value)) return value;
  // hubble reads a number as Go's strconv.ParseUint(s, 0, 32) does: 0x… hex, 0o… or 0… octal, 0b… binary
  const based = /^0(?:[xX]([0-9a-fA-F]+)|[oO]?([0-7]+)|[bB]([01]+))$/.exec(value);
  if (based) return String(based[1] !== undefined ? parseInt(based[1], 16) : based[2] !== undefined ? parseInt(based[2], 8) : parseInt(based[3]!, 2));
  return String(RESERVED_IDENTITY_IDS.get(value) ?? value);
}

export function validateSided(kind: SidedKind, value: string, label: string): void {
  if (typeof value !== "string" || value.trim() === "") throw new FilterError(label, "empty value");
  switch (kind) {
    case "namespace":
      if (value.includes("/")) throw new FilterError(label, `invalid namespace ${JSON.stringify(value)}`);
      return;
    case "pod":
    case "service":
      parseNamespacedName(value, label);
      return;
    case "label":
      parseLabelSelector(value, label);
      return;
    case "ip":
      compileIPFilter(value, label);
      return;
    case "fqdn":
      compileFqdnPatterns([value], label);
      return;
    case "identity":
      if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new FilterError(label, `invalid identity ${JSON.stringify(value)} (a number or a reserved name: ${[...RESERVED_IDENTITY_IDS.keys()].join(", ")})`);
      return;
    case "port":
      parsePort(value, label);
      return;
    case "workload":
      parseWorkload(value, label);
      return;
    case "cluster":
      return;
  }
}

export interface BuilderOptions {
  /** namespace given to pods without one (hubble CLI: "default"); undefined = any namespace */
  defaultNamespace?: string;
  /**
   * refuse a namespace that contradicts a namespaced pod or service on its side, and a service in
   * another namespace than a pod on the same side, as hubble observe does (checkNamespaceConflicts)
   */
  namespaceConflicts?: boolean;
}

export class FilterPairBuilder {
  private sided = new Map<string, { values: string[]; label: string }>();
  private attrs: FlowFilter = {};
  private used = false;

  constructor(private readonly opts: BuilderOptions = {}) {}

  get isEmpty(): boolean {
    return !this.used;
  }

  /** `label` names the flag/param in errors. */
  addSided(kind: SidedKind, side: Side, value: string, label: string): void {
    const other = side === "either" ? ["from", "to"] : ["either"];
    for (const o of other) {
      const k = this.sided.get(`${kind}:${o}`);
      if (k && kind !== "namespace" && kind !== "pod") {
        throw new FilterError(label, `cannot be combined with ${k.label}`);
      }
    }
    if (kind === "identity") value = resolveIdentity(value);
    validateSided(kind, value, label);
    this.push(kind, side, value, label);
  }

  /** --all-namespaces (-A, --from-/--to-all-namespaces): a namespace that matches any namespace */
  addAllNamespaces(side: Side, label: string): void {
    this.push("namespace", side, "", label);
  }

  private push(kind: SidedKind, side: Side, value: string, label: string): void {
    const key = `${kind}:${side}`;
    const cur = this.sided.get(key) ?? { values: [], label };
    cur.values.push(value);
    this.sided.set(key, cur);
    this.used = true;
  }

  /** a CEL expression: Hubble's --cel-expression goes into the filters' experimental.cel_expression */
  addCel(expr: string): void {
    this.attrs.experimental = { cel_expression: [...(this.attrs.experimental?.cel_expression ?? []), expr] };
    this.used = true;
  }

  addAttr<K extends AttrField>(field: K, values: NonNullable<FlowFilter[K]>): void {
    const cur = (this.attrs[field] as unknown[] | undefined) ?? [];
    (this.attrs as Record<string, unknown>)[field] = [...cur, ...(values as unknown[])];
    this.used = true;
  }

  private values(kind: SidedKind, side: Side): string[] {
    return this.sided.get(`${kind}:${side}`)?.values ?? [];
  }

  private pods(nsList: string[], pods: string[]): string[] {
    // "" (all namespaces) alone restricts nothing
    if (pods.length === 0) return nsList.filter((n) => n !== "").map((n) => `${n}/`);
    const out: string[] = [];
    for (const p of pods) {
      if (p.includes("/")) out.push(p);
      else if (nsList.length) for (const n of nsList) out.push(`${n}/${p}`);
      // "/name": any namespace (a bare name in a FlowFilter means "default", as in Hubble)
      else out.push(`${this.opts.defaultNamespace ?? ""}/${p}`);
    }
    return out;
  }

  private setSide(ff: FlowFilter, prefix: "source_" | "destination_", sides: Side[]): void {
    const ns = sides.flatMap((s) => this.values("namespace", s));
    const pods = sides.flatMap((s) => this.values("pod", s));
    const services = sides.flatMap((s) => this.values("service", s));
    const rec = ff as Record<string, unknown>;
    // hubble's namespaceModifier: a namespace goes onto the pods and services of its side, and becomes a
    // pod filter of its own only when the side has neither
    if (pods.length || (ns.length && !services.length)) {
      const list = this.pods(ns, pods);
      if (list.length) rec[`${prefix}pod`] = list;
    }
    for (const kind of SIDED_KINDS) {
      if (kind === "namespace" || kind === "pod") continue;
      const vals = sides.flatMap((s) => this.values(kind, s));
      if (!vals.length) continue;
      const field = `${prefix}${FIELD_OF[kind]}`;
      if (kind === "identity") {
        rec[field] = vals.map(Number);
      } else if (kind === "workload") {
        rec[field] = vals.map((v) => parseWorkload(v, field));
      } else if (kind === "service") {
        rec[field] = vals.flatMap((v) => (v.includes("/") ? [v] : ns.length ? ns.map((n) => `${n}/${v}`) : [`${this.opts.defaultNamespace ?? ""}/${v}`]));
      } else rec[field] = vals;
    }
  }

  /**
   * hubble observe's checkNamespaceConflicts: every namespace given must hold each namespaced pod and
   * service of its side (an either-side one: of both sides; all namespaces hold none), and a
   * namespaced pod's side may name services of that namespace only.
   */
  private checkNamespaceConflicts(): void {
    const named = (kind: SidedKind, sides: Side[]) => sides.flatMap((s) => this.values(kind, s));
    const nsOf = (name: string) => (name.includes("/") ? name.slice(0, name.indexOf("/")) : "");
    const check = (nsSide: Side, sides: Side[]) => {
      const entry = this.sided.get(`namespace:${nsSide}`);
      if (!entry) return;
      for (const n of entry.values) {
        for (const name of [...named("pod", sides), ...named("service", sides)]) {
          const nn = nsOf(name);
          if (nn !== "" && nn !== n) throw new FilterError(entry.label, `namespace conflict: ${JSON.stringify(n)} does not contain ${JSON.stringify(name)}`);
        }
      }
    };
    check("either", ["either", "from", "to"]);
    check("from", ["either", "from"]);
    check("to", ["either", "to"]);
    for (const sides of [["either", "from"], ["either", "to"]] as Side[][]) {
      for (const pod of named("pod", sides)) {
        const podNs = nsOf(pod);
        if (podNs === "") continue;
        for (const svc of named("service", sides)) {
          if (nsOf(svc) !== podNs) throw new FilterError(this.sided.get(`service:${sides.find((s) => this.sided.has(`service:${s}`))}`)!.label, `namespace of service ${JSON.stringify(svc)} conflicts with pod namespace ${JSON.stringify(podNs)}`);
        }
      }
    }
  }

  /** The filters this builder describes: none, one, or a left/right pair. */
  build(): FlowFilter[] {
    if (!this.used) return [];
    if (this.opts.namespaceConflicts) this.checkNamespaceConflicts();
    const left: FlowFilter = {};
    const right: FlowFilter = {};
    this.setSide(left, "source_", ["either", "from"]);
    this.setSide(left, "destination_", ["to"]);
    this.setSide(right, "source_", ["from"]);
    this.setSide(right, "destination_", ["either", "to"]);
    Object.assign(left, structuredClone(this.attrs));
    Object.assign(right, structuredClone(this.attrs));
    return canonicalJson(left) === canonicalJson(right) ? [left] : [left, right];
  }
}

/** JSON with object keys sorted, for comparing filters structurally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
