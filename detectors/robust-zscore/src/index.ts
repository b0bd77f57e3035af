import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, seriesKey, type Detection, type FeatureExplanation, type FeatureWindow, type Features, type MetricWindow } from '@helios/core';
import { Type, definePlugin } from '@helios/plugins';
import { calibrationConfig, calibrationOf, createMetricJudges, judgedVector, pooledErrorRate, robustBaseline, robustZScores, tailSupported, unjudgedValue, type RobustBaseline } from '@helios/plugins/stats';

export const configSchema = Type.Object(
  {
    historyWindows: Type.Integer({ minimum: 8, default: 240, description: 'Most recent normal windows the baseline (median and MAD per feature) is taken from; 240 one-minute hops = 4 hours, short enough to follow daily seasonality.' }),
    minTrainingWindows: Type.Integer({ minimum: 8, default: 60, description: 'Cold start: windows of a series seen before its first verdict.' }),
    thresholdWindows: Type.Integer({ minimum: 8, default: 1440, description: 'Normal windows whose z-scores (against the baseline of their time) set the per-feature thresholds; longer than the baseline history because sliding windows are strongly autocorrelated and tail features (p99, stddev) have rare benign spikes that 4 hours do not show (1,440 one-minute hops = a day).' }),
    refreshEvery: Type.Integer({ minimum: 1, default: 10, description: 'Recompute the baseline after this many new normal windows.' }),
    threshold: Type.Number({ minimum: 0, default: 6, description: 'Least robust z-score (|x - median| / (MAD x 1.4826), counts and latencies on a log scale) of a feature that counts as anomalous.' }),
    contamination: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, default: 0.005, description: 'Per feature, the threshold is raised to the (1 - contamination) quantile of the history\u2019s own z-scores when that is higher, so a naturally jumpy feature (tail latency of a small service) is judged on its own scale.' }),
    persist: Type.Boolean({ default: true, description: 'Keep each series\u2019 history in the store (`ctx.state`, shared by every detect worker) and a disk cache in the plugin state folder (written at most once a minute and at shutdown), so a restart or a rebalance resumes judging at once instead of starting cold. Metric series\u2019 calibrated judges (thresholds, cadence, daily profile) go to the store as well, every 5 minutes and at shutdown.' }),
    minTailEvents: Type.Integer({ minimum: 0, default: 5, description: 'A tail statistic counts toward the verdict only when at least this many events of the window lie beyond it (p99 and the 1%-trimmed stddev need 500 events, p95 100): below that it rests on a handful of requests, and a few benign slow requests (GC pauses, cold caches) move it for all the overlapping windows that hold them. It still appears in the explanation, with no share of the score. 0: always counts.' }),
    minRelativeSpread: Type.Number({ minimum: 0, default: 0.05, description: 'Spread floor as a relative move (0.05 = 5%), so a near-constant feature does not alert on a tiny move.' }),
    ...calibrationConfig,
  },
  { additionalProperties: false },
);

interface SeriesState {
  /** Normal windows on the judged scale (see `judgedVector`). */
  history: Features[];
  baseline: RobustBaseline | undefined;
  /** Pooled error rate of `history` (`pooledErrorRate`): what error counts are judged against. */
  errorRate: number;
  /** Per feature: the z-score that counts as anomalous. */
  thresholds: Float64Array;
  /** z-scores of recent normal windows, flat ring of `thresholdWindows` x features. */
  recentZ: Float64Array;
  recentCount: number;
  sinceRefresh: number;
  generation: number;
}

/**
 * Robust z-score per feature against the series' own recent normal windows: median and MAD resist the
 * outliers a mean and standard deviation would absorb. Simple on purpose: it proves the detector plugin
 * interface and gives `detection.vote` a second, differently-biased opinion next to the Isolation Forest.
 */
