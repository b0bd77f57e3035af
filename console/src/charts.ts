import { s } from './dom.js';
import { formatClock } from './format.js';

/**
 * Hand-written SVG charts: a sparkline for the service list, and a feature against its baseline band
 * for the incident page. No chart library: a few hundred bytes of code instead of a bundle.
 */

/** A sparkline of per-minute values (null: no value that minute, a gap in the line). */
export function sparkline(points: ReadonlyArray<{ t: number; v: number | null }>, options: { label: string; from: number; to: number; format: (v: number) => string }): SVGSVGElement {
  const width = 120, height = 28, pad = 2;
  const values = points.map((p) => p.v).filter((v): v is number => v !== null);
  const max = values.length === 0 ? 1 : Math.max(...values);
  const min = values.length === 0 ? 0 : Math.min(0, ...values);
  const x = (t: number) => pad + ((t - options.from) / Math.max(1, options.to - options.from)) * (width - 2 * pad);
  const y = (v: number) => height - pad - ((v - min) / Math.max(1e-9, max - min)) * (height - 2 * pad);
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.v === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
    pen = true;
  }
  const last = values.length === 0 ? 'no data' : options.format(values[values.length - 1]!);
  const summary = values.length === 0 ? `${options.label}: no data` : `${options.label}: latest ${last}, highest ${options.format(max)}`;
  return s('svg', { class: 'spark', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': summary },
    s('title', null, summary),
    d === '' ? null : s('path', { d, class: 'spark-line' }));
}

export interface BandChartOptions {
  label: string;
  unit: string;
  /** How values read on the axis and in the summary (e.g. as percentages). */
  format: (v: number) => string;
  from: number;
  to: number;
  points: ReadonlyArray<{ t: number; v: number }>;
  band: { low: number; high: number; median: number } | undefined;
  /** The anomalous window, shaded. */
  window: { from: number; to: number };
}

/** One feature per minute against its baseline band (shaded), with the anomalous window marked. */
export function bandChart(o: BandChartOptions): SVGSVGElement {
  const width = 640, height = 180, left = 56, right = 12, top = 12, bottom = 28;
  const values = o.points.map((p) => p.v);
  const hi = Math.max(1e-9, ...values, o.band?.high ?? 0);
  const lo = Math.min(0, ...values, o.band?.low ?? 0);
  const x = (t: number) => left + ((t - o.from) / Math.max(1, o.to - o.from)) * (width - left - right);
  const y = (v: number) => top + (1 - (v - lo) / Math.max(1e-9, hi - lo)) * (height - top - bottom);
  const d = o.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const summary = `${o.label} per minute${o.band === undefined ? '' : `; baseline ${o.format(o.band.low)}–${o.format(o.band.high)} ${o.unit}`}; anomalous window ${formatClock(o.window.from)}–${formatClock(o.window.to)}`;
  const ticks = [lo, (lo + hi) / 2, hi];
  const timeTicks = [o.from, (o.from + o.to) / 2, o.to];
  return s('svg', { class: 'band-chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, preserveAspectRatio: 'xMidYMid meet' },
    s('title', null, summary),
    s('rect', { class: 'window', x: x(o.window.from), y: top, width: Math.max(2, x(o.window.to) - x(o.window.from)), height: height - top - bottom }),
    o.band === undefined ? null : s('rect', { class: 'band', x: left, y: y(o.band.high), width: width - left - right, height: Math.max(1, y(o.band.low) - y(o.band.high)) }),
    o.band === undefined ? null : s('line', { class: 'median', x1: left, x2: width - right, y1: y(o.band.median), y2: y(o.band.median) }),
    s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: height - bottom }),
    s('line', { class: 'axis', x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }),
    ticks.map((v) => s('text', { class: 'tick', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, o.format(v))),
    timeTicks.map((t, i) => s('text', { class: 'tick', x: x(t), y: height - 8, 'text-anchor': i === 0 ? 'start' : i === 2 ? 'end' : 'middle' }, formatClock(t))),
    d === '' ? null : s('path', { class: 'series', d }),
    o.points.filter((p) => p.t >= o.window.from && p.t < o.window.to).map((p) => s('circle', { class: 'anomalous', cx: x(p.t), cy: y(p.v), r: 3 })));
}

/** Median and a band of the middle 90% (5th to 95th percentile) of baseline values; undefined for none. */
export function baselineBand(values: readonly number[]): { low: number; high: number; median: number } | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return { low: at(0.05), high: at(0.95), median: at(0.5) };
}
