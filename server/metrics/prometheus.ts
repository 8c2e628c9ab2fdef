// A minimal Prometheus text-format registry: counters and gauges with labels.
//
// Label values come from traffic and from imported Hubble flows, so they are untrusted:
//  - every value is first made safe (labelValue): control characters other than newline, and invalid
//    UTF-16 (lone surrogates), become `\uXXXX` text, and the result is cut to MAX_LABEL_VALUE_LENGTH
//    UTF-16 units without splitting a surrogate pair or a `\uXXXX` sequence. The text format only
//    defines the escapes \\, \" and \n, which are applied when rendering.
//  - series are keyed by those safe, cut values, never by the raw ones: two raw values that print the
//    same are the same series (their counts add up), and a series holds at most
//    labels × MAX_LABEL_VALUE_LENGTH characters however long the raw values were.
//  - a metric holds at most MAX_SERIES series. Once full, an observation of a new label set is counted
//    in the series whose labels are all `other`, and in flowscope_metrics_series_overflow_total{metric}.

export const MAX_SERIES = 2000;
export const MAX_LABEL_VALUE_LENGTH = 256;
/** the label value of the series that takes observations beyond a metric's series cap */
export const OVERFLOW_LABEL_VALUE = "other";
export const OVERFLOW_METRIC_NAME = "flowscope_metrics_series_overflow_total";

// Characters a value must not carry as they are: C0 controls except newline (which the format
// escapes), DEL, C1 controls, the Unicode line/paragraph separators, and lone surrogates.
const UNSAFE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unsafeUnit(c: number): boolean {
  return (c <= 0x1f && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff);
}

function hex4(c: number): string {
  return "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * The label value stored and printed for a raw value: unsafe characters as `\uXXXX` text, then at
 * most MAX_LABEL_VALUE_LENGTH UTF-16 units. Only the first few hundred units of the raw value are
 * read, so a huge value costs no more than a short one.
 */
export function labelValue(raw: unknown): string {
  const s = typeof raw === "string" ? raw : String(raw ?? "");
  if (s.length <= MAX_LABEL_VALUE_LENGTH && !UNSAFE.test(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let piece: string;
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        piece = String.fromCharCode(c, d);
        width = 2;
      } else piece = hex4(c);
    } else piece = unsafeUnit(c) ? hex4(c) : String.fromCharCode(c);
    if (out.length + piece.length > MAX_LABEL_VALUE_LENGTH) break;
    out += piece;
    i += width - 1;
  }
  return out;
}

/** A flat copy that shares no storage with (and so keeps nothing alive of) the strings it came from. */
function detached(s: string): string {
  return s === "" ? "" : Buffer.from(s, "utf8").toString("utf8");
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

// Separates label values in a series key. labelValue never lets NUL through, so keys are unambiguous.
const SEP = "\u0000";

interface Series {
  /** the safe, cut label values, escaped only when rendered */
  values: readonly string[];
  value: number;
}

export class Metric {
  // Keyed by the safe, cut label values joined with NUL: every flow increments a few series, and a
  // lookup must not pay for escaping and formatting that only the (rare) scrape needs.
  private readonly series = new Map<string, Series>();
  private readonly otherKey: string;
  private overflowCount = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly labelNames: readonly string[],
    readonly maxSeries = MAX_SERIES,
  ) {
    this.otherKey = labelNames.map(() => OVERFLOW_LABEL_VALUE).join(SEP);
  }

  /** number of series held (at most maxSeries, plus the `other` series) */
  get size(): number {
    return this.series.size;
  }

  /** observations of new label sets counted in the `other` series because the metric was full */
  get overflows(): number {
    return this.overflowCount;
  }

  /** characters held for series identity: every key plus every stored label value */
  get storedChars(): number {
    let n = 0;
    for (const [key, s] of this.series) n += key.length + s.values.reduce((a, v) => a + v.length, 0);
    return n;
  }

  /** the label values of every series, as stored */
  labelSets(): string[][] {
    return [...this.series.values()].map((s) => [...s.values]);
  }

  private entry(values: readonly string[]): Series {
    // exactly one value per label name: a missing value is "", an extra one is ignored
    const key = this.labelNames.map((_, i) => labelValue(values[i])).join(SEP);
    const s = this.series.get(key);
    if (s !== undefined) return s;
    if (this.series.size >= this.maxSeries && key !== this.otherKey) {
      this.overflowCount++;
      return this.series.get(this.otherKey) ?? this.add(this.otherKey);
    }
    return this.add(key);
  }

  private add(key: string): Series {
    const own = detached(key);
    const s: Series = { values: this.labelNames.length ? own.split(SEP) : [], value: 0 };
    this.series.set(own, s);
    return s;
  }

  inc(values: readonly string[], by = 1): void {
    this.entry(values).value += by;
  }

  set(values: readonly string[], v: number): void {
    this.entry(values).value = v;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, value } of this.series.values()) {
      const labels = values.map((v, i) => `${this.labelNames[i]}="${escapeLabel(v)}"`).join(",");
      lines.push(labels ? `${this.name}{${labels}} ${value}` : `${this.name} ${value}`);
    }
    return lines.join("\n");
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string, labels: readonly string[] = []): Metric {
    const m = new Metric(name, help, "counter", labels);
    this.metrics.push(m);
    return m;
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Metric {
    const m = new Metric(name, help, "gauge", labels);
    this.metrics.push(m);
    return m;
  }

  /** runs before each render to refresh gauges that are read, not pushed */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  render(): string {
    for (const c of this.collectors) c();
    const blocks = this.metrics.map((m) => m.render());
    // one series per labelled metric (an unlabelled metric has a single series and cannot overflow)
    const labelled = this.metrics.filter((m) => m.labelNames.length > 0);
    if (labelled.length) {
      blocks.push(
        [
          `# HELP ${OVERFLOW_METRIC_NAME} Observations of a new label set counted in the metric's series labelled "${OVERFLOW_LABEL_VALUE}" because the metric already held ${MAX_SERIES} series`,
          `# TYPE ${OVERFLOW_METRIC_NAME} counter`,
          ...labelled.map((m) => `${OVERFLOW_METRIC_NAME}{metric="${escapeLabel(m.name)}"} ${m.overflows}`),
        ].join("\n"),
      );
    }
    return blocks.join("\n") + "\n";
  }
}
