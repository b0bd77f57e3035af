import { createRandom, type HeliosEvent } from '@helios/core';
import { WindowAggregator, type ClosedMetricWindow } from '@helios/detection';
import { gaussian, poisson, type Uniform } from './random-draws.js';

/**
 * A generated corpus of realistic metric series, streamed as metric points through the production
 * WindowAggregator (5-minute windows closing every minute by default), so detectors see what the detect
 * runtime sees. Series come at several cadences (10 s, 1 min, 5 min, 1 h) in many shapes (flat, stepwise,
 * noise of several families, daily and weekly seasonality, trends, random walks, low integer counts,
 * cumulative counters with resets); half the series carry no anomaly at all (long normal stretches, where
 * false alerts are counted), the others carry labelled anomalies of five kinds.
 *
 * Nothing here was fitted to a public benchmark: shapes and magnitudes are drawn from wide ranges.
 */

export const METRIC_ANOMALY_KINDS = ['spike', 'level-shift', 'slow-drift', 'variance-burst', 'stuck'] as const;
export type MetricAnomalyKind = (typeof METRIC_ANOMALY_KINDS)[number];

export const CADENCES_MS = [10_000, 60_000, 300_000, 3_600_000] as const;

export const SHAPES = ['flat', 'stepwise', 'noise', 'heavy-tail', 'daily', 'daily-weekly', 'trend', 'random-walk', 'low-counts', 'counter'] as const;
export type SeriesShape = (typeof SHAPES)[number];

export interface MetricAnomaly {
  id: string;
  series: string;
  kind: MetricAnomalyKind;
  /** Event time, epoch ms: points in [start, end) are affected. */
  start: number;
  end: number;
}

export interface CorpusSeries {
  /** `service/metric` (unique in the corpus). */
  key: string;
  service: string;
  metric: string;
  cadenceMs: number;
  shape: SeriesShape;
  anomalies: MetricAnomaly[];
}

export interface LabelledMetricWindow {
  window: ClosedMetricWindow;
  series: CorpusSeries;
  /** The anomaly the window's newest hop overlaps, if any. */
  anomalyId?: string;
}

export interface MetricCorpus {
  name: string;
  start: number;
  end: number;
  series: CorpusSeries[];
  anomalies: MetricAnomaly[];
  /** Ordered by window end. */
  windows: LabelledMetricWindow[];
}

