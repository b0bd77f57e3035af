import { api, query } from '../api.js';
import { h, replace } from '../dom.js';
import { formatDuration, formatTime } from '../format.js';
import { INCIDENT_STATUSES, SEVERITIES, type IncidentRecord, type Page } from '../types.js';
import { guarded, heading, link, severityBadge, statusBadge, table, type ViewContext } from './common.js';

/** How long an incident lasted (resolved) or has lasted so far. */
export function incidentDuration(i: IncidentRecord, now: number): string {
  return formatDuration((i.resolvedAt ?? now) - i.openedAt) + (i.resolvedAt === undefined ? ' so far' : '');
}

function select(id: string, label: string, values: readonly string[], current: string | null): [HTMLLabelElement, HTMLSelectElement] {
  return [h('label', { for: id }, label), h('select', { id, name: id }, h('option', { value: '' }, 'any'), values.map((v) => h('option', { value: v, selected: v === current }, v)))];
}

/** Incidents newest first, filtered by service and status (by the API) and severity (on the page). */
export async function incidentsView(ctx: ViewContext): Promise<void> {
  const p = ctx.params;
  const service = h('input', { id: 'f-service', name: 'service', value: p.get('service') ?? '', autocomplete: 'off' });
  const [sevLabel, severity] = select('f-severity', 'Severity', SEVERITIES, p.get('severity'));
  const [statusLabel, status] = select('f-status', 'Status', INCIDENT_STATUSES, p.get('status'));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter incidents' },
    h('label', { for: 'f-service' }, 'Service'), service, sevLabel, severity, statusLabel, status, h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/incidents${query({ service: service.value.trim(), severity: severity.value, status: status.value })}`;
  });
  const body = h('div', { 'aria-live': 'polite' }, h('p', null, 'Loading incidents…'));
  replace(ctx.root, heading('Incidents'), form, body);
  await guarded(ctx, async () => {
    const page = await api<Page<IncidentRecord>>(`/api/v1/incidents${query({ service: p.get('service'), status: p.get('status'), before: p.get('before'), limit: 100 })}`, { signal: ctx.signal });
    const wanted = p.get('severity');
    const items = wanted === null || wanted === '' ? page.items : page.items.filter((i) => i.severity === wanted);
    const now = Date.now();
    const rows = items.map((i) => [
      severityBadge(i.severity),
      link(`#/incidents/${encodeURIComponent(i.id)}`, i.series === undefined ? i.service : `${i.service} · ${i.series}`, { class: 'incident-link' }),
      formatTime(i.openedAt),
      incidentDuration(i, now),
      h('span', null, statusBadge(i.status), i.silencedBy === undefined ? null : h('span', { class: 'badge silenced' }, 'silenced')),
    ]);
    const older = page.next === null ? null : link(`#/incidents${query({ service: p.get('service'), severity: wanted, status: p.get('status'), before: page.next })}`, 'Older incidents →', { class: 'pager' });
    replace(body,
      items.length === 0 ? h('p', null, 'No incidents match.') : table('Incidents, newest first', ['Severity', 'Service', 'Started', 'Duration', 'Status'], rows, { className: 'incidents' }),
      older);
  });
}
