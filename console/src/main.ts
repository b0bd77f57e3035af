import { apiKey, setApiKey } from './api.js';
import { h, replace } from './dom.js';
import type { View, ViewContext } from './views/common.js';
import { eventsView, traceView } from './views/events.js';
import { incidentView } from './views/incident.js';
import { incidentsView } from './views/incidents.js';
import { renderLogin } from './views/login.js';
import { servicesView } from './views/services.js';

/**
 * The console's router: the location hash names the view (`#/services`, `#/incidents/<id>`,
 * `#/events?service=…`, `#/traces/<id>`), so the gateway serves one HTML file and any view can be
 * bookmarked or linked.
 */
const VIEWS: Record<string, { view: View; nav?: string }> = {
  services: { view: servicesView, nav: 'services' },
  incidents: { view: incidentsView, nav: 'incidents' },
  incident: { view: incidentView, nav: 'incidents' },
  events: { view: eventsView, nav: 'events' },
  traces: { view: traceView, nav: 'events' },
};

const root = document.getElementById('main')!;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;
let current: AbortController | undefined;

function parseHash(): { name: string; parts: string[]; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = hash.split('?', 2);
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  let name = parts[0] ?? 'services';
  if (name === 'incidents' && parts.length > 1) name = 'incident';
  return { name, parts, params: new URLSearchParams(q) };
}

function render(): void {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { name, parts, params } = parseHash();
  const route = VIEWS[name];
  signOut.hidden = apiKey() === null;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-nav]')) {
    if (a.dataset['nav'] === route?.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (route === undefined) {
    replace(root, h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '#/services' }, 'Go to the services.')));
    return;
  }
  const ctx: ViewContext = {
    root, parts, params, signal: controller.signal,
    needLogin() {
      if (controller.signal.aborted) return;
      setApiKey(null);
      renderLogin(root, render);
    },
  };
  void route.view(ctx).finally(() => {
    // Move focus to the new page's heading on navigation (not on the first load: the skip link comes first).
    if (!controller.signal.aborted && navigated) root.querySelector<HTMLElement>('h1')?.focus();
  });
}

let navigated = false;
window.addEventListener('hashchange', () => {
  navigated = true;
  render();
});
signOut.addEventListener('click', () => {
  setApiKey(null);
  render();
});
render();