export interface MetricCorpusOptions {
  seed: number;
  /** Series per cadence (default 10: one per shape). */
  seriesPerCadence?: number;
  days?: number;
  /** No anomalies in the first day: the detectors' history (verdicts there still count). */
  warmupDays?: number;
  /** Share of series with anomalies (default 0.5). */
  anomalousShare?: number;
  cadences?: readonly number[];
  windowMs?: number;
  hopMs?: number;
  startTime?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;



/** A series' normal value at time t (and its state: random walks, steps, counters). */
interface Generator {
  next(t: number): number;
  /** Noise scale (for anomaly magnitudes). */
  scale: number;
  level: number;
  counter?: true;
}

function generatorOf(shape: SeriesShape, random: Uniform, cadenceMs: number): Generator {
  const level = 10 ** (random() * 4 - 1); // 0.1 .. 1000
  const sigma = level * (0.01 + random() * 0.1);
  const round = random() < 0.3 ? (v: number) => Math.round(v) : (v: number) => v;
  const peak = random() * DAY;
  const daily = (t: number) => Math.cos(((t - peak) / DAY) * 2 * Math.PI);
  switch (shape) {
    case 'flat':
      return { next: () => level, scale: level * 0.05, level };
    case 'stepwise': {
      let v = Math.round(2 + random() * 8);
      // A replica count: moves by one now and then (a few times a day, whatever the cadence).
      const stepChance = Math.min(0.5, (4 * cadenceMs) / DAY);
      return { next: () => (random() < stepChance ? (v = Math.max(1, v + (random() < 0.5 ? -1 : 1))) : v), scale: 1, level: v };
    }
    case 'noise':
      return { next: () => round(level + sigma * gaussian(random)), scale: sigma, level };
    case 'heavy-tail': {
      // Student t with 3 degrees of freedom: rare large deviations that are normal for this series.
      return {
        next: () => {
          const chi = (gaussian(random) ** 2 + gaussian(random) ** 2 + gaussian(random) ** 2) / 3;
          return level + sigma * gaussian(random) / Math.sqrt(Math.max(chi, 1e-6));
        },
        scale: sigma * 1.7, level,
      };
    }
    case 'daily': {
      const amplitude = level * (0.2 + random() * 0.6);
      return { next: (t) => round(level + amplitude * daily(t) + sigma * 0.5 * gaussian(random)), scale: Math.max(sigma, amplitude * 0.1), level };
    }
    case 'daily-weekly': {
      const amplitude = level * (0.2 + random() * 0.4);
      return {
        next: (t) => {
          const weekday = Math.floor(t / DAY) % 7;
          const weekly = weekday >= 5 ? 0.6 : 1; // quieter weekends
          // Office hours: a sharp rise at 8:00 and fall at 18:00, the shape a plain baseline alerts on daily.
          const hour = (t % DAY) / HOUR;
          const office = hour >= 8 && hour < 18 ? 1 : 0;
          return level * weekly + amplitude * (0.5 * daily(t) + office) * weekly + sigma * 0.5 * gaussian(random);
        },
        scale: Math.max(sigma, amplitude * 0.1), level,
      };
    }
    case 'trend': {
      const perDay = level * (random() - 0.5) * 0.2;
      return { next: (t) => level + (perDay * t) / DAY % (level * 10) + sigma * gaussian(random), scale: sigma, level };
    }
    case 'random-walk': {
      let v = level;
      const step = sigma * Math.sqrt(cadenceMs / MINUTE) * 0.3;
      return { next: () => (v += step * gaussian(random) - 0.001 * (v - level)), scale: Math.max(step * 3, sigma), level };
    }
    case 'low-counts': {
      const mean = 0.2 + random() * 3;
      return { next: () => poisson(random, mean), scale: Math.max(1, Math.sqrt(mean)), level: mean };
    }
    case 'counter': {
      // A cumulative request counter: `next` is the increase since the previous point (the corpus adds it up
      // and restarts the process now and then); the detector sees the increase per point.
      const rate = Math.min(level, 50) * (cadenceMs / MINUTE);
      const noisyRate = (mean: number) => poisson(random, mean);
      return { next: (t) => noisyRate(rate * (1 + 0.3 * daily(t))), scale: Math.sqrt(rate) + 1, level: rate, counter: true };
    }
  }
}

function planAnomalies(random: Uniform, key: string, cadenceMs: number, from: number, to: number): MetricAnomaly[] {
  const out: MetricAnomaly[] = [];
  // About one anomaly every two days, evenly spread with jitter so each is a separate episode.
  const count = Math.max(1, Math.round((to - from) / (2 * DAY)));
  const slot = (to - from) / count;
  for (let i = 0; i < count; i++) {
    const kind = METRIC_ANOMALY_KINDS[Math.floor(random() * METRIC_ANOMALY_KINDS.length)]!;
    // Long enough to hold points at the series' cadence: a spike is 1-3 points, the others 30 min to 3 h.
    const duration = kind === 'spike' ? cadenceMs * (1 + Math.floor(random() * 3)) : Math.max(30 * MINUTE + random() * 150 * MINUTE, 4 * cadenceMs);
    const start = Math.floor(from + slot * i + random() * Math.max(0, slot - duration - 6 * HOUR));
    out.push({ id: `${key}#${i}`, series: key, kind, start, end: start + duration });
  }
  return out;
}

/** Generate the corpus. Same options, same corpus (seeded, no wall clock). */
export function generateMetricCorpus(options: MetricCorpusOptions): MetricCorpus {
  const days = options.days ?? 7;
  const warmupDays = options.warmupDays ?? 1;
  const perCadence = options.seriesPerCadence ?? SHAPES.length;
  const cadences = options.cadences ?? CADENCES_MS;
  const t0 = options.startTime ?? Date.UTC(2026, 0, 5);
  const end = t0 + days * DAY;
  const windowMs = options.windowMs ?? 5 * MINUTE;
  const hopMs = options.hopMs ?? MINUTE;
  const generator = createRandom(options.seed);
  const random: Uniform = () => generator.nextUint32() / 4294967296;
  const anomalousShare = options.anomalousShare ?? 0.5;

  interface Live { series: CorpusSeries; gen: Generator; nextAt: number; event: HeliosEvent; stuckValue: number | undefined; last: number; total: number }
  const live: Live[] = [];
  for (const cadenceMs of cadences) {
    for (let i = 0; i < perCadence; i++) {
      const shape = SHAPES[i % SHAPES.length]!;
      const service = `svc-${cadenceMs / 1000}s-${i}`;
      const metric = `${shape}.value`;
      const key = `${service}/${metric}`;
      const anomalies = random() < anomalousShare ? planAnomalies(random, key, cadenceMs, t0 + warmupDays * DAY, end) : [];
      const gen = generatorOf(shape, random, cadenceMs);
      const series: CorpusSeries = { key, service, metric, cadenceMs, shape, anomalies };
      const attributes: HeliosEvent['attributes'] = gen.counter
        ? { 'metric.name': metric, 'metric.type': 'sum', 'metric.temporality': 'cumulative', 'metric.monotonic': true, 'metric.value': 0 }
        : { 'metric.name': metric, 'metric.type': 'gauge', 'metric.value': 0 };
      const event: HeliosEvent = { id: '', timestamp: 0, service, level: 'INFO', message: metric, kind: 'metric', endpoint: null, latency_ms: null, status_code: null, error_code: null, trace_id: null, span_id: null, sample_rate: 1, attributes, resource: {}, tenant: 'default' };
      // Phases differ: series of one cadence do not all report at the same instant.
      live.push({ series, gen, nextAt: t0 + Math.floor(random() * cadenceMs), event, stuckValue: undefined, last: gen.level, total: Math.floor(random() * 1e6) });
    }
  }

  const aggregator = new WindowAggregator({ windowMs, hopMs, allowedLatenessMs: 0, gapAfterMs: 180_000 });
  const closed: ClosedMetricWindow[] = [];
  for (let minute = t0; minute < end; minute += MINUTE) {
    for (const s of live) {
      while (s.nextAt < minute + MINUTE) {
        const t = s.nextAt;
        s.nextAt += s.series.cadenceMs;
        const active = s.series.anomalies.find((a) => a.start <= t && t < a.end);
        let value = s.gen.next(t);
        if (active === undefined) s.stuckValue = undefined;
        else {
          const size = s.gen.scale * (6 + 10 * ((active.id.length * 7919 + active.start) % 97) / 97) + s.gen.level * 0.2;
          const sign = (active.start / MINUTE) % 2 === 0 ? 1 : -1;
          if (active.kind === 'spike') value += sign > 0 || s.gen.counter ? size * 2 : -size * 2;
          else if (active.kind === 'level-shift') value += s.gen.counter ? size : sign * size;
          else if (active.kind === 'slow-drift') value += ((t - active.start) / (active.end - active.start)) * size * 1.5 * (s.gen.counter ? 1 : sign);
          else if (active.kind === 'variance-burst') value += s.gen.scale * 6 * gaussian(random) + (s.gen.counter ? 0 : 0);
          else if (active.kind === 'stuck') value = s.stuckValue ??= s.last;
          if (s.gen.counter) value = active.kind === 'stuck' ? 0 : Math.max(0, Math.round(value));
        }
        s.last = value;
        if (s.gen.counter) {
          if (random() < s.series.cadenceMs / (2 * DAY)) s.total = 0; // a restart: the counter starts over
          s.total += value;
        }
        s.event.timestamp = t;
        s.event.attributes['metric.value'] = s.gen.counter ? s.total : value;
        aggregator.add(s.event, t);
      }
    }
    aggregator.closeUpTo(minute + MINUTE, closed);
  }

  const byKey = new Map(live.map((s) => [`default\u0000${s.series.service}\u0000${s.series.metric}`, s.series]));
  const windows: LabelledMetricWindow[] = closed.map((window) => {
    const series = byKey.get(`default\u0000${window.service}\u0000${window.metric.name}`)!;
    const hit = series.anomalies.find((a) => a.start < window.end && a.end > window.end - hopMs);
    return hit === undefined ? { window, series } : { window, series, anomalyId: hit.id };
  });
  windows.sort((a, b) => a.window.end - b.window.end);
  const series = live.map((s) => s.series);
  return {
    name: `metric-corpus(seed=${options.seed}, series=${series.length}, days=${days}, cadences=${cadences.map((c) => `${c / 1000}s`).join('/')})`,
    start: t0, end, series, anomalies: series.flatMap((s) => s.anomalies), windows,
  };
}
