import { seriesKey, type Detection, type Logger, type MetricWindow } from '@helios/core';
import { CalibratedMetricSeries, type CalibratedMetricSnapshot } from './calibrated-metric.js';
import type { CalibratedSeriesState, CalibrationOptions } from './calibrated-series.js';
import type { DetectorSeriesState } from './define.js';
import type { PluginStateStore } from './series-state.js';

/** Format of a metric judge's saved state; a reader that does not know it starts the series over. */
export const METRIC_JUDGE_STATE_VERSION = 1;
/** Judges are larger than request-series models (up to ~120 KB) and learn slowly: saved every 5 minutes by default. */
export const METRIC_JUDGE_SAVE_EVERY_MS = 5 * 60_000;
/** Scalars of `CalibratedSeriesSnapshot.scalars` in this format. */
const SERIES_SCALARS = 18;

/**
 * A metric judge's snapshot as bytes: every number as a float64 (NaN and infinities are part of the state),
 * arrays length-first. 117 KB for a series with a week of profile and full score rings at one point a minute,
 * 27 KB after a day, under 1 KB after a few minutes.
 */
export function encodeMetricJudge(s: CalibratedMetricSnapshot): Uint8Array {
  const { series } = s;
  const arrays = [series.times, series.values, series.offsets, series.local, series.seasonal, series.quarantine];
  const profile = series.profile === undefined ? [] : [series.profile.index, series.profile.sum, series.profile.n, series.profile.slot];
  const total = 3 + SERIES_SCALARS + arrays.length + 1 + profile.length + [...arrays, ...profile].reduce((a, b) => a + b.length, 0);
  const out = new Float64Array(total);
  let at = 0;
  const put = (x: number) => (out[at++] = x);
  const putArray = (a: Float64Array) => {
    put(a.length);
    out.set(a, at);
    at += a.length;
  };
  put(s.lastEnd);
  put(s.hop);
  put(s.windowsSeen);
  for (let i = 0; i < SERIES_SCALARS; i++) put(series.scalars[i]!);
  for (const a of arrays) putArray(a);
  put(profile.length === 0 ? 0 : 1);
  for (const a of profile) putArray(a);
  return new Uint8Array(out.buffer);
}

/** The inverse of `encodeMetricJudge`; throws on bytes of another shape (the series then starts over). */
export function decodeMetricJudge(bytes: Uint8Array): CalibratedMetricSnapshot {
  if (bytes.byteLength % 8 !== 0) throw new Error(`metric judge state: ${bytes.byteLength} bytes is not a whole number of float64`);
  const copy = new Uint8Array(bytes.byteLength); // aligned, and not a view into a pooled Buffer
  copy.set(bytes);
  const data = new Float64Array(copy.buffer);
  let at = 0;
  const take = (): number => {
    if (at >= data.length) throw new Error('metric judge state: truncated');
    return data[at++]!;
  };
  const takeArray = (): Float64Array => {
    const n = take();
    if (!Number.isInteger(n) || n < 0 || at + n > data.length) throw new Error(`metric judge state: bad array length ${n}`);
    const a = data.slice(at, at + n);
    at += n;
    return a;
  };
  const lastEnd = take(), hop = take(), windowsSeen = take();
  const scalars = Array.from({ length: SERIES_SCALARS }, take);
  const [times, values, offsets, local, seasonal, quarantine] = Array.from({ length: 6 }, takeArray) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const profile = take() === 1 ? { index: takeArray(), sum: takeArray(), n: takeArray(), slot: takeArray() } : undefined;
  if (at !== data.length) throw new Error('metric judge state: trailing data');
  return { lastEnd, hop, windowsSeen, series: { times, values, offsets, local, seasonal, quarantine, profile, scalars } };
}

export interface MetricJudges {
  /** The series' verdict on a window; the series' judge is restored from the store when first seen here. */
  detect(window: MetricWindow): Promise<Detection | undefined>;
  seriesStates(): Iterable<DetectorSeriesState>;
  /** Save every judge that learnt since its last save. */
  save(): Promise<void>;
  /** Save, then forget every judge. */
  shutdown(): Promise<void>;
}

