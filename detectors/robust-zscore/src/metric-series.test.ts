import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom, type MetricWindow } from '@helios/core';
import { loadPlugins } from '@helios/plugins';
import { testHost } from '@helios/plugins/testing';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const root = resolve(import.meta.dirname, '..', '..', '..');
const load = () => loadPlugins([{ use: '@helios/detector-robust-zscore', options: { persist: false } }], 'detector', testHost({ baseDir: root, dataDir: mkdtempSync(join(tmpdir(), 'helios-rz-metric-')) })).then(([d]) => d!);

function window(i: number, values: number[], previousMean: number | undefined, queue = 'orders'): MetricWindow {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    tenant: 't', service: 'svc', metric: { name: 'queue.depth', attributes: { queue } }, start: T0 + (i - 5) * MIN, end: T0 + i * MIN,
    features: { points: values.length, mean, min: Math.min(...values), max: Math.max(...values), last: values.at(-1)!, change: previousMean === undefined ? 0 : mean - previousMean },
  };
}

describe('robust z-score on metric series (detectMetric)', () => {
  it('starts cold per series, stays quiet on noise and calls a level shift down', async () => {
    const detector = await load();
    const random = seededRandom(5);
    let previous: number | undefined;
    const verdicts = [];
    for (let i = 0; i < 150; i++) {
      const level = i >= 140 ? 40 : 100;
      const w = window(i, Array.from({ length: 5 }, () => level + (random() - 0.5) * 8), previous);
      previous = w.features.mean;
      verdicts.push(await detector.hooks.detectMetric!(w));
    }
    expect(verdicts.slice(0, 59).every((v) => v === undefined)).toBe(true);
    expect(verdicts.slice(60, 140).filter((v) => v!.anomalous)).toEqual([]);
    expect(verdicts[140]).toMatchObject({ anomalous: true, modelVersion: expect.stringMatching(/^robust-zscore-metric-/) });
    expect(verdicts[140]!.explanation.find((e) => e.feature === 'mean')).toMatchObject({ direction: 'down' });
    expect(await detector.hooks.detectMetric!(window(150, [1, 1], undefined, 'refunds'))).toBeUndefined(); // its own cold start
    await detector.shutdown();
  });

  it('does not alert on a wobble of a metric that never moved (spread floored at 5 % of its level)', async () => {
    const detector = await load();
    const verdicts = [];
    for (let i = 0; i < 80; i++) verdicts.push(await detector.hooks.detectMetric!(window(i, [100, 100, 100], i === 0 ? undefined : 100)));
    expect((await detector.hooks.detectMetric!(window(80, [101, 102, 101], 100)))!.anomalous).toBe(false);
    expect((await detector.hooks.detectMetric!(window(81, [200, 200, 200], 101.3)))!.anomalous).toBe(true);
    await detector.shutdown();
  });
});
