import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { WindowAggregator } from '@helios/detection';
import { createHeliosClient, type HeliosClient, type HeliosOptions } from '../src/index.js';
import { resolveConfig } from '../src/config.js';
import { recordRequest } from '../src/middleware/request-event.js';
import { withHelios } from '../src/middleware/http.js';
import { FakeGateway } from './fake-gateway.js';
import { RealHelios } from './real-helios.js';

/**
 * Request sampling with exact counts: per (route, method, status) and interval a bounded number of
 * request events leave the process, each with the sample_rate that makes their sum the true request
 * count; failed requests are always sent; a quiet route is sent as it always was.
 */

let g: FakeGateway;
const clients: HeliosClient[] = [];
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  g = await new FakeGateway().start();
});
afterAll(() => g.stop());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  g.requests.length = 0;
});

function client(options: HeliosOptions = {}): HeliosClient {
  // One interval for the whole test unless it says otherwise: flush() closes it.
  const c = createHeliosClient({ service: 'shop', endpoint: g.url, onDiagnostic: () => {}, requestSampling: { intervalMs: 600_000 }, ...options });
  clients.push(c);
  return c;
}

const rateOf = (e: Record<string, unknown>) => (e['sample_rate'] as number | undefined) ?? 1;
const sumRates = (events: Array<Record<string, unknown>>) => events.reduce((sum, e) => sum + rateOf(e), 0);
const byMessage = (message: string) => g.accepted.filter((e) => e['message'] === message);

