import { FEATURE_NAMES, type FeatureName, type Features } from '@helios/core';
import { medianOfSorted, upperQuantileOfSorted } from './quantiles.js';

/**
 * Robust statistics of window features shared by the detectors (robust z-score, Isolation Forest), so the
 * scale features are judged on, the baseline and the rules for when a statistic is evidence exist once.
 */

/** Per feature (in FEATURE_NAMES order): median and robust standard deviation (MAD x 1.4826). */
export interface RobustBaseline {
  median: Float64Array;
  spread: Float64Array;
}


/**
 * The scale a feature is judged on: counts and latencies are heavy-tailed and change multiplicatively
 * (twice the traffic, three times the latency), so they are compared as log1p; the error rate is a share
 * in [0, 1] and stays linear.
 */
export function judgedValue(name: FeatureName, value: number): number {
  return name === 'error_rate' ? value : Math.log1p(Math.max(0, value));
}

/** Features on their judged scale, in FEATURE_NAMES order. */
export function judgedVector(features: Features): Features {
  return Object.fromEntries(FEATURE_NAMES.map((name) => [name, judgedValue(name, features[name])])) as Features;
}

/** A judged value back on the feature's own scale (inverse of `judgedValue`). */
export function unjudgedValue(name: FeatureName, judged: number): number {
  return name === 'error_rate' ? judged : Math.expm1(judged);
}

/**
 * Median and MAD x 1.4826 (equal to sigma for normal data) of each feature over `history` (on the judged
 * scale). The spread is floored (a `minRelativeSpread` move on the log scale; for the error rate ten times
 * that share of its level, at least 0.2 points) so a feature that never moved does not alert on a wobble.
 */
export function robustBaseline(history: readonly Features[], minRelativeSpread: number): RobustBaseline {
  const median = new Float64Array(FEATURE_NAMES.length);
  const spread = new Float64Array(FEATURE_NAMES.length);
  const column = new Float64Array(history.length);
  FEATURE_NAMES.forEach((name, i) => {
    for (let r = 0; r < history.length; r++) column[r] = history[r]![name];
    column.sort();
    const m = medianOfSorted(column);
    for (let r = 0; r < history.length; r++) column[r] = Math.abs(column[r]! - m);
    column.sort();
    median[i] = m;
    // On the log scale a spread of 0.05 is a 5% move; the error rate's floor is relative to its level.
    const floor = name === 'error_rate' ? Math.max(Math.abs(m) * minRelativeSpread * 10, 0.002) : minRelativeSpread;
    spread[i] = Math.max(1.4826 * medianOfSorted(column), floor, 1e-9);
  });
  return { median, spread };
}

/** |x - median| / spread per feature (on the judged scale), in FEATURE_NAMES order. */
export function robustZScores(judged: Features, baseline: RobustBaseline): Float64Array {
  const z = new Float64Array(FEATURE_NAMES.length);
  FEATURE_NAMES.forEach((name, i) => {
    z[i] = Math.abs(judged[name] - baseline.median[i]!) / baseline.spread[i]!;
  });
  return z;
}

/** Share of a window's events beyond each tail statistic (p95, p99, the 1%-trimmed stddev). */
export const TAIL_SHARE: Readonly<Partial<Record<FeatureName, number>>> = { p95_latency: 0.05, p99_latency: 0.01, latency_stddev: 0.01 };

/**
 * Whether a feature is evidence in a window of `events` events: a tail statistic counts only when at least
 * `minTailEvents` events lie beyond it (p99: 500 events for 5). Below that it rests on a handful of
 * requests, and a few benign slow requests move it for every overlapping window that holds them.
 */
export function tailSupported(feature: FeatureName, events: number, minTailEvents: number): boolean {
  const tail = TAIL_SHARE[feature];
  return tail === undefined || events * tail >= minTailEvents;
}

/**
 * Sampling noise of a feature on the judged scale for a window of `events` events, when nothing changed:
 * the error rate of n events at the baseline rate p varies by sqrt(p(1-p)/n) (binomial), log1p of a count
 * by about 1/sqrt(count) (Poisson). Other features: 0 (no model of their noise). A spread below this is
 * luck of the training windows, and low-traffic series would alert on a handful of extra errors.
 */
export function samplingNoise(feature: FeatureName, events: number, baselineErrorRate: number): number {
  const n = Math.max(events, 1);
  if (feature === 'error_rate') {
    const p = Math.min(Math.max(baselineErrorRate, 1 / n), 0.5);
    return Math.sqrt((p * (1 - p)) / n);
  }
  if (feature === 'total_events') return 1 / Math.sqrt(n);
  return 0;
}
