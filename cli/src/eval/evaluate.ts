import type { HeliosConfig } from '@helios/core';
import { type DetectorHooks } from '@helios/plugins';
import { quantileOf, rocAuc } from '@helios/plugins/stats';
import { createIncidentTracker, ServiceIncidents, type Verdict } from '@helios/detection';
import type { IncidentLabel, LabelledDataset } from './synthetic.js';

export interface EvaluatedDetector {
  name: string;
  hooks: DetectorHooks;
}

export interface PointScore {
  timestamp: number;
  tenant: string;
  service: string;
  /** The window's event count: the series value when the dataset is a plain series. */
  value: number;
  /** Strongest detector's score / threshold (above 1: over its threshold); comparable across series. */
  anomalyScore: number;
  anomalous: boolean;
  label: 0 | 1;
}

export interface DelayStats {
  median: number | null;
  p90: number | null;
}

export interface EvaluationResult {
  dataset: string;
  detectors: string[];
  vote: HeliosConfig['detection']['vote'];
  confirmWindows: number;
  immediateRatio: number;
  /** Windows with a verdict (cold-start windows have none and are not counted). */
  windowsJudged: number;
  windowsPositive: number;
  window: { precision: number; recall: number; f1: number; truePositives: number; falsePositives: number; falseNegatives: number };
  rocAuc: number | null;
  alerts: { opened: number; onIncidents: number; precision: number };
  incidents: { total: number; detected: number; recall: number; f1: number };
  /** Minutes from incident start to the end of the window that opened (or carried) its alert. */
  delayMinutes: DelayStats;
  perKind: Record<string, { total: number; detected: number; recall: number; delayMinutes: DelayStats }>;
  /**
   * Alerts opened on windows outside every incident, per series-week of normal time (judged windows outside
   * incidents, one hop each): overall and per kind of series (the service's requests, its dependency calls,
   * its logs). What `falseAlertsPerWeek` means for metric series, measured the same way here.
   */
  falseAlerts: FalseAlertRate & { byStream: Record<StreamKind, FalseAlertRate> };
  points?: PointScore[];
}

export type StreamKind = 'requests' | 'dependency' | 'logs';

export interface FalseAlertRate {
  falseAlerts: number;
  normalSeriesWeeks: number;
  perSeriesWeek: number;
}

