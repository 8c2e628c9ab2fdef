// A minimal Prometheus text-format registry: counters and gauges with labels. Label values come from
// traffic, so they are escaped and the number of series per metric is capped (new series beyond the
// cap are folded into one `other` series rather than growing memory without bound).

const MAX_SERIES = 2000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export class Metric {
  private readonly series = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly labelNames: readonly string[],
  ) {}

  private key(values: readonly string[]): string {
    return values.map((v, i) => `${this.labelNames[i]}="${escapeLabel(String(v).slice(0, 256))}"`).join(",");
  }

  inc(values: readonly string[], by = 1): void {
    let k = this.key(values);
    if (!this.series.has(k) && this.series.size >= MAX_SERIES) k = this.key(this.labelNames.map(() => "other"));
    this.series.set(k, (this.series.get(k) ?? 0) + by);
  }

  set(values: readonly string[], v: number): void {
    this.series.set(this.key(values), v);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.series) lines.push(k ? `${this.name}{${k}} ${v}` : `${this.name} ${v}`);
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
