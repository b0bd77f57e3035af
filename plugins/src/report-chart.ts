import type { Incident, ReportChart } from '@helios/core';
import { incidentSpan, type ChartableFeature, type IncidentSpan } from './report-timeline.js';

const LABEL: Record<ChartableFeature, string> = { total_events: 'events per minute', error_rate: 'error rate', avg_latency: 'average latency (ms)', p95_latency: 'p95 latency (ms)' };
const W = 720, H = 240, LEFT = 56, RIGHT = 12, TOP = 28, BOTTOM = 28;

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const num = (feature: ChartableFeature, v: number) => (feature === 'error_rate' ? `${(v * 100).toFixed(1)}%` : v >= 100 ? Math.round(v).toString() : v.toFixed(1));

/**
 * The incident as a standalone SVG document: the strongest feature minute by minute (at most the two hours
 * before the incident and what followed), the baseline band (class `baseline-band`, its centre line
 * `baseline`), the anomalous window (`anomalous-window`) and the incident's span (`incident-span`).
 * Self-contained (no scripts, no external references): safe inline in HTML and as an image file.
 */
export function renderIncidentChart(incident: Incident, span: IncidentSpan | undefined = incidentSpan(incident)): ReportChart | undefined {
  if (span === undefined) return undefined;
  const a = incident.anomaly;
  const from = Math.max(span.points[0]!.minute, span.start - 120 * 60_000);
  const points = span.points.filter((p) => p.minute >= from);
  const to = Math.max(points[points.length - 1]!.minute + 60_000, a.windowEnd, span.end);
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const top = Math.max(span.band.high, ...values) * 1.1 || 1;
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - v / top) * (H - TOP - BOTTOM);
  const f = (n: number) => n.toFixed(1);
  const title = `${a.service}: ${LABEL[span.feature]}, ${hhmm(from)}–${hhmm(to)} UTC`;
  // Minutes without a value break the line instead of being drawn as zero.
  const segments: string[][] = [[]];
  for (const p of points) {
    if (p.value === null) segments.push([]);
    else segments[segments.length - 1]!.push(`${f(x(p.minute + 30_000))},${f(y(p.value))}`);
  }
  const lines = segments.filter((s) => s.length > 0).map((s) => `<polyline class="series" fill="none" stroke="#1f6feb" stroke-width="1.5" points="${s.join(' ')}"/>`);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(title)}" font-family="sans-serif" font-size="11">`,
    `<title>${escape(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<rect class="incident-span" x="${f(x(span.start))}" y="${TOP}" width="${f(Math.max(1, x(span.end) - x(span.start)))}" height="${H - TOP - BOTTOM}" fill="#fde2e1" data-from="${span.start}" data-to="${span.end}"/>`,
    `<rect class="anomalous-window" x="${f(x(a.windowStart))}" y="${TOP}" width="${f(Math.max(1, x(a.windowEnd) - x(a.windowStart)))}" height="${H - TOP - BOTTOM}" fill="#f85149" fill-opacity="0.25" data-from="${a.windowStart}" data-to="${a.windowEnd}"/>`,
    `<rect class="baseline-band" x="${LEFT}" y="${f(y(span.band.high))}" width="${W - LEFT - RIGHT}" height="${f(Math.max(0.5, y(span.band.low) - y(span.band.high)))}" fill="#2da44e" fill-opacity="0.15" data-low="${span.band.low}" data-high="${span.band.high}"/>`,
    `<line class="baseline" x1="${LEFT}" x2="${W - RIGHT}" y1="${f(y(span.band.center))}" y2="${f(y(span.band.center))}" stroke="#2da44e" stroke-dasharray="4 3" data-value="${span.band.center}"/>`,
    ...lines,
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${H - BOTTOM}" stroke="#57606a"/>`,
    `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${H - BOTTOM}" y2="${H - BOTTOM}" stroke="#57606a"/>`,
    `<text x="${LEFT - 4}" y="${TOP + 4}" text-anchor="end">${escape(num(span.feature, top))}</text>`,
    `<text x="${LEFT - 4}" y="${H - BOTTOM}" text-anchor="end">0</text>`,
    `<text x="${LEFT}" y="${H - 8}">${hhmm(from)}</text>`,
    `<text x="${W - RIGHT}" y="${H - 8}" text-anchor="end">${hhmm(to)} UTC</text>`,
    `<text x="${LEFT}" y="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="${W - RIGHT}" y="16" text-anchor="end" fill="#57606a">green: baseline ${escape(num(span.feature, span.band.center))} and normal band; red: anomalous window</text>`,
    `</svg>`,
  ].join('\n');
  return { feature: span.feature, title, svg };
}
