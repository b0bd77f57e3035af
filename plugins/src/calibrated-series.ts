import { Type } from '@sinclair/typebox';

/**
 * A false-alarm rate by design for one series of observations (a metric series' fresh points, or any scalar
 * a detector follows): each observation gets nonconformity scores against the series' own recent normal
 * observations, and each score is compared with a threshold calibrated out of sample on the series' own
 * recent scores, at the exceedance probability that gives `falseAlertsPerWeek` at the series' cadence (a
 * peaks-over-threshold tail fit extrapolates past the few hundred scores a quantile could resolve).
 *
 * Why each piece is there (issue 22):
 * - Spread from first differences of distinct observations, not of overlapping windows (those are mostly
 *   identical, so their spread collapses and pure noise alerts), floored by the series' quantum (the
 *   smallest step it ever took: integer counts, rounded gauges) and a relative share of its level.
 * - A robust local-linear prediction (medians of the last points and of the ones before): a daily wave's
 *   slope is not a deviation. With more than a day of history, the same time on previous days (median over
 *   up to a week) deseasonalises, and the better of the two models (smaller typical score) is used.
 * - Anomalous observations stay out of the history, but only for `adoptAfterMs`: a lasting change (a level
 *   shift, a run of zeros) becomes the new normal, so one incident does not stay open for weeks.
 * - Stuck values (the same value again and again where the series used to move) are judged by how unlikely
 *   the run is under the series' own share of repeated values.
 * - Bounds are wide on a new series and tighten as scores accumulate (the small-sample factor), so a first
 *   verdict comes after `minObservations` points, not after a training period.
 */

