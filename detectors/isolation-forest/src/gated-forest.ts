import { quantileOfSorted, upperQuantileOfSorted } from '@helios/plugins/stats';
import { loadIsolationForest, trainIsolationForest, type IsolationForest, type SerializedIsolationForest } from './forest.js';

/** What a gated forest needs of the plugin's options (see the config schema in index.ts). */
export interface GatedForestOptions {
  trees: number;
  sampleSize: number;
  seed: number;
  retrainEvery: number;
  refreshEvery: number;
  minDeviation: number;
  contamination: number;
  holdoutShare: number;
}

/** What a gated forest saves: flat among its owner's fields in the state file (the file format predates this class). */
export interface SavedGatedForest {
  forest: SerializedIsolationForest | null;
  forestThreshold: number;
  gates: number[];
  generation: number;
  sinceTrain: number;
  sinceRefresh: number;
}

/**
 * A series' Isolation Forest with its alert threshold and per-column gates, and the schedule on which its
 * owner refreshes baselines and retrains it from normal windows: the part request series (series-model.ts)
 * uses; the class keeps the forest apart from the columns, baselines and training rows its owner builds.
 */
export class GatedForest {
  /** Undefined until the cold start trained the first one. */
  forest: IsolationForest | undefined;
  threshold = 1;
  /** Per column: the |z| beyond which it counts as a deviation. */
  gates: Float64Array;
  /** Forests trained so far (the model version, and the seed of the next one). */
  generation = 0;
  private sinceTrain = 0;
  private sinceRefresh = 0;

  constructor(private readonly columns: number, private readonly o: GatedForestOptions) {
    this.gates = new Float64Array(columns);
  }

  /**
   * A new forest, threshold and gates from `rows`. The threshold is the (1 - contamination) quantile of
   * out-of-sample scores: the newest `holdoutShare` of the rows scored by a forest grown without them (an
   * in-sample quantile is too tight, since a forest isolates its own training rows less easily than new
   * ones); never below the in-sample quantile of the final forest, grown on all rows. A column's gate is the
   * same quantile of its absolute values, floored at `minDeviation`, so a column only counts as evidence
   * beyond what normal training windows reached.
   */
  train(rows: Float64Array[]): void {
    const { o } = this;
    const options = { trees: o.trees, sampleSize: o.sampleSize, seed: o.seed + this.generation };
    const forest = trainIsolationForest(rows, options);
    let threshold = quantileOfSorted(forest.scoreMany(rows).sort(), 1 - o.contamination);
    const holdout = Math.floor(rows.length * o.holdoutShare);
    if (holdout >= 8 && rows.length - holdout >= 8) {
      const earlier = trainIsolationForest(rows.slice(0, rows.length - holdout), options);
      threshold = Math.max(threshold, quantileOfSorted(earlier.scoreMany(rows.slice(rows.length - holdout)).sort(), 1 - o.contamination));
    }
    const gates = new Float64Array(this.columns);
    const column = new Float64Array(rows.length);
    for (let c = 0; c < this.columns; c++) {
      for (let r = 0; r < rows.length; r++) column[r] = Math.abs(rows[r]![c]!);
      column.sort();
      gates[c] = Math.max(o.minDeviation, upperQuantileOfSorted(column, 1 - o.contamination));
    }
    this.forest = forest;
    this.threshold = threshold;
    this.gates = gates;
    this.sinceTrain = 0;
    this.generation++;
  }

  /**
   * One more normal window was learnt: every `refreshEvery` of them the owner's baselines are refreshed
   * (`refresh`), every `retrainEvery` the forest is retrained on `rows` (after the refresh).
   */
  learned(rows: Float64Array[], refresh: () => void): void {
    if (++this.sinceRefresh >= this.o.refreshEvery) {
      refresh();
      this.sinceRefresh = 0;
    }
    if (++this.sinceTrain >= this.o.retrainEvery) this.train(rows);
  }

  toJSON(): SavedGatedForest {
    return {
      forest: this.forest === undefined ? null : this.forest.toJSON(), forestThreshold: this.threshold, gates: Array.from(this.gates),
      generation: this.generation, sinceTrain: this.sinceTrain, sinceRefresh: this.sinceRefresh,
    };
  }

  /** A saved one back, checked against the column count its owner derives. */
  static fromJSON(saved: SavedGatedForest, columns: number, o: GatedForestOptions): GatedForest {
    const g = new GatedForest(columns, o);
    g.generation = saved.generation;
    g.sinceTrain = saved.sinceTrain;
    g.sinceRefresh = saved.sinceRefresh;
    if (saved.forest !== null) {
      if (saved.gates.length !== columns) throw new Error(`saved model has ${saved.gates.length} gates, expected ${columns}`);
      g.forest = loadIsolationForest(saved.forest);
      if (g.forest.features !== columns) throw new Error(`saved forest has ${g.forest.features} columns, expected ${columns}`);
      g.threshold = saved.forestThreshold;
      g.gates = Float64Array.from(saved.gates);
    }
    return g;
  }
}

/** Append, keeping the newest `max` items. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
