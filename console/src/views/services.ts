import { api, ApiError, query } from '../api.js';
import { sparkline } from '../charts.js';
import { h, replace } from '../dom.js';
import { formatDuration, formatNumber, formatPercent, formatTime } from '../format.js';
import type { DetectorSeriesStatus, IncidentRecord, Page, ServiceMinute, ServiceSummary } from '../types.js';
import { guarded, heading, link, statusBadge, table, type ViewContext } from './common.js';

const RANGES = ['1h', '3h', '6h', '24h'] as const;
const HOUR = 3_600_000;

/** Open and acknowledged incidents per `tenant/service`; none when this API has no incidents routes. */
async function unresolvedIncidents(signal: AbortSignal): Promise<Map<string, IncidentRecord[]>> {
  const byService = new Map<string, IncidentRecord[]>();
  for (const status of ['open', 'acknowledged']) {
    let page: Page<IncidentRecord>;
    try {
      page = await api<Page<IncidentRecord>>(`/api/v1/incidents${query({ status, limit: 500 })}`, { signal });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return byService;
      throw err;
    }
    for (const i of page.items) {
      const key = `${i.tenant}/${i.service}`;
      byService.set(key, [...(byService.get(key) ?? []), i]);
    }
  }
  return byService;
}

/** One series' state in a line: `learning · 7 windows · first verdict in ~53m` or `active · 90 windows · threshold 0.61`. */
function seriesLine(s: DetectorSeriesStatus): string {
  const parts = [s.state, `${s.windowsSeen} window${s.windowsSeen === 1 ? '' : 's'}`];
  if (s.state === 'active') parts.push(`threshold ${formatNumber(s.threshold)}`);
  else if (s.firstVerdictInMs !== null) parts.push(`first verdict in ~${formatDuration(s.firstVerdictInMs)}`);
  return parts.join(' · ');
}

/**
 * The detection cell: the service's request series (several detectors: the one furthest from its first
 * verdict), then its dependencies, each with its own state. "not judged yet" until a detect worker saw it.
 */
function detectionCell(s: ServiceSummary): Node {
  const d = s.detectorState;
  if (d === null) return h('span', { class: 'detection muted' }, 'not judged yet');
  const slowest = (list: DetectorSeriesStatus[]) => [...list].sort((a, b) => (b.firstVerdictInMs ?? 0) - (a.firstVerdictInMs ?? 0) || (a.state === 'learning' ? -1 : 1))[0];
  const requests = slowest(d.series.filter((x) => x.kind === 'requests'));
  const peers = new Map<string, DetectorSeriesStatus[]>();
  for (const x of d.series) if (x.kind === 'dependency') peers.set(x.peer ?? x.series, [...(peers.get(x.peer ?? x.series) ?? []), x]);
  const metrics = d.series.filter((x) => x.kind === 'metric');
  return h('div', { class: 'detection', 'data-state': d.state },
    h('span', { class: `badge state-${d.state}` }, d.state),
    requests === undefined ? null : h('span', { class: 'series-line' }, ` requests: ${seriesLine(requests)}`),
    peers.size === 0 ? null : h('ul', { class: 'dependencies', 'aria-label': `${s.service} dependencies` },
      [...peers].sort(([a], [b]) => a.localeCompare(b)).map(([peer, list]) => h('li', null, `→ ${peer}: ${seriesLine(slowest(list)!)}`))),
    metrics.length === 0 ? null : h('span', { class: 'series-line muted' }, `${metrics.length} metric series, ${metrics.filter((m) => m.state === 'active').length} active`));
}

/** Every service of the key's tenant (every tenant with auth off) with its rates as sparklines from the per-minute rollups. */
export async function servicesView(ctx: ViewContext): Promise<void> {
  const range = (RANGES as readonly string[]).includes(ctx.params.get('range') ?? '') ? ctx.params.get('range')! : '3h';
  const select = h('select', { id: 'range', name: 'range' }, RANGES.map((r) => h('option', { value: r, selected: r === range }, `last ${r}`)));
  select.addEventListener('change', () => (location.hash = `#/services?range=${select.value}`));
  const body = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', null, 'Loading services…'));
  replace(ctx.root, heading('Services'), h('div', { class: 'toolbar' }, h('label', { for: 'range' }, 'Sparklines over'), select), body);
  await guarded(ctx, async () => {
    const [list, incidents] = await Promise.all([api<{ items: ServiceSummary[]; to: number }>('/api/v1/services', { signal: ctx.signal }), unresolvedIncidents(ctx.signal)]);
    const to = list.to;
    const from = to - Number.parseInt(range, 10) * HOUR;
    const services = [...list.items].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.service.localeCompare(b.service));
    const series = await Promise.all(services.map((s) =>
      api<{ items: ServiceMinute[] }>(`/api/v1/services/${encodeURIComponent(s.service)}/series${query({ tenant: s.tenant, from, to })}`, { signal: ctx.signal }).then((r) => r.items)));
    const tenants = new Set(services.map((s) => s.tenant));
    const rows = services.map((s, i) => {
      const minutes = series[i]!;
      const open = incidents.get(`${s.tenant}/${s.service}`) ?? [];
      const state = open.length > 0
        ? h('a', { href: `#/incidents${query({ service: s.service })}` }, statusBadge(open.some((o) => o.status === 'open') ? 'open' : 'acknowledged'), ` ${open.length} incident${open.length === 1 ? '' : 's'}`)
        : h('span', { class: 'badge status-active' }, to - s.lastMinute <= 5 * 60_000 ? 'active' : 'quiet');
      const spark = (label: string, pick: (m: ServiceMinute) => number | null, format: (v: number) => string, latest: string) =>
        h('span', { class: 'metric' }, sparkline(minutes.map((m) => ({ t: m.minute, v: pick(m) })), { label: `${s.service} ${label}`, from, to, format }), h('span', { class: 'latest' }, latest));
      return [
        link(`#/events${query({ service: s.service })}`, s.service, { class: 'service-name' }),
        ...(tenants.size > 1 ? [s.tenant] : []),
        spark('requests per second', (m) => m.events / 60, (v) => `${formatNumber(v)}/s`, `${formatNumber(s.eventsPerSecond)}/s`),
        spark('error rate', (m) => (m.events === 0 ? 0 : m.errors / m.events), formatPercent, formatPercent(s.errorRate)),
        spark('p95 latency', (m) => m.latencyP95Ms, (v) => `${formatNumber(v, 0)} ms`, s.latencyP95Ms === null ? '—' : `${formatNumber(s.latencyP95Ms, 0)} ms`),
        state,
        detectionCell(s),
        s.anomalies.count === 0 ? '0' : `${s.anomalies.count} (last ${formatTime(s.anomalies.lastDetectedAt!)})`,
      ];
    });
    body.setAttribute('aria-busy', 'false');
    if (services.length === 0) {
      replace(body, h('p', null, 'No services in the last hour. Services appear once their events are rolled up (store maintenance, every minute).'));
      return;
    }
    replace(body,
      table(`Services with events in the last hour; rates of the latest rolled-up minute`, ['Service', ...(tenants.size > 1 ? ['Tenant'] : []), 'Requests', 'Error rate', 'p95 latency', 'State', 'Detection', 'Anomalies (1 h)'], rows, { className: 'services' }),
      h('p', { class: 'note' }, 'Detection: learning series get no verdict yet (the estimate is when the first comes); active ones are judged against the threshold shown, in the detector\'s units. Dependencies are the service\'s calls to each peer, judged as series of their own.'));
  });
}