export interface CalibrationOptions {
  /** Expected false incidents per series per week on normal data (the design rate). */
  falseAlertsPerWeek: number;
  /** Observations before the first verdict. */
  minObservations: number;
  /** A change lasting this long (ms) is adopted as the new normal. */
  adoptAfterMs: number;
  /** Never call an observation anomalous within this many robust standard deviations of its prediction. */
  minDeviation: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = { falseAlertsPerWeek: 1, minObservations: 5, adoptAfterMs: 60 * 60_000, minDeviation: 4 };

/** Config keys of a detector that judges metric series by calibration; one schema, so both detectors document them alike. */
export const calibrationConfig = {
  falseAlertsPerWeek: Type.Number({ exclusiveMinimum: 0, maximum: 10_000, default: DEFAULT_CALIBRATION.falseAlertsPerWeek, description: 'Metric series: expected false incidents per series per week on normal data. Thresholds are calibrated on each series’ own recent scores (tail fit) to this rate at the series’ cadence. Lower: fewer false alerts, lower recall of mild anomalies; higher: the reverse. Delay is unaffected for strong anomalies (they cross the threshold at once).' }),
  firstVerdictAfter: Type.Integer({ minimum: 4, maximum: 10_000, default: DEFAULT_CALIBRATION.minObservations, description: 'Metric series: fresh observations (windows with new points) before the first verdict; bounds start wide and tighten as scores accumulate. At one-minute cadence the first verdict comes after about this many minutes.' }),
  adoptAfterMinutes: Type.Number({ minimum: 1, default: DEFAULT_CALIBRATION.adoptAfterMs / 60_000, description: 'Metric series: a change that lasts this long becomes the new normal (the incident resolves). Shorter: lasting shifts stop alerting sooner, but a long outage closes early.' }),
  minDeviationSigma: Type.Number({ minimum: 0, default: DEFAULT_CALIBRATION.minDeviation, description: 'Metric series: floor of the calibrated threshold, in robust standard deviations of one step. Higher: precision on very regular series, later detection of small shifts.' }),
};

/** Calibration options from a detector's validated config. */
export function calibrationOf(o: { falseAlertsPerWeek: number; firstVerdictAfter: number; adoptAfterMinutes: number; minDeviationSigma: number }): CalibrationOptions {
  return { falseAlertsPerWeek: o.falseAlertsPerWeek, minObservations: o.firstVerdictAfter, adoptAfterMs: o.adoptAfterMinutes * 60_000, minDeviation: o.minDeviationSigma };
}

/** What a series' judge reports about itself: learning (no verdicts yet) or active, and how calibrated. */
export interface CalibratedSeriesState {
  state: 'learning' | 'active';
  /** Observations (fresh evidence) seen so far. */
  observations: number;
  /** Observations still needed before the first verdict (0 when active). */
  observationsToFirstVerdict: number;
  /** Current threshold of the point channel in robust standard deviations (null while learning). */
  threshold: number | null;
  /** Sampling interval the rate is calibrated for (ms). */
  cadenceMs: number;
  model: 'local' | 'seasonal';
}

/** A `CalibratedSeries` as numbers (non-finite ones included), for `restore`. */
export interface CalibratedSeriesSnapshot {
  times: Float64Array;
  values: Float64Array;
  offsets: Float64Array;
  local: Float64Array;
  seasonal: Float64Array;
  /** The daily profile's used slots: slot index, sum, count and absolute slot. */
  profile: { index: Float64Array; sum: Float64Array; n: Float64Array; slot: Float64Array } | undefined;
  /** (at, value, offset) triples. */
  quarantine: Float64Array;
  /** observations, cadence, spread, quantum, sinceSpread, integers, firstAt, normalStreak, lastValue, run, repeats, steps, then the local and seasonal `TailThreshold.fit()`. */
  scalars: number[];
}

export interface CalibratedJudgement {
  /** Strongest channel's score over its threshold: above 1 is anomalous. */
  ratio: number;
  anomalous: boolean;
  channel: 'point' | 'stuck';
  /** What the series was expected to be, and its spread (robust standard deviation). */
  expected: number;
  spread: number;
}

const WEEK_MS = 7 * 24 * 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** Normal observations kept for prediction and spread. */
const HISTORY = 256;
/** Points in each half of the local-linear prediction. */
const LOCAL = 6;
/** Scores kept per calibrator: about two days at one-minute cadence. */
const SCORES = 2880;
const RECALIBRATE_EVERY = 64;
/** Slots of the daily profile: a week of 5-minute slots. */
const SLOT_MS = 5 * 60_000;
const SLOTS = WEEK_MS / SLOT_MS;

/**
 * Per-observation exceedance probability of a design rate: `falseAlertsPerWeek` spread over a week of
 * observations `cadenceMs` apart (at most 0.5).
 */
export function exceedanceProbability(falseAlertsPerWeek: number, cadenceMs: number): number {
  return Math.min(0.5, falseAlertsPerWeek / (WEEK_MS / Math.max(cadenceMs, 1000)));
}

/**
 * Threshold for an exceedance probability `alpha` from recent scores: a generalized Pareto tail (moment
 * estimates, shape clamped to [0, 0.5]) fitted to the excesses over the top `TAIL_SHARE` of scores, widened
 * by 1 + 4 / sqrt(n) while scores are few. Recomputed every RECALIBRATE_EVERY scores.
 */
export class TailThreshold {
  private readonly ring = new Float64Array(SCORES);
  private count = 0;
  private since = 0;
  private cached = Infinity;
  private cachedAlpha = -1;
  private readonly scratch = new Float64Array(SCORES);

  get size(): number {
    return Math.min(this.count, SCORES);
  }

  add(score: number): void {
    this.ring[this.count++ % SCORES] = score;
    this.since++;
  }

  threshold(alpha: number, floor: number): number {
    if (this.size === 0) return Infinity;
    // Often while scores are few (each one moves the fit), then every RECALIBRATE_EVERY.
    if (this.since >= Math.max(4, Math.min(RECALIBRATE_EVERY, this.size >> 3)) || alpha !== this.cachedAlpha || this.cached === Infinity) {
      this.scratch.set(this.ring.subarray(0, this.size));
      this.cached = tailQuantile(this.scratch.subarray(0, this.size), alpha);
      this.cachedAlpha = alpha;
      this.since = 0;
    }
    return Math.max(this.cached, floor) * (1 + 4 / Math.sqrt(this.size));
  }

  /** The scores kept, oldest first (a snapshot: calibrated-series-state.ts). */
  scores(): Float64Array {
    const size = this.size;
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.ring[(this.count - size + i) % SCORES]!;
    return out;
  }

