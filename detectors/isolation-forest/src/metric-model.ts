import { METRIC_FEATURE_NAMES, type Detection, type MetricWindow } from '@helios/core';
import { metricBaseline, metricExplanation, metricVector, metricZScores, type RobustBaseline } from '@helios/plugins';
import { loadIsolationForest, type IsolationForest, type SerializedIsolationForest } from './forest.js';
import { baselineOf, savedBaseline, trainGatedForest, type SeriesModelOptions } from './series-model.js';

const FEATURES = METRIC_FEATURE_NAMES.length;
/** Forest columns: per metric feature its level (c < FEATURES) and its change since the previous window (FEATURES + c), as signed robust z-scores. */
export const METRIC_COLUMNS = 2 * FEATURES;

/** A metric series' state as written to the state file (vectors in METRIC_FEATURE_NAMES order). */
export interface SavedMetricModel {
  levels: number[][];
  changes: number[][];
  rows: number[][];
  previous: number[] | null;
  levelBaseline: { median: number[]; spread: number[] } | null;
  changeBaseline: { median: number[]; spread: number[] } | null;
  forest: SerializedIsolationForest | null;
  forestThreshold: number;
  gates: number[];
  generation: number;
  sinceTrain: number;
  sinceRefresh: number;
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
  private forest: IsolationForest | undefined;
  private forestThreshold = 1;
  private gates = new Float64Array(METRIC_COLUMNS);
  private generation = 0;
  private sinceTrain = 0;
  private sinceRefresh = 0;

  constructor(private readonly o: SeriesModelOptions) {}

  get trained(): boolean {
    return this.forest !== undefined;
  }

  /** Judge one window (undefined during the cold start) and learn from it when it is normal. */
  observe(window: MetricWindow): Detection | undefined {
    const level = metricVector(window.features);
    const change = this.previous === undefined ? undefined : level.map((v, i) => v - this.previous![i]!);
    this.previous = level;
    if (this.forest === undefined) {
      this.levels.push(level);
      if (change !== undefined) this.changes.push(change);
      if (this.levels.length >= this.o.minTrainingWindows) this.coldStart();
      return undefined;
    }
    const derived = this.derive(level, change);
    const forestRatio = this.forest.score(derived) / this.forestThreshold;
    let deviation = 0;
    for (let c = 0; c < METRIC_COLUMNS; c++) deviation = Math.max(deviation, Math.abs(derived[c]!) / this.gates[c]!);
    // As for request series: the forest decides whether the window is isolated, the deviation how far.
    const score = forestRatio > 1 ? deviation : Math.min(deviation, forestRatio);
    const anomalous = forestRatio > 1 && (this.o.minDeviation === 0 || deviation > 1);
    const shares = this.forest.attribution(derived);
    const perFeature = new Float64Array(FEATURES);
    for (let i = 0; i < FEATURES; i++) perFeature[i] = shares[i]! + shares[FEATURES + i]!;
    const detection: Detection = { score, threshold: 1, anomalous, explanation: metricExplanation(window.features, this.levelBaseline!, perFeature), modelVersion: `iforest-metric-${this.generation}` };
    if (!anomalous) this.learn(level, change, derived);
    return detection;
  }

  private learn(level: Float64Array, change: Float64Array | undefined, derived: Float64Array): void {
    push(this.levels, level, this.o.baselineWindows);
    if (change !== undefined) push(this.changes, change, this.o.baselineWindows);
    push(this.rows, derived, this.o.maxTrainingWindows);
    if (++this.sinceRefresh >= this.o.refreshEvery) this.refresh();
    if (++this.sinceTrain >= this.o.retrainEvery) this.train();
  }

  private coldStart(): void {
    this.refresh();
    this.rows = this.levels.map((level, i) => this.derive(level, i === 0 ? undefined : this.changes[i - 1]));
    this.train();
  }

  private refresh(): void {
    this.levelBaseline = metricBaseline(this.levels, this.o.minRelativeSpread);
    this.changeBaseline = metricBaseline(this.changes, this.o.minRelativeSpread, this.levelBaseline.median[METRIC_FEATURE_NAMES.indexOf('mean')]);
    this.sinceRefresh = 0;
  }

  private derive(level: Float64Array, change: Float64Array | undefined): Float64Array {
    const out = new Float64Array(METRIC_COLUMNS);
    out.set(metricZScores(level, this.levelBaseline!), 0);
    if (change !== undefined) out.set(metricZScores(change, this.changeBaseline!), FEATURES);
    return out;
  }

  /** Forest, out-of-sample threshold and column gates, as request series train them. */
  private train(): void {
    const trained = trainGatedForest(this.rows, METRIC_COLUMNS, { ...this.o, seed: this.o.seed + this.generation });
    this.forest = trained.forest;
    this.forestThreshold = trained.threshold;
    this.gates = trained.gates;
    this.sinceTrain = 0;
    this.generation++;
  }

  toJSON(): SavedMetricModel {
    return {
      levels: this.levels.map((v) => Array.from(v)), changes: this.changes.map((v) => Array.from(v)), rows: this.rows.map((r) => Array.from(r)),
      previous: this.previous === undefined ? null : Array.from(this.previous),
      levelBaseline: savedBaseline(this.levelBaseline), changeBaseline: savedBaseline(this.changeBaseline),
      forest: this.forest === undefined ? null : this.forest.toJSON(), forestThreshold: this.forestThreshold, gates: Array.from(this.gates),
      generation: this.generation, sinceTrain: this.sinceTrain, sinceRefresh: this.sinceRefresh,
    };
  }

  /** A model in the state it was saved in; baselines are recomputed from the saved windows (deterministic). */
  static fromJSON(saved: SavedMetricModel, o: SeriesModelOptions): MetricSeriesModel {
    const m = new MetricSeriesModel(o);
    m.levels = saved.levels.map((v) => Float64Array.from(v));
    m.changes = saved.changes.map((v) => Float64Array.from(v));
    m.rows = saved.rows.map((r) => Float64Array.from(r));
    m.previous = saved.previous === null ? undefined : Float64Array.from(saved.previous);
    m.generation = saved.generation;
    m.sinceTrain = saved.sinceTrain;
    m.sinceRefresh = saved.sinceRefresh;
    if (saved.forest !== null) {
      m.forest = loadIsolationForest(saved.forest);
      if (m.forest.features !== METRIC_COLUMNS || saved.gates.length !== METRIC_COLUMNS) throw new Error(`saved metric model has ${m.forest.features} columns, expected ${METRIC_COLUMNS}`);
      m.forestThreshold = saved.forestThreshold;
      m.gates = Float64Array.from(saved.gates);
      if (saved.levelBaseline === null || saved.changeBaseline === null) throw new Error('saved metric model has a forest but no baselines');
      m.levelBaseline = baselineOf(saved.levelBaseline, FEATURES);
      m.changeBaseline = baselineOf(saved.changeBaseline, FEATURES);
    }
    return m;
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
