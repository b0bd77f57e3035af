import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, featureSeriesKey, seriesKey, type Detection, type MetricWindow } from '@helios/core';
import { Type, definePlugin, type Static } from '@helios/plugins';
import { calibrationConfig, calibrationOf, createMetricJudges } from '@helios/plugins/stats';
import { SeriesModel, type SavedSeriesModel } from './series-model.js';

export const configSchema = Type.Object(
  {
    trees: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Trees per model.' }),
    sampleSize: Type.Integer({ minimum: 2, maximum: 4096, default: 256, description: 'Windows drawn to grow each tree.' }),
    seed: Type.Integer({ default: 42, description: 'Seed: same history, same model.' }),
    minTrainingWindows: Type.Integer({ minimum: 8, default: 60, description: 'Cold start: windows of a series seen before its first model (no verdicts before).' }),
    maxTrainingWindows: Type.Integer({ minimum: 8, default: 2016, description: 'Most recent normal windows a model trains on.' }),
    retrainEvery: Type.Integer({ minimum: 1, default: 30, description: 'Retrain a series after this many new normal windows.' }),
    baselineWindows: Type.Integer({ minimum: 8, default: 240, description: 'Most recent normal windows the level and change baselines (median and MAD per feature, on the log scale for counts and latencies) come from; the forest sees each feature as a robust z-score against them. 240 one-minute hops = 4 hours, short enough to follow daily seasonality.' }),
    refreshEvery: Type.Integer({ minimum: 1, default: 10, description: 'Recompute the baselines after this many new normal windows.' }),
    minDeviation: Type.Number({ minimum: 0, default: 8, description: 'A window the forest isolates (score above its threshold) is anomalous only if at least one feature\u2019s level or change is this many robust standard deviations from its baseline (or beyond the (1 - contamination) quantile of the training windows\u2019 own deviations when that is larger). Keeps alerts to windows that moved materially. 0 disables.' }),
    minTailEvents: Type.Integer({ minimum: 0, default: 5, description: 'A tail statistic (p95, p99, the 1%-trimmed stddev) counts only when at least this many events of the window lie beyond it (p99: 500 events): below that a few benign slow requests move it. 0: always counts.' }),
    minRelativeSpread: Type.Number({ minimum: 0, default: 0.05, description: 'Level spread floor as a relative move (0.05 = 5%), so a near-constant feature does not alert on a tiny move.' }),
    contamination: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, default: 0.2, description: 'The forest\u2019s threshold is the (1 - contamination) quantile of its out-of-sample training scores. The forest is the first filter (is the window isolated at all?) and minDeviation the second (did a feature move materially?), so this is well above the true share of anomalies: 0.2 was best on the development seed (0.005: precision 0.97 but recall 0.65; the forest alone misses single-feature incidents).' }),
    holdoutShare: Type.Number({ minimum: 0, maximum: 0.5, default: 0.25, description: 'Share of the newest training windows scored by a forest grown without them to set the threshold out of sample. 0: in-sample quantile only.' }),
    persist: Type.Boolean({ default: true, description: 'Keep each request series\u2019 model in the store (`ctx.state`, shared by every detect worker) and a disk cache in the plugin state folder (written at most once a minute and at shutdown; `helios train` writes both), so a restart or a rebalance resumes judging at once instead of starting cold. Metric series\u2019 calibrated judges (thresholds, cadence, daily profile) go to the store as well, every 5 minutes and at shutdown.' }),
    ...calibrationConfig,
  },
  { additionalProperties: false },
);

export type IsolationForestOptions = Static<typeof configSchema>;

/** The state file in the plugin's state folder; `helios train` writes it too. */
export const MODELS_FILE = 'models.json';
/** Format of one series' saved model (its `ctx.state` value and its entry in the file). */
const MODELS_VERSION = 2;
/** 3: the file keyed by `seriesKey` (dependency and log streams too); 2 keyed request series `tenant/service`. */
const MODELS_FILE_VERSION = 3;
const SAVE_EVERY_MS = 60_000;

/** A models file in the plugin's state folder: its format and how one series' model is written and read. */
interface ModelFileFormat<M, S> {
  name: string;
  version: number;
  features: readonly string[];
  /** What the file holds, for the error on another format. */
  holds: string;
  save(model: M): S;
  load(saved: S, options: IsolationForestOptions): M;
}

/** A models file's content: format version, feature order, and one saved model per series key. */
export interface SavedModels<S = SavedSeriesModel> {
  version: number;
  features: string[];
  series: Record<string, S>;
}

