import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics, resolveConfig, seededRandom, silentLogger, type Anomaly, type IncidentReport } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';

const MIN = 60_000;
const hex = (random: () => number, chars: number) => Array.from({ length: chars }, () => Math.floor(random() * 16).toString(16)).join('');
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } });
const nanos = (ms: number) => `${Math.round(ms * 1000)}000`;

interface Span { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: unknown[]; status?: { code: number; message?: string }; events?: unknown[] }
interface LogRecord { timeUnixNano: string; severityNumber: number; severityText: string; body: { stringValue: string }; traceId: string; spanId: string; attributes: unknown[] }

/** The spans and logs of one auto-instrumented request: SERVER span, HTTP CLIENT child, DB CLIENT child, one log. */
interface RequestShape {
  service: string;
  at: number;
  route: string;
  path: string;
  /** The HTTP dependency: its name, whether the call fails (503) and how long it takes. */
  peer: string;
  peerFails: boolean;
  peerMs: number;
  dbMs: number;
}

function request(random: () => number, r: RequestShape, spans: Span[], logs: LogRecord[]): string {
  const traceId = hex(random, 32);
  const server = hex(random, 16), http = hex(random, 16), db = hex(random, 16);
  const dbStart = r.at + 1;
  const httpStart = dbStart + r.dbMs + 1;
  const end = httpStart + r.peerMs + 2;
  const failed = r.peerFails;
  spans.push({
    traceId, spanId: server, name: `GET ${r.route}`, kind: 2, startTimeUnixNano: nanos(r.at), endTimeUnixNano: nanos(end),
    attributes: [str('http.request.method', 'GET'), str('http.route', r.route), str('url.path', r.path), int('http.response.status_code', failed ? 500 : 200)],
    ...(failed ? { status: { code: 2 }, events: [{ name: 'exception', timeUnixNano: nanos(end), attributes: [str('exception.type', 'UpstreamError'), str('exception.message', `${r.peer} answered 503`), str('exception.stacktrace', 'UpstreamError: inventory answered 503\n    at fetchStock (stock.js:12)\n    at handler (checkout.js:40)')] }] } : {}),
  });
  spans.push({
    traceId, spanId: db, parentSpanId: server, name: 'SELECT orders', kind: 3, startTimeUnixNano: nanos(dbStart), endTimeUnixNano: nanos(dbStart + r.dbMs),
    attributes: [str('db.system', 'postgresql'), str('db.namespace', 'orders'), str('db.operation.name', 'SELECT'), str('db.collection.name', 'orders'), str('server.address', 'db-1')],
  });
  spans.push({
    traceId, spanId: http, parentSpanId: server, name: 'GET', kind: 3, startTimeUnixNano: nanos(httpStart), endTimeUnixNano: nanos(httpStart + r.peerMs),
    attributes: [str('http.request.method', 'GET'), str('server.address', r.peer), str('url.full', `http://${r.peer}:8080/api/items/${Math.floor(random() * 1e6)}`), int('http.response.status_code', failed ? 503 : 200)],
    ...(failed ? { status: { code: 2 } } : {}),
  });
  logs.push({
    timeUnixNano: nanos(end), severityNumber: failed ? 17 : 9, severityText: failed ? 'ERROR' : 'INFO', body: { stringValue: failed ? 'stock lookup failed' : 'order placed' },
    traceId, spanId: server, attributes: [],
  });
  return traceId;
}

