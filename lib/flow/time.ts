// RFC 3339 timestamps as Hubble writes them (any number of fraction digits), read into epoch
// milliseconds with every field checked: Date.UTC alone would roll 2024-02-30T25:61 over into March.
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch milliseconds (floored) of an RFC 3339 timestamp with any number of fraction digits, or NaN. */
export function timestampMs(s: string | undefined): number {
  if (!s) return NaN;
  const m = RFC3339_RE.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", frac = "", zone] = m;
  // Date.UTC rolls 2024-13-45T99:99 over into a later date: a field out of range is not a time
  const day = new Date(Date.UTC(+y, +mo - 1, +d));
  if (day.getUTCMonth() !== +mo - 1 || day.getUTCDate() !== +d || +h > 23 || +mi > 59 || +sec > 59) return NaN;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec) + Math.floor(Number((frac + "000").slice(0, 3)));
  if (zone && zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const off = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    ms -= z[1] === "+" ? off : -off;
  }
  return ms;
}