describe('request sampling (default on)', () => {
  it('sends at most maxEventsPerKey events per route, method and status, whose sample_rates add up to the exact request count', async () => {
    const helios = client();
    for (let i = 0; i < 5000; i++) recordRequest(helios, 'GET', '/api/items/:id', 200, 0, 1 + (i % 10), undefined);
    for (let i = 0; i < 333; i++) recordRequest(helios, 'POST', '/api/items/:id', 201, 0, 5, undefined);
    for (let i = 0; i < 41; i++) recordRequest(helios, 'GET', '/api/items/:id', 404, 0, 2, undefined);
    expect(await helios.flush()).toBe(true);

    const gets = byMessage('GET /api/items/:id').filter((e) => e['status_code'] === 200);
    expect(gets).toHaveLength(40);
    expect(sumRates(gets)).toBeCloseTo(5000, 9);
    // The first 20 stand for themselves; the reservoir's 20 share the other 4980 equally.
    expect(gets.filter((e) => e['sample_rate'] === undefined)).toHaveLength(20);
    expect(gets.filter((e) => e['sample_rate'] === 4980 / 20)).toHaveLength(20);
    expect(sumRates(byMessage('POST /api/items/:id'))).toBeCloseTo(333, 9);
    expect(byMessage('POST /api/items/:id')).toHaveLength(40);
    const notFound = g.accepted.filter((e) => e['status_code'] === 404);
    expect(notFound).toHaveLength(40);
    expect(sumRates(notFound)).toBeCloseTo(41, 9);
    for (const e of g.accepted) expect(e).toMatchObject({ kind: 'span', level: 'INFO', endpoint: '/api/items/:id' });
    expect(helios.stats()).toMatchObject({ sent: 120, requestsAggregated: 5000 + 333 + 41 - 120 });
  });

  it('never samples failed requests: every 5xx and thrown error is its own event, without sample_rate', async () => {
    const helios = client();
    for (let i = 0; i < 500; i++) {
      recordRequest(helios, 'GET', '/pay', 200, 0, 3, undefined);
      if (i % 5 === 0) recordRequest(helios, 'GET', '/pay', 503, 0, 900, undefined);
      if (i % 10 === 0) recordRequest(helios, 'GET', '/pay', 200, 0, 900, Object.assign(new Error('x'), { code: 'DB_TIMEOUT' }));
    }
    expect(await helios.flush()).toBe(true);
    const errors = g.accepted.filter((e) => e['level'] === 'ERROR');
    expect(errors).toHaveLength(100 + 50);
    for (const e of errors) expect(e['sample_rate']).toBeUndefined();
    expect(errors.filter((e) => e['error_code'] === 'HTTP_503')).toHaveLength(100);
    expect(errors.filter((e) => e['error_code'] === 'DB_TIMEOUT')).toHaveLength(50);
    expect(sumRates(g.accepted.filter((e) => e['level'] === 'INFO'))).toBeCloseTo(500, 9);
  });

  it('below the budget sends every request as before: one event each, no sample_rate, the first half at once', async () => {
    const helios = client();
    for (let i = 0; i < 30; i++) recordRequest(helios, 'GET', '/quiet', 200, 0, i, undefined);
    expect(helios.stats().enqueued).toBe(20); // the rest wait for the interval to close (or flush)
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(30);
    expect(g.accepted.map((e) => e['latency_ms']).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const e of g.accepted) expect('sample_rate' in e).toBe(false);
  });

  it('times only the requests it sends: a request the reservoir skips never reads the clock', async () => {
    const helios = client({ requestSampling: { maxEventsPerKey: 4, intervalMs: 600_000 } });
    const now = vi.spyOn(performance, 'now');
    const start = performance.now() - 5; // every request "started" 5 ms ago and ends when it is recorded
    now.mockClear();
    try {
      for (let i = 0; i < 1000; i++) recordRequest(helios, 'GET', '/timed', 200, start, undefined, undefined);
      // 2 sent at once + the reservoir's replacements (expected 2 * ln(998 / 2) ≈ 12), not one per request.
      expect(now.mock.calls.length).toBeGreaterThanOrEqual(4);
      expect(now.mock.calls.length).toBeLessThan(100);
    } finally {
      now.mockRestore();
    }
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(4);
    expect(sumRates(g.accepted)).toBeCloseTo(1000, 9);
    for (const e of g.accepted) expect(e['latency_ms'] as number).toBeGreaterThanOrEqual(5);
  });

  it('closes each interval on its timer: what it held is sent, and counts restart', async () => {
    const helios = client({ requestSampling: { maxEventsPerKey: 4, intervalMs: 50 } });
    for (let i = 0; i < 100; i++) recordRequest(helios, 'GET', '/tick', 200, 0, 1, undefined);
    for (let i = 0; i < 100 && helios.stats().enqueued < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(helios.stats().enqueued).toBe(4);
    for (let i = 0; i < 10; i++) recordRequest(helios, 'GET', '/tick', 200, 0, 1, undefined);
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(8);
    expect(sumRates(g.accepted)).toBeCloseTo(110, 9);
  });

  it('kept events carry the trace and span ids of the request they were kept from', async () => {
    const helios = client({ requestSampling: { maxEventsPerKey: 6, intervalMs: 600_000 } });
    const tracer = trace.getTracer('test');
    const spans = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      tracer.startActiveSpan('GET /traced', (span) => {
        spans.set(span.spanContext().spanId, span.spanContext().traceId);
        recordRequest(helios, 'GET', '/traced', 200, 0, i, undefined);
        span.end();
      });
    }
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(6);
    for (const e of g.accepted) expect(spans.get(e['span_id'] as string)).toBe(e['trace_id']);
  });

  it('works through the node:http middleware end to end', async () => {
    const helios = client({ requestSampling: { maxEventsPerKey: 10, intervalMs: 600_000 } });
    const server = http.createServer(withHelios(helios, (req, res) => {
      res.statusCode = req.url === '/boom' ? 500 : 200;
      res.end('ok');
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 60; i++) await (await fetch(`${url}/ok`)).text();
      for (let i = 0; i < 3; i++) await (await fetch(`${url}/boom`)).text();
      for (let i = 0; i < 200 && helios.stats().enqueued + helios.stats().requestsAggregated < 55; i++) await new Promise((r) => setTimeout(r, 5));
      expect(await helios.flush()).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const ok = g.accepted.filter((e) => e['endpoint'] === '/ok');
    expect(ok).toHaveLength(10);
    expect(sumRates(ok)).toBeCloseTo(60, 9);
    expect(g.accepted.filter((e) => e['endpoint'] === '/boom')).toHaveLength(3);
  });
});

describe('request sampling off, and the sampleRate option', () => {
  it('requestSampling: false sends one event per request, as HELIOS_REQUEST_SAMPLING=off does', async () => {
    const helios = client({ requestSampling: false });
    for (let i = 0; i < 100; i++) recordRequest(helios, 'GET', '/all', 200, 0, 1, undefined);
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(100);
    for (const e of g.accepted) expect('sample_rate' in e).toBe(false);
    expect(resolveConfig({}, { HELIOS_REQUEST_SAMPLING: 'off' }).requestSampling).toBeUndefined();
    expect(resolveConfig({}, { HELIOS_REQUEST_SAMPLING: '0' }).requestSampling).toBeUndefined();
    expect(resolveConfig({}, { HELIOS_REQUEST_SAMPLING: '12' }).requestSampling).toEqual({ maxEventsPerKey: 12, intervalMs: 1000 });
    expect(resolveConfig({}, {}).requestSampling).toEqual({ maxEventsPerKey: 40, intervalMs: 1000 });
    expect(resolveConfig({ requestSampling: { intervalMs: 200 } }, { HELIOS_REQUEST_SAMPLING: 'off' }).requestSampling).toEqual({ maxEventsPerKey: 40, intervalMs: 200 });
    expect(() => resolveConfig({}, { HELIOS_REQUEST_SAMPLING: 'lots' })).toThrow(/'requestSampling.maxEventsPerKey' must be an integer >= 2, got "lots" \(from HELIOS_REQUEST_SAMPLING\)/);
    expect(() => resolveConfig({ requestSampling: { perKey: 3 } as never })).toThrow(/unknown option 'requestSampling.perKey'/);
  });

  it('sampleRate stamps sample_rate = 1/sampleRate on the events it keeps, so they still count every event; errors keep 1', async () => {
    const helios = client({ sampleRate: 0.25, requestSampling: false });
    for (let i = 0; i < 400; i++) helios.event({ message: 'routine' });
    for (let i = 0; i < 400; i++) recordRequest(helios, 'GET', '/r', 200, 0, 1, undefined);
    helios.logger.error('failed');
    recordRequest(helios, 'GET', '/r', 502, 0, 1, undefined);
    expect(await helios.flush()).toBe(true);
    const kept = g.accepted.filter((e) => e['level'] === 'INFO');
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) expect(e['sample_rate']).toBe(4);
    for (const e of g.accepted.filter((x) => x['level'] === 'ERROR')) expect(e['sample_rate']).toBeUndefined();
    expect(kept.length + helios.stats().sampledOut).toBe(800);
  });

  it('sampleRate and request sampling together: the reservoir carries what the kept requests stood for', async () => {
    const helios = client({ sampleRate: 0.5 });
    for (let i = 0; i < 2000; i++) recordRequest(helios, 'GET', '/both', 200, 0, 1, undefined);
    expect(await helios.flush()).toBe(true);
    expect(g.accepted).toHaveLength(40);
    const passed = 2000 - helios.stats().sampledOut;
    expect(sumRates(g.accepted)).toBeCloseTo(passed * 2, 6);
  });
});

describe('against a real Helios', () => {
  it('the store and detection windows count the true number of requests under sampling', async () => {
    const real = await RealHelios.create();
    try {
      const helios = createHeliosClient({ service: 'sampled', endpoint: real.url, onDiagnostic: () => {}, requestSampling: { maxEventsPerKey: 10, intervalMs: 600_000 } });
      const from = Date.now() - 1000;
      for (let i = 0; i < 3000; i++) recordRequest(helios, 'GET', '/api/orders/:id', 200, 0, 10 + (i % 5), undefined);
      for (let i = 0; i < 700; i++) recordRequest(helios, 'GET', '/api/cart', 200, 0, 3, undefined);
      for (let i = 0; i < 7; i++) recordRequest(helios, 'GET', '/api/orders/:id', 503, 0, 2000, undefined);
      expect(await helios.flush()).toBe(true);
      await helios.shutdown();
      const to = Date.now() + 1000;

      const ctx = await real.context('sampled', from, to);
      expect(ctx.window.events).toBe(3707);
      expect(ctx.window.errors).toBe(7);
      expect(ctx.slowestEndpoints.map((e) => [e.endpoint, e.events, e.errors]).sort()).toEqual([['/api/cart', 700, 0], ['/api/orders/:id', 3007, 7]]);

      const stored = await real.heliosEvents('sampled', from, to);
      expect(stored).toHaveLength(10 + 10 + 7);
      const windows = new WindowAggregator({ windowMs: 600_000, hopMs: 600_000, allowedLatenessMs: 0 });
      for (const e of stored) windows.add(e, Date.now());
      const [w] = windows.closeUpTo(Math.ceil(to / 600_000) * 600_000 + 600_000);
      expect(w!.features.total_events).toBeCloseTo(3707, 6);
      expect(w!.features.error_rate).toBeCloseTo(7 / 3707, 9);
    } finally {
      await real.close();
    }
  });
});
