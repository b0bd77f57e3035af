import { METRIC_FEATURE_NAMES, type FeatureExplanation, type MetricFeatureName, type MetricFeatures } from '@helios/core';
import { medianOfSorted } from './quantiles.js';
import type { RobustBaseline } from './robust-stats.js';

/**
 * Robust statistics of metric-series windows (`MetricFeatures`), shared by the detectors' metric models, as
 * robust-stats.ts is for request windows. Vectors are Float64Arrays in METRIC_FEATURE_NAMES order.
 */

const POINTS = METRIC_FEATURE_NAMES.indexOf('points');
const MEAN = METRIC_FEATURE_NAMES.indexOf('mean');

/**
 * A metric window's features on the scale they are judged on: the point count as log1p (a count), the
 * values linear (a metric may be negative or cross zero, and its unit is unknown).
 */
export function metricVector(features: MetricFeatures): Float64Array {
  const v = new Float64Array(METRIC_FEATURE_NAMES.length);
  METRIC_FEATURE_NAMES.forEach((name, i) => (v[i] = name === 'points' ? Math.log1p(Math.max(0, features[name])) : features[name]));
  return v;
}

/** A judged value back on its feature's own scale (inverse of `metricVector` for one feature). */
export function metricUnjudged(name: MetricFeatureName, judged: number): number {
  return name === 'points' ? Math.expm1(judged) : judged;
}

/**
 * Median and MAD x 1.4826 per column of `rows` (judged metric vectors, or differences of consecutive ones).
 * Spreads are floored so a metric that never moved does not alert on a wobble: the point count by a
 * `minRelativeSpread` move on its log scale, every value column by `minRelativeSpread` of the metric's
 * level (the larger of the column's median and the mean's, so a change column centred on 0 is floored by
 * the level it changes). `levelOf` is the typical |mean| when `rows` are differences.
 */
export function metricBaseline(rows: readonly Float64Array[], minRelativeSpread: number, levelOf?: number): RobustBaseline {
  const n = METRIC_FEATURE_NAMES.length;
  const median = new Float64Array(n);
  const spread = new Float64Array(n);
  const column = new Float64Array(rows.length);
  const mads = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows.length; r++) column[r] = rows[r]![i]!;
    column.sort();
    const m = medianOfSorted(column);
    for (let r = 0; r < rows.length; r++) column[r] = Math.abs(rows[r]![i]! - m);
    column.sort();
    median[i] = m;
    mads[i] = 1.4826 * medianOfSorted(column);
  }
  const level = Math.abs(levelOf ?? median[MEAN]!);
  for (let i = 0; i < n; i++) {
    const floor = i === POINTS ? minRelativeSpread : minRelativeSpread * Math.max(Math.abs(median[i]!), level);
    spread[i] = Math.max(mads[i]!, floor, 1e-9);
  }
  return { median, spread };
}

/** Signed robust z-scores of a judged vector against a baseline. */
export function metricZScores(judged: Float64Array, baseline: RobustBaseline): Float64Array {
  const z = new Float64Array(judged.length);
  for (let i = 0; i < judged.length; i++) z[i] = (judged[i]! - baseline.median[i]!) / baseline.spread[i]!;
  return z;
}

/** Explanation entries of a metric window, strongest first: value, typical value, share of the score, direction. */
export function metricExplanation(features: MetricFeatures, baseline: RobustBaseline, shares: ArrayLike<number>): FeatureExplanation[] {
  let total = 0;
  for (let i = 0; i < shares.length; i++) total += Math.max(0, shares[i]!);
  return METRIC_FEATURE_NAMES.map((feature, i): FeatureExplanation => {
    const value = features[feature];
    const base = metricUnjudged(feature, baseline.median[i]!);
    const tolerance = Math.max(Math.abs(base) * 0.05, 1e-9);
    const direction = value > base + tolerance ? 'up' as const : value < base - tolerance ? 'down' as const : 'flat' as const;
    return { feature, value, baseline: base, contribution: total > 0 ? Math.max(0, shares[i]!) / total : 1 / METRIC_FEATURE_NAMES.length, direction };
  }).sort((a, b) => b.contribution - a.contribution);
}
