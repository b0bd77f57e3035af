import { api, ApiError, query } from '../api.js';
import { h, replace } from '../dom.js';
import { formatNumber, formatPercent, formatTime } from '../format.js';
import type { Anomaly, IncidentContext, IncidentRecord, IncidentReport, Page, ReportChart } from '../types.js';
import { errorBox, guarded, heading, link, severityBadge, statusBadge, table, traceHref, type ViewContext } from './common.js';
import { incidentDuration } from './incidents.js';

const MINUTE = 60_000;

/** The incident's opening anomaly (same id), looked up in the service's anomalies, newest first. */
async function findAnomaly(incident: IncidentRecord, signal: AbortSignal): Promise<Anomaly | undefined> {
  let before: string | null = null;
  for (let pageNo = 0; pageNo < 10; pageNo++) {
    const page: Page<Anomaly> = await api<Page<Anomaly>>(`/api/v1/anomalies${query({ service: incident.service, tenant: incident.tenant, limit: 500, before })}`, { signal });
    const found = page.items.find((a) => a.id === incident.id);
    if (found !== undefined) return found;
    if (page.next === null || page.items.every((a) => a.detectedAt < incident.openedAt - MINUTE)) return undefined;
    before = page.next;
  }
  return undefined;
}

/**
 * A stored report chart as an image: a data URI, which the console's CSP allows for images (`img-src
 * 'self' data:`), and an SVG in an `<img>` runs no script whatever it holds.
 */
