import { FEATURE_NAMES, type Detection, type FeatureExplanation, type FeatureName, type FeatureWindow, type Features } from '@helios/core';
import { judgedVector, robustBaseline, samplingNoise, tailSupported, unjudgedValue, upperQuantileOfSorted, type RobustBaseline } from '@helios/plugins/stats';
import { GatedForest, pushBounded, type GatedForestOptions, type SavedGatedForest } from './gated-forest.js';

/** What a series model needs of the plugin's options (see the config schema in index.ts). */
export interface SeriesModelOptions extends GatedForestOptions {
  minTrainingWindows: number;
  maxTrainingWindows: number;
  baselineWindows: number;
  minTailEvents: number;
  minRelativeSpread: number;
}

const FEATURES = FEATURE_NAMES.length;
/**
 * The forest's columns: per feature, its level and its change since the previous window, both as signed
 * robust z-scores on the judged scale (log1p for counts and latencies). Levels are against a trailing
 * baseline of recent normal windows, so a daily cycle is not an anomaly (a 4-hour median follows it); the
 * change catches an onset a minute in, while the 5-minute window still dilutes it in the level (one minute
 * of a 70 % traffic drop moves the window's count by 14 %, but the previous window differs from this one
 * only in its oldest and newest minute). A third group judges the event count and error rate of the
 * window's newest hop bucket alone (`FeatureWindow.latest`) against the newest buckets of recent normal
 * windows: a fresh traffic drop or error burst is undiluted there. Only features with a sampling-noise
 * model get one (a bucket has a fifth of the events, so its floor must be known; a minute's p99 rests on a
 * handful of requests). Column c < FEATURES is the level of FEATURE_NAMES[c], FEATURES + c its change,
 * 2 x FEATURES + j the newest hop of HOP_FEATURES[j].
 */
const HOP_FEATURES: readonly FeatureName[] = ['total_events', 'error_rate'];
const HOP_INDEX = HOP_FEATURES.map((name) => FEATURE_NAMES.indexOf(name));
export const DERIVED_COLUMNS = 2 * FEATURES + HOP_FEATURES.length;
const MIN_CHANGE_SPREAD = 1e-3;

/** A series' state as written to the state file (rows in FEATURE_NAMES order). */
export interface SavedSeriesModel extends SavedGatedForest {
  /** Judged levels of recent normal windows (the level baseline). */
  levels: number[][];
  /** Judged changes of recent normal windows (the change baseline). */
  changes: number[][];
  /** Judged newest hop buckets of recent normal windows (the newest-hop baseline). */
  latests: number[][];
  /** Derived rows the forest trains on. */
  rows: number[][];
  previous: number[] | null;
  /** Hop share of the previous window (see `changeNoiseShare`). */
  previousEnd: number | null;
  levelBaseline: { median: number[]; spread: number[] } | null;
  changeBaseline: { median: number[]; spread: number[] } | null;
  latestBaseline: { median: number[]; spread: number[] } | null;
}

/**
 * How far a window is from normal in each of the three views the columns give of it, as the largest
 * |column| / gate within the view (above 1: past its gate): the whole window against recent windows
 * (`level`), its move since the previous window (`change`), its newest hop bucket against recent newest
 * buckets (`latest`; 0 without `FeatureWindow.latest`).
 */
export interface ViewDeviations {
  level: number;
  change: number;
  latest: number;
}

export interface SeriesVerdict {
  detection: Detection;
  /** The forest's own score and threshold, before the deviation gate. */
  forestScore: number;
  forestThreshold: number;
  views: ViewDeviations;
}

const rowOf = (f: Features): number[] => FEATURE_NAMES.map((n) => f[n]);
const featuresOf = (row: ArrayLike<number>): Features => Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, row[i]!])) as Features;

/**
 * One series' Isolation Forest and the baselines its columns are measured against. Anomalous windows never
 * enter the baselines or training, so an incident does not teach the model it is normal.
 */
