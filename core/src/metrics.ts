import { Counter, Histogram, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

const SEP = '\u0000';
const shared = new WeakMap<Registry, Map<string, FastCounter<string>>>();

/**
 * A prom-client counter for packet paths: `inc` is a Map addition keyed by the label values, and the
 * totals are handed to prom-client only when the registry is read (a /metrics scrape, or
 * `getSingleMetric(name).get()`). prom-client's own `inc` hashes the label object on every call,
 * which cost a DHCP exchange about 3.5 µs of its 40.
 */
export class FastCounter<L extends string> {
  private readonly counts: Level = new Map();
  private readonly labelNames: readonly L[];
  readonly metric: Counter<L>;

  private constructor(
    cfg: { name: string; help: string; labelNames: readonly L[] },
    registry: Registry,
  ) {
    const counts = this.counts;
    const labelNames = (this.labelNames = cfg.labelNames);
    this.metric = new Counter<L>({
      name: cfg.name,
      help: cfg.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [values, n] of leaves(counts, [], Math.max(0, labelNames.length - 1))) {
          const labels = {} as Record<L, string>;
          labelNames.forEach((l, i) => (labels[l] = values[i]));
          this.inc(labels, n);
        }
      },
    });
  }

  /** The counter `name` of this registry (made on first use: plugins of several kernels share one). */
  static in<L extends string>(registry: Registry, cfg: { name: string; help: string; labelNames: readonly L[] }): FastCounter<L> {
    let byName = shared.get(registry);
    if (!byName) shared.set(registry, (byName = new Map()));
    let c = byName.get(cfg.name) as FastCounter<L> | undefined;
    if (!c) {
      c = new FastCounter(cfg, registry);
      byName.set(cfg.name, c as unknown as FastCounter<string>);
    }
    return c;
  }

  inc(labels: Record<L, string>, by = 1): void {
    // One Map per label, keyed by its value: label values are mostly constant strings whose hash V8
    // keeps, where a joined key was a new string to hash on every call.
    const names = this.labelNames;
    let level: Level = this.counts;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const v = labels[names[i]] ?? '';
      let next = level.get(v) as Level | undefined;
      if (!next) level.set(v, (next = new Map()));
      level = next;
    }
    const v = last < 0 ? '' : (labels[names[last]] ?? '');
    level.set(v, ((level.get(v) as number | undefined) ?? 0) + by);
  }
}

/** FastCounter's counts: a Map per label level, the last level's values are the counts. */
type Level = Map<string, Level | number>;

function* leaves(level: Level, path: string[], depth: number): Generator<[string[], number]> {
  for (const [v, next] of level) {
    if (depth === 0) yield [[...path, v], next as number];
    else yield* leaves(next as Level, [...path, v], depth - 1);
  }
}

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative), by upper bound index. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A prom-client histogram for per-request paths: `observe` finds the bucket and adds to a Map entry
 * keyed by the label values; the registry reads the same series prom-client's own Histogram would
 * show (cumulative `_bucket{le}`, `+Inf`, `_sum`, `_count`). prom-client's `observe` validates and
 * hashes the label object on every call (about 1 µs of a boot request).
 */
export class FastHistogram<L extends string> {
  private readonly series = new Map<string, Series>();
  private readonly labelNames: readonly L[];
  private readonly bounds: number[];
  readonly metric: Histogram<L>;

  constructor(cfg: { name: string; help: string; labelNames: readonly L[]; buckets: number[] }, registry: Registry) {
    this.labelNames = cfg.labelNames;
    this.bounds = [...cfg.buckets].sort((a, b) => a - b);
    const snapshot = () => this.snapshot(cfg.name, cfg.help);
    class Fast extends Histogram<L> {
      override async get() {
        return snapshot();
      }
      async getForPromString() {
        return snapshot();
      }
    }
    this.metric = new Fast({ name: cfg.name, help: cfg.help, labelNames: cfg.labelNames, buckets: this.bounds, registers: [registry] });
  }

  observe(labels: Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) return;
    const names = this.labelNames;
    let key = names.length ? (labels[names[0]] ?? '') : '';
    for (let i = 1; i < names.length; i++) key += SEP + (labels[names[i]] ?? '');
    let s = this.series.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of names) if (labels[n] !== undefined) own[n] = labels[n];
      s = { labels: own, buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) s.buckets[i]++;
    s.sum += value;
    s.count++;
  }

  private snapshot(name: string, help: string): MetricObjectWithValues<MetricValueWithName<string>> {
    const values: MetricValueWithName<string>[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.buckets[i];
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram', values, aggregator: 'sum' } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }
}
