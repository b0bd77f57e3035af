import { ApiError } from '../api.js';
import { h } from '../dom.js';
import type { IncidentStatus, Severity } from '../types.js';

/** What a view gets: where to draw, the route's path segments and query, and a signal that aborts when the route changes. */
export interface ViewContext {
  root: HTMLElement;
  parts: readonly string[];
  params: URLSearchParams;
  signal: AbortSignal;
  /** Draw the login form (the API answered 401), then this view again once signed in. */
  needLogin(): void;
}

export type View = (ctx: ViewContext) => Promise<void>;

/** The page's heading; focused after navigation so keyboard and screen-reader users land on the new content. */
export function heading(title: string): HTMLHeadingElement {
  document.title = `${title} · Helios`;
  return h('h1', { tabindex: '-1', id: 'page-title' }, title);
}

export function errorBox(err: unknown): HTMLElement {
  const text = err instanceof ApiError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  return h('p', { class: 'error', role: 'alert' }, text);
}

/** Run a view's work, turning a 401 into the login form and any other failure into an alert. */
export async function guarded(ctx: ViewContext, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (ctx.signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) ctx.needLogin();
    else ctx.root.append(errorBox(err));
  }
}

export function severityBadge(severity: Severity): HTMLElement {
  return h('span', { class: `badge sev-${severity}` }, severity);
}

export function statusBadge(status: IncidentStatus): HTMLElement {
  return h('span', { class: `badge status-${status}` }, status);
}

/** A table with a caption, column headers and rows. */
export function table(caption: string, columns: readonly string[], rows: readonly (readonly (Node | string)[])[], options: { className?: string; captionHidden?: boolean } = {}): HTMLTableElement {
  return h('table', { class: options.className },
    h('caption', { class: options.captionHidden === true ? 'visually-hidden' : undefined }, caption),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c) => h('td', null, c))))));
}

export function link(href: string, text: string, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h('a', { href, ...attrs }, text);
}

/** `#/events?trace_id=…`: the event search of one trace's events. */
export function traceHref(traceId: string): string {
  return `#/traces/${encodeURIComponent(traceId)}`;
}