  /** When the tail was last fitted and to what: [scores since, fitted quantile, its alpha]. */
  fit(): [number, number, number] {
    return [this.since, this.cached, this.cachedAlpha];
  }

  /** Replace the scores (oldest first) and the fit by a snapshot's: the thresholds go on exactly as they were. */
  restore(scores: ArrayLike<number>, fit: readonly number[]): void {
    this.count = 0;
    for (let i = Math.max(0, scores.length - SCORES); i < scores.length; i++) this.ring[this.count++] = scores[i]!;
    [this.since, this.cached, this.cachedAlpha] = fit as [number, number, number];
  }
}

/**
 * The (1 - alpha) quantile of the distribution `scores` is a sample of, by a POT tail fit. Reorders `scores`
 * (only the top of it is sorted: a selection, not a full sort, keeps this in microseconds).
 */
export function tailQuantile(scores: Float64Array, alpha: number): number {
  const n = scores.length;
  if (n === 0) return Infinity;
  const tail = Math.max(5, Math.ceil(n * 0.05));
  const k = Math.min(n, tail);
  const from = Math.max(0, n - k - 1);
  if (from > 0) selectInPlace(scores, from);
  scores.subarray(from).sort();
  const sorted = scores;
  const u = n > k ? sorted[n - k - 1]! : 0;
  const pu = k / n;
  if (alpha >= pu) return sorted[Math.min(n - 1, Math.floor((1 - alpha) * n))]!;
  let mean = 0;
  for (let i = n - k; i < n; i++) mean += sorted[i]! - u;
  mean /= k;
  let variance = 0;
  for (let i = n - k; i < n; i++) variance += (sorted[i]! - u - mean) ** 2;
  variance /= Math.max(1, k - 1);
  if (mean <= 0) return u;
  const shape = variance > 0 ? Math.min(0.5, Math.max(0, 0.5 * (1 - (mean * mean) / variance))) : 0;
  const scale = shape === 0 ? mean : 0.5 * mean * ((mean * mean) / Math.max(variance, 1e-300) + 1);
  const ratio = pu / alpha;
  return shape < 1e-6 ? u + scale * Math.log(ratio) : u + (scale / shape) * (ratio ** shape - 1);
}

export class CalibratedSeries {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private observations = 0;
  private cadence = 60_000;
  private spread = 0;
  private quantum = Infinity;
  private sinceSpread = Infinity;
  private readonly local = new TailThreshold();
  private readonly seasonal = new TailThreshold();
  /** Whether every value so far was an integer (counts, replica numbers): then a step of 1 is the quantum. */
  private integers = true;
  /** Per 5-minute slot of the week: sum and count of normal values, and which absolute slot they are of. */
  private profile: { sum: Float64Array; n: Uint16Array; slot: Float64Array } | undefined;
  private firstAt = Infinity;
  /** Anomalous observations not in the history (yet): adopted once the episode outlasts `adoptAfterMs`. */
  private quarantine: Array<{ at: number; value: number; offset: number }> = [];
  /** Per history entry: what the daily cycle added at its time (NaN without a previous day). */
  private readonly offsets: number[] = [];
  private readonly recentScratch = new Float64Array(LOCAL);
  private readonly sameTimeScratch = new Float64Array(7);
  private readonly beforeScratch = new Float64Array(LOCAL);
  private normalStreak = 0;
  private lastValue = NaN;
  private run = 0;
  private repeats = 0;
  private steps = 0;

  constructor(private readonly o: CalibrationOptions) {}

  state(): CalibratedSeriesState {
    const active = this.observations >= this.o.minObservations && this.local.size > 0;
    const model = this.useSeasonal() ? 'seasonal' : 'local';
    const calibrator = model === 'seasonal' ? this.seasonal : this.local;
    return { state: active ? 'active' : 'learning', observations: this.observations, observationsToFirstVerdict: active ? 0 : Math.max(1, this.o.minObservations - this.observations), threshold: active ? calibrator.threshold(this.alpha(), this.o.minDeviation) : null, cadenceMs: this.cadence, model };
  }