async function post(port: number, signal: 'traces' | 'logs', body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

/**
 * Auto-instrumentation-shaped traces end to end over OTLP/HTTP, with compressed history: a request is a
 * SERVER span with an HTTP and a DB CLIENT child and a log record. When the HTTP dependency (`inventory`)
 * fails, the calling service gets one incident whose report names the dependency with its numbers; the
 * neighbouring service, with a healthy dependency of its own, stays quiet; counts are of requests only.
 */
describe('trace-shaped telemetry through the pipeline', () => {
  let app: HeliosApp;
  const reports: IncidentReport[] = [];
  const anomalies: Anomaly[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-traces-e2e-'));
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      // Both detectors, vote any: the neighbour's rare errors (2 in ~150 requests against a zero median) are
      // judged by their count's likelihood, not against a zero spread (detection/src/low-count-errors.test.ts).
      plugins: { detectors: [{ use: '@helios/detector-isolation-forest' }, { use: '@helios/detector-robust-zscore' }], reporters: [{ use: '@helios/reporter-template' }] },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger(), onReport: (r) => reports.push(r) });
    app.bus.subscribe<Anomaly>(Topics.anomalies, 'test-observer', async (records) => void anomalies.push(...records.map((r) => r.value)));
  });
  afterAll(() => app?.stop());

  it('opens one incident for the caller of a failing dependency, names the dependency with its numbers, and keeps the neighbour quiet', async () => {
    const random = seededRandom(5);
    const minutes = 180;
    const incidentFrom = 160, incidentTo = 172;
    const start = Math.floor((Date.now() - (minutes + 2) * MIN) / MIN) * MIN;
    const services = [{ service: 'checkout', peer: 'inventory', route: '/api/checkout/:id' }, { service: 'catalog', peer: 'pricing', route: '/api/catalog/:sku' }];
    const failedTraces = new Set<string>();
    let checkoutRequestsInMinute100 = 0;
    for (let k = 0; k < minutes; k++) {
      const resourceSpans: unknown[] = [];
      const resourceLogs: unknown[] = [];
      for (const s of services) {
        const spans: Span[] = [];
        const logs: LogRecord[] = [];
        const inIncident = s.service === 'checkout' && k >= incidentFrom && k < incidentTo;
        const n = 25 + Math.floor(random() * 10);
        if (s.service === 'checkout' && k === 100) checkoutRequestsInMinute100 = n;
        for (let i = 0; i < n; i++) {
          const peerFails = inIncident ? random() < 0.7 : random() < 0.003;
          const traceId = request(random, {
            service: s.service, at: start + k * MIN + Math.floor((i * MIN) / n), route: s.route, path: s.route.replace(/:\w+/, String(1000 + i)),
            peer: s.peer, peerFails, peerMs: inIncident ? 1500 + random() * 500 : 12 + random() * 8, dbMs: 3 + random() * 3,
          }, spans, logs);
          if (inIncident && peerFails) failedTraces.add(traceId);
        }
        const resource = { attributes: [str('service.name', s.service)] };
        resourceSpans.push({ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http' }, spans }] });
        resourceLogs.push({ resource, scopeLogs: [{ scope: { name: 'app' }, logRecords: logs }] });
      }
      await post(app.port, 'traces', { resourceSpans });
      await post(app.port, 'logs', { resourceLogs });
    }
    await app.flushDetection();
    for (let i = 0; i < 100 && !reports.some((r) => r.service === 'checkout'); i++) await new Promise((r) => setTimeout(r, 100));
    await app.settle();

    // One incident, for checkout, opened within minutes of the failure; nothing for the neighbour or the peer.
    const incidentStart = start + incidentFrom * MIN;
    expect(anomalies.filter((a) => a.service !== 'checkout'), JSON.stringify(anomalies.map((a) => [a.service, a.stream, new Date(a.windowEnd).toISOString(), a.detector, a.explanation.slice(0, 2)]))).toEqual([]);
    const checkout = anomalies.filter((a) => a.service === 'checkout');
    expect(checkout, JSON.stringify(checkout.map((a) => [a.stream, new Date(a.windowEnd).toISOString()]))).toHaveLength(1);
    expect(checkout[0]!.windowEnd).toBeGreaterThan(incidentStart);
    expect(checkout[0]!.windowEnd - incidentStart).toBeLessThanOrEqual(5 * MIN);

    const report = reports.find((r) => r.anomalyId === checkout[0]!.id);
    expect(report, 'a report for the checkout incident').toBeDefined();
    const rca = report!.sections.rootCauseAnalysis;
    expect(rca).toMatch(/Calls to `inventory` \(HTTP\) failed \d+ % with 503 \(0 % before\) and took 1\.\d s p95 vs \d+ ms/);
    const failedShare = Number(/failed (\d+) % with 503/.exec(rca)![1]);
    // The share is of the anomaly's whole window, which opened within the incident's first minutes (the rest normal).
    expect(failedShare).toBeGreaterThanOrEqual(10);
    expect(rca).toContain("checkout's errors");
    expect(rca).toMatch(/\d+ of \d+ failed requests of `checkout` had a failed call to `inventory` in their trace/);
    const tracesNamed = [...rca.matchAll(/`([0-9a-f]{32})`/g)].map((m) => m[1]!);
    expect(tracesNamed.some((t) => failedTraces.has(t))).toBe(true);
    // Top errors carry the exception's message and the first lines of its stack.
    expect(rca).toContain('inventory answered 503');
    expect(rca).toContain('at fetchStock (stock.js:12)');
    // The DB calls did not move and are not blamed.
    expect(rca).not.toContain('Calls to `postgresql orders`');

    // Requests are the SERVER spans: a request with two CLIENT children and a log is one request, not four.
    const context = await app.store.incidentContext({ tenant: 'default', service: 'checkout', from: start + 100 * MIN, to: start + 101 * MIN });
    expect(context.window.events).toBe(checkoutRequestsInMinute100);
    const peers = Object.fromEntries((context.dependencies ?? []).map((d) => [d.peer, d.window.calls]));
    expect(peers).toEqual({ inventory: checkoutRequestsInMinute100, 'postgresql orders': checkoutRequestsInMinute100 });
    // Endpoints are templates: the HTTP dependency's raw item ids collapse to one endpoint.
    const endpoints = await app.store.searchEvents({ tenant: 'default', services: ['checkout'], from: start + 100 * MIN, to: start + 101 * MIN, limit: 500 });
    const clientEndpoints = new Set(endpoints.items.filter((e) => e.event.service === 'checkout' && e.event.attributes['span.kind'] === 'client').map((e) => e.event.endpoint));
    expect(clientEndpoints, JSON.stringify([...clientEndpoints])).toEqual(new Set(['inventory GET /api/items/:id', 'postgresql orders SELECT orders']));
  }, 240_000);
});
