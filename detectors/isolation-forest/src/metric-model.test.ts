import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_FEATURE_NAMES, seededRandom, type MetricWindow } from '@helios/core';
import { loadPlugins } from '@helios/plugins';
import { testHost } from '@helios/plugins/testing';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const root = resolve(import.meta.dirname, '..', '..', '..');
const load = (dataDir: string, options: Record<string, unknown> = {}) =>
  loadPlugins([{ use: '@helios/detector-isolation-forest', options }], 'detector', testHost({ baseDir: root, dataDir })).then(([d]) => d!);
const newDataDir = () => mkdtempSync(join(tmpdir(), 'helios-if-metric-'));

/** Windows of a gauge around `level` (5 points a window, uniform noise of ±5 %), shifted to `shifted` from window `shiftAt`. */
function gaugeWindows(n: number, { level = 100, shifted = level, shiftAt = n, queue = 'orders', seed = 1 } = {}): MetricWindow[] {
  const random = seededRandom(seed);
  let previousMean: number | undefined;
  return Array.from({ length: n }, (_, i) => {
    const base = i >= shiftAt ? shifted : level;
    const values = Array.from({ length: 5 }, () => base * (1 + (random() - 0.5) * 0.1));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const change = previousMean === undefined ? 0 : mean - previousMean;
    previousMean = mean;
    return {
      tenant: 't', service: 'svc', metric: { name: 'queue.depth', attributes: { queue } }, start: T0 + i * MIN - 5 * MIN, end: T0 + i * MIN,
      features: { points: 5, mean, min: Math.min(...values), max: Math.max(...values), last: values[4]!, change },
    };
  });
}

describe('isolation forest on metric series (detectMetric)', () => {
  it('starts cold per series, stays quiet on normal windows and calls a level shift, explained by metric features', async () => {
    const detector = await load(newDataDir(), { persist: false });
    const windows = gaugeWindows(200, { shifted: 160, shiftAt: 190 });
    const verdicts = [];
    for (const w of windows) verdicts.push(await detector.hooks.detectMetric!(w));
    expect(verdicts.slice(0, 59).every((v) => v === undefined)).toBe(true); // minTrainingWindows 60
    expect(verdicts.slice(60, 190).filter((v) => v!.anomalous)).toEqual([]);
    const shift = verdicts[190]!;
    expect(shift.anomalous).toBe(true);
    expect(shift.modelVersion).toMatch(/^iforest-metric-\d+$/);
    expect(shift.explanation.map((e) => e.feature).sort()).toEqual([...METRIC_FEATURE_NAMES].sort());
    expect(shift.explanation.reduce((a, e) => a + e.contribution, 0)).toBeCloseTo(1, 9);
    expect(['mean', 'min', 'max', 'last', 'change']).toContain(shift.explanation[0]!.feature);
    expect(shift.explanation.find((e) => e.feature === 'min')).toMatchObject({ direction: 'up' });
    // Another series of the same service and metric has a model of its own: still cold.
    expect(await detector.hooks.detectMetric!(gaugeWindows(1, { queue: 'refunds' })[0]!)).toBeUndefined();
    await detector.shutdown();
  });

  it('resumes metric models after a restart with the same verdicts', async () => {
    const dataDir = newDataDir();
    const windows = gaugeWindows(140, { seed: 3 });
    const before = await load(dataDir);
    for (const w of windows.slice(0, 100)) await before.hooks.detectMetric!(w);
    await before.shutdown();
    const uninterrupted = await load(newDataDir(), { persist: false });
    for (const w of windows.slice(0, 100)) await uninterrupted.hooks.detectMetric!(w);
    const restarted = await load(dataDir);
    for (const w of windows.slice(100)) {
      const resumed = await restarted.hooks.detectMetric!(w);
      expect(resumed).toBeDefined();
      expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detectMetric!(w))!.score, 9);
    }
    await restarted.shutdown();
    await uninterrupted.shutdown();
  });
});