/**
 * A detector's calibrated metric-series judges, kept in the store (`ctx.state`, the same rows as the
 * detector's request series, under the metric series' `seriesKey`): a worker that takes a series over (a
 * rebalance, a restart on an empty disk) judges its first window with the calibrated thresholds, cadence,
 * daily profile and quarantine the previous owner had, not after `firstVerdictAfter` new observations.
 * Saved at a judge's first verdict, every `saveEveryMs` (5 minutes; by the judging, so an idle worker writes
 * nothing) and at shutdown; what was learnt since the last save is lost with a killed worker (a few minutes of
 * observations of a series that had hundreds).
 * Open metric incidents are the detect runtime's state, not this (detection/src/incident-state.ts).
 */
export function createMetricJudges(options: {
  calibration: CalibrationOptions;
  modelVersion: string;
  /** Undefined: judges live and die with the process (`persist: false`). */
  state: PluginStateStore | undefined;
  logger: Logger;
  now: () => number;
  /** Default `METRIC_JUDGE_SAVE_EVERY_MS`. */
  saveEveryMs?: number;
}): MetricJudges {
  const saveEveryMs = options.saveEveryMs ?? METRIC_JUDGE_SAVE_EVERY_MS;
  const { calibration, modelVersion, state, logger } = options;
  const judges = new Map<string, CalibratedMetricSeries>();
  /** Series this worker looked up in the store (found or not): looked up once. */
  const looked = new Set<string>();
  const dirty = new Set<string>();
  /** Series whose judge is in the store (saved, or restored from it). */
  const stored = new Set<string>();
  let lastSaved = options.now();
  let saving: Promise<void> = Promise.resolve();

  async function judgeOf(window: MetricWindow, key: string): Promise<CalibratedMetricSeries> {
    const known = judges.get(key);
    if (known !== undefined) return known;
    const judge = new CalibratedMetricSeries(calibration, modelVersion, window);
    if (state !== undefined && !looked.has(key)) {
      looked.add(key);
      try {
        const saved = await state.get<Uint8Array>(window.tenant, key);
        if (saved !== undefined && saved.version === METRIC_JUDGE_STATE_VERSION && saved.value instanceof Uint8Array) {
          judge.restore(decodeMetricJudge(saved.value));
          stored.add(key);
        }
      } catch (err) {
        logger.warn({ err, tenant: window.tenant, service: window.service }, 'saved metric judge unreadable; the series starts over');
      }
    }
    // Another window of the series may have been restored meanwhile (two awaited at once): the first one wins.
    const raced = judges.get(key);
    if (raced !== undefined) return raced;
    judges.set(key, judge);
    return judge;
  }

  function save(): Promise<void> {
    lastSaved = options.now();
    saving = saving.then(async () => {
      if (state === undefined) return;
      const keys = [...dirty].filter((key) => judges.has(key));
      dirty.clear();
      if (keys.length === 0) return;
      try {
        for (const key of keys) stored.add(key);
        await state.put(keys.map((key) => {
          const judge = judges.get(key)!;
          return { tenant: judge.tenant, seriesKey: key, version: METRIC_JUDGE_STATE_VERSION, value: encodeMetricJudge(judge.snapshot()) };
        }));
      } catch (err) {
        for (const key of keys) {
          dirty.add(key);
          stored.delete(key);
        }
        logger.warn({ err, series: keys.length }, 'could not save metric judges to the store; will retry');
      }
    });
    return saving;
  }

  return {
    async detect(window) {
      const key = seriesKey(window);
      const judge = await judgeOf(window, key);
      const verdict = judge.observe(window);
      dirty.add(key);
      // A judge's first verdict saves it at once: a worker killed before the next scheduled save then costs
      // its successor the learning since, not the whole learning period.
      if (state !== undefined && (options.now() - lastSaved >= saveEveryMs || (verdict !== undefined && !stored.has(key)))) void save();
      return verdict;
    },
    *seriesStates() {
      for (const [key, judge] of judges) {
        const s: CalibratedSeriesState & { windowsSeen: number; firstVerdictInMs: number } = judge.state();
        yield { key, tenant: judge.tenant, service: judge.service, state: s.state, windowsSeen: s.windowsSeen, threshold: s.threshold, firstVerdictInMs: s.firstVerdictInMs };
      }
    },
    save,
    async shutdown() {
      await save();
      judges.clear();
      looked.clear();
    },
  };
}