export class SeriesModel {
  private levels: Features[] = [];
  private changes: Features[] = [];
  private latests: Features[] = [];
  /** Cold start only: the newest hop of each window in `levels` (undefined when the window had none). */
  private coldLatests: (Features | undefined)[] = [];
  private rows: Float64Array[] = [];
  private previous: Features | undefined;
  private previousEnd: number | undefined;
  /** sqrt(hop / window): see `derive`; 5-minute windows with 1-minute hops until two windows show the hop. */
  private changeNoiseShare = Math.sqrt(1 / 5);
  private levelBaseline: RobustBaseline | undefined;
  private changeBaseline: RobustBaseline | undefined;
  private latestBaseline: RobustBaseline | undefined;
  private gated: GatedForest;

  constructor(private readonly o: SeriesModelOptions) {
    this.gated = new GatedForest(DERIVED_COLUMNS, o);
  }

  get trained(): boolean {
    return this.gated.forest !== undefined;
  }

  get trainingWindows(): number {
    return this.rows.length;
  }

  /** Windows judged or learnt from since this model was created or restored. */
  windowsSeen = 0;
  /** The series' hop (end to end of two windows in a row); one minute until two windows show it. */
  private hopMs = 60_000;

  /** Estimated time to the first verdict: the cold-start windows still missing, one per hop (0 once trained). */
  get firstVerdictInMs(): number {
    return this.trained ? 0 : Math.max(1, this.o.minTrainingWindows - this.levels.length) * this.hopMs;
  }

  /** The forest's alert threshold (score units; null during the cold start). */
  get threshold(): number | null {
    return this.gated.forest === undefined ? null : this.gated.threshold;
  }

  get modelVersion(): string {
    return `iforest-${this.gated.generation}`;
  }

  /** Judge one window (undefined during the cold start) and learn from it when it is normal. */
  observe(window: FeatureWindow): SeriesVerdict | undefined {
    this.windowsSeen++;
    const level = judgedVector(window.features);
    const change = this.previous === undefined ? undefined : changeOf(level, this.previous);
    const latest = window.latest === undefined ? undefined : judgedVector(window.latest);
    if (this.previousEnd !== undefined && window.end > this.previousEnd) this.hopMs = window.end - this.previousEnd;
    if (this.previousEnd !== undefined && window.end > this.previousEnd && window.end - window.start > 0) {
      this.changeNoiseShare = Math.sqrt(Math.min(1, (window.end - this.previousEnd) / (window.end - window.start)));
    }
    this.previous = level;
    this.previousEnd = window.end;
    if (this.gated.forest === undefined) {
      this.levels.push(level);
      if (change !== undefined) this.changes.push(change);
      this.coldLatests.push(latest);
      if (latest !== undefined) this.latests.push(latest);
      if (this.levels.length >= this.o.minTrainingWindows) this.coldStart();
      return undefined;
    }
    const derived = this.derive(level, change, latest, window.features.total_events);
    const forestScore = this.gated.forest.score(derived);
    // Each column against its own gate; the deviation is the largest ratio, so the gate is passed above 1.
    const views = this.viewDeviations(derived);
    const deviation = Math.max(views.level, views.change, views.latest);
    const forestRatio = forestScore / this.gated.threshold;
    const anomalous = forestRatio > 1 && (this.o.minDeviation === 0 || deviation > 1);
    // The forest decides whether the window is isolated at all; how far it is then is the deviation, so
    // a window far past its gates can open an alert at once (`immediateRatio`) though forest scores are
    // bounded by 1, and so can an anomalous window whose views corroborate (`corroboratedDeviation`).
    // Below the forest's threshold the score is capped by the forest's own ratio.
    const score = forestRatio <= 1 ? Math.min(deviation, forestRatio) : anomalous ? corroboratedDeviation(views) : deviation;
    const detection: Detection = { score, threshold: 1, anomalous, explanation: this.explain(window.features, derived), modelVersion: this.modelVersion };
    if (!anomalous) this.learn(level, change, latest, derived);
    return { detection, forestScore, forestThreshold: this.gated.threshold, views };
  }

  private viewDeviations(derived: Float64Array): ViewDeviations {
    const view = (from: number, to: number): number => {
      let most = 0;
      for (let c = from; c < to; c++) most = Math.max(most, Math.abs(derived[c]!) / this.gated.gates[c]!);
      return most;
    };
    return { level: view(0, FEATURES), change: view(FEATURES, 2 * FEATURES), latest: view(2 * FEATURES, DERIVED_COLUMNS) };
  }

