import { api, query, stream } from '../api.js';
import { h, replace } from '../dom.js';
import { formatNumber, formatTime, toLocalInput } from '../format.js';
import { LEVELS, type HeliosEvent } from '../types.js';
import { guarded, heading, link, traceHref, type ViewContext } from './common.js';

const SPANS = ['15m', '1h', '6h', '24h', '7d'] as const;
/** Most rows the live tail keeps on screen; older ones drop off the bottom. */
const TAIL_ROWS = 500;
const COLUMNS = ['Time', 'Level', 'Service', 'Endpoint', 'Message', 'Trace'];

/** One event as a table row; the message opens to the whole event as JSON. */
export function eventRow(e: HeliosEvent): HTMLTableRowElement {
  return h('tr', { class: `level-${e.level.toLowerCase()}`, 'data-event-id': e.id },
    h('td', { class: 'nowrap' }, formatTime(e.timestamp)),
    h('td', null, h('span', { class: `badge lvl-${e.level.toLowerCase()}` }, e.level)),
    h('td', null, e.service),
    h('td', null, e.endpoint ?? '—', e.status_code === null ? '' : ` ${e.status_code}`, e.latency_ms === null ? '' : ` · ${formatNumber(e.latency_ms, 0)} ms`),
    h('td', { class: 'message' }, h('details', null, h('summary', null, e.error_code === null ? e.message : `${e.error_code}: ${e.message}`), h('pre', null, JSON.stringify(e, null, 2)))),
    h('td', null, e.trace_id === null ? '—' : link(traceHref(e.trace_id), e.trace_id.slice(0, 8) + '…', { class: 'mono', 'aria-label': `trace ${e.trace_id}` })));
}

export function eventTable(caption: string, events: readonly HeliosEvent[], id?: string): HTMLTableElement {
  return h('table', { class: 'events', id },
    h('caption', null, caption),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, events.map(eventRow)));
}

/** The filters search and tail share, from the route's query. */
function filtersOf(p: URLSearchParams): Record<string, string | string[] | undefined> {
  const one = (name: string) => p.get(name) ?? undefined;
  return { service: one('service'), level: p.getAll('level'), endpoint: one('endpoint'), trace_id: one('trace_id'), q: one('q') };
}

function field(id: string, label: string, value: string | null, attrs: Record<string, string> = {}): HTMLElement[] {
  return [h('label', { for: id }, label), h('input', { id, name: id, value: value ?? '', autocomplete: 'off', ...attrs })];
}

