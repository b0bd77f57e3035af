import { METRIC_FEATURE_NAMES, type Detection, type MetricWindow } from '@helios/core';
import { metricBaseline, metricExplanation, metricVector, metricZScores, type RobustBaseline } from '@helios/plugins/stats';

/** What a metric series needs of the plugin's options (the same options as the request series). */
export interface MetricSeriesOptions {
  historyWindows: number;
  minTrainingWindows: number;
  thresholdWindows: number;
  refreshEvery: number;
  threshold: number;
  contamination: number;
  minRelativeSpread: number;
}

/**
 * The robust z-score of one metric series, by the rules of the request series (index.ts): a cold start of
 * `minTrainingWindows`, a median / MAD baseline of the last `historyWindows` normal windows, per-feature
 * thresholds of at least `threshold`, raised to the (1 - contamination) quantile of recent normal z-scores;
 * anomalous windows never enter the baseline. Not persisted: a metric series starts cold after a restart.
 */
export class MetricZScoreSeries {
  private history: Float64Array[] = [];
  private baseline: RobustBaseline | undefined;
  private readonly thresholds: Float64Array;
  private recentZ: Float64Array[] = [];
  private sinceRefresh = 0;
  private generation = 0;

  constructor(private readonly o: MetricSeriesOptions) {
    this.thresholds = new Float64Array(METRIC_FEATURE_NAMES.length).fill(o.threshold);
  }

  detect(window: MetricWindow): Detection | undefined {
    const judged = metricVector(window.features);
    if (this.baseline === undefined) {
      this.history.push(judged);
      if (this.history.length >= this.o.minTrainingWindows) this.refresh();
      return undefined;
    }
    const z = metricZScores(judged, this.baseline);
    const relative = z.map((v, i) => Math.abs(v) / this.thresholds[i]!);
    let score = 0;
    for (const r of relative) score = Math.max(score, r);
    const anomalous = score > 1;
    const detection: Detection = { score, threshold: 1, anomalous, explanation: metricExplanation(window.features, this.baseline, relative), modelVersion: `robust-zscore-metric-${this.generation}` };
    if (!anomalous) {
      push(this.recentZ, z.map(Math.abs), this.o.thresholdWindows);
      push(this.history, judged, this.o.historyWindows);
      if (++this.sinceRefresh >= this.o.refreshEvery) this.refresh();
    }
    return detection;
  }

  private refresh(): void {
    const baseline = metricBaseline(this.history, this.o.minRelativeSpread);
    this.baseline = baseline;
    const rows = [...this.history.map((h) => metricZScores(h, baseline).map(Math.abs)), ...this.recentZ];
    const column = new Float64Array(rows.length);
    for (let i = 0; i < METRIC_FEATURE_NAMES.length; i++) {
      rows.forEach((row, r) => (column[r] = row[i]!));
      column.sort();
      this.thresholds[i] = Math.max(this.o.threshold, column[Math.min(column.length - 1, Math.floor((1 - this.o.contamination) * column.length))] ?? 0);
    }
    this.sinceRefresh = 0;
    this.generation++;
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
