import { describe, expect, it } from 'vitest';
import type { FeatureWindow, Features } from '@helios/core';
import { createIncidentTracker } from '@helios/detection';
import { SeriesModel, corroboratedDeviation, type SeriesModelOptions, type SeriesVerdict } from './series-model.js';

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

/** Sliding windows over per-minute counts and errors, each with its newest minute. */
function windowsWithErrors(counts: number[], errors: number[]): FeatureWindow[] {
  const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
  const out: FeatureWindow[] = [];
  for (let end = 5; end <= counts.length; end++) {
    const features_ = features(sum(counts.slice(end - 5, end)), sum(errors.slice(end - 5, end)));
    out.push({ tenant: 't', service: 's', start: (end - 5) * MIN, end: end * MIN, features: features_, latest: features(counts[end - 1]!, errors[end - 1]!) });
  }
  return out;
}

describe('isolation forest series model: corroborated views open at once', () => {
  it('adds the newest minute and the change; adds the whole window only to a view that is past its gate too', () => {
    expect(corroboratedDeviation({ level: 0.2, change: 0.9, latest: 1.3 })).toBeCloseTo(2.2);
    expect(corroboratedDeviation({ level: 1.5, change: 0.8, latest: 0 })).toBeCloseTo(1.5);
    expect(corroboratedDeviation({ level: 1.2, change: 1.1, latest: 0 })).toBeCloseTo(2.3);
    expect(corroboratedDeviation({ level: 1.3, change: 0.2, latest: 1.1 })).toBeCloseTo(2.4);
    expect(corroboratedDeviation({ level: 2.5, change: 0.1, latest: 0.1 })).toBeCloseTo(2.5);
  });

  /** Two minutes of an error burst (extra errors per minute of about 100 events) after 300 normal minutes; the tracker's openings. */
  function burst(extra: number): { onset: SeriesVerdict[]; normalAlerts: number; opened: boolean[] } {
    const counts = [...minutes(300), 100, 100];
    const errors = counts.map((c) => Math.round(c / 100));
    errors[300]! += extra;
    errors[301]! += extra;
    const model = new SeriesModel(options);
    const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 });
    const verdicts: SeriesVerdict[] = [];
    const opened: boolean[] = [];
    for (const w of windowsWithErrors(counts, errors)) {
      const v = model.observe(w);
      if (v === undefined) continue;
      verdicts.push(v);
      opened.push(tracker.observe(w, [{ detector: 'if', detection: v.detection }])?.opened !== undefined);
    }
    return { onset: verdicts.slice(-2), normalAlerts: opened.slice(0, -2).filter(Boolean).length, opened: opened.slice(-2) };
  }

  it('opens an incident on the first minute of a burst that the minute and the change both see, though neither is twice past its gate', () => {
    const { onset, normalAlerts, opened } = burst(12); // 1 % -> 13 % errors in one minute
    expect(normalAlerts).toBe(0);
    const first = onset[0]!;
    expect(first.detection.anomalous).toBe(true);
    expect(first.views.latest).toBeGreaterThan(1);
    expect(first.views.change).toBeGreaterThan(1);
    expect(Math.max(first.views.level, first.views.change, first.views.latest)).toBeLessThan(2); // no view alone reaches immediateRatio
    expect(first.detection.score).toBeGreaterThanOrEqual(2);
    expect(opened).toEqual([true, false]);
  });

  it('still waits for confirmation when only the newest minute is past its gate and the sum stays under twice it', () => {
    const { onset, opened } = burst(9);
    const first = onset[0]!;
    expect(first.detection.anomalous).toBe(true);
    expect(first.views.latest).toBeGreaterThan(1);
    expect(first.views.change).toBeLessThan(1);
    expect(first.detection.score).toBeLessThan(2);
    expect(opened).toEqual([false, true]); // confirmWindows 2: the second anomalous window opens it
  });
});
