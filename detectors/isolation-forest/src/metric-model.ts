import { METRIC_FEATURE_NAMES, type Detection, type MetricWindow } from '@helios/core';
import { metricBaseline, metricExplanation, metricVector, metricZScores, type RobustBaseline } from '@helios/plugins/stats';
import { GatedForest, pushBounded, type SavedGatedForest } from './gated-forest.js';
import { baselineOf, savedBaseline, type SeriesModelOptions } from './series-model.js';

const FEATURES = METRIC_FEATURE_NAMES.length;
/** Forest columns: per metric feature its level (c < FEATURES) and its change since the previous window (FEATURES + c), as signed robust z-scores. */
export const METRIC_COLUMNS = 2 * FEATURES;

/** A metric series' state as written to the state file (vectors in METRIC_FEATURE_NAMES order). */
export interface SavedMetricModel extends SavedGatedForest {
  levels: number[][];
  changes: number[][];
  rows: number[][];
  previous: number[] | null;
  levelBaseline: { median: number[]; spread: number[] } | null;
  changeBaseline: { median: number[]; spread: number[] } | null;
}

/**
 * The Isolation Forest of one metric series, by the rules of the request series (series-model.ts): the
 * forest sees each feature's level and change as robust z-scores against trailing baselines of recent normal
 * windows; a cold start of `minTrainingWindows`; the threshold is the (1 - contamination) quantile of
 * out-of-sample training scores; a window is anomalous when the forest isolates it and some column is past
 * its gate (`minDeviation`, or the training quantile of that column when larger). Anomalous windows never
 * enter baselines or training. Kept apart from SeriesModel because the request model's columns are built
 * around the seven request features (sampling-noise floors, tail support, the newest minute).
 */
export class MetricSeriesModel {
  private levels: Float64Array[] = [];
  private changes: Float64Array[] = [];
  private rows: Float64Array[] = [];
  private previous: Float64Array | undefined;
  private levelBaseline: RobustBaseline | undefined;
  private changeBaseline: RobustBaseline | undefined;
  private gated: GatedForest;

  constructor(private readonly o: SeriesModelOptions) {
    this.gated = new GatedForest(METRIC_COLUMNS, o);
  }

  get trained(): boolean {
    return this.gated.forest !== undefined;
  }

  /** Judge one window (undefined during the cold start) and learn from it when it is normal. */
  observe(window: MetricWindow): Detection | undefined {
    const level = metricVector(window.features);
    const change = this.previous === undefined ? undefined : level.map((v, i) => v - this.previous![i]!);
    this.previous = level;
    if (this.gated.forest === undefined) {
      this.levels.push(level);
      if (change !== undefined) this.changes.push(change);
      if (this.levels.length >= this.o.minTrainingWindows) this.coldStart();
      return undefined;
    }
    const derived = this.derive(level, change);
    const forestRatio = this.gated.forest.score(derived) / this.gated.threshold;
    let deviation = 0;
    for (let c = 0; c < METRIC_COLUMNS; c++) deviation = Math.max(deviation, Math.abs(derived[c]!) / this.gated.gates[c]!);
    // As for request series: the forest decides whether the window is isolated, the deviation how far.
    const score = forestRatio > 1 ? deviation : Math.min(deviation, forestRatio);
    const anomalous = forestRatio > 1 && (this.o.minDeviation === 0 || deviation > 1);
    const shares = this.gated.forest.attribution(derived);
    const perFeature = new Float64Array(FEATURES);
    for (let i = 0; i < FEATURES; i++) perFeature[i] = shares[i]! + shares[FEATURES + i]!;
    const detection: Detection = { score, threshold: 1, anomalous, explanation: metricExplanation(window.features, this.levelBaseline!, perFeature), modelVersion: `iforest-metric-${this.gated.generation}` };
    if (!anomalous) this.learn(level, change, derived);
    return detection;
  }

  private learn(level: Float64Array, change: Float64Array | undefined, derived: Float64Array): void {
    pushBounded(this.levels, level, this.o.baselineWindows);
    if (change !== undefined) pushBounded(this.changes, change, this.o.baselineWindows);
    pushBounded(this.rows, derived, this.o.maxTrainingWindows);
    this.gated.learned(this.rows, () => this.refresh());
  }

  private coldStart(): void {
    this.refresh();
    this.rows = this.levels.map((level, i) => this.derive(level, i === 0 ? undefined : this.changes[i - 1]));
    this.gated.train(this.rows);
  }

  private refresh(): void {
    this.levelBaseline = metricBaseline(this.levels, this.o.minRelativeSpread);
    this.changeBaseline = metricBaseline(this.changes, this.o.minRelativeSpread, this.levelBaseline.median[METRIC_FEATURE_NAMES.indexOf('mean')]);
  }

  private derive(level: Float64Array, change: Float64Array | undefined): Float64Array {
    const out = new Float64Array(METRIC_COLUMNS);
    out.set(metricZScores(level, this.levelBaseline!), 0);
    if (change !== undefined) out.set(metricZScores(change, this.changeBaseline!), FEATURES);
    return out;
  }

  toJSON(): SavedMetricModel {
    return {
      levels: this.levels.map((v) => Array.from(v)), changes: this.changes.map((v) => Array.from(v)), rows: this.rows.map((r) => Array.from(r)),
      previous: this.previous === undefined ? null : Array.from(this.previous),
      levelBaseline: savedBaseline(this.levelBaseline), changeBaseline: savedBaseline(this.changeBaseline),
      ...this.gated.toJSON(),
    };
  }

  /** A model in the state it was saved in; baselines are recomputed from the saved windows (deterministic). */
  static fromJSON(saved: SavedMetricModel, o: SeriesModelOptions): MetricSeriesModel {
    const m = new MetricSeriesModel(o);
    m.levels = saved.levels.map((v) => Float64Array.from(v));
    m.changes = saved.changes.map((v) => Float64Array.from(v));
    m.rows = saved.rows.map((r) => Float64Array.from(r));
    m.previous = saved.previous === null ? undefined : Float64Array.from(saved.previous);
    m.gated = GatedForest.fromJSON(saved, METRIC_COLUMNS, o);
    if (saved.forest !== null) {
      if (saved.levelBaseline === null || saved.changeBaseline === null) throw new Error('saved metric model has a forest but no baselines');
      m.levelBaseline = baselineOf(saved.levelBaseline, FEATURES);
      m.changeBaseline = baselineOf(saved.changeBaseline, FEATURES);
    }
    return m;
  }
}
