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

/**
 * |x - median| / spread per feature (on the judged scale), in FEATURE_NAMES order. With `errorRate` (the
 * baseline's `pooledErrorRate`), a rise of the error rate counts only as far as its error count is unlikely
 * at that rate (`errorCountZ`): the smaller of the two, since either explanation (the series' own spread or
 * the luck of a few requests) makes the window ordinary.
 */
export function robustZScores(judged: Features, baseline: RobustBaseline, errorRate?: number): Float64Array {
  const z = new Float64Array(FEATURE_NAMES.length);
  FEATURE_NAMES.forEach((name, i) => {
    z[i] = Math.abs(judged[name] - baseline.median[i]!) / baseline.spread[i]!;
    if (name === 'error_rate' && errorRate !== undefined && judged.error_rate > baseline.median[i]!) {
      const events = Math.expm1(judged.total_events);
      z[i] = Math.min(z[i]!, errorCountZ(judged.error_rate * events, events, errorRate));
    }
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

/**
 * The baseline error rate of a history of windows (judged scale): errors over events, pooled, with one
 * pseudo-error, so a series that never failed has a small positive rate (a few errors are then unlikely,
 * not impossible). Pooled, not the median: a rare error (0.3 % of 150 requests) leaves most windows at 0,
 * so the median is 0 and every single error would look infinitely unlikely.
 */
export function pooledErrorRate(history: readonly Features[]): number {
  let errors = 0;
  let events = 0;
  for (const f of history) {
    const n = Math.expm1(f.total_events);
    events += n;
    errors += f.error_rate * n;
  }
  return Math.min(1, (errors + 1) / (events + 1));
}

/**
 * How unlikely `errors` errors among `events` events are at the baseline `rate`, as a one-sided z-score (the
 * standard normal quantile of the same upper-tail probability; 0 at or below the expected count). The count
 * of rare errors is Poisson (binomial with small p; for large p, Poisson is wider, so this errs towards
 * calm). A ratio against a spread estimated from windows with 0 and 1 errors is not a test: 2 errors in 150
 * requests against a zero spread is "7 sigma", and it happens in 8 % of windows at 0.3 % errors.
 */
export function errorCountZ(errors: number, events: number, rate: number): number {
  const k = Math.round(errors);
  const lambda = Math.max(events, 0) * Math.max(rate, 0);
  if (k <= lambda || k <= 0) return 0;
  if (lambda === 0) return Infinity;
  // P(X >= k) = sum over j >= k of the pmf; terms shrink by lambda / (j + 1) < 1 past k > lambda.
  const logFirst = k * Math.log(lambda) - lambda - logGamma(k + 1);
  let sum = 1;
  let term = 1;
  for (let j = k; term > 1e-17 * sum && j < k + 100_000; j++) {
    term *= lambda / (j + 1);
    sum += term;
  }
  return Math.max(0, upperNormalQuantile(Math.min(0, logFirst + Math.log(sum))));
}

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * z with P(Z > z) = exp(logP) (Acklam's rational approximation, relative error about 1e-9), from the log
 * of the probability so tails far past 1e-300 stay finite.
 */
export function upperNormalQuantile(logP: number): number {
  const pLow = 0.02425;
  if (logP < Math.log(pLow)) {
    const q = Math.sqrt(-2 * logP);
    return -(((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q + 4.374664141464968) * q + 2.938163982698783)
      / ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1);
  }
  const p = Math.exp(logP);
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    return (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q + 4.374664141464968) * q + 2.938163982698783)
      / ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1);
  }
  const q = 0.5 - p;
  const r = q * q;
  return (((((-3.969683028665376e+1 * r + 2.209460984245205e+2) * r - 2.759285104469687e+2) * r + 1.383577518672690e+2) * r - 3.066479806614716e+1) * r + 2.506628277459239) * q
    / (((((-5.447609879822406e+1 * r + 1.615858368580409e+2) * r - 1.556989798598866e+2) * r + 6.680131188771082e+1) * r - 1.328068155288572e+1) * r + 1);
}