/** Search by time range, service, level, endpoint, trace id and text, newest first and paged; and the live tail with the same filters. */
export async function eventsView(ctx: ViewContext): Promise<void> {
  const p = ctx.params;
  const fromParam = p.get('from') ?? '1h';
  const custom = /^\d+$/.test(fromParam) || p.get('to') !== null;
  const range = h('select', { id: 'e-range', name: 'range' }, SPANS.map((sp) => h('option', { value: sp, selected: !custom && sp === fromParam }, `last ${sp}`)), h('option', { value: 'custom', selected: custom }, 'custom range'));
  const now = Date.now();
  const fromInput = h('input', { id: 'e-from', type: 'datetime-local', value: toLocalInput(custom && /^\d+$/.test(fromParam) ? Number(fromParam) : now - 3_600_000) });
  const toInput = h('input', { id: 'e-to', type: 'datetime-local', value: toLocalInput(p.get('to') !== null && /^\d+$/.test(p.get('to')!) ? Number(p.get('to')) : now) });
  const levels = h('fieldset', { class: 'levels' }, h('legend', null, 'Levels'),
    LEVELS.map((l) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'level', value: l, checked: p.getAll('level').includes(l) }), ` ${l}`)));
  // The two times apply to a custom range only: shown only then.
  const customRange = h('span', { class: 'custom-range', hidden: !custom }, h('label', { for: 'e-from' }, 'From'), ' ', fromInput, ' ', h('label', { for: 'e-to' }, 'To'), ' ', toInput);
  range.addEventListener('change', () => (customRange.hidden = range.value !== 'custom'));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search events' },
    h('label', { for: 'e-range' }, 'Time'), range, customRange,
    ...field('e-service', 'Service', p.get('service')), ...field('e-endpoint', 'Endpoint', p.get('endpoint')),
    ...field('e-trace', 'Trace id', p.get('trace_id'), { pattern: '[0-9a-f]{32}', title: '32 lower-case hex characters', class: 'mono' }),
    ...field('e-q', 'Text', p.get('q'), { type: 'search' }),
    levels,
    h('button', { type: 'submit' }, 'Search'));
  const read = (id: string) => (form.querySelector<HTMLInputElement>(`#${id}`)!.value.trim());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const isCustom = range.value === 'custom';
    location.hash = `#/events${query({
      from: isCustom ? String(new Date(fromInput.value).getTime()) : range.value, to: isCustom ? String(new Date(toInput.value).getTime()) : undefined,
      service: read('e-service'), endpoint: read('e-endpoint'), trace_id: read('e-trace'), q: read('e-q'),
      level: [...form.querySelectorAll<HTMLInputElement>('input[name=level]:checked')].map((c) => c.value),
    })}`;
  });

  const tailButton = h('button', { type: 'button', id: 'tail-toggle', 'aria-pressed': 'false' }, 'Start live tail');
  const tailStatus = h('p', { role: 'status', id: 'tail-status' });
  const tailBody = h('tbody');
  const tailTable = h('table', { class: 'events', id: 'tail-table', hidden: true },
    h('caption', null, 'Live tail, newest first'), h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), tailBody);
  let tailAbort: AbortController | undefined;
  const stopTail = (why: string) => {
    tailAbort?.abort();
    tailAbort = undefined;
    tailButton.textContent = 'Start live tail';
    tailButton.setAttribute('aria-pressed', 'false');
    tailStatus.textContent = why;
  };
  ctx.signal.addEventListener('abort', () => tailAbort?.abort());
  tailButton.addEventListener('click', () => {
    if (tailAbort !== undefined) return stopTail('Live tail stopped.');
    tailAbort = new AbortController();
    const signal = tailAbort.signal;
    tailButton.textContent = 'Stop live tail';
    tailButton.setAttribute('aria-pressed', 'true');
    tailTable.hidden = false;
    let received = 0;
    tailStatus.textContent = 'Live tail: connecting…';
    stream(`/api/v1/events/tail${query(filtersOf(p))}`, (m) => {
      if (m.event !== 'event') return;
      tailBody.prepend(eventRow(JSON.parse(m.data) as HeliosEvent));
      while (tailBody.rows.length > TAIL_ROWS) tailBody.deleteRow(-1);
      tailStatus.textContent = `Live tail: ${++received} new event${received === 1 ? '' : 's'}.`;
    }, signal, () => {
      if (received === 0) tailStatus.textContent = 'Live tail: connected, waiting for new events…';
    }).then(
      (why) => { if (!signal.aborted) stopTail(`Live tail ended: ${why}.`); },
      (err: unknown) => { if (!signal.aborted) stopTail(`Live tail failed: ${(err as Error).message}`); },
    );
  });

  const results = h('div', { 'aria-live': 'polite' }, h('p', null, 'Searching…'));
  replace(ctx.root, heading('Events'), form, h('div', { class: 'toolbar' }, tailButton, tailStatus), tailTable, results);
  await guarded(ctx, async () => {
    const page = await api<{ items: HeliosEvent[]; next: string | null; from: number; to: number }>(`/api/v1/events${query({ ...filtersOf(p), from: fromParam, to: p.get('to'), cursor: p.get('cursor'), limit: 100 })}`, { signal: ctx.signal });
    const older = page.next === null ? null : link(`#/events${query({ ...filtersOf(p), from: page.from, to: page.to, cursor: page.next })}`, 'Older events →', { class: 'pager' });
    replace(results,
      h('p', { class: 'note', id: 'search-summary' }, `${page.items.length} event${page.items.length === 1 ? '' : 's'}${page.next === null ? '' : ' on this page'} from ${formatTime(page.from)} to ${formatTime(page.to)}, newest first.`),
      page.items.length === 0 ? null : eventTable('Matching events, newest first', page.items, 'search-results'),
      older);
  });
}

/** Every event of one trace, oldest first, with each one's offset from the first. */
export async function traceView(ctx: ViewContext): Promise<void> {
  const traceId = ctx.parts[1] ?? '';
  const body = h('div', null, h('p', null, 'Loading the trace…'));
  replace(ctx.root, heading(`Trace ${traceId}`), body);
  await guarded(ctx, async () => {
    const trace = await api<{ items: HeliosEvent[]; truncated: boolean }>(`/api/v1/traces/${encodeURIComponent(traceId)}`, { signal: ctx.signal });
    const first = trace.items[0]?.timestamp ?? 0;
    const services = [...new Set(trace.items.map((e) => e.service))];
    const table = eventTable(`${trace.items.length} events of the trace, oldest first`, trace.items, 'trace-events');
    table.querySelectorAll('tbody tr').forEach((row, i) => row.firstElementChild!.append(h('span', { class: 'offset' }, ` +${trace.items[i]!.timestamp - first} ms`)));
    replace(body,
      h('p', null, `Services: ${services.join(', ')}.`, trace.truncated ? ' Only the first events are shown (truncated).' : ''),
      table);
  });
}
