import { s } from './dom.js';

/**
 * The service list's sparklines, hand-written SVG: a few hundred bytes of code instead of a chart library.
 * (The incident page shows the report's own charts, drawn once by @helios/plugins' report-chart.)
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
