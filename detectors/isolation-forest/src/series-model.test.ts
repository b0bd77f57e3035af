import { describe, expect, it } from 'vitest';
import type { FeatureWindow, Features } from '@helios/core';
import { SeriesModel, type SeriesModelOptions } from './series-model.js';

const MIN = 60_000;
const options: SeriesModelOptions = {
  trees: 100, sampleSize: 256, seed: 42, minTrainingWindows: 60, maxTrainingWindows: 2016, retrainEvery: 30, baselineWindows: 240,
  refreshEvery: 10, minDeviation: 8, minTailEvents: 5, minRelativeSpread: 0.05, contamination: 0.2, holdoutShare: 0.25,
};

/** Deterministic minute counts around 100 (about Poisson spread), one error in a hundred. */
function minutes(n: number): number[] {
  let s = 7;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => Math.round(100 + (next() + next() + next() - 1.5) * 17));
}

const features = (count: number, errors: number): Features => ({
  total_events: count, error_rate: count > 0 ? errors / count : 0, avg_latency: 20, p95_latency: 40, p99_latency: 60, latency_stddev: 8, unique_endpoints: 4,
});

/** Sliding 5-minute windows with 1-minute hops over per-minute counts, the newest minute as `latest`. */
function windows(counts: number[], withLatest: boolean): FeatureWindow[] {
  const out: FeatureWindow[] = [];
  for (let end = 5; end <= counts.length; end++) {
    const slice = counts.slice(end - 5, end);
    const total = slice.reduce((a, b) => a + b, 0);
    const w: FeatureWindow = { tenant: 't', service: 's', start: (end - 5) * MIN, end: end * MIN, features: features(total, Math.round(total / 100)) };
    if (withLatest) w.latest = features(counts[end - 1]!, Math.round(counts[end - 1]! / 100));
    out.push(w);
  }
  return out;
}

describe('isolation forest series model: the newest hop', () => {
  it('flags a traffic drop in its first minute, which the 5-minute window dilutes', () => {
    const counts = [...minutes(300), 15];
    const verdicts = (withLatest: boolean) => {
      const model = new SeriesModel(options);
      return windows(counts, withLatest).map((w) => model.observe(w));
    };
    const [withHop, without] = [verdicts(true), verdicts(false)];
    // Normal minutes: no alerts either way.
    expect(withHop.slice(100, -1).filter((v) => v?.detection.anomalous === true)).toHaveLength(0);
    expect(without.at(-1)!.detection.anomalous).toBe(false); // 85 fewer events in ~500: the window moved 17 %
    const onset = withHop.at(-1)!.detection;
    expect(onset.anomalous).toBe(true);
    expect(onset.explanation[0]!.feature).toBe('total_events');
  });
});