function chartImage(chart: ReportChart): HTMLElement {
  return h('img', { class: 'report-chart', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(chart.svg)}`, alt: chart.title, width: 720, height: 240 });
}

/**
 * The report's charts, one per driving feature (drawn once by the report pipeline, the same the file
 * reporter writes and the API serves), each captioned with the detector's numbers for that feature.
 */
function featureCharts(anomaly: Anomaly | undefined, report: IncidentReport | undefined): HTMLElement {
  const charts = report?.charts ?? [];
  const figures = charts.map((chart) => {
    const f = anomaly?.explanation.find((e) => e.feature === chart.feature);
    const fmt = chart.feature === 'error_rate' ? formatPercent : (v: number) => formatNumber(v);
    const numbers = f === undefined ? '' : `${f.feature}: ${fmt(f.value)} in the window against a baseline of ${fmt(f.baseline)} (${f.direction}, ${formatPercent(f.contribution)} of the score). `;
    return h('figure', { class: 'feature' }, chartImage(chart),
      h('figcaption', null, numbers, 'Green: the baseline and its band of normal minutes; red: the anomalous window.'));
  });
  return h('section', { 'aria-labelledby': 'h-features' }, h('h2', { id: 'h-features' }, 'Driving features'),
    anomaly === undefined ? null : h('p', null, `Detector ${anomaly.detector}: score ${formatNumber(anomaly.score, 3)} against threshold ${formatNumber(anomaly.threshold, 3)}, window ${formatTime(anomaly.windowStart)} – ${formatTime(anomaly.windowEnd)}.`),
    figures.length > 0 ? figures : h('p', { class: 'note' }, report === undefined
      ? 'The charts come with the report, which is not written yet.'
      : 'This report has no charts (written before reports had charts, or for a metric series, whose minutes are not stored).'));
}

/** `**bold**` and `` `code` `` of a report line as nodes (text stays text: no HTML is parsed). */
function inline(text: string): Node[] {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/).filter((part) => part !== '').map((part) =>
    part.startsWith('**') && part.endsWith('**') && part.length > 4 ? h('strong', null, part.slice(2, -2))
      : part.startsWith('`') && part.endsWith('`') && part.length > 2 ? h('code', null, part.slice(1, -1))
        : document.createTextNode(part));
}

/** A report section's text: paragraphs, and runs of `- ` or `1. ` lines as lists (the light Markdown reporters write). */
function paragraphs(text: string): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const block of text.split(/\n{2,}/)) {
    let list: HTMLElement | undefined;
    for (const line of block.split('\n')) {
      const item = /^\s*(?:[-*]|(\d+)\.)\s+(.*)$/.exec(line);
      if (item !== null) {
        const tag = item[1] === undefined ? 'ul' : 'ol';
        if (list === undefined || list.tagName.toLowerCase() !== tag) out.push((list = h(tag)));
        list.append(h('li', null, inline(item[2]!)));
      } else if (line.trim() !== '') {
        list = undefined;
        out.push(h('p', null, inline(line)));
      }
    }
  }
  return out;
}

function list(items: readonly string[]): HTMLElement {
  return items.length === 0 ? h('p', null, 'None.') : h('ul', null, items.map((i) => h('li', null, inline(i))));
}

function reportSection(report: IncidentReport): HTMLElement {
  const s = report.sections;
  return h('section', { class: 'report', 'aria-labelledby': 'h-report' },
    h('h2', { id: 'h-report' }, 'Report: ', report.title),
    h('p', { class: 'note' }, `Written ${formatTime(report.createdAt)} by ${report.composer}.`, report.notes.length > 0 ? ` ${report.notes.join(' ')}` : ''),
    h('h3', null, 'Executive summary'), paragraphs(s.executiveSummary),
    h('h3', null, 'Root cause analysis'), paragraphs(s.rootCauseAnalysis),
    h('h3', null, 'Impact assessment'), paragraphs(s.impactAssessment),
    h('h3', null, 'Recommended actions'),
    h('h4', null, 'Immediate'), list(s.recommendedActions.immediate),
    h('h4', null, 'Short term'), list(s.recommendedActions.shortTerm),
    h('h4', null, 'Long term'), list(s.recommendedActions.longTerm),
    h('h3', null, 'Prevention measures'), list(s.preventionMeasures),
    report.deliveries.length === 0 ? null : table('Deliveries', ['Reporter', 'Status', 'Where / why', 'At'],
      report.deliveries.map((d) => [d.reporter, d.status, d.location ?? d.error ?? '', formatTime(d.at)])));
}

function evidenceSection(incident: IncidentRecord, anomaly: Anomaly, c: IncidentContext): HTMLElement {
  const windowEvents = `#/events${query({ service: incident.service, from: anomaly.windowStart, to: anomaly.windowEnd })}`;
  return h('section', { 'aria-labelledby': 'h-evidence' },
    h('h2', { id: 'h-evidence' }, 'Evidence'),
    h('p', null, `In the window: ${c.window.events} events, ${c.window.errors} errors, p95 ${formatNumber(c.window.p95LatencyMs, 0)} ms; baseline before it: ${c.baseline.events} events, ${c.baseline.errors} errors, p95 ${formatNumber(c.baseline.p95LatencyMs, 0)} ms. `,
      link(windowEvents, 'Search the window\'s events')),
    c.topErrors.length === 0 ? h('p', null, 'No errors in the window.') : table('Top errors', ['Error code', 'Message', 'Events', 'Last seen'],
      c.topErrors.map((e) => [e.errorCode ?? '—', link(`#/events${query({ service: incident.service, from: anomaly.windowStart, to: anomaly.windowEnd, q: e.errorCode ?? e.message.slice(0, 200) })}`, e.message), String(e.events), formatTime(e.lastSeen)])),
    c.slowestEndpoints.length === 0 ? null : table('Endpoints', ['Endpoint', 'Events', 'Errors', 'Average', 'p95'],
      c.slowestEndpoints.map((e) => [link(`#/events${query({ service: incident.service, endpoint: e.endpoint, from: anomaly.windowStart, to: anomaly.windowEnd })}`, e.endpoint), String(e.events), String(e.errors), `${formatNumber(e.avgLatencyMs, 0)} ms`, `${formatNumber(e.p95LatencyMs, 0)} ms`])),
    h('h3', null, 'Example traces'),
    c.exampleTraceIds.length === 0 ? h('p', null, 'None in the window.') : h('ul', { class: 'traces' }, c.exampleTraceIds.map((t) => h('li', null, link(traceHref(t), t, { class: 'mono' })))));
}

/**
 * Acknowledge, resolve and 👍 👎: each a POST to the incidents API, then the page again with the outcome
 * announced and the focus kept in the button group (the clicked button, or the first still enabled).
 */
function actions(incident: IncidentRecord, redraw: () => Promise<void>): HTMLElement {
  const status = h('p', { role: 'status', class: 'action-status' });
  const post = (path: string, body: unknown, done: string, buttonId: string) => {
    api(`/api/v1/incidents/${encodeURIComponent(incident.id)}/${path}`, { method: 'POST', body }).then(async () => {
      await redraw();
      const group = document.querySelector('.actions');
      const st = group?.querySelector('.action-status');
      if (st) st.textContent = done;
      const again = document.getElementById(buttonId) as HTMLButtonElement | null;
      (again !== null && !again.disabled ? again : group?.querySelector<HTMLButtonElement>('button:not([disabled])'))?.focus();
    }, (err: unknown) => (status.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)));
  };
  const rating = incident.feedback?.rating;
  return h('div', { class: 'actions', role: 'group', 'aria-label': 'Incident actions' },
    h('button', { type: 'button', id: 'ack', disabled: incident.status !== 'open', onclick: () => post('ack', {}, 'Acknowledged.', 'ack') }, 'Acknowledge'),
    h('button', { type: 'button', id: 'resolve', disabled: incident.status === 'resolved', onclick: () => post('resolve', {}, 'Resolved.', 'resolve') }, 'Resolve'),
    h('button', { type: 'button', id: 'thumbs-up', 'aria-pressed': String(rating === 'up'), 'aria-label': 'Useful incident (thumbs up)', onclick: () => post('feedback', { rating: 'up' }, 'Thanks: feedback stored.', 'thumbs-up') }, h('span', { 'aria-hidden': 'true' }, '👍'), ' Useful'),
    h('button', { type: 'button', id: 'thumbs-down', 'aria-pressed': String(rating === 'down'), 'aria-label': 'Not useful (thumbs down)', onclick: () => post('feedback', { rating: 'down' }, 'Thanks: feedback stored.', 'thumbs-down') }, h('span', { 'aria-hidden': 'true' }, '👎'), ' Not useful'),
    status);
}

