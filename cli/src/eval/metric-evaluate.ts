import type { HeliosConfig } from '@helios/core';
import { createIncidentTracker, type Verdict } from '@helios/detection';
import type { EvaluatedDetector } from './evaluate.js';
import type { MetricCorpus, MetricAnomaly } from './metric-corpus.js';

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;

export interface MetricEvaluation {
  corpus: string;
  detectors: string[];
  series: number;
  windows: number;
  /** Windows on which some detector had an opinion. */
  windowsJudged: number;
  alerts: { opened: number; onAnomalies: number; precision: number };
  /** False alerts (opened outside every anomaly episode) per series-week of normal time, overall and per cadence / shape. */
  falseAlertsPerSeriesWeek: number;
  normalSeriesWeeks: number;
  byCadence: Record<string, { falseAlerts: number; normalSeriesWeeks: number; perSeriesWeek: number; recall: number; anomalies: number }>;
  byShape: Record<string, { falseAlerts: number; perSeriesWeek: number }>;
  anomalies: { total: number; detected: number; recall: number };
  delayMinutes: { median: number | null; p90: number | null };
  perKind: Record<string, { total: number; detected: number; recall: number; delayMedianMinutes: number | null }>;
  /** Minutes from a series' first point to its first verdict, per cadence (median over its series). */
  firstVerdictMinutes: Record<string, number | null>;
  /** Mean detector time per metric window (all detectors together), microseconds. */
  microsPerWindow: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

function quantileOf(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * After an anomaly ends its series may take a moment to look normal again (the return from a level shift is a
 * change too, windows still hold anomalous points): an alert within this slack belongs to the episode.
 */
function slackOf(cadenceMs: number): number {
  return Math.max(30 * MINUTE, 3 * cadenceMs);
}

const cadenceName = (ms: number): string => (ms >= 3_600_000 ? `${ms / 3_600_000}h` : ms >= MINUTE ? `${ms / MINUTE}m` : `${ms / 1000}s`);

/**
 * Streams a metric corpus through detectors' `detectMetric` and the runtime's own alert hygiene
 * (`createIncidentTracker`), window by window in time order. An alert is right when the window that opened
 * it overlaps an anomaly episode (the anomaly, and `slackOf` after it); an anomaly is detected when a flagged
 * window of its episode falls while its series' incident is open; false alerts are counted per series-week
 * of normal time (the corpus' time outside every episode).
 */
export async function evaluateMetricCorpus(options: {
  corpus: MetricCorpus;
  detectors: readonly EvaluatedDetector[];
  detection: Pick<HeliosConfig['detection'], 'vote' | 'confirmWindows' | 'resolveAfterWindows' | 'immediateRatio'>;
}): Promise<MetricEvaluation> {
  const { corpus, detectors, detection } = options;
  const tracker = createIncidentTracker(detection);
  const episodes = new Map<string, MetricAnomaly[]>();
  for (const s of corpus.series) episodes.set(s.key, s.anomalies);
  const detectedAt = new Map<string, number>();
  const firstVerdict = new Map<string, number>();
  const falseBySeries = new Map<string, number>();
  let opened = 0, onAnomalies = 0, judged = 0, spent = 0;

  for (const { window, series } of corpus.windows) {
    const verdicts: Verdict[] = [];
    const started = performance.now();
    for (const d of detectors) {
      const detection = await d.hooks.detectMetric?.(window);
      if (detection !== undefined) verdicts.push({ detector: d.name, detection });
    }
    spent += performance.now() - started;
    const step = tracker.observe(window, verdicts);
    if (step === undefined) continue;
    judged++;
    if (!firstVerdict.has(series.key)) firstVerdict.set(series.key, window.end);
    const slack = slackOf(series.cadenceMs);
    const episode = series.anomalies.find((a) => a.start < window.end && a.end + slack > window.start);
    if (step.opened !== undefined) {
      opened++;
      if (episode !== undefined) onAnomalies++;
      else falseBySeries.set(series.key, (falseBySeries.get(series.key) ?? 0) + 1);
    }
    if (step.anomalous && episode !== undefined && window.end > episode.start && !detectedAt.has(episode.id) && tracker.isOpen(window.tenant, window.service, window.metric)) {
      detectedAt.set(episode.id, window.end);
    }
  }

  const normalMsOf = (s: MetricCorpus['series'][number]): number => {
    let covered = 0;
    for (const a of s.anomalies) covered += Math.min(corpus.end, a.end + slackOf(s.cadenceMs)) - a.start;
    return corpus.end - corpus.start - covered;
  };
  const byCadence: MetricEvaluation['byCadence'] = {};
  const byShape: MetricEvaluation['byShape'] = {};
  const shapeWeeks = new Map<string, number>();
  let falseTotal = 0, normalWeeks = 0;
  for (const s of corpus.series) {
    const weeks = normalMsOf(s) / WEEK;
    const falseAlerts = falseBySeries.get(s.key) ?? 0;
    falseTotal += falseAlerts;
    normalWeeks += weeks;
    const c = (byCadence[cadenceName(s.cadenceMs)] ??= { falseAlerts: 0, normalSeriesWeeks: 0, perSeriesWeek: 0, recall: 0, anomalies: 0 });
    c.falseAlerts += falseAlerts;
    c.normalSeriesWeeks += weeks;
    c.anomalies += s.anomalies.length;
    c.recall += s.anomalies.filter((a) => detectedAt.has(a.id)).length;
    const sh = (byShape[s.shape] ??= { falseAlerts: 0, perSeriesWeek: 0 });
    sh.falseAlerts += falseAlerts;
    shapeWeeks.set(s.shape, (shapeWeeks.get(s.shape) ?? 0) + weeks);
  }
  for (const c of Object.values(byCadence)) {
    c.perSeriesWeek = ratio(c.falseAlerts, c.normalSeriesWeeks);
    c.recall = ratio(c.recall, c.anomalies);
  }
  for (const [shape, sh] of Object.entries(byShape)) sh.perSeriesWeek = ratio(sh.falseAlerts, shapeWeeks.get(shape) ?? 0);

  const delays = (of: MetricAnomaly[]) => of.filter((a) => detectedAt.has(a.id)).map((a) => (detectedAt.get(a.id)! - a.start) / MINUTE);
  const perKind: MetricEvaluation['perKind'] = {};
  for (const kind of [...new Set(corpus.anomalies.map((a) => a.kind))].sort()) {
    const of = corpus.anomalies.filter((a) => a.kind === kind);
    const detected = of.filter((a) => detectedAt.has(a.id)).length;
    perKind[kind] = { total: of.length, detected, recall: ratio(detected, of.length), delayMedianMinutes: quantileOf(delays(of), 0.5) };
  }
  const firstVerdictMinutes: MetricEvaluation['firstVerdictMinutes'] = {};
  for (const cadence of [...new Set(corpus.series.map((s) => s.cadenceMs))].sort((a, b) => a - b)) {
    const waits = corpus.series.filter((s) => s.cadenceMs === cadence && firstVerdict.has(s.key)).map((s) => (firstVerdict.get(s.key)! - corpus.start) / MINUTE);
    firstVerdictMinutes[cadenceName(cadence)] = quantileOf(waits, 0.5);
  }
  const allDelays = delays(corpus.anomalies);
  return {
    corpus: corpus.name,
    detectors: detectors.map((d) => d.name),
    series: corpus.series.length,
    windows: corpus.windows.length,
    windowsJudged: judged,
    alerts: { opened, onAnomalies, precision: ratio(onAnomalies, opened) },
    falseAlertsPerSeriesWeek: ratio(falseTotal, normalWeeks),
    normalSeriesWeeks: normalWeeks,
    byCadence, byShape,
    anomalies: { total: corpus.anomalies.length, detected: detectedAt.size, recall: ratio(detectedAt.size, corpus.anomalies.length) },
    delayMinutes: { median: quantileOf(allDelays, 0.5), p90: quantileOf(allDelays, 0.9) },
    perKind, firstVerdictMinutes,
    microsPerWindow: ratio(spent * 1000, corpus.windows.length),
  };
}

const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));