  private learn(level: Features, change: Features | undefined, latest: Features | undefined, derived: Float64Array): void {
    pushBounded(this.levels, level, this.o.baselineWindows);
    if (change !== undefined) pushBounded(this.changes, change, this.o.baselineWindows);
    if (latest !== undefined) pushBounded(this.latests, latest, this.o.baselineWindows);
    pushBounded(this.rows, derived, this.o.maxTrainingWindows);
    this.gated.learned(this.rows, () => this.refresh());
  }

  /** First model: baselines from the cold-start windows, and their derived rows as the first training set. */
  private coldStart(): void {
    this.refresh();
    this.rows = this.levels.map((level, i) => this.derive(level, i === 0 ? undefined : this.changes[i - 1], this.coldLatests[i], Math.expm1(level.total_events)));
    this.coldLatests = [];
    this.gated.train(this.rows);
  }

  private refresh(): void {
    this.levelBaseline = robustBaseline(this.levels, this.o.minRelativeSpread);
    this.changeBaseline = robustBaseline(this.changes, 0);
    for (let i = 0; i < FEATURES; i++) this.changeBaseline.spread[i] = Math.max(this.changeBaseline.spread[i]!, MIN_CHANGE_SPREAD);
    this.latestBaseline = this.latests.length === 0 ? undefined : robustBaseline(this.latests, this.o.minRelativeSpread);
  }

  /**
   * Signed robust z-scores of level and change. Spreads are floored by the sampling noise of the window's
   * event count; a tail statistic without `minTailEvents` events beyond it is 0 (no evidence either way).
   */
  private derive(level: Features, change: Features | undefined, latest: Features | undefined, events: number): Float64Array {
    const out = new Float64Array(DERIVED_COLUMNS);
    const lb = this.levelBaseline!;
    const cb = this.changeBaseline!;
    const hb = this.latestBaseline;
    const baseErrorRate = lb.median[1]!;
    // The newest hop against the newest hops of recent normal windows, its spread floored by the sampling
    // noise of a bucket's own event count (a fifth of a window's: sqrt(5) times the noise). The count's
    // noise is that of the typical bucket (Poisson under "nothing changed"): the observed count of a drop
    // would inflate it exactly when the drop is real. The error rate's is binomial on the bucket's events.
    if (latest !== undefined && hb !== undefined) {
      const hopEvents = Math.expm1(latest.total_events);
      HOP_FEATURES.forEach((name, j) => {
        const i = HOP_INDEX[j]!;
        const n = name === 'total_events' ? Math.expm1(hb.median[i]!) : hopEvents;
        out[2 * FEATURES + j] = (latest[name] - hb.median[i]!) / Math.max(hb.spread[i]!, samplingNoise(name, n, baseErrorRate));
      });
    }
    FEATURE_NAMES.forEach((name, i) => {
      if (!tailSupported(name, events, this.o.minTailEvents)) return;
      const noise = samplingNoise(name, events, baseErrorRate);
      out[i] = (level[name] - lb.median[i]!) / Math.max(lb.spread[i]!, noise);
      // Consecutive sliding windows differ only in a hop bucket at each end, so their difference carries
      // about sqrt(2 x hop / window) of one window's noise (most of it is shared and cancels).
      if (change !== undefined) out[FEATURES + i] = (change[name] - cb.median[i]!) / Math.max(cb.spread[i]!, noise * Math.SQRT2 * this.changeNoiseShare);
    });
    return out;
  }

  /** Per feature: the forest's attribution of its level and change columns together, strongest first. */
  private explain(features: Features, derived: Float64Array): FeatureExplanation[] {
    const shares = this.gated.forest!.attribution(derived);
    const hopShare = new Float64Array(FEATURES);
    HOP_INDEX.forEach((i, j) => (hopShare[i] = shares[2 * FEATURES + j]!));
    return FEATURE_NAMES.map((feature: FeatureName, i) => {
      const value = features[feature];
      const base = unjudgedValue(feature, this.levelBaseline!.median[i]!);
      const tolerance = Math.max(Math.abs(base) * 0.05, 1e-9);
      const direction: FeatureExplanation['direction'] = value > base + tolerance ? 'up' : value < base - tolerance ? 'down' : 'flat';
      return { feature, value, baseline: base, contribution: shares[i]! + shares[FEATURES + i]! + hopShare[i]!, direction };
    }).sort((a, b) => b.contribution - a.contribution);
  }

