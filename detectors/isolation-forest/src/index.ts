import { FEATURE_NAMES, type FeatureName, type Detection, type FeatureExplanation, type FeatureWindow, type Features } from '@helios/core';
import { Type, definePlugin } from '@helios/plugins';
import { quantile, trainIsolationForest, type IsolationForest } from './forest.js';

const configSchema = Type.Object(
  {
    trees: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Trees per model.' }),
    sampleSize: Type.Integer({ minimum: 2, maximum: 4096, default: 256, description: 'Windows drawn to grow each tree.' }),
    seed: Type.Integer({ default: 42, description: 'Seed: same history, same model.' }),
    minTrainingWindows: Type.Integer({ minimum: 8, default: 60, description: 'Cold start: windows of a series seen before its first model (no verdicts before).' }),
    maxTrainingWindows: Type.Integer({ minimum: 8, default: 2016, description: 'Most recent normal windows a model trains on (2,016 = 7 days of 5-minute windows).' }),
    retrainEvery: Type.Integer({ minimum: 1, default: 30, description: 'Retrain a series after this many new normal windows.' }),
    minDeviation: Type.Number({ minimum: 0, default: 3.5, description: 'A window is anomalous only if, besides scoring above the threshold, at least one feature is this many robust standard deviations (MAD x 1.4826) from the series median. Keeps alerts to windows that moved materially. 0 disables.' }),
    minTailEvents: Type.Integer({ minimum: 0, default: 5, description: 'In the minDeviation gate, a tail statistic (p95, p99, the 1%-trimmed stddev) counts only when at least this many events of the window lie beyond it (p99: 500 events): below that a few benign slow requests move it. 0: always counts.' }),
    contamination: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, default: 0.005, description: 'Expected share of anomalous windows in training: the threshold is the (1 - contamination) quantile of training scores.' }),
  },
  { additionalProperties: false },
);

interface SeriesModel {
  history: Features[];
  forest: IsolationForest | undefined;
  threshold: number;
  baseline: Features | undefined;
  /** Robust spread (MAD x 1.4826) per feature of the training windows. */
  spread: Features | undefined;
  sinceTrain: number;
  generation: number;
}

/** Share of a window's events beyond each tail statistic. */
const TAIL_SHARE: Partial<Record<(typeof FEATURE_NAMES)[number], number>> = { p95_latency: 0.05, p99_latency: 0.01, latency_stddev: 0.01 };

const vectorOf = (f: Features): number[] => FEATURE_NAMES.map((name) => f[name]);

function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  return quantile(sorted, 0.5);
}

/** Median and robust standard deviation (MAD x 1.4826, which equals sigma for normal data). */
function robustStats(values: number[]): { median: number; spread: number } {
  const m = median(values);
  return { median: m, spread: 1.4826 * median(values.map((v) => Math.abs(v - m))) };
}

/**
 * Isolation Forest per tenant+service, trained on that series' own recent normal windows.
 * Anomalous windows never enter training, so an incident does not teach the model it is normal.
 */
export default definePlugin({
  kind: 'detector',
  name: '@helios/detector-isolation-forest',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Isolation Forest (Liu, Ting & Zhou) on the seven window features, one model per series, with per-feature attribution.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const series = new Map<string, SeriesModel>();

    function train(model: SeriesModel, key: string): void {
      const rows = model.history.map(vectorOf);
      const forest = trainIsolationForest(rows, { trees: o.trees, sampleSize: o.sampleSize, seed: o.seed + model.generation });
      const scores = forest.scoreMany(rows).sort();
      model.forest = forest;
      model.threshold = quantile(scores, 1 - o.contamination);
      const stats = FEATURE_NAMES.map((_, i) => robustStats(rows.map((r) => r[i]!)));
      model.baseline = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, stats[i]!.median])) as Features;
      model.spread = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, stats[i]!.spread])) as Features;
      model.sinceTrain = 0;
      model.generation++;
      ctx.logger.debug({ series: key, windows: rows.length, threshold: model.threshold, generation: model.generation }, 'model trained');
    }

    /**
     * Sampling noise a feature shows even when nothing changed, for the window's event count: the
     * error rate of n events at the baseline rate p varies by sqrt(p(1-p)/n) (binomial), a count by
     * sqrt(count) (Poisson). Low-traffic series otherwise look anomalous on a handful of extra errors.
     */
    function samplingNoise(name: FeatureName, features: Features, baseline: Features): number {
      const n = Math.max(features.total_events, 1);
      if (name === 'error_rate') {
        const p = Math.min(Math.max(baseline.error_rate, 1 / n), 0.5);
        return Math.sqrt((p * (1 - p)) / n);
      }
      if (name === 'total_events') return Math.sqrt(Math.max(baseline.total_events, 1));
      return 0;
    }

    /** Largest robust z-score over the features; a zero spread counts any 5% move as a large deviation. */
    function maxDeviation(features: Features, baseline: Features, spread: Features): number {
      let max = 0;
      for (const name of FEATURE_NAMES) {
        const tail = TAIL_SHARE[name];
        if (tail !== undefined && features.total_events * tail < o.minTailEvents) continue;
        const scale = Math.max(spread[name], samplingNoise(name, features, baseline), Math.abs(baseline[name]) * 0.05 / o.minDeviation, 1e-9);
        max = Math.max(max, Math.abs(features[name] - baseline[name]) / scale);
      }
      return max;
    }

    function explain(forest: IsolationForest, window: FeatureWindow, baseline: Features): FeatureExplanation[] {
      const shares = forest.attribution(vectorOf(window.features));
      return FEATURE_NAMES.map((feature, i) => {
        const value = window.features[feature];
        const base = baseline[feature];
        const tolerance = Math.max(Math.abs(base) * 0.05, 1e-9);
        const direction: FeatureExplanation['direction'] = value > base + tolerance ? 'up' : value < base - tolerance ? 'down' : 'flat';
        return { feature, value, baseline: base, contribution: shares[i]!, direction };
      }).sort((a, b) => b.contribution - a.contribution);
    }

    return {
      detect(window): Detection | undefined {
        const key = `${window.tenant}/${window.service}`;
        let model = series.get(key);
        if (model === undefined) series.set(key, (model = { history: [], forest: undefined, threshold: 1, baseline: undefined, spread: undefined, sinceTrain: 0, generation: 0 }));
        if (model.forest === undefined) {
          model.history.push(window.features);
          if (model.history.length >= o.minTrainingWindows) train(model, key);
          return undefined;
        }
        const score = model.forest.score(vectorOf(window.features));
        const anomalous = score > model.threshold && (o.minDeviation === 0 || maxDeviation(window.features, model.baseline!, model.spread!) >= o.minDeviation);
        const detection: Detection = {
          score, threshold: model.threshold, anomalous,
          explanation: explain(model.forest, window, model.baseline!),
          modelVersion: `iforest-${model.generation}`,
        };
        if (!anomalous) {
          model.history.push(window.features);
          if (model.history.length > o.maxTrainingWindows) model.history.splice(0, model.history.length - o.maxTrainingWindows);
          if (++model.sinceTrain >= o.retrainEvery) train(model, key);
        }
        return detection;
      },
      shutdown() {
        series.clear();
      },
    };
  },
});