export interface EvaluateOptions {
  dataset: LabelledDataset;
  detectors: readonly EvaluatedDetector[];
  detection: Pick<HeliosConfig['detection'], 'vote' | 'confirmWindows' | 'resolveAfterWindows' | 'immediateRatio'>;
  /** Keep every judged window's score (for a CSV of per-point scores). */
  keepPoints?: boolean;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Replays a labelled dataset through detectors and the runtime's own alert hygiene
 * (`createIncidentTracker`: vote, confirm, dedup, resolve), window by window in time order.
 *
 * - Window level: a window is flagged when the vote calls it anomalous; positive when it overlaps an incident.
 * - Alert level: an alert is the opening of an incident by the tracker; it is right when its window is positive.
 * - Incident level: an incident is detected when some window overlapping it is flagged while the series'
 *   alert is open (a fresh alert, or one already open); the delay runs from the incident's start to that
 *   window's end, in event time (add `allowedLatenessMs` for wall-clock delay).
 */
export async function evaluateDetectors(options: EvaluateOptions): Promise<EvaluationResult> {
  const { dataset, detectors, detection } = options;
  const tracker = createIncidentTracker(detection);
  // One alert per service across its request, dependency and log series, as the runtime raises them.
  const serviceIncidents = new ServiceIncidents();
  const incidentsById = new Map<string, IncidentLabel>(dataset.incidents.map((i) => [i.id, i]));
  const detectedAt = new Map<string, number>();
  const scores: number[] = [];
  const labels: number[] = [];
  const points: PointScore[] = [];
  let tp = 0, fp = 0, fn = 0, opened = 0, openedRight = 0;
  const normal: Record<StreamKind, { falseAlerts: number; windows: number }> = { requests: { falseAlerts: 0, windows: 0 }, dependency: { falseAlerts: 0, windows: 0 }, logs: { falseAlerts: 0, windows: 0 } };

  for (const window of dataset.windows) {
    const verdicts: Verdict[] = [];
    for (const d of detectors) {
      const detection = await d.hooks.detect(window);
      if (detection !== undefined) verdicts.push({ detector: d.name, detection });
    }
    const step = tracker.observe(window, verdicts);
    if (step === undefined) continue;
    let anomalyScore = 0;
    for (const v of verdicts) anomalyScore = Math.max(anomalyScore, v.detection.score / Math.max(Math.abs(v.detection.threshold), 1e-12));
    scores.push(anomalyScore);
    labels.push(window.label);
    if (options.keepPoints === true) points.push({ timestamp: window.end, tenant: window.tenant, service: window.service, value: window.features.total_events, anomalyScore, anomalous: step.anomalous, label: window.label });
    if (step.anomalous && window.label === 1) tp++;
    else if (step.anomalous) fp++;
    else if (window.label === 1) fn++;
    const stream = normal[window.stream === undefined ? 'requests' : window.stream.kind === 'logs' ? 'logs' : 'dependency'];
    if (window.label === 0) stream.windows++;
    if (serviceIncidents.raise(window, step)) {
      opened++;
      if (window.label === 1) openedRight++;
      else stream.falseAlerts++;
    }
    if (step.anomalous && window.incidentId !== undefined && !detectedAt.has(window.incidentId) && tracker.isOpen(window.tenant, window.service, undefined, window.stream)) {
      detectedAt.set(window.incidentId, window.end);
    }
  }

  const delays = (incidents: IncidentLabel[]) => incidents.filter((i) => detectedAt.has(i.id)).map((i) => (detectedAt.get(i.id)! - i.start) / 60_000);
  const stats = (values: number[]): DelayStats => ({ median: quantileOf(values, 0.5), p90: quantileOf(values, 0.9) });
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const alertPrecision = ratio(openedRight, opened);
  const incidentRecall = ratio(detectedAt.size, incidentsById.size);
  const perKind: EvaluationResult['perKind'] = {};
  for (const kind of [...new Set(dataset.incidents.map((i) => i.kind))].sort()) {
    const of = dataset.incidents.filter((i) => i.kind === kind);
    const detected = of.filter((i) => detectedAt.has(i.id)).length;
    perKind[kind] = { total: of.length, detected, recall: ratio(detected, of.length), delayMinutes: stats(delays(of)) };
  }
  return {
    dataset: dataset.name,
    detectors: detectors.map((d) => d.name),
    vote: detection.vote,
    confirmWindows: detection.confirmWindows,
    immediateRatio: detection.immediateRatio,
    windowsJudged: scores.length,
    windowsPositive: labels.filter((l) => l === 1).length,
    window: { precision, recall, f1: f1Of(precision, recall), truePositives: tp, falsePositives: fp, falseNegatives: fn },
    rocAuc: rocAuc(scores, labels),
    alerts: { opened, onIncidents: openedRight, precision: alertPrecision },
    incidents: { total: incidentsById.size, detected: detectedAt.size, recall: incidentRecall, f1: f1Of(alertPrecision, incidentRecall) },
    delayMinutes: stats(delays(dataset.incidents)),
    perKind,
    falseAlerts: falseAlertRates(normal, dataset.hopMs),
    ...(options.keepPoints === true ? { points } : {}),
  };
}

const WEEK_MS = 7 * 24 * 60 * 60_000;

function falseAlertRates(normal: Record<StreamKind, { falseAlerts: number; windows: number }>, hopMs: number): EvaluationResult['falseAlerts'] {
  const rate = (falseAlerts: number, windows: number): FalseAlertRate => {
    const normalSeriesWeeks = (windows * hopMs) / WEEK_MS;
    return { falseAlerts, normalSeriesWeeks, perSeriesWeek: ratio(falseAlerts, normalSeriesWeeks) };
  };
  const kinds = Object.keys(normal) as StreamKind[];
  const byStream = Object.fromEntries(kinds.map((k) => [k, rate(normal[k].falseAlerts, normal[k].windows)])) as Record<StreamKind, FalseAlertRate>;
  return { ...rate(kinds.reduce((a, k) => a + normal[k].falseAlerts, 0), kinds.reduce((a, k) => a + normal[k].windows, 0)), byStream };
}

/** Per-point scores as CSV: timestamp (ISO 8601), value, anomaly_score first (what external scorers read), then series and label. */
export function pointsCsv(points: readonly PointScore[]): string {
  const lines = ['timestamp,value,anomaly_score,service,tenant,anomalous,label'];
  for (const p of points) lines.push(`${new Date(p.timestamp).toISOString()},${p.value},${p.anomalyScore.toFixed(6)},${csvField(p.service)},${csvField(p.tenant)},${p.anomalous ? 1 : 0},${p.label}`);
  return `${lines.join('\n')}\n`;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
