import type { Incident, ReportChart } from '@helios/core';
import { drivingFeatures, incidentSpan, type ChartableFeature, type FeatureSeries, type IncidentSpan } from './report-timeline.js';

const LABEL: Record<ChartableFeature, string> = { total_events: 'events per minute', error_rate: 'error rate', avg_latency: 'average latency (ms)', p95_latency: 'p95 latency (ms)' };
const W = 720, H = 240, LEFT = 64, RIGHT = 12, TOP = 28, BOTTOM = 28;
// Colours with at least 4.5:1 against the white background for text and lines, 3:1 for the band and window edges (WCAG 1.4.3 / 1.4.11).
const INK = '#1f2328', MUTED = '#57606a', SERIES = '#0550ae', BASELINE = '#1a7f37', ANOMALOUS = '#cf222e';

/** Text for XML: markup escaped, and characters XML 1.0 cannot hold at all (controls, lone surrogates) dropped. */
const escape = (s: string) => s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const num = (feature: ChartableFeature, v: number) => (feature === 'error_rate' ? `${(v * 100).toFixed(1)}%` : Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(1));
const f = (n: number) => n.toFixed(1);
/** Infinite band edges (a spread too large for a double) are drawn at the largest double. */
const finite = (v: number) => Math.min(Math.max(v, -Number.MAX_VALUE), Number.MAX_VALUE);

/**
 * One chart per driving feature (at most four, strongest first; see `drivingFeatures`), each a standalone
 * SVG document: the feature minute by minute (at most the two hours before the incident and what followed),
 * its baseline band (class `baseline-band`, centre line `baseline`), the anomalous window
 * (`anomalous-window`) and the incident's span (`incident-span`). Empty without a timeline or for a
 * metric-series anomaly. Self-contained (no scripts, no external references, every text escaped): safe
 * inline in HTML, as an `<img>` data URI and as an image file; `<title>` and `<desc>` make it readable to
 * screen readers.
 */
export function renderIncidentCharts(incident: Incident): ReportChart[] {
  const driving = drivingFeatures(incident);
  const span = incidentSpan(incident, driving[0]);
  return span === undefined ? [] : driving.map((series) => renderFeatureChart(incident, series, span));
}

function renderFeatureChart(incident: Incident, series: FeatureSeries, span: IncidentSpan): ReportChart {
  const a = incident.anomaly;
  const { feature, band } = series;
  const from = Math.max(series.points[0]!.minute, span.start - 120 * 60_000);
  const points = series.points.filter((p) => p.minute >= from);
  const to = Math.max((points[points.length - 1]?.minute ?? from) + 60_000, a.windowEnd, span.end);
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  // Scaled by the largest magnitude first, so values near the double's limits never overflow to Infinity.
  const scale = Math.max(Number.MIN_VALUE, ...[...values, band.low, band.center, band.high].map((v) => Math.abs(finite(v))));
  const n = (v: number) => finite(v) / scale;
  const lo = Math.min(0, ...values.map(n), n(band.low), n(band.center));
  const hi = Math.max(...values.map(n), n(band.high));
  const top = hi + (hi - lo) * 0.1 || 1;
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + ((top - n(v)) / (top - lo)) * (H - TOP - BOTTOM);
  const title = `${a.service}: ${LABEL[feature]}, ${hhmm(from)}–${hhmm(to)} UTC`;
  const perMinute = (v: number) => (feature === 'total_events' ? v / Math.max(1, (a.windowEnd - a.windowStart) / 60_000) : v);
  const desc = `${LABEL[feature]} of ${a.service} per minute against its baseline ${num(feature, band.center)} (normal band ${num(feature, band.low)} to ${num(feature, band.high)}). `
    + `In the anomalous window ${hhmm(a.windowStart)}–${hhmm(a.windowEnd)} UTC the detector measured ${num(feature, perMinute(series.explanation.value))}; `
    + `the incident ${span.ongoing ? 'is still going' : `lasted until ${hhmm(span.end)} UTC`}.`;
  // Minutes without a value break the line instead of being drawn as zero.
  const segments: string[][] = [[]];
  for (const p of points) {
    if (p.value === null) segments.push([]);
    else segments[segments.length - 1]!.push(`${f(x(p.minute + 30_000))},${f(y(p.value))}`);
  }
  const lines = segments.filter((s) => s.length > 0).map((s) => `<polyline class="series" fill="none" stroke="${SERIES}" stroke-width="1.75" points="${s.join(' ')}"/>`);
  const plotH = H - TOP - BOTTOM;
  const bandTop = y(band.high), bandBottom = y(band.low);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" font-family="sans-serif" font-size="11" fill="${INK}">`,
    `<title>${escape(title)}</title>`,
    `<desc>${escape(desc)}</desc>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<rect class="incident-span" x="${f(x(span.start))}" y="${TOP}" width="${f(Math.max(1, x(span.end) - x(span.start)))}" height="${plotH}" fill="#ffebe9" data-from="${span.start}" data-to="${span.end}"/>`,
    `<rect class="anomalous-window" x="${f(x(a.windowStart))}" y="${TOP}" width="${f(Math.max(1, x(a.windowEnd) - x(a.windowStart)))}" height="${plotH}" fill="${ANOMALOUS}" fill-opacity="0.2" stroke="${ANOMALOUS}" data-from="${a.windowStart}" data-to="${a.windowEnd}"/>`,
    `<rect class="baseline-band" x="${LEFT}" y="${f(bandTop)}" width="${W - LEFT - RIGHT}" height="${f(Math.max(0.5, bandBottom - bandTop))}" fill="${BASELINE}" fill-opacity="0.15" data-low="${band.low}" data-high="${band.high}"/>`,
    `<line class="band-edge" x1="${LEFT}" x2="${W - RIGHT}" y1="${f(bandTop)}" y2="${f(bandTop)}" stroke="${BASELINE}" stroke-width="0.75"/>`,
    `<line class="band-edge" x1="${LEFT}" x2="${W - RIGHT}" y1="${f(bandBottom)}" y2="${f(bandBottom)}" stroke="${BASELINE}" stroke-width="0.75"/>`,
    `<line class="baseline" x1="${LEFT}" x2="${W - RIGHT}" y1="${f(y(band.center))}" y2="${f(y(band.center))}" stroke="${BASELINE}" stroke-dasharray="4 3" data-value="${band.center}"/>`,
    ...lines,
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${H - BOTTOM}" stroke="${MUTED}"/>`,
    `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${H - BOTTOM}" y2="${H - BOTTOM}" stroke="${MUTED}"/>`,
    `<text x="${LEFT - 4}" y="${TOP + 4}" text-anchor="end">${escape(num(feature, finite(top * scale)))}</text>`,
    `<text x="${LEFT - 4}" y="${f(y(0) + 4)}" text-anchor="end">0</text>`,
    `<text x="${LEFT}" y="${H - 8}">${hhmm(from)}</text>`,
    `<text x="${W - RIGHT}" y="${H - 8}" text-anchor="end">${hhmm(to)} UTC</text>`,
    `<text x="${LEFT}" y="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="${f((LEFT + W - RIGHT) / 2)}" y="${H - 8}" text-anchor="middle" fill="${MUTED}">green: baseline and normal band; red: anomalous window</text>`,
    `</svg>`,
  ].join('\n');
  return { feature, title, svg };
}
