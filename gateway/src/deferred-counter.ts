import { Counter, type Registry } from 'prom-client';

export interface DeferredCounter<L extends string> {
  /** Add `n` to the series `key` (labels built only the first time a key is seen). */
  add(key: string, labels: () => Record<L, string>, n?: number): void;
}

/**
 * A Prometheus counter whose increments are plain number additions on the hot path and are handed to
 * prom-client only when /metrics is scraped (its `collect` hook). prom-client hashes the label set on
 * every `inc`, which cost the gateway ~10% of a single-event request; scrapes are rare by comparison.
 * Series keys are chosen by the caller and must identify the label set.
 */
export function deferredCounter<L extends string>(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }): DeferredCounter<L> {
  const pending = new Map<string, { labels: Record<L, string>; n: number }>();
  const counter: Counter<L> = new Counter<L>({
    ...config,
    labelNames: [...config.labelNames],
    collect() {
      for (const series of pending.values()) {
        if (series.n === 0) continue;
        counter.inc(series.labels, series.n);
        series.n = 0;
      }
    },
  });
  return {
    add(key, labels, n = 1) {
      let series = pending.get(key);
      if (series === undefined) pending.set(key, (series = { labels: labels(), n: 0 }));
      series.n += n;
    },
  };
}