/** Written to a temporary file and renamed, so a crash mid-write leaves the previous file whole. */
function writeModelFile<M, S>(stateDir: string, format: ModelFileFormat<M, S>, series: ReadonlyMap<string, M>): { file: string; bytes: number } {
  const out: SavedModels<S> = { version: format.version, features: [...format.features], series: {} };
  for (const [key, model] of series) out.series[key] = format.save(model);
  const file = join(stateDir, format.name);
  const text = JSON.stringify(out);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  return { file, bytes: Buffer.byteLength(text) };
}

/** Throws on another format; an empty map without a file. */
function readModelFile<M, S>(stateDir: string, format: ModelFileFormat<M, S>, options: IsolationForestOptions): Map<string, M> {
  const file = join(stateDir, format.name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  const saved = JSON.parse(text) as SavedModels<S>;
  if (saved.version !== format.version || saved.features.join() !== format.features.join()) throw new Error(`${file}: ${format.holds} of another format (version ${String(saved.version)})`);
  return new Map(Object.entries(saved.series).map(([key, s]) => [key, format.load(s, options)]));
}

/** Request, dependency and log series' models, per `seriesKey` (core). */
const REQUEST_MODELS: ModelFileFormat<SeriesModel, SavedSeriesModel> = {
  name: MODELS_FILE, version: MODELS_FILE_VERSION, features: FEATURE_NAMES, holds: 'models',
  save: (model) => model.toJSON(), load: (saved, options) => SeriesModel.fromJSON(saved, options),
};

/** Request series' models to the state folder's models file (`helios train` writes it too). */
export function writeModels(stateDir: string, series: ReadonlyMap<string, SeriesModel>): { file: string; bytes: number } {
  return writeModelFile(stateDir, REQUEST_MODELS, series);
}

/** Series models from a state folder; throws on another format, returns an empty map without a file. */
export function readModels(stateDir: string, options: IsolationForestOptions): Map<string, SeriesModel> {
  return readModelFile(stateDir, REQUEST_MODELS, options);
}

export { SeriesModel };

/**
 * Isolation Forest per tenant+service on the seven window features, each as its level and its change
 * against the series' own recent normal windows (see series-model.ts). Metric series are judged by the
 * calibrated series judge of @helios/plugins/stats (a false-alarm rate by design, any cadence, a first
 * verdict after a few points): a forest on overlapping metric windows alerted once every 6.5 points on real
 * series and hundreds of times on series with no anomaly (issue 22; bench/RESULTS.md).
 */
export default definePlugin({
  kind: 'detector',
  name: '@helios/detector-isolation-forest',
  version: '0.4.0',
  apiVersion: '^1.4.0',
  description: 'Isolation Forest (Liu, Ting & Zhou) on the seven window features (level and change against a trailing baseline, and the newest minute\u2019s event count and error rate), and on the features of metric series (detectMetric), one model per series, with per-feature attribution.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    // Request series per seriesKey(window). The store (ctx.state) is the source of truth across workers;
    // the state folder's file is this process's cache, read when the store has nothing for a series.
    let series = new Map<string, SeriesModel>();
    const calibration = calibrationOf(o);
    /** Tenant and service of each request series key. */
    const names = new Map<string, { tenant: string; service: string }>();
    // Metric series: calibrated judges, kept in the store too (calibrated-series-state.ts).
    const metricJudges = createMetricJudges({ calibration, modelVersion: 'iforest-metric-calibrated', state: o.persist ? ctx.state : undefined, logger: ctx.logger, now: () => ctx.now() });
    let fileModels = new Map<string, SeriesModel>();
    /** Series that learnt since their last save. */
    const dirty = new Set<string>();
    /** Series this worker has looked up in the store (found or not): looked up once per worker life. */
    const restored = new Set<string>();
    let lastSaved = ctx.now();
    let saving: Promise<void> = Promise.resolve();
    if (o.persist) {
      try {
        fileModels = readModels(ctx.stateDir, o);
        if (fileModels.size > 0) ctx.logger.info({ dir: ctx.stateDir, series: fileModels.size }, 'models cached on disk');
      } catch (err) {
        ctx.logger.warn({ err }, 'models cached on disk unreadable; series start from the store or cold');
      }
    }

    /** The series' model: this worker's, else the store's, else the disk cache's, else undefined (cold). */
    async function requestModel(tenant: string, service: string, key = seriesKey({ tenant, service })): Promise<SeriesModel | undefined> {
      const known = series.get(key);
      if (known !== undefined || restored.has(key)) return known;
      restored.add(key);
      names.set(key, { tenant, service });
      if (!o.persist) return undefined;
      let model: SeriesModel | undefined;
      try {
        const saved = await ctx.state.get<SavedSeriesModel>(tenant, key);
        if (saved !== undefined && saved.version === MODELS_VERSION) model = SeriesModel.fromJSON(saved.value, o);
        else if (saved !== undefined) ctx.logger.warn({ series: key, version: saved.version }, 'saved model of another format; the series starts over');
      } catch (err) {
        ctx.logger.warn({ err, series: key }, 'saved model unreadable from the store; trying the disk cache');
      }
      model ??= fileModels.get(key);
      if (model !== undefined) series.set(key, model);
      return model;
    }

    /** Dirty series to the store (and every series to the disk cache); one save at a time. */
    function save(): Promise<void> {
      lastSaved = ctx.now();
      saving = saving.then(async () => {
        const keys = [...dirty].filter((key) => series.has(key));
        dirty.clear();
        try {
          if (keys.length > 0) await ctx.state.put(keys.map((key) => ({ tenant: names.get(key)!.tenant, seriesKey: key, version: MODELS_VERSION, value: series.get(key)!.toJSON() })));
        } catch (err) {
          for (const key of keys) dirty.add(key);
          ctx.logger.warn({ err, series: keys.length }, 'could not save models to the store; will retry');
        }
        try {
          if (series.size > 0) writeModels(ctx.stateDir, series);
        } catch (err) {
          ctx.logger.warn({ err, dir: ctx.stateDir }, 'could not write the disk cache of models');
        }
      });
      return saving;
    }

    return {
      async warm({ tenant, service }, history) {
        const key = seriesKey({ tenant, service });
        if (series.has(key) || restored.has(key)) return;
        if ((await requestModel(tenant, service)) !== undefined) return;
        const windows = await history();
        if (windows.length === 0) return;
        const model = new SeriesModel(o);
        for (const w of windows) model.observe(w);
        series.set(key, model);
        dirty.add(key);
        ctx.logger.info({ tenant, service, windows: windows.length, trained: model.trained }, 'series warmed from stored rollups');
      },
      async detect(window): Promise<Detection | undefined> {
        // seriesKey tells a dependency or log stream of the service from its requests.
        const key = seriesKey(window);
        let model = await requestModel(window.tenant, window.service, key);
        if (model === undefined) series.set(key, (model = new SeriesModel(o)));
        const verdict = model.observe(window);
        dirty.add(key);
        if (o.persist && ctx.now() - lastSaved >= SAVE_EVERY_MS) void save();
        return verdict?.detection;
      },
      detectMetric: (window: MetricWindow) => metricJudges.detect(window),
      *seriesStates() {
        for (const [key, model] of series) {
          const named = names.get(key);
          if (named !== undefined) yield { key, ...named, state: model.trained ? 'active' as const : 'learning' as const, windowsSeen: model.windowsSeen, threshold: model.threshold, firstVerdictInMs: model.firstVerdictInMs };
        }
        yield* metricJudges.seriesStates();
      },
      async train({ windows }) {
        // The detector's own path: each window judged, and learnt from only when normal, in order per series.
        const trainedSeries = new Map<string, SeriesModel>();
        for await (const page of windows) {
          for (const w of page) {
            // Request series only: dependency and log streams learn live (detect saves them like the rest).
            if (w.stream !== undefined) continue;
            const key = seriesKey(w);
            names.set(key, { tenant: w.tenant, service: w.service });
            let model = trainedSeries.get(key);
            if (model === undefined) trainedSeries.set(key, (model = new SeriesModel(o)));
            model.observe(w);
          }
        }
        const trained = [...trainedSeries].filter(([, m]) => m.trained);
        // Replaces the models file; `setup` reads it at the next start. This instance holds the
        // trained models from now on, so its shutdown saves them, not what it restored.
        series = new Map(trained);
        const saved = writeModels(ctx.stateDir, new Map(trained));
        // The store is what detect workers read first: the trained models go there too.
        for (const key of series.keys()) dirty.add(key);
        const shownKey = (key: string): string => featureSeriesKey(names.get(key)!);
        await save();
        return {
          series: Object.fromEntries([...trainedSeries].map(([key, m]) => [shownKey(key), { trained: m.trained, trainingWindows: m.trainingWindows, modelVersion: m.modelVersion }])),
          saved,
          notes: [...trainedSeries].filter(([, m]) => !m.trained).map(([key]) => `${shownKey(key)}: cold (fewer than ${o.minTrainingWindows} windows)`),
        };
      },
      async shutdown() {
        if (o.persist) await save();
        series.clear();
        await metricJudges.shutdown();
      },
    };
  },
});
