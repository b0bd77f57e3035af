/**
 * One measured figure. Speed is always reported against a baseline measured in the same run (the
 * machines are shared and noisy): `ratio` = value / baselineValue, so it compares across commits even
 * when absolute numbers move.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** Name of the figure this one is compared with, measured in the same run. */
  baseline?: string;
  baselineValue?: number;
  ratio?: number;
}

export interface BenchSuite {
  name: string;
  summary: string;
  run(options: { json: boolean }): Promise<BenchResult[]>;
}

// Medians of repeated timings (the usual statistic here: a shared machine adds outliers) and latency
// percentiles (nearest rank, a latency that was seen) come from the product's one implementation.
export { median, upperQuantileOfSorted } from '@helios/plugins/stats';
import { median } from '@helios/plugins/stats';

/** Operations per second of `fn`, the median of `rounds` timed rounds of `iterations` calls each. */
export function opsPerSecond(fn: (i: number) => unknown, iterations: number, rounds = 7): number {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) fn(i); // warm up the JIT
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push((iterations / ns) * 1e9);
  }
  return median(rates);
}