export async function incidentView(ctx: ViewContext): Promise<void> {
  const id = ctx.parts[1] ?? '';
  const body = h('div', null, h('p', null, 'Loading the incident…'));
  replace(ctx.root, heading('Incident'), body);
  await guarded(ctx, async () => {
    const incident = await api<IncidentRecord>(`/api/v1/incidents/${encodeURIComponent(id)}`, { signal: ctx.signal });
    const [anomaly, report] = await Promise.all([
      findAnomaly(incident, ctx.signal),
      incident.reportId === undefined ? Promise.resolve(undefined) : api<IncidentReport>(`/api/v1/reports/${encodeURIComponent(incident.reportId)}`, { signal: ctx.signal }),
    ]);
    const title = heading(`${incident.severity} incident in ${incident.service}`);
    const facts = h('dl', { class: 'facts' },
      h('dt', null, 'Severity'), h('dd', null, severityBadge(incident.severity)),
      h('dt', null, 'Status'), h('dd', null, statusBadge(incident.status), incident.acknowledgedBy === undefined ? '' : ` (acknowledged by ${incident.acknowledgedBy})`, incident.resolvedBy === undefined ? '' : ` (resolved by ${incident.resolvedBy})`),
      h('dt', null, 'Service'), h('dd', null, link(`#/events${query({ service: incident.service })}`, incident.service), incident.series === undefined ? '' : ` · ${incident.series}`),
      h('dt', null, 'Started'), h('dd', null, formatTime(incident.openedAt)),
      h('dt', null, 'Duration'), h('dd', null, incidentDuration(incident, Date.now())),
      incident.feedback === undefined ? null : [h('dt', null, 'Feedback'), h('dd', null, `${incident.feedback.rating === 'up' ? '👍' : '👎'} by ${incident.feedback.by}`)]);
    const parts: Node[] = [facts, actions(incident, () => incidentView(ctx)), featureCharts(anomaly, report)];
    if (anomaly !== undefined) {
      const context = await api<IncidentContext>(`/api/v1/services/${encodeURIComponent(incident.service)}/context${query({ tenant: incident.tenant, from: anomaly.windowStart, to: anomaly.windowEnd })}`, { signal: ctx.signal }).catch((err: unknown) => err);
      parts.push(context instanceof Error ? errorBox(context) : evidenceSection(incident, anomaly, context as IncidentContext));
    } else {
      parts.push(h('p', { class: 'note' }, 'The anomaly that opened this incident is no longer stored (retention): no evidence.'));
    }
    parts.push(report === undefined ? h('p', { class: 'note' }, 'No report stored for this incident yet.') : reportSection(report));
    replace(ctx.root, title, ...parts);
  });
}
