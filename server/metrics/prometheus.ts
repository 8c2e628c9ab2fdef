// A minimal Prometheus text-format registry: counters and gauges with labels. Label values come from
// traffic, so they are escaped and the number of series per metric is capped (new series beyond the
// cap are folded into one `other` series rather than growing memory without bound).

const MAX_SERIES = 2000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

interface Series {
  /** the label values, bounded; escaped only when rendered */
  values: readonly string[];
  value: number;
}

export class Metric {
  // Keyed by the raw label values: every flow increments a few series, and a lookup must not pay
  // for escaping and formatting that only the (rare) scrape needs.
  private readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly labelNames: readonly string[],
  ) {}

  private entry(values: readonly string[]): Series {
    let raw = values.join("\u0000");
    // a value holding the separator itself gets an unambiguous (slower) key
    if (values.some((v) => v.includes("\u0000"))) raw = "\u0001" + JSON.stringify(values);
    let s = this.series.get(raw);
    if (s === undefined) {
      if (this.series.size >= MAX_SERIES) {
        const other = this.labelNames.map(() => "other");
        return other.join("\u0000") === raw ? this.add(raw, other) : this.entry(other);
      }
      s = this.add(raw, values);
    }
    return s;
  }

  private add(raw: string, values: readonly string[]): Series {
    const s = { values: values.map((v) => String(v).slice(0, 256)), value: 0 };
    this.series.set(raw, s);
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
    return this.metrics.map((m) => m.render()).join("\n") + "\n";
  }
}