/** The evaluation as the table `helios eval --corpus metrics` prints. */
export function metricEvaluationTable(r: MetricEvaluation, configuredRate: number | undefined): string {
  const lines = [
    `corpus     ${r.corpus}`,
    `detectors  ${r.detectors.join(', ')}`,
    `windows    ${r.windows} (${r.windowsJudged} with a verdict), ${r.series} series, ${r.normalSeriesWeeks.toFixed(2)} normal series-weeks`,
    '',
    `false alerts    ${r.falseAlertsPerSeriesWeek.toFixed(2)} per series-week on normal stretches${configuredRate === undefined ? '' : ` (configured: at most ${configuredRate})`}`,
    `alerts          ${r.alerts.opened} opened, ${r.alerts.onAnomalies} on anomalies: precision ${fmt(r.alerts.precision)}`,
    `anomalies       recall ${fmt(r.anomalies.recall)} (${r.anomalies.detected}/${r.anomalies.total})  delay median ${fmt(r.delayMinutes.median)} min  p90 ${fmt(r.delayMinutes.p90)} min`,
    `cost            ${r.microsPerWindow.toFixed(1)} us per metric window (all detectors)`,
    '',
    'by cadence:     false/series-week  recall   first verdict',
  ];
  for (const [cadence, c] of Object.entries(r.byCadence)) lines.push(`  ${cadence.padEnd(14)}${c.perSeriesWeek.toFixed(2).padStart(8)} (${c.falseAlerts})   ${fmt(c.recall)} (${c.anomalies})   ${r.firstVerdictMinutes[cadence] === null ? 'n/a' : `${r.firstVerdictMinutes[cadence]!.toFixed(0)} min`}`);
  lines.push('', 'by shape:       false/series-week');
  for (const [shape, s] of Object.entries(r.byShape)) lines.push(`  ${shape.padEnd(14)}${s.perSeriesWeek.toFixed(2).padStart(8)} (${s.falseAlerts})`);
  lines.push('', 'by kind:');
  for (const [kind, k] of Object.entries(r.perKind)) lines.push(`  ${kind.padEnd(16)} recall ${fmt(k.recall)} (${k.detected}/${k.total})  delay median ${k.delayMedianMinutes === null ? 'n/a' : `${k.delayMedianMinutes.toFixed(1)} min`}`);
  return `${lines.join('\n')}\n`;
}
