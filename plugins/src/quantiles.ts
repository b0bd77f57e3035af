/**
 * Rank statistics, one implementation each for the whole product (detection features, detectors, the
 * evaluation harness) and the benchmarks: medians, quantiles and the ROC AUC. Exported to plugin
 * authors as @helios/plugins/stats. Inputs named `sorted` must be ascending; the caller sorts once
 * and may ask for several quantiles.
 */

/** Median of an ascending array (0 when empty). */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of values in any order (0 when empty); the input is not changed. */
export function median(values: readonly number[]): number {
  return medianOfSorted([...values].sort((a, b) => a - b));
}

/**
 * The q-quantile (q in [0, 1]) of an ascending array, linearly interpolated between the two closest
 * ranks (numpy's default, "type 7": position q·(n-1)); 0 when empty. A q outside [0, 1] is a caller's
 * bug and throws.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1], got ${String(q)}`);
  const n = sorted.length;
  if (n === 0) return 0;
  const position = q * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  const fraction = position - below;
  const low = sorted[below]!;
  return fraction === 0 ? low : low + (sorted[above]! - low) * fraction;
}

/** quantileOfSorted of values in any order, or null when there are none (a statistic of nothing is absent, not 0). */
export function quantileOf(values: readonly number[], q: number): number | null {
  return values.length === 0 ? null : quantileOfSorted([...values].sort((a, b) => a - b), q);
}

/**
 * The q quantile of an ascending array, nearest rank at or above (no interpolation; always a value of
 * the array); 0 when empty. Detection thresholds use it: a threshold is a score that was seen.
 */
export function upperQuantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Area under the ROC curve of `scores` (higher = more anomalous) against 0/1 `labels`, by the
 * Mann–Whitney statistic: the probability that a random positive outscores a random negative, ties
 * counting half. Null without both classes.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // tied scores share their average rank
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] !== 1) continue;
      positives++;
      rankSum += rank;
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
