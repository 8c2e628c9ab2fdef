// Time arguments: RFC 3339 (any fraction), a date, epoch milliseconds, or hubble's relative durations
// (`30s`, `5m`, `1h30m`, `500ms`) meaning "that long before now".
import { FilterError } from "./types";
import { timestampMs } from "../flow/time";

export { timestampMs };

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration like `1h43m`, `500ms` or `.5h` (Go's time.ParseDuration units, plus d), or null. */
export function parseDuration(s: string): number | null {
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d))+$/.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** Resolves a since/until argument to epoch milliseconds; throws FilterError naming `field`. */
export function parseTimeArg(value: string | number, field: string, now: number = Date.now()): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FilterError(field, `invalid time ${value}`);
    return Math.floor(value);
  }
  const v = String(value).trim();
  if (/^\d{11,}$/.test(v)) return Number(v);
  const dur = parseDuration(v);
  if (dur !== null) return now - dur;
  const ms = timestampMs(v);
  if (Number.isNaN(ms)) {
    throw new FilterError(field, `invalid time ${JSON.stringify(value)}: use RFC 3339 (2024-05-01T10:00:00Z), a date, epoch ms, or a duration like 5m or 1h30m`);
  }
  return ms;
}

/** RFC 3339 with milliseconds, for storing resolved times in a FlowQuery. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
