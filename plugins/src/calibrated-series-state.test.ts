import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MetricWindow } from '@helios/core';
import { CalibratedMetricSeries } from './calibrated-metric.js';
import { DEFAULT_CALIBRATION } from './calibrated-series.js';
import { createMetricJudges, decodeMetricJudge, encodeMetricJudge, METRIC_JUDGE_STATE_VERSION } from './calibrated-series-state.js';
import { createMemoryDetectorState, createPluginStateStore } from './series-state.js';
import { createRecordingLogger } from './testing/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

/** A one-point-a-window metric window ending at `end` with mean `value`. */
function windowOf(end: number, value: number): MetricWindow {
  return {
    tenant: 't', service: 'svc', metric: { name: 'm', attributes: {} }, start: end - 5 * MIN, end,
    features: { points: 1, mean: value, min: value, max: value, last: value, change: 0 },
    fresh: { points: 1, mean: value, min: value, max: value, lastAt: end - 1 }, cadenceMs: MIN,
  };
}

/** Values a series might take: noise, integers, repeats (the stuck channel), level shifts, a daily wave. */
const values = fc.array(fc.oneof(
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  fc.integer({ min: 0, max: 20 }),
  fc.constant(7),
), { minLength: 0, maxLength: 400 });

describe('a calibrated metric judge saved and restored (calibrated-series-state.ts)', () => {
  it('a restored judge goes on exactly as the one it was taken from: same verdicts, thresholds and state', () => {
    fc.assert(fc.property(values, values, fc.integer({ min: 1, max: 3 * 24 * 60 }), (learnt, next, startMinute) => {
      const original = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'v', { tenant: 't', service: 'svc' });
      let at = T0 + startMinute * MIN;
      for (const v of learnt) original.observe(windowOf((at += MIN), v));
      const restored = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'v', { tenant: 't', service: 'svc' });
      restored.restore(decodeMetricJudge(encodeMetricJudge(original.snapshot())));
      expect(restored.state()).toEqual(original.state());
      for (const v of next) {
        const w = windowOf((at += MIN), v);
        expect(restored.observe(w)).toEqual(original.observe(w));
      }
      expect(restored.state()).toEqual(original.state());
    }), { numRuns: 60 });
  });

  it('keeps a day of history with its daily profile (the seasonal model) across a restore', () => {
    const original = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'v', { tenant: 't', service: 'svc' });
    let at = T0;
    const wave = (t: number) => 100 + 50 * Math.sin((2 * Math.PI * t) / (24 * 60 * MIN)) + ((t / MIN) % 3);
    for (let i = 0; i < 2 * 24 * 60; i++) original.observe(windowOf((at += MIN), wave(at)));
    expect(original.state().model).toBe('seasonal');
    const restored = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'v', { tenant: 't', service: 'svc' });
    restored.restore(decodeMetricJudge(encodeMetricJudge(original.snapshot())));
    expect(restored.state()).toEqual(original.state());
    for (let i = 0; i < 120; i++) {
      const w = windowOf((at += MIN), wave(at) + (i > 60 ? 80 : 0));
      expect(restored.observe(w)).toEqual(original.observe(w));
    }
  });

  it('bytes of another shape are refused, never misread', () => {
    const judge = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'v', { tenant: 't', service: 'svc' });
    for (let i = 1; i < 20; i++) judge.observe(windowOf(T0 + i * MIN, i % 4));
    const bytes = encodeMetricJudge(judge.snapshot());
    expect(() => decodeMetricJudge(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated|bad array length|trailing/);
    expect(() => decodeMetricJudge(bytes.subarray(0, 13))).toThrow(/whole number of float64/);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(() => decodeMetricJudge(longer)).toThrow(/trailing data/);
  });

  it('judges saved at shutdown are restored by the next owner of the series; another format starts it over', async () => {
    const backend = createMemoryDetectorState();
    let now = T0;
    const judges = () => createMetricJudges({ calibration: DEFAULT_CALIBRATION, modelVersion: 'v', state: createPluginStateStore(backend, 'p', () => now), logger: createRecordingLogger().logger, now: () => now });
    const first = judges();
    for (let i = 1; i <= 30; i++) await first.detect(windowOf((now = T0 + i * MIN), 10 + (i % 3)));
    const [learnt] = first.seriesStates();
    expect(learnt).toMatchObject({ state: 'active', windowsSeen: 30 });
    await first.shutdown();
    const second = judges();
    expect(await second.detect(windowOf((now = T0 + 31 * MIN), 11))).toBeDefined(); // a verdict at once
    expect([...second.seriesStates()]).toMatchObject([{ state: 'active', windowsSeen: 31 }]);
    // A judge written in a format this version does not read is not misread: the series starts over.
    await createPluginStateStore(backend, 'p', () => now + 1).put([{ tenant: 't', seriesKey: 't\u0000svc\u0000m', version: METRIC_JUDGE_STATE_VERSION + 1, value: new Uint8Array(8) }]);
    const third = judges();
    expect(await third.detect(windowOf((now = T0 + 32 * MIN), 11))).toBeUndefined();
    expect([...third.seriesStates()]).toMatchObject([{ state: 'learning', windowsSeen: 1 }]);
  });

  it('a judge is saved at its first verdict: a successor of a worker killed before any scheduled save does not start over', async () => {
    const backend = createMemoryDetectorState();
    let now = T0;
    const judges = () => createMetricJudges({ calibration: DEFAULT_CALIBRATION, modelVersion: 'v', state: createPluginStateStore(backend, 'p', () => now), logger: createRecordingLogger().logger, now: () => now, saveEveryMs: 24 * 60 * MIN });
    const killed = judges();
    let verdicts = 0;
    for (let i = 1; verdicts === 0; i++) if ((await killed.detect(windowOf((now = T0 + i * MIN), 10 + (i % 3)))) !== undefined) verdicts++;
    await new Promise((r) => setTimeout(r, 10)); // the save it started (no shutdown follows)
    const successor = judges();
    expect(await successor.detect(windowOf((now += MIN), 11))).toBeDefined();
  });
});