  /**
   * Everything the judge learnt, for another process to go on with (calibrated-series-state.ts encodes it):
   * history, calibrated scores, cadence, daily profile, quarantine and the stuck-run counts.
   */
  snapshot(): CalibratedSeriesSnapshot {
    const p = this.profile;
    const used: number[] = [];
    if (p !== undefined) for (let i = 0; i < SLOTS; i++) if (p.slot[i]! >= 0) used.push(i);
    return {
      times: Float64Array.from(this.times), values: Float64Array.from(this.values), offsets: Float64Array.from(this.offsets),
      local: this.local.scores(), seasonal: this.seasonal.scores(),
      profile: p === undefined ? undefined : { index: Float64Array.from(used), sum: Float64Array.from(used, (i) => p.sum[i]!), n: Float64Array.from(used, (i) => p.n[i]!), slot: Float64Array.from(used, (i) => p.slot[i]!) },
      quarantine: Float64Array.from(this.quarantine.flatMap((q) => [q.at, q.value, q.offset])),
      scalars: [this.observations, this.cadence, this.spread, this.quantum, this.sinceSpread, this.integers ? 1 : 0, this.firstAt, this.normalStreak, this.lastValue, this.run, this.repeats, this.steps, ...this.local.fit(), ...this.seasonal.fit()],
    };
  }

  /** Go on from a snapshot (same options assumed: the calibration is the detector's config). */
  restore(s: CalibratedSeriesSnapshot): void {
    this.times.splice(0, Infinity, ...s.times);
    this.values.splice(0, Infinity, ...s.values);
    this.offsets.splice(0, Infinity, ...s.offsets);
    this.local.restore(s.local, s.scalars.slice(12, 15));
    this.seasonal.restore(s.seasonal, s.scalars.slice(15, 18));
    this.profile = undefined;
    if (s.profile !== undefined) {
      const p = (this.profile = { sum: new Float64Array(SLOTS), n: new Uint16Array(SLOTS), slot: new Float64Array(SLOTS).fill(-1) });
      s.profile.index.forEach((i, k) => {
        p.sum[i] = s.profile!.sum[k]!;
        p.n[i] = s.profile!.n[k]!;
        p.slot[i] = s.profile!.slot[k]!;
      });
    }
    this.quarantine = [];
    for (let i = 0; i + 2 < s.quarantine.length; i += 3) this.quarantine.push({ at: s.quarantine[i]!, value: s.quarantine[i + 1]!, offset: s.quarantine[i + 2]! });
    [this.observations, this.cadence, this.spread, this.quantum, this.sinceSpread] = s.scalars as [number, number, number, number, number];
    this.integers = s.scalars[5] === 1;
    [this.firstAt, this.normalStreak, this.lastValue, this.run, this.repeats, this.steps] = s.scalars.slice(6) as [number, number, number, number, number, number];
  }

  private alpha(): number {
    return exceedanceProbability(this.o.falseAlertsPerWeek, this.cadence);
  }

  /** The seasonal model has a day of history behind it and enough scores of its own to be calibrated. */
  private useSeasonal(): boolean {
    return this.times.length > 0 && this.times[this.times.length - 1]! - this.firstAt > DAY_MS + SLOT_MS && this.seasonal.size >= 30;
  }

