import { Counter, type Registry } from 'prom-client';

/** One labelled series: add to `n` on the hot path; prom-client sees the sum at the next scrape. */
export interface CounterSeries {
  n: number;
}

export interface DeferredCounter<L extends string> {
  /** The series of a label set (the same object for the same labels). Callers keep it: lookups cost more than the addition. */
  series(labels: Record<L, string>): CounterSeries;
  /** Drop every series whose `label` is `value` (an expired service label): from /metrics too. Callers forget the series they kept. */
  removeWhere(label: L, value: string): void;
}

/**
 * A Prometheus counter whose increments are plain number additions on the hot path and are handed to
 * prom-client only when /metrics is scraped (its `collect` hook). prom-client hashes the label set on
 * every `inc`, which cost the gateway ~10% of a single-event request; scrapes are rare by comparison.
 */
export function deferredCounter<L extends string>(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }): DeferredCounter<L> {
  const byKey = new Map<string, { labels: Record<L, string>; series: CounterSeries }>();
  const counter: Counter<L> = new Counter<L>({
    ...config,
    labelNames: [...config.labelNames],
    collect() {
      for (const { labels, series } of byKey.values()) {
        if (series.n === 0) continue;
        counter.inc(labels, series.n);
        series.n = 0;
      }
    },
  });
  return {
    series(labels) {
      const key = config.labelNames.map((name) => labels[name]).join('\u0000');
      let entry = byKey.get(key);
      if (entry === undefined) byKey.set(key, (entry = { labels: { ...labels }, series: { n: 0 } }));
      return entry.series;
    },
    removeWhere(label, value) {
      for (const [key, entry] of byKey) {
        if (entry.labels[label] !== value) continue;
        byKey.delete(key);
        counter.remove(entry.labels);
      }
    },
  };
}
