/** Rank statistics for comparing anomaly scores: ties share their average rank (as scipy does). */
import { rocAuc as productRocAuc } from '@helios/plugins/stats';

/** 1-based ranks of `values`, ties given the mean of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson correlation of the average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length < 2) throw new RangeError('spearman needs two series of the same length >= 2');
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = ra.length;
  const mean = (n + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - mean;
    const db = rb[i] - mean;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return cov / Math.sqrt(va * vb);
}

/**
 * Area under the ROC curve of `scores` (higher = more anomalous) against 0/1 `labels`, via the Mann–Whitney
 * statistic: the probability that a random anomaly outscores a random normal row, ties counting half.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const auc = productRocAuc(scores, labels);
  if (auc === null) throw new RangeError('ROC AUC needs both labels present'); // a benchmark dataset without both is a broken benchmark
  return auc;
}

/** Element-wise mean of equally long series. */
export function meanSeries(series: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(series[0].length);
  for (const s of series) for (let i = 0; i < out.length; i++) out[i] += s[i];
  for (let i = 0; i < out.length; i++) out[i] /= series.length;
  return out;
}