  /**
   * Judge one observation (`at` epoch ms, `cadenceMs` the series' sampling interval, or the gap between
   * judgements when coarser) and learn from it when normal. Undefined while learning.
   */
  observe(at: number, value: number, cadenceMs: number, integerPoints = Number.isInteger(value)): CalibratedJudgement | undefined {
    this.cadence = cadenceMs;
    // An aggregate of integer points (a minute's mean of 10-second counts) still moves in steps of counts.
    if (!integerPoints) this.integers = false;
    this.observations++;
    if (!Number.isFinite(this.firstAt)) this.firstAt = at;
    const stuck = this.stuckScore(value);
    if (this.values.length < 3) {
      const offset = this.sameTime(at);
      this.addToProfile(at, value);
      this.learn(at, value, offset);
      return undefined;
    }
    if (this.sinceSpread >= 32) this.refreshSpread();
    const spread = this.spread;
    const localPrediction = this.predictLocal(false);
    const localScore = Math.abs(value - localPrediction) / spread;
    const offset = this.sameTime(at);
    this.addToProfile(at, value);
    const seasonalPrediction = Number.isNaN(offset) || !this.seasonalHistory() ? undefined : this.predictLocal(true) + offset;
    const seasonalScore = seasonalPrediction === undefined ? undefined : Math.abs(value - seasonalPrediction) / spread;
    const alpha = this.alpha();
    const judging = this.observations >= this.o.minObservations;
    const localRatio = judging ? localScore / this.local.threshold(alpha, this.o.minDeviation) : 0;
    // Either model explaining the observation makes it normal: a rise at 8:00 every weekday is a deviation
    // from the last hour, not from the same time on previous days.
    const seasonal = seasonalScore !== undefined && this.useSeasonal();
    const seasonalRatio = seasonal && judging ? seasonalScore / this.seasonal.threshold(alpha, this.o.minDeviation) : Infinity;
    const pointRatio = Math.min(localRatio, seasonalRatio);
    // A run of repeats is as unlikely as the share of repeats to the run's power; its threshold is the same
    // exceedance probability, as -log (the run is one observation's worth of evidence per repeat).
    const stuckRatio = stuck / Math.log(1 / alpha);
    const ratio = Math.max(pointRatio, stuckRatio);
    const anomalous = ratio > 1;
    if (!anomalous) {
      this.local.add(localScore);
      if (seasonalScore !== undefined) this.seasonal.add(seasonalScore);
      if (++this.normalStreak >= 3) this.quarantine = [];
      this.learn(at, value, offset);
    } else {
      this.normalStreak = 0;
      this.quarantine.push({ at, value, offset });
      if (at - this.quarantine[0]!.at >= this.o.adoptAfterMs) this.adopt();
    }
    if (!judging) return undefined;
    const expected = seasonal && seasonalRatio < localRatio ? seasonalPrediction! : localPrediction;
    return { ratio, anomalous, channel: pointRatio >= stuckRatio ? 'point' : 'stuck', expected, spread };
  }

  /** -log P(a run this long) under the series' share of repeated values; 0 while the series never moved. */
  private stuckScore(value: number): number {
    if (value === this.lastValue) this.run++;
    else this.run = 0;
    if (!Number.isNaN(this.lastValue)) {
      this.steps++;
      if (value === this.lastValue) this.repeats++;
    }
    this.lastValue = value;
    // Evidence needs a history outside the run: a series that has been constant all along is not stuck.
    if (this.run < 3 || this.steps - this.run < 30) return 0;
    const share = (this.repeats - this.run + 1) / (this.steps - this.run + 2);
    // A series that mostly repeats (a replica count, a step function) is in a run by nature.
    if (share > 0.5) return 0;
    return this.run * -Math.log(Math.min(Math.max(share, 1e-6), 1));
  }

  /** The lasting change becomes the normal: its observations enter the history (and the daily profile). */
  private adopt(): void {
    for (const q of this.quarantine) this.learn(q.at, q.value, q.offset);
    this.quarantine = [];
    // Repeats so far described the old normal; a run that outlasted adoption is the new one.
    this.steps = this.run;
    this.repeats = this.run;
    this.sinceSpread = Infinity;
  }

  private learn(at: number, value: number, offset: number): void {
    this.times.push(at);
    this.values.push(value);
    this.offsets.push(offset);
    if (this.values.length > HISTORY) {
      this.times.shift();
      this.values.shift();
      this.offsets.shift();
    }
    this.sinceSpread++;
    const n = this.values.length;
    if (n >= 2) {
      const step = Math.abs(value - this.values[n - 2]!);
      if (step > 0 && step < this.quantum) this.quantum = step;
    }
  }

  /** The newest history the local prediction uses all has a same-time value on a previous day. */
  private seasonalHistory(): boolean {
    const n = this.offsets.length;
    const k = Math.min(LOCAL, Math.floor(n / 2));
    for (let i = n - 2 * k; i < n; i++) if (Number.isNaN(this.offsets[i]!)) return false;
    return true;
  }

