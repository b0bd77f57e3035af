import type { ReportChart } from './incident.js';

/**
 * The Markdown with an image line per chart, after the facts table. `src` is what the reader loads: the
 * file reporter writes the charts beside the Markdown and links them by relative name; the reports API
 * inlines them as data URIs (`chartDataUri`), as its Markdown has no files beside it.
 */
export function withChartImages(markdown: string, images: ReadonlyArray<{ title: string; file: string }>): string {
  if (images.length === 0) return markdown;
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.startsWith('| Anomaly id |'));
  const insert = ['', ...images.map((i) => `![${i.title.replace(/[[\]]/g, '')}](${encodeURI(i.file)})`)];
  lines.splice(at === -1 ? 1 : at + 1, 0, ...insert);
  return lines.join('\n');
}

/** A chart as a base64 data URI: no spaces or parentheses, so it stays one Markdown link target. */
export function chartDataUri(chart: Pick<ReportChart, 'svg'>): string {
  return `data:image/svg+xml;base64,${Buffer.from(chart.svg, 'utf8').toString('base64')}`;
}
