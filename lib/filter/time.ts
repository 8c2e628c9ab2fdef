// Time arguments: RFC 3339 (any fraction), a date, epoch milliseconds, or hubble's relative durations
// (`30s`, `5m`, `1h30m`, `500ms`) meaning "that long before now". Every layout hubble observe's
// --since/--until take (hubble/pkg/time/time.go) is accepted: YearMonthDay (2006-01-02),
// YearMonthDayHour (2006-01-02T15Z07:00), YearMonthDayHourMinute (2006-01-02T15:04Z07:00),
// RFC3339[Milli|Micro|Nano] and RFC1123Z (Mon, 02 Jan 2006 15:04:05 -0700).
import { FilterError } from "./types";
import { timestampMs } from "../flow/time";

export { timestampMs };

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of a duration like `1h43m`, `500ms`, `.5h` or `0`, with Go's optional sign (time.ParseDuration,
 * plus the unit d), or null. hubble subtracts it from now, so `-5m` is five minutes ahead.
 */
export function parseDuration(s: string): number | null {
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.startsWith("-") || s.startsWith("+") ? s.slice(1) : s;
  if (body === "0") return 0;
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d))+$/.test(body)) return null;
  let total = 0;
  for (const m of body.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return sign * total;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

// Go's layouts where they differ from RFC 3339. Hours may have one digit (Go's "15" reads 1 or 2), the
// zone is Z or ±hh:mm (Go's Z07:00). Names compare case-insensitively as Go's time.Parse does, and the
// weekday is checked to be a day's name but not against the date (Go ignores it as well).
const YEAR_MONTH_DAY_HOUR_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2})(Z|[+-]\d{2}:\d{2})$/;
const YEAR_MONTH_DAY_HOUR_MINUTE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2})(Z|[+-]\d{2}:\d{2})$/;
const RFC1123Z_RE = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2})(\.\d+)? ([+-]\d{4})$/;

/** Epoch ms of a time in one of hubble's layouts that RFC 3339 parsing does not cover, or NaN. */
function goLayoutMs(v: string): number {
  const two = (s: string) => s.padStart(2, "0");
  let m = YEAR_MONTH_DAY_HOUR_RE.exec(v);
  if (m) return timestampMs(`${m[1]}-${m[2]}-${m[3]}T${two(m[4])}:00:00${m[5]}`);
  m = YEAR_MONTH_DAY_HOUR_MINUTE_RE.exec(v);
  if (m) return timestampMs(`${m[1]}-${m[2]}-${m[3]}T${two(m[4])}:${m[5]}:00${m[6]}`);
  m = RFC1123Z_RE.exec(v);
  if (m) {
    const month = MONTHS.indexOf(m[3].toLowerCase());
    if (!DAYS.includes(m[1].toLowerCase()) || month < 0) return NaN;
    const zone = `${m[9].slice(0, 3)}:${m[9].slice(3)}`;
    return timestampMs(`${m[4]}-${two(String(month + 1))}-${m[2]}T${two(m[5])}:${m[6]}:${m[7]}${m[8] ?? ""}${zone}`);
  }
  return NaN;
}

/**
 * The times accepted: those RFC 3339 can write, 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. Queries
 * keep resolved times as RFC 3339 text (isoMs) and read them back, and a JavaScript Date ends at ±8.64e15 ms:
 * a time outside this range would fail later as "Invalid time value" (a 500) or as an unreadable
 * "+011476-…" date, so it is refused here, naming the field.
 */
export const MIN_TIME_MS = -62167219200000;
export const MAX_TIME_MS = 253402300799999;

function inRange(ms: number, value: string | number, field: string, what: string): number {
  if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw new FilterError(field, `${what} ${JSON.stringify(String(value).slice(0, 40))} is out of range: times must lie between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z`);
  }
  return ms;
}

/** Resolves a since/until argument to epoch milliseconds; throws FilterError naming `field`. */
export function parseTimeArg(value: string | number, field: string, now: number = Date.now()): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FilterError(field, `invalid time ${value}`);
    return inRange(Math.floor(value), value, field, "time");
  }
  const v = String(value).trim();
  if (/^\d{11,}$/.test(v)) return inRange(Number(v), value, field, "epoch milliseconds");
  const dur = parseDuration(v);
  if (dur !== null) return inRange(now - dur, value, field, "duration");
  let ms = timestampMs(v);
  if (Number.isNaN(ms)) ms = goLayoutMs(v);
  if (Number.isNaN(ms)) {
    throw new FilterError(field, `invalid time ${JSON.stringify(value)}: use RFC 3339 (2024-05-01T10:00:00Z), a date (2024-05-01), 2024-05-01T10Z, 2024-05-01T10:30Z, RFC 1123Z (Wed, 01 May 2024 10:00:00 +0000), epoch ms, or a duration like 5m or 1h30m`);
  }
  return inRange(ms, value, field, "time");
}

/** RFC 3339 with milliseconds, for storing resolved times in a FlowQuery. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