  toJSON(): SavedSeriesModel {
    return {
      levels: this.levels.map(rowOf), changes: this.changes.map(rowOf), latests: this.latests.map(rowOf), rows: this.rows.map((r) => Array.from(r)),
      previous: this.previous === undefined ? null : rowOf(this.previous), previousEnd: this.previousEnd ?? null,
      levelBaseline: savedBaseline(this.levelBaseline),
      changeBaseline: savedBaseline(this.changeBaseline),
      latestBaseline: savedBaseline(this.latestBaseline),
      ...this.gated.toJSON(),
    };
  }

  /** A model in the state it was saved in; baselines are recomputed from the saved windows (deterministic). */
  static fromJSON(saved: SavedSeriesModel, o: SeriesModelOptions): SeriesModel {
    const m = new SeriesModel(o);
    m.levels = saved.levels.map(featuresOf);
    m.changes = saved.changes.map(featuresOf);
    m.latests = (saved.latests ?? []).map(featuresOf);
    m.rows = saved.rows.map((r) => Float64Array.from(r));
    m.previous = saved.previous === null ? undefined : featuresOf(saved.previous);
    m.previousEnd = saved.previousEnd ?? undefined;
    m.gated = GatedForest.fromJSON(saved, DERIVED_COLUMNS, o);
    if (saved.forest !== null) {
      m.levelBaseline = baselineOf(saved.levelBaseline!);
      m.changeBaseline = baselineOf(saved.changeBaseline!);
      m.latestBaseline = saved.latestBaseline === null || saved.latestBaseline === undefined ? undefined : baselineOf(saved.latestBaseline);
    }
    return m;
  }
}

/** A baseline as written to a state file; null when there is none yet. */
export function savedBaseline(b: RobustBaseline | undefined): { median: number[]; spread: number[] } | null {
  return b === undefined ? null : { median: Array.from(b.median), spread: Array.from(b.spread) };
}

/** A saved baseline back, checked against the feature count it must have (`features`, default the request series'). */
export function baselineOf(saved: { median: number[]; spread: number[] }, features: number = FEATURES): RobustBaseline {
  if (saved.median.length !== features || saved.spread.length !== features) throw new Error(`saved baseline must have ${features} features`);
  return { median: Float64Array.from(saved.median), spread: Float64Array.from(saved.spread) };
}

/**
 * The score of an anomalous window: its strongest view, or the evidence of two views added up when they
 * corroborate, so that `detection.immediateRatio` (2 by default: "twice past the gate") opens an incident
 * at once instead of waiting for `confirmWindows`. Two views corroborate when
 * - the newest minute and the change since the previous window together reach it: both see the onset, one
 *   undiluted in its minute, one as the step between consecutive windows (a burst or drop that just began);
 * - or any two views are each past their gates on their own (e.g. the whole window and its change: a
 *   latency regression that moved the window both far and suddenly).
 * Other pairs are not added below their gates: adding the two strongest views whatever they were cost alert
 * precision on a development seed (seed 4: 0.964 -> 0.929), adding the newest minute and the change did
 * not on any (seeds 1, 4, 5; bench/RESULTS.md, issue 6, fifth pass).
 */
export function corroboratedDeviation(views: ViewDeviations): number {
  const { level, change, latest } = views;
  let score = Math.max(level, change, latest, latest + change);
  if (level > 1 && change > 1) score = Math.max(score, level + change);
  if (level > 1 && latest > 1) score = Math.max(score, level + latest);
  return score;
}

function changeOf(level: Features, previous: Features): Features {
  return Object.fromEntries(FEATURE_NAMES.map((n) => [n, level[n] - previous[n]])) as Features;
}
