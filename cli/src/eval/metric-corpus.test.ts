import { describe, expect, it } from 'vitest';
import type { Detection, MetricWindow } from '@helios/core';
import type { DetectorHooks } from '@helios/plugins';
import { CalibratedMetricSeries, DEFAULT_CALIBRATION } from '@helios/plugins/stats';
import { generateMetricCorpus } from './metric-corpus.js';
import { evaluateMetricCorpus } from './metric-evaluate.js';

const DETECTION = { vote: 'any' as const, confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 };
const fixed = (anomalous: boolean): DetectorHooks => ({
  detect: () => undefined,
  detectMetric: (): Detection => ({ score: anomalous ? 3 : 0, threshold: 1, anomalous, explanation: [], modelVersion: 'fixed' }),
});

describe('metric-series corpus and its scorer (helios eval --corpus metrics)', () => {
  const corpus = generateMetricCorpus({ seed: 9, days: 2, cadences: [60_000, 300_000], anomalousShare: 1 });

  it('is seeded, streams every series through the windows, and labels windows by the anomalies after the warm-up day', () => {
    expect(generateMetricCorpus({ seed: 9, days: 2, cadences: [60_000, 300_000], anomalousShare: 1 }).windows.map((w) => w.window.features.mean)).toEqual(corpus.windows.map((w) => w.window.features.mean));
    expect(new Set(corpus.windows.map((w) => w.series.key)).size).toBe(corpus.series.length);
    expect(corpus.anomalies.length).toBeGreaterThanOrEqual(corpus.series.length);
    for (const a of corpus.anomalies) expect(a.start).toBeGreaterThanOrEqual(corpus.start + 24 * 60 * 60_000);
    for (const { window, series, anomalyId } of corpus.windows.slice(0, 5000)) {
      const hit = series.anomalies.find((a) => a.start < window.end && a.end > window.end - 60_000);
      expect(anomalyId).toBe(hit?.id);
    }
  });

  it('counts an always-on detector\u2019s alerts outside episodes as false, and a silent detector as no alert and no recall', async () => {
    const always = await evaluateMetricCorpus({ corpus, detectors: [{ name: 'always', hooks: fixed(true) }], detection: DETECTION });
    // Always anomalous: one incident per series that never closes (the first, on normal data in the warm-up).
    expect(always.alerts.opened).toBe(corpus.series.length);
    expect(always.alerts.onAnomalies).toBe(0);
    expect(always.falseAlertsPerSeriesWeek).toBeGreaterThan(0);
    const never = await evaluateMetricCorpus({ corpus, detectors: [{ name: 'never', hooks: fixed(false) }], detection: DETECTION });
    expect(never.alerts.opened).toBe(0);
    expect(never.anomalies.recall).toBe(0);
    expect(never.falseAlertsPerSeriesWeek).toBe(0);
  });

  it('scores the calibrated judge: few false alerts per series-week and most anomalies found', async () => {
    const models = new Map<string, CalibratedMetricSeries>();
    const hooks: DetectorHooks = {
      detect: () => undefined,
      detectMetric: (w: MetricWindow) => {
        const key = `${w.service}/${w.metric.name}`;
        let m = models.get(key);
        if (m === undefined) models.set(key, (m = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'calibrated', w)));
        return m.observe(w);
      },
    };
    const result = await evaluateMetricCorpus({ corpus, detectors: [{ name: 'calibrated', hooks }], detection: DETECTION });
    expect(result.anomalies.recall).toBeGreaterThan(0.5);
    // Two days of 20 series: at the configured rate of 1 per series-week, about 6 false alerts; room for noise.
    expect(result.falseAlertsPerSeriesWeek).toBeLessThan(2);
    expect(result.firstVerdictMinutes['1m']).toBeLessThanOrEqual(10);
  }, 60_000);
});