  /** Robust standard deviation of one step: MAD of first differences / sqrt 2, with floors. */
  private refreshSpread(): void {
    const n = this.values.length;
    const diffs = new Float64Array(n - 1);
    for (let i = 1; i < n; i++) diffs[i - 1] = Math.abs(this.values[i]! - this.values[i - 1]!);
    let meanStep = 0;
    for (const d of diffs) meanStep += d;
    meanStep /= Math.max(1, diffs.length);
    const level = Math.abs(medianInPlace(Float64Array.from(this.values)));
    const mad = (1.4826 * medianInPlace(diffs)) / Math.SQRT2;
    // Half the quantum: an integer count moving by one is not a deviation; a share of the level; and the
    // mean absolute step, so a series that mostly repeats (a MAD of 0) still has the spread of its moves.
    const quantum = this.integers ? Math.max(1, Number.isFinite(this.quantum) ? this.quantum : 1) : this.quantum;
    this.spread = Math.max(mad, Number.isFinite(quantum) ? quantum / 2 : 0, 1e-3 * level, meanStep / 2, 1e-9);
    this.sinceSpread = 0;
  }

  /** Robust local-linear prediction from the newest history (deseasonalised by each entry's offset when `seasonal`). */
  private predictLocal(seasonal: boolean): number {
    const n = this.values.length;
    const k = Math.min(LOCAL, Math.floor(n / 2));
    const recent = this.recentScratch.subarray(0, k);
    const before = this.beforeScratch.subarray(0, k);
    let tRecent = 0, tBefore = 0;
    for (let i = 0; i < k; i++) {
      const r = n - k + i, b = n - 2 * k + i;
      recent[i] = this.values[r]! - (seasonal ? this.offsets[r]! : 0);
      before[i] = this.values[b]! - (seasonal ? this.offsets[b]! : 0);
      tRecent += this.times[r]!;
      tBefore += this.times[b]!;
    }
    const mRecent = medianInPlace(recent);
    if (k < 2) return mRecent;
    const mBefore = medianInPlace(before);
    tRecent /= k;
    tBefore /= k;
    const slope = (mRecent - mBefore) / Math.max(tRecent - tBefore, 1);
    // Extrapolated to the next observation, but damped by half: a slope from a dozen noisy points overshoots.
    const ahead = this.times[n - 1]! + this.cadence - tRecent;
    return mRecent + 0.5 * slope * ahead;
  }

  private addToProfile(at: number, value: number): void {
    if (this.profile === undefined) this.profile = { sum: new Float64Array(SLOTS), n: new Uint16Array(SLOTS), slot: new Float64Array(SLOTS).fill(-1) };
    const absolute = Math.floor(at / SLOT_MS);
    const i = absolute % SLOTS;
    const p = this.profile;
    if (p.slot[i] !== absolute) {
      p.slot[i] = absolute;
      p.sum[i] = 0;
      p.n[i] = 0;
    }
    p.sum[i]! += value;
    p.n[i]!++;
  }

  /**
   * What the daily cycle adds at `at`: the same time on previous days (median over up to the last 7 of their
   * 5-minute slot means, every observation counted: a pattern that repeats daily was flagged the first day).
   * NaN before a previous day holds that slot.
   */
  private sameTime(at: number): number {
    const p = this.profile;
    if (p === undefined || at - this.firstAt < DAY_MS) return NaN;
    const absolute = Math.floor(at / SLOT_MS);
    const daySlots = DAY_MS / SLOT_MS;
    const found = this.sameTimeScratch;
    let count = 0;
    for (let d = 1; d <= 7; d++) {
      const a = absolute - d * daySlots;
      const i = a % SLOTS;
      if (a >= 0 && p.slot[i] === a && p.n[i]! > 0) found[count++] = p.sum[i]! / p.n[i]!;
    }
    return count === 0 ? NaN : medianInPlace(found.subarray(0, count));
  }
}

/** Reorders `a` so that a[k] is the k-th smallest, smaller ones before it and larger ones after (quickselect). */
export function selectInPlace(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot: sorted or constant input stays linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Median of `a` (reordered); 0 when empty. */
export function medianInPlace(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  selectInPlace(a, mid);
  if (n % 2 === 1) return a[mid]!;
  let below = -Infinity;
  for (let i = 0; i < mid; i++) if (a[i]! > below) below = a[i]!;
  return (below + a[mid]!) / 2;
}