export default definePlugin({
  kind: 'detector',
  name: '@helios/detector-robust-zscore',
  version: '0.2.0',
  apiVersion: '^1.4.0',
  description: 'Robust z-score (median / MAD) of the seven window features, and of the features of metric series (detectMetric), against a trailing per-series baseline.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const calibration = calibrationOf(o);
    const series = new Map<string, SeriesState>();
    /** Metric series: calibrated judges, kept in the store too (calibrated-series-state.ts). */
    const metricJudges = createMetricJudges({ calibration, modelVersion: 'robust-zscore-metric', state: o.persist ? ctx.state : undefined, logger: ctx.logger, now: () => ctx.now() });
    const stateFile = join(ctx.stateDir, STATE_FILE);
    let lastSaved = ctx.now();
    // Per seriesKey(window). The store (ctx.state) is the source of truth across workers; the state
    // folder's file is this process's cache, read when the store has nothing for a series.
    let fileCache = new Map<string, SavedSeries>();
    /** Series that learnt since their last save. */
    const dirty = new Set<string>();
    /** Series this worker has looked up in the store (found or not). */
    const restored = new Set<string>();
    let saving: Promise<void> = Promise.resolve();
    if (o.persist) fileCache = readCache();

    function newState(): SeriesState {
      return { history: [], baseline: undefined, errorRate: 0, thresholds: new Float64Array(FEATURE_NAMES.length).fill(o.threshold), recentZ: new Float64Array(o.thresholdWindows * FEATURE_NAMES.length), recentCount: 0, sinceRefresh: 0, generation: 0 };
    }

    /** The state folder's file; a missing, unreadable or other-version file is an empty cache. */
    function readCache(): Map<string, SavedSeries> {
      let saved: SavedState;
      try {
        saved = JSON.parse(readFileSync(stateFile, 'utf8')) as SavedState;
      } catch {
        return new Map();
      }
      if (saved.version !== FILE_VERSION || saved.features.join() !== FEATURE_NAMES.join()) {
        ctx.logger.warn({ file: stateFile, version: saved.version }, 'cached baselines are of another format; ignored');
        return new Map();
      }
      return new Map(Object.entries(saved.series));
    }

    function fromSaved(s: SavedSeries): SeriesState {
      const state = newState();
      state.history = s.history.slice(-Math.max(o.historyWindows, o.minTrainingWindows)).map((row) => Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, row[i]!])) as Features);
      const recent = s.recentZ.slice(-o.thresholdWindows);
      recent.forEach((row, r) => state.recentZ.set(row, r * FEATURE_NAMES.length));
      state.recentCount = recent.length;
      state.generation = s.generation;
      if (state.history.length >= o.minTrainingWindows) refresh(state);
      return state;
    }

    function toSaved(state: SeriesState): SavedSeries {
      const recent = Math.min(state.recentCount, o.thresholdWindows);
      const first = state.recentCount - recent;
      return {
        history: state.history.map((f) => FEATURE_NAMES.map((name) => f[name])),
        // Oldest first, so a restore can lay them out from the start of its ring.
        recentZ: Array.from({ length: recent }, (_, r) => {
          const at = ((first + r) % o.thresholdWindows) * FEATURE_NAMES.length;
          return Array.from(state.recentZ.subarray(at, at + FEATURE_NAMES.length));
        }),
        generation: state.generation,
      };
    }

    /** The series' state: this worker's, else the store's, else the disk cache's, else a cold one. */
    async function stateOf(tenant: string, service: string, key = seriesKey({ tenant, service })): Promise<{ state: SeriesState; cold: boolean }> {
      const known = series.get(key);
      if (known !== undefined) return { state: known, cold: false };
      let saved: SavedSeries | undefined;
      if (o.persist && !restored.has(key)) {
        restored.add(key);
        try {
          const stored = await ctx.state.get<SavedSeries>(tenant, key);
          if (stored !== undefined && stored.version === STATE_VERSION) saved = stored.value;
        } catch (err) {
          ctx.logger.warn({ err, series: key }, 'saved baselines unreadable from the store; trying the disk cache');
        }
        saved ??= fileCache.get(key);
      }
      const state = saved === undefined ? newState() : fromSaved(saved);
      series.set(key, state);
      return { state, cold: saved === undefined };
    }

    /** Dirty series to the store, every series to the disk cache; one save at a time. */
    function save(): Promise<void> {
      lastSaved = ctx.now();
      saving = saving.then(async () => {
        const keys = [...dirty].filter((key) => series.has(key));
        dirty.clear();
        try {
          if (keys.length > 0) await ctx.state.put(keys.map((key) => ({ tenant: key.slice(0, key.indexOf('\u0000')), seriesKey: key, version: STATE_VERSION, value: toSaved(series.get(key)!) })));
        } catch (err) {
          for (const key of keys) dirty.add(key);
          ctx.logger.warn({ err, series: keys.length }, 'could not save baselines to the store; will retry');
        }
        try {
          const out: SavedState = { version: FILE_VERSION, features: [...FEATURE_NAMES], series: {} };
          for (const [key, state] of series) out.series[key] = toSaved(state);
          mkdirSync(ctx.stateDir, { recursive: true });
          writeFileSync(`${stateFile}.tmp`, JSON.stringify(out));
          renameSync(`${stateFile}.tmp`, stateFile);
        } catch (err) {
          ctx.logger.warn({ err, file: stateFile }, 'could not write the disk cache of baselines');
        }
      });
      return saving;
    }

    /** Learn one window of a series whose baseline is not ready yet. */
    function learnCold(state: SeriesState, judged: Features): void {
      state.history.push(judged);
      if (state.history.length >= o.minTrainingWindows) refresh(state);
    }

    function refresh(state: SeriesState): void {
      state.baseline = robustBaseline(state.history, o.minRelativeSpread);
      state.errorRate = pooledErrorRate(state.history);
      const z = state.history.map((f) => robustZScores(f, state.baseline!, state.errorRate));
      const features = FEATURE_NAMES.length;
      const recent = Math.min(state.recentCount, o.thresholdWindows);
      FEATURE_NAMES.forEach((_, i) => {
        const column = new Float64Array(z.length + recent);
        z.forEach((row, r) => (column[r] = row[i]!));
        for (let r = 0; r < recent; r++) column[z.length + r] = state.recentZ[r * features + i]!;
        column.sort();
        state.thresholds[i] = Math.max(o.threshold, column[Math.min(column.length - 1, Math.floor((1 - o.contamination) * column.length))] ?? 0);
      });
      state.sinceRefresh = 0;
      state.generation++;
    }

    return {
      async warm({ tenant, service }, history) {
        const { state, cold } = await stateOf(tenant, service);
        if (!cold || state.history.length > 0) return;
        // Calm history only would be ideal; the baseline is a median, so a past incident in it weighs little.
        for (const w of await history()) {
          const judged = judgedVector(w.features);
          if (state.baseline === undefined) learnCold(state, judged);
          else {
            state.history.push(judged);
            if (state.history.length > o.historyWindows) state.history.splice(0, state.history.length - o.historyWindows);
            if (++state.sinceRefresh >= o.refreshEvery) refresh(state);
          }
        }
        dirty.add(seriesKey({ tenant, service }));
      },
      async detect(window: FeatureWindow): Promise<Detection | undefined> {
        // seriesKey tells a dependency or log stream of the service from its requests.
        const key = seriesKey(window);
        const { state } = await stateOf(window.tenant, window.service, key);
        const judged = judgedVector(window.features);
        dirty.add(key);
        if (state.baseline === undefined) {
          learnCold(state, judged);
          return undefined;
        }
        const z = robustZScores(judged, state.baseline, state.errorRate);
        // Each feature against its own threshold; the score is the largest ratio, so the threshold is 1.
        const relative = z.map((v, i) => (tailSupported(FEATURE_NAMES[i]!, window.features.total_events, o.minTailEvents) ? v / state!.thresholds[i]! : 0));
        const score = maxOf(relative);
        const anomalous = score > 1;
        const total = relative.reduce((a, b) => a + b, 0);
        const explanation: FeatureExplanation[] = FEATURE_NAMES.map((feature, i) => {
          const value = window.features[feature];
          const m = state!.baseline!.median[i]!;
          const base = unjudgedValue(feature, m);
          const moved = Math.abs(value - base) > Math.max(Math.abs(base) * 0.05, 1e-9);
          return { feature, value, baseline: base, contribution: total > 0 ? relative[i]! / total : 1 / FEATURE_NAMES.length, direction: !moved ? 'flat' as const : value > base ? 'up' as const : 'down' as const };
        }).sort((a, b) => b.contribution - a.contribution);
        if (!anomalous) {
          state.recentZ.set(z, (state.recentCount++ % o.thresholdWindows) * FEATURE_NAMES.length);
          state.history.push(judged);
          if (state.history.length > o.historyWindows) state.history.splice(0, state.history.length - o.historyWindows);
          if (++state.sinceRefresh >= o.refreshEvery) {
            refresh(state);
            if (o.persist && ctx.now() - lastSaved >= SAVE_EVERY_MS) void save();
          }
        }
        return { score, threshold: 1, anomalous, explanation, modelVersion: `robust-zscore-${state.generation}` };
      },
      detectMetric: (window: MetricWindow) => metricJudges.detect(window),
      *seriesStates() {
        yield* metricJudges.seriesStates();
      },
      async shutdown() {
        if (o.persist) await save();
        series.clear();
        await metricJudges.shutdown();
      },
    };
  },
});

const STATE_FILE = 'baselines.json';
/** Format of one series' saved state (its `ctx.state` value and its entry in the file). */
const STATE_VERSION = 1;
/** 2: the file keyed by `seriesKey` (dependency and log streams too); 1 keyed request series `tenant/service`. */
const FILE_VERSION = 2;
const SAVE_EVERY_MS = 60_000;

/** The state file: per series, the normal windows on the judged scale and recent z-scores, as rows in FEATURE_NAMES order. */
interface SavedState {
  version: number;
  features: string[];
  series: Record<string, SavedSeries>;
}

/** One series: the normal windows on the judged scale and recent z-scores, rows in FEATURE_NAMES order (also its `ctx.state` value). */
interface SavedSeries {
  history: number[][];
  recentZ: number[][];
  generation: number;
}

function maxOf(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}
