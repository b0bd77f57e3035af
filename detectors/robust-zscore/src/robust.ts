import { FEATURE_NAMES, type Features } from '@helios/core';

/** Per feature (in FEATURE_NAMES order): median and robust standard deviation (MAD x 1.4826). */
export interface RobustBaseline {
  median: Float64Array;
  spread: Float64Array;
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
    const m = medianOf(column);
    for (let r = 0; r < history.length; r++) column[r] = Math.abs(column[r]! - m);
    column.sort();
    median[i] = m;
    // On the log scale a spread of 0.05 is a 5% move; the error rate's floor is relative to its level.
    const floor = name === 'error_rate' ? Math.max(Math.abs(m) * minRelativeSpread * 10, 0.002) : minRelativeSpread;
    spread[i] = Math.max(1.4826 * medianOf(column), floor, 1e-9);
  });
  return { median, spread };
}

/**
 * The scale a feature is judged on: counts and latencies are heavy-tailed and change multiplicatively
 * (twice the traffic, three times the latency), so they are compared as log1p; the error rate is a share
 * in [0, 1] and stays linear.
 */
export function judgedValue(name: (typeof FEATURE_NAMES)[number], value: number): number {
  return name === 'error_rate' ? value : Math.log1p(Math.max(0, value));
}

/** Features on their judged scale, in FEATURE_NAMES order. */
export function judgedVector(features: Features): Features {
  return Object.fromEntries(FEATURE_NAMES.map((name) => [name, judgedValue(name, features[name])])) as Features;
}

/** |x - median| / spread per feature (on the judged scale), in FEATURE_NAMES order. */
export function robustZScores(judged: Features, baseline: RobustBaseline): Float64Array {
  const z = new Float64Array(FEATURE_NAMES.length);
  FEATURE_NAMES.forEach((name, i) => {
    z[i] = Math.abs(judged[name] - baseline.median[i]!) / baseline.spread[i]!;
  });
  return z;
}
