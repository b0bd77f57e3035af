import { METRIC_FEATURE_NAMES, type Detection, type FeatureExplanation, type MetricWindow } from '@helios/core';
import { CalibratedSeries, type CalibratedSeriesSnapshot, type CalibratedSeriesState, type CalibrationOptions } from './calibrated-series.js';

/** A `CalibratedMetricSeries` as numbers, for `restore` (calibrated-series-state.ts stores it). */
export interface CalibratedMetricSnapshot {
  series: CalibratedSeriesSnapshot;
  /** End of the last window seen (NaN: none), the hop between windows, windows seen. */
  lastEnd: number;
  hop: number;
  windowsSeen: number;
}

/**
 * A metric series judged on its fresh evidence with a calibrated false-alarm rate (calibrated-series.ts):
 * one observation per window that brought new points (the mean of the points of its newest hop), none for a
 * window that only re-shows points judged before, so persistence counts new points at any cadence, and a
 * window without points (a sparse series between two points, a gap) is neither evidence nor an anomaly.
 */
export class CalibratedMetricSeries {
  private readonly series: CalibratedSeries;
  private lastEnd: number | undefined;
  private hop = 60_000;
  windowsSeen = 0;
  readonly tenant: string;
  readonly service: string;

  constructor(o: CalibrationOptions, private readonly modelVersion: string, first: Pick<MetricWindow, 'tenant' | 'service'>) {
    this.series = new CalibratedSeries(o);
    this.tenant = first.tenant;
    this.service = first.service;
  }

  snapshot(): CalibratedMetricSnapshot {
    return { series: this.series.snapshot(), lastEnd: this.lastEnd ?? NaN, hop: this.hop, windowsSeen: this.windowsSeen };
  }

  restore(s: CalibratedMetricSnapshot): void {
    this.series.restore(s.series);
    this.lastEnd = Number.isNaN(s.lastEnd) ? undefined : s.lastEnd;
    this.hop = s.hop;
    this.windowsSeen = s.windowsSeen;
  }

  state(): CalibratedSeriesState & { windowsSeen: number; firstVerdictInMs: number } {
    const s = this.series.state();
    // One observation per window with fresh points: at the series' cadence, or each hop when it is finer.
    return { ...s, windowsSeen: this.windowsSeen, firstVerdictInMs: s.state === 'active' ? 0 : s.observationsToFirstVerdict * Math.max(s.cadenceMs, this.hop) };
  }

  /** Undefined: no opinion (no fresh points, or still learning). */
  observe(window: MetricWindow): Detection | undefined {
    this.windowsSeen++;
    if (this.lastEnd !== undefined && window.end > this.lastEnd) this.hop = window.end - this.lastEnd;
    this.lastEnd = window.end;
    // Producers without hop buckets: every window with points is one observation of its mean.
    const fresh = window.fresh ?? (window.features.points > 0 ? { points: window.features.points, mean: window.features.mean, min: window.features.min, max: window.features.max, lastAt: window.end } : undefined);
    if (fresh === undefined || fresh.points === 0) return undefined;
    const judgement = this.series.observe(window.end, fresh.mean, Math.max(window.cadenceMs ?? 0, this.hop), Number.isInteger(fresh.min) && Number.isInteger(fresh.max) && (fresh.points === 1 || Number.isInteger(fresh.mean * fresh.points)));
    if (judgement === undefined) return undefined;
    const { expected, spread } = judgement;
    const directionOf = (value: number) => (value > expected + spread ? 'up' as const : value < expected - spread ? 'down' as const : 'flat' as const);
    // The verdict rests on the fresh points' mean; the window's other values are shown against the same
    // expectation (what `metricSeverityOf` reads), the point count and change for context only.
    const explanation: FeatureExplanation[] = METRIC_FEATURE_NAMES.map((feature) => {
      if (feature === 'mean') return { feature, value: fresh.mean, baseline: expected, contribution: 1, direction: directionOf(fresh.mean) };
      const value = window.features[feature];
      if (feature === 'points' || feature === 'change') return { feature, value, baseline: value, contribution: 0, direction: 'flat' as const };
      return { feature, value, baseline: expected, contribution: 0, direction: directionOf(value) };
    });
    explanation.sort((a, b) => b.contribution - a.contribution);
    return { score: judgement.ratio, threshold: 1, anomalous: judgement.anomalous, explanation, modelVersion: `${this.modelVersion}-${judgement.channel}` };
  }
}
