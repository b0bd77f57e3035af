import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, resolveConfig, silentLogger, type Anomaly, type EventInput, type ServiceSummary } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';
import { DEMO_SERVICES, minuteOfTraffic, seededRandom } from '../traffic.js';

/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real Helios
 * with auth on and two tenants: the pages load, the services list shows what was sent, a detected
 * incident appears with its report's stored charts and can be acknowledged and rated, search finds an event by
 * text and by trace id, the live tail shows new events — and nothing of the other tenant ever shows.
 * Screenshots of the main pages go to docs/console-*.png.
 */
const CHROMIUM = process.env['HELIOS_CHROMIUM'] ?? '/usr/bin/chromium';
// In CI the browser is required (.ci/run installs it): missing, the suite fails instead of skipping.
const run = existsSync(CHROMIUM) || process.env['CI'] === 'true';
const docs = resolve(import.meta.dirname, '..', '..', '..', 'docs');

/** expect.poll with room for a loaded machine (vitest's default is one second). */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000, interval: 100 });

const KEY_A = 'console-alpha-key-0001';
const KEY_B = 'console-bravo-key-0001';
const TRACE_A = 'a1'.repeat(16);
const TRACE_B = 'b2'.repeat(16);

describe.runIf(run)('web console in Chromium', { timeout: 90_000 }, () => {
  let app: HeliosApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const foreignRequests: string[] = [];
  /** The checkout error burst of tenant alpha's history, [from, to). */
  let burst = { from: 0, to: 0 };
  const pageErrors: string[] = [];

  const send = async (key: string, events: EventInput[]) => {
    const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(events) });
    expect(res.status).toBe(202);
  };
  const apiGet = async <T>(path: string, key: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const shot = (name: string, fullPage = false) => page.screenshot({ path: join(docs, `console-${name}.png`), fullPage });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set HELIOS_CHROMIUM)`);
    const dir = mkdtempSync(join(tmpdir(), 'helios-console-'));
    const config = resolveConfig({
      dataDir: dir,
      gateway: {
        host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1,
        auth: { enabled: true, keys: [{ key: KEY_A, tenant: 'alpha' }, { key: KEY_B, tenant: 'bravo' }] },
        readApi: { tailPollMs: 200, tailDelayMs: 300 },
      },
      plugins: { detectors: [{ use: '@helios/detector-isolation-forest' }], reporters: [{ use: '@helios/reporter-template' }] },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger() });
    base = `http://127.0.0.1:${app.port}`;

    // Tenant alpha: 200 minutes of three services, with an error burst in checkout at minutes 160-172.
    const random = seededRandom(23);
    const minutes = 200;
    const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
    burst = { from: start + 160 * 60_000, to: start + 172 * 60_000 };
    for (let m = 0; m < minutes; m += 10) {
      const batch: EventInput[] = [];
      for (let k = m; k < m + 10; k++) {
        for (const profile of DEMO_SERVICES) batch.push(...minuteOfTraffic(profile, start + k * 60_000, random, profile.service === 'checkout' && k >= 160 && k < 172 ? 'error-burst' : undefined));
        // checkout's calls to its inventory dependency: a dependency series of its own on the Services page.
        for (let c = 0; c < 4; c++) {
          batch.push({ timestamp: start + k * 60_000 + c * 15_000, service: 'checkout', kind: 'span', level: 'INFO', message: 'GET inventory', endpoint: 'GET /stock', latency_ms: 8 + c, status_code: 200, attributes: { 'span.kind': 'client', 'peer.name': 'inventory' } });
        }
      }
      await send(KEY_A, batch);
    }
    const now = Date.now();
    await send(KEY_A, [
      { timestamp: now - 5_000, service: 'checkout', level: 'ERROR', message: 'needle-alpha card declined by issuer', endpoint: '/api/payments', error_code: 'CARD_DECLINED', trace_id: TRACE_A, status_code: 402, latency_ms: 31 },
      { timestamp: now - 4_000, service: 'catalog', level: 'INFO', message: 'needle-alpha price lookup', endpoint: '/api/products/:id', trace_id: TRACE_A, status_code: 200, latency_ms: 12 },
    ]);
    // Tenant bravo: a service of its own, one named like alpha's, and a needle of its own.
    await send(KEY_B, [
      { timestamp: now - 5_000, service: 'bravo-secret-service', level: 'ERROR', message: 'needle-bravo leaked?', trace_id: TRACE_B },
      { timestamp: now - 4_000, service: 'checkout', level: 'WARN', message: 'needle-bravo in a service named like alpha\'s', trace_id: TRACE_B },
    ]);
    await app.flushDetection();
    await app.settle();
    await app.store.maintain();

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) foreignRequests.push(r.url());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) pageErrors.push(m.text());
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('asks for the API key, refuses a wrong one, and shows the key\'s services with sparklines', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('API key').fill('not-a-valid-key-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.locator('#login-error').textContent()).toContain('not accepted');
    await page.getByLabel('API key').fill(KEY_A);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const table = page.locator('table.services');
    await table.waitFor();
    const names = await table.locator('.service-name').allTextContents();
    expect(names.sort()).toEqual(['accounts', 'catalog', 'checkout']);
    expect(await page.content()).not.toContain('bravo');
    // Each row has three sparklines drawn from the rollups.
    expect(await table.locator('svg.spark path').count()).toBe(9);
    expect(await page.evaluate(() => sessionStorage.getItem('helios.apiKey'))).toBe(KEY_A);
    // Each service's detection state, as the API gives it: checkout's requests and its inventory dependency.
    const api = await apiGet<{ items: ServiceSummary[] }>('/api/v1/services', KEY_A);
    const checkout = api.items.find((x) => x.service === 'checkout')!.detectorState!;
    expect(checkout.series.map((x) => x.series)).toEqual(expect.arrayContaining(['requests', 'dependency:inventory']));
    const row = table.locator('tr', { has: page.locator('.service-name', { hasText: 'checkout' }) });
    await expect(row.locator('.detection').getAttribute('data-state')).resolves.toBe(checkout.state);
    const requests = checkout.series.find((x) => x.kind === 'requests')!;
    expect(await row.locator('.detection .series-line').first().textContent()).toMatch(new RegExp(`requests: ${requests.state} · \\d+ windows · ${requests.state === 'active' ? 'threshold' : 'first verdict in'}`));
    expect(await row.locator('.detection .dependencies li').allTextContents()).toEqual([expect.stringMatching(/^→ inventory: (learning|active) · \d+ windows/)]);
    await shot('services');
  });

  it('is keyboard-navigable: Tab goes to the skip link then the nav links, Enter opens the incidents page and focuses its heading', async () => {
    await page.goto(`${base}/#/services`);
    await page.reload();
    await page.locator('table.services').waitFor();
    const focusedText = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.textContent?.trim() ?? '');
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await focusedText());
    }
    expect(order).toEqual(['Skip to content', 'Services', 'Incidents']);
    await page.keyboard.press('Enter');
    await poll(() => page.evaluate(() => location.hash)).toBe('#/incidents');
    await poll(() => page.evaluate(() => document.activeElement?.tagName + ':' + document.activeElement?.textContent)).toBe('H1:Incidents');
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Incidents');
  });

  it('lists the detected incident and shows its report, a chart of each driving feature with its baseline band, and the evidence', async () => {
    // The detector opened an incident for the checkout error burst (its id is the opening anomaly's); its report is written shortly after.
    const anomalies = await apiGet<{ items: Array<{ id: string; windowStart: number; windowEnd: number }> }>('/api/v1/anomalies?service=checkout&limit=500', KEY_A);
    const opening = anomalies.items.filter((a) => a.windowEnd > burst.from && a.windowStart < burst.to).sort((a, b) => a.windowStart - b.windowStart)[0];
    expect(opening, 'an anomaly in the checkout error burst').toBeDefined();
    let incidentId: string | undefined;
    for (let i = 0; i < 100 && incidentId === undefined; i++) {
      const list = await apiGet<{ items: Array<{ id: string; reportId?: string }> }>('/api/v1/incidents?service=checkout&limit=500', KEY_A);
      incidentId = list.items.find((x) => x.id === opening!.id && x.reportId !== undefined)?.id;
      if (incidentId === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    expect(incidentId, 'the burst\'s incident, with its report').toBeDefined();
    // Listed with the status the API has for it (the detector may have resolved it once the burst ended); the status filter keeps or drops it.
    const status = (await apiGet<{ status: string }>(`/api/v1/incidents/${incidentId}`, KEY_A)).status;
    await page.goto(`${base}/#/incidents`);
    const row = page.locator('table.incidents tbody tr', { has: page.locator(`a[href="#/incidents/${incidentId}"]`) });
    await row.waitFor();
    expect(await row.textContent()).toContain(status);
    expect(await row.textContent()).toContain('checkout');
    for (const filter of ['open', 'acknowledged', 'resolved']) {
      await page.getByRole('combobox', { name: 'Status' }).selectOption(filter);
      await page.getByRole('button', { name: 'Filter' }).click();
      await poll(() => page.evaluate(() => location.hash)).toContain(`status=${filter}`);
      await page.locator('text=No incidents match.').or(page.locator('table.incidents')).first().waitFor();
      expect(await page.locator(`a[href="#/incidents/${incidentId}"]`).count(), filter).toBe(filter === status ? 1 : 0);
    }

    await page.goto(`${base}/#/incidents/${incidentId}`);
    await page.locator('img.report-chart').first().waitFor();
    expect(await page.locator('h1').textContent()).toContain('checkout');
    // The page shows the report's stored charts (one per driving feature, as the API serves them), and each renders as an image.
    const { reportId } = await apiGet<{ reportId: string }>(`/api/v1/incidents/${incidentId}`, KEY_A);
    const stored = (await apiGet<{ charts?: Array<{ feature: string; title: string; svg: string }> }>(`/api/v1/reports/${reportId}`, KEY_A)).charts ?? [];
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThanOrEqual(4);
    expect(stored.every((c) => c.svg.includes('class="baseline-band"') && c.svg.includes('class="anomalous-window"'))).toBe(true);
    const images = page.locator('section:has(#h-features) figure.feature img.report-chart');
    await poll(() => images.evaluateAll((els) => els.map((e) => { const img = e as HTMLImageElement; return img.complete && img.naturalWidth > 0; }))).toEqual(stored.map(() => true));
    const shown = await images.evaluateAll((els) => els.map((e) => ({ alt: e.getAttribute('alt'), svg: decodeURIComponent((e.getAttribute('src') ?? '').replace(/^data:image\/svg\+xml;charset=utf-8,/, '')), width: (e as HTMLImageElement).getBoundingClientRect().width })));
    expect(shown.map((i) => ({ alt: i.alt, svg: i.svg }))).toEqual(stored.map((c) => ({ alt: c.title, svg: c.svg })));
    expect(shown.every((i) => i.width > 100)).toBe(true);
    expect(await page.locator('svg.band-chart').count()).toBe(0);
    expect(await page.locator('section.report').textContent()).toContain('Executive summary');
    const evidence = await page.locator('section', { has: page.locator('#h-evidence') }).textContent();
    expect(evidence).toContain('DB_TIMEOUT');
    expect(evidence).toContain('/api/payments');
    await shot('incident', true);

    // An example trace links to the trace's events.
    const traceLink = page.locator('ul.traces a').first();
    const traceHref = await traceLink.getAttribute('href');
    expect(traceHref).toMatch(/^#\/traces\/[0-9a-f]{32}$/);

    await page.getByRole('button', { name: /thumbs up/ }).click();
    await poll(async () => (await apiGet<{ feedback?: { rating: string } }>(`/api/v1/incidents/${incidentId}`, KEY_A)).feedback?.rating).toBe('up');
    await poll(() => page.getByRole('button', { name: /thumbs up/ }).getAttribute('aria-pressed')).toBe('true');
    // The page is drawn again with the outcome announced, and the focus stays on the button used.
    expect(await page.locator('.action-status').textContent()).toBe('Thanks: feedback stored.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('thumbs-up');
    // Tenant bravo's key does not see alpha's incident.
    expect((await fetch(`${base}/api/v1/incidents/${incidentId}`, { headers: { authorization: `Bearer ${KEY_B}` } })).status).toBe(404);
  });

  it('acknowledges and resolves an open incident from its page', async () => {
    // An incident opened directly in the store (the burst's may already be resolved by the detector).
    const at = Date.now() - 60_000;
    const anomaly: Anomaly = {
      id: newEventId(), tenant: 'alpha', service: 'accounts', windowStart: at - 300_000, windowEnd: at, detectedAt: at, detector: 'console-test', severity: 'medium', score: 2, threshold: 1,
      features: { total_events: 400, error_rate: 0.2, avg_latency: 60, p95_latency: 90, p99_latency: 120, latency_stddev: 10, unique_endpoints: 2 },
      explanation: [{ feature: 'error_rate', value: 0.2, baseline: 0.01, contribution: 0.9, direction: 'up' }, { feature: 'p95_latency', value: 90, baseline: 85, contribution: 0.1, direction: 'up' }],
      modelVersion: 'test',
    };
    await app.store.insertAnomalies([anomaly]);
    await app.store.openIncident(anomaly, { at });
    await page.goto(`${base}/#/incidents/${anomaly.id}`);
    // No report yet, so no charts: the page says so instead of drawing its own.
    await page.locator('#h-features').waitFor();
    expect(await page.locator('section:has(#h-features)').textContent()).toContain('The charts come with the report, which is not written yet.');
    expect(await page.locator('img.report-chart').count()).toBe(0);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await poll(async () => (await apiGet<{ status: string }>(`/api/v1/incidents/${anomaly.id}`, KEY_A)).status).toBe('acknowledged');
    await poll(() => page.getByRole('button', { name: 'Acknowledge' }).isDisabled()).toBe(true);
    expect(await page.locator('.facts').textContent()).toContain('acknowledged by');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await poll(async () => (await apiGet<{ status: string; resolvedBy?: string }>(`/api/v1/incidents/${anomaly.id}`, KEY_A)).status).toBe('resolved');
    await poll(() => page.getByRole('button', { name: 'Resolve' }).isDisabled()).toBe(true);
  });

  it('finds an event by text and by trace id, and shows every event of the trace', async () => {
    await page.goto(`${base}/#/events`);
    await page.getByLabel('Text').fill('needle-alpha card');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.locator('#search-results tbody tr');
    await poll(() => results.count()).toBe(1);
    expect(await results.first().textContent()).toContain('CARD_DECLINED');
    await shot('events');

    // Tenant bravo's events are not found with alpha's key, by text or by trace.
    await page.getByLabel('Text').fill('needle-bravo');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => page.locator('#search-summary').textContent()).toMatch(/^0 events/);

    await page.goto(`${base}/#/events?trace_id=${TRACE_A}`);
    await poll(() => page.locator('#search-results tbody tr').count()).toBe(2);
    await page.locator(`a[aria-label="trace ${TRACE_A}"]`).first().click();
    await poll(() => page.evaluate(() => location.hash)).toBe(`#/traces/${TRACE_A}`);
    await poll(() => page.locator('#trace-events tbody tr').count()).toBe(2);
    expect(await page.locator('#trace-events').textContent()).toContain('needle-alpha price lookup');
    await shot('trace');
    await page.goto(`${base}/#/traces/${TRACE_B}`);
    await poll(() => page.locator('[role=alert]').textContent()).toContain('HLS_ERR_NOT_FOUND');
  });

  it('live tail shows new events of the key\'s tenant as they arrive, with the filters, and never another tenant\'s', async () => {
    await page.goto(`${base}/#/events?service=checkout`);
    await page.getByRole('button', { name: 'Start live tail' }).click();
    // Connected: the server has answered, so events from now on are the tail's.
    await poll(() => page.locator('#tail-status').textContent()).toContain('connected');
    const now = Date.now();
    await send(KEY_B, [{ timestamp: now, service: 'checkout', level: 'ERROR', message: 'tail-bravo must not show' }]);
    await send(KEY_A, [
      { timestamp: now, service: 'checkout', level: 'ERROR', message: 'tail-alpha first', error_code: 'TAIL_TEST' },
      { timestamp: now + 1, service: 'catalog', level: 'INFO', message: 'tail-alpha other service (filtered out)' },
      { timestamp: now + 2, service: 'checkout', level: 'INFO', message: 'tail-alpha second' },
    ]);
    const rows = page.locator('#tail-table tbody tr');
    await poll(() => rows.count()).toBe(2);
    const text = await page.locator('#tail-table').textContent();
    expect(text).toContain('tail-alpha first');
    expect(text).toContain('tail-alpha second');
    expect(text).not.toContain('tail-bravo');
    expect(text).not.toContain('filtered out');
    expect(await rows.first().textContent()).toContain('tail-alpha second'); // newest first
    await shot('tail');
    await page.getByRole('button', { name: 'Stop live tail' }).click();
    await poll(() => page.locator('#tail-status').textContent()).toContain('stopped');
  });

  it('tenant bravo, signed in, sees only its own services', async () => {
    await page.goto(`${base}/#/services`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate(() => sessionStorage.getItem('helios.apiKey'))).toBeNull();
    await page.getByLabel('API key').fill(KEY_B);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const table = page.locator('table.services');
    await table.waitFor();
    expect((await table.locator('.service-name').allTextContents()).sort()).toEqual(['bravo-secret-service', 'checkout']);
    expect(await page.content()).not.toMatch(/needle-alpha|catalog|accounts/);
  });

  it('made no request to another origin and raised no script or policy error', () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
