import type { FeatureExplanation, Incident, MinuteTotals, Severity } from '@helios/core';
import { medianOfSorted } from './quantiles.js';

/** The features a minute of stored events can show, and how to read each from a minute. */
export const CHARTABLE_FEATURES = {
  total_events: (m: MinuteTotals) => m.events,
  error_rate: (m: MinuteTotals) => (m.events > 0 ? m.errors / m.events : null),
  avg_latency: (m: MinuteTotals) => m.avgLatencyMs,
  p95_latency: (m: MinuteTotals) => m.p95LatencyMs,
} as const;
export type ChartableFeature = keyof typeof CHARTABLE_FEATURES;

/** Below these a difference is noise, whatever the ratio (a 0 → 0.2% error rate is not a 1000x change). */
const DEVIATION_FLOOR: Record<string, number> = { error_rate: 0.005, avg_latency: 5, p95_latency: 5, p99_latency: 5, latency_stddev: 5, total_events: 1, unique_endpoints: 1, points: 1 };

/**
 * How far a feature moved from its baseline, scale-free and robust to a zero baseline: the log of the
 * ratio of value to baseline, each lifted by the feature's noise floor, so a tenfold rise and a fall to a
 * tenth weigh the same and features of different units compare. Metric-series features (any sign, unknown
 * unit) use the change relative to the baseline's magnitude.
 */
export function robustDeviation(e: Pick<FeatureExplanation, 'feature' | 'value' | 'baseline'>): number {
  if (!Number.isFinite(e.value) || !Number.isFinite(e.baseline)) return 0;
  const floor = DEVIATION_FLOOR[e.feature];
  if (floor === undefined || e.value < 0 || e.baseline < 0) return Math.abs(e.value - e.baseline) / (Math.abs(e.baseline) + 1e-9);
  return Math.abs(Math.log((e.value + floor) / (e.baseline + floor)));
}

/** The explanation's features, strongest deviation first (ties keep the detector's order). */
export function byDeviation(explanation: readonly FeatureExplanation[]): FeatureExplanation[] {
  return explanation.map((e, i) => ({ e, i, d: robustDeviation(e) })).sort((a, b) => b.d - a.d || a.i - b.i).map((x) => x.e);
}

export interface IncidentSpan {
  /** The feature the span is measured on: the strongest chartable one. */
  feature: ChartableFeature;
  /** Per-minute value of the one baseline (the detector's typical value of the feature) and the band of normal minutes around it. */
  band: FeatureBand;
  /** First minute out of the band in the incident's run of anomalous windows, epoch ms. */
  start: number;
  /** Newest stored event when still going, else the end of the last minute out of the band. */
  end: number;
  ongoing: boolean;
  /** Minutes of the feature, oldest first (null: the minute had no value, e.g. no latencies). */
  points: Array<{ minute: number; value: number | null }>;
  /** The tenant's other services with anomalous windows during the span, worst first. */
  otherServices: Array<{ service: string; severity: Severity; from: number; to: number }>;
}

export interface FeatureBand { low: number; center: number; high: number }

/** One driving feature read from the timeline's minutes, with its baseline band. */
export interface FeatureSeries {
  feature: ChartableFeature;
  explanation: FeatureExplanation;
  band: FeatureBand;
  points: Array<{ minute: number; value: number | null }>;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
/** Charts per report: the strongest few, so the report stays readable. */
const MAX_DRIVING = 4;
/** Below this share of the score a moved feature is a passenger, not a driver (the strongest always drives). */
const MIN_CONTRIBUTION = 0.05;

/**
 * The features that drove the anomaly and can be read from minutes: moved (not flat), strongest robust
 * deviation first, at most four; after the strongest only those with at least 5% of the score. The first
 * is the feature the report's title and span are measured on.
 */
export function drivingFeatures(incident: Incident): FeatureSeries[] {
  const { anomaly, context } = incident;
  const timeline = context.timeline;
  if (timeline === undefined || anomaly.metric !== undefined || timeline.minutes.length === 0) return [];
  const moved = byDeviation(anomaly.explanation).filter((e) => e.direction !== 'flat' && e.feature in CHARTABLE_FEATURES);
  const driving = moved.filter((e, i) => i === 0 || e.contribution >= MIN_CONTRIBUTION).slice(0, MAX_DRIVING);
  const runStart = anomalousRunStart(incident);
  return driving.map((e) => featureSeries(incident, e, runStart));
}

/** The start of the run of this service's anomalous windows that overlap or touch, back from this one. */
function anomalousRunStart({ anomaly, context }: Incident): number {
  let runStart = anomaly.windowStart;
  const own = (context.timeline?.anomalies ?? []).filter((a) => a.service === anomaly.service).sort((a, b) => b.windowStart - a.windowStart);
  for (const a of own) if (a.windowStart < runStart && a.windowEnd >= runStart) runStart = a.windowStart;
  return runStart;
}

/**
 * The band of normal minutes: the detector's typical value (per minute) ± 3 robust deviations of the
 * minutes before the incident's run, at least ±10% of it and the feature's noise floor. Values that are
 * not finite are no value (a gap), so the band and the chart stay drawable whatever the store held.
 */
function featureSeries(incident: Incident, e: FeatureExplanation, runStart: number): FeatureSeries {
  const { anomaly, context } = incident;
  const feature = e.feature as ChartableFeature;
  const read = CHARTABLE_FEATURES[feature];
  const windowMinutes = Math.max(1, (anomaly.windowEnd - anomaly.windowStart) / 60_000);
  const baseline = Number.isFinite(e.baseline) ? e.baseline : 0;
  const center = feature === 'total_events' ? baseline / windowMinutes : baseline;
  const points = (context.timeline?.minutes ?? []).map((m) => {
    const value = read(m);
    return { minute: m.minute, value: value !== null && Number.isFinite(value) ? value : null };
  });
  const before = points.filter((p) => p.minute + 60_000 <= runStart && p.value !== null).map((p) => p.value!).sort((a, b) => a - b);
  const deviations = before.map((v) => Math.abs(v - medianOfSorted(before))).sort((a, b) => a - b);
  const spread = before.length >= 5 ? 1.4826 * medianOfSorted(deviations) : 0;
  const halfWidth = Math.max(3 * spread, 0.1 * Math.abs(center), DEVIATION_FLOOR[feature] ?? 0);
  return { feature, explanation: e, band: { low: Math.max(0, center - halfWidth), center, high: center + halfWidth }, points };
}

/**
 * When the incident started, how long it has lasted and whether it is still going, from the timeline in
 * the context: undefined without one, for a metric-series anomaly, or when no moved feature can be read
 * from minutes. A minute is "out" when the strongest driving feature is outside its baseline band.
 */
export function incidentSpan(incident: Incident, strongest: FeatureSeries | undefined = drivingFeatures(incident)[0]): IncidentSpan | undefined {
  const { anomaly, context } = incident;
  const timeline = context.timeline;
  if (timeline === undefined || strongest === undefined) return undefined;
  const { feature, band, points } = strongest;
  const runStart = anomalousRunStart(incident);
  const out = (v: number | null) => v !== null && (v < band.low || v > band.high);

  const complete = points.filter((p) => p.minute + 60_000 <= timeline.asOf);
  const start = complete.find((p) => p.minute >= runStart && p.minute < anomaly.windowEnd && out(p.value))?.minute ?? runStart;
  const last = complete[complete.length - 1];
  const ongoing = last === undefined || out(last.value);
  const lastOut = [...complete].reverse().find((p) => p.minute >= start && out(p.value));
  const end = ongoing ? Math.max(timeline.asOf, anomaly.windowEnd) : Math.max(anomaly.windowEnd, (lastOut?.minute ?? start) + 60_000);

  const others = new Map<string, { service: string; severity: Severity; from: number; to: number }>();
  for (const a of timeline.anomalies) {
    if (a.service === anomaly.service || a.windowEnd <= start || a.windowStart >= end) continue;
    const seen = others.get(a.service);
    if (seen === undefined) others.set(a.service, { service: a.service, severity: a.severity, from: a.windowStart, to: a.windowEnd });
    else others.set(a.service, { service: a.service, severity: SEVERITY_RANK[a.severity] < SEVERITY_RANK[seen.severity] ? a.severity : seen.severity, from: Math.min(seen.from, a.windowStart), to: Math.max(seen.to, a.windowEnd) });
  }
  const otherServices = [...others.values()].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.from - b.from);
  return { feature, band, start, end, ongoing, points, otherServices };
}

/** `1 h 05 min`, `12 min`. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
