import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, normalizeEventInput, SERIES_STATUS_PLUGIN, SERIES_STATUS_VERSION, type Anomaly, type HeliosEvent, type ServiceDetectionStatus } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { startHarness, type Harness } from './harness.fixture.js';

/**
 * The events, traces and services read API over HTTP with auth on: every answer is of the key's
 * tenant only, and bad parameters are 400s naming the parameter. Both tenants use the same service
 * names, trace ids and messages, so a read that ignored the tenant would mix them.
 */
const NOW = Date.now();
const T0 = NOW - 30 * 60_000;
/** /metrics takes its own key while auth is on (metrics.auth auto); tenant keys do not open it. */
const METRICS_KEY = 'metrics-key-for-the-scrape';
const TENANTS = { A: 'tenant-alpha', B: 'tenant-bravo' } as const;
const KEYS = { A: 'key-of-alpha-0001', B: 'key-of-bravo-0001' } as const;
type Who = keyof typeof TENANTS;
const SERVICES = ['checkout', 'payments'];
const traceId = (k: number) => k.toString(16).padStart(32, '0');

function eventOf(who: Who, i: number, at = T0 + i * 1000): HeliosEvent {
  return normalizeEventInput({
    id: newEventId(), timestamp: at, service: SERVICES[i % 2]!, level: i % 5 === 0 ? 'ERROR' : 'INFO',
    message: i % 3 === 0 ? `upstream timeout ${i}` : `ok ${i}`, endpoint: `/e${i % 3}`, trace_id: traceId(i % 4), latency_ms: i,
  }, { tenant: TENANTS[who], now: at });
}

interface EventPage { items: HeliosEvent[]; next: string | null }

const STATUS: Record<Who, ServiceDetectionStatus> = {
  A: {
    tenant: TENANTS.A, service: 'checkout', updatedAt: T0, state: 'learning',
    series: [{ detector: 'd', kind: 'requests', series: 'requests', state: 'learning', windowsSeen: 7, threshold: null, firstVerdictInMs: 53 * 60_000 }],
  },
  B: {
    tenant: TENANTS.B, service: 'checkout', updatedAt: T0 + 1, state: 'active',
    series: [
      { detector: 'd', kind: 'requests', series: 'requests', state: 'active', windowsSeen: 90, threshold: 0.61, firstVerdictInMs: 0 },
      { detector: 'd', kind: 'dependency', series: 'dependency:inventory', peer: 'inventory', state: 'learning', windowsSeen: 2, threshold: null, firstVerdictInMs: 58 * 60_000 },
    ],
  },
};

describe('events, traces and services API with auth on', () => {
  let store: Store;
  let h: Harness;
  const events: Record<Who, HeliosEvent[]> = { A: [], B: [] };

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    for (let i = 0; i < 60; i++) for (const who of ['A', 'B'] as const) events[who].push(eventOf(who, i));
    await store.insertEvents([...events.A, ...events.B]);
    const anomaly: Anomaly = {
      id: newEventId(), tenant: TENANTS.A, service: 'checkout', windowStart: T0, windowEnd: T0 + 60_000, detectedAt: T0 + 60_000, detector: 'test', severity: 'high', score: 1, threshold: 0.5,
      features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 }, explanation: [], modelVersion: 'v1',
    };
    await store.insertAnomalies([anomaly]);
    // Detection states as a detect worker in another process saves them: alpha's checkout still learning,
    // bravo's active with a dependency series; same service names, so a read ignoring the tenant mixes them.
    for (const status of Object.values(STATUS)) {
      await store.putDetectorStates(SERIES_STATUS_PLUGIN, [{ tenant: status.tenant, seriesKey: status.service, version: SERIES_STATUS_VERSION, updatedAt: status.updatedAt, state: Buffer.from(JSON.stringify(status)) }]);
    }
    // A row of a future format is not misread: skipped.
    await store.putDetectorStates(SERIES_STATUS_PLUGIN, [{ tenant: TENANTS.A, seriesKey: 'payments', version: SERIES_STATUS_VERSION + 1, updatedAt: T0, state: Buffer.from('{"v2":true}') }]);
    await store.maintain();
    h = await startHarness('node', {
      auth: { enabled: true, keys: [{ key: KEYS.A, tenant: TENANTS.A }, { key: KEYS.B, tenant: TENANTS.B }] },
      readApi: { maxRangeHours: 24, maxTails: 4, tailPollMs: 100, tailDelayMs: 0, tailStallMs: 1000 },
    }, { store, metricsConfig: { keys: [METRICS_KEY] } });
  }, 60_000);
  afterAll(async () => {
    await h?.gateway.stop();
    await store?.close();
  });

  const get = (path: string, who: Who | undefined) => fetch(`${h.url}${path}`, { headers: who === undefined ? {} : { authorization: `Bearer ${KEYS[who]}` } });

  it('searches only the key\u2019s tenant, newest first, paging through exactly the matching events', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<Who>('A', 'B'), fc.integer({ min: 1, max: 25 }), fc.option(fc.constantFrom(...SERVICES), { nil: undefined }),
      fc.option(fc.constantFrom('ERROR', 'INFO,ERROR'), { nil: undefined }), fc.option(fc.constantFrom('TIMEOUT', 'ok 1'), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      async (who, limit, service, level, q, trace) => {
        const query = new URLSearchParams({ limit: String(limit), from: String(T0 - 1000), to: String(NOW) });
        if (service !== undefined) query.set('service', service);
        if (level !== undefined) query.set('level', level);
        if (q !== undefined) query.set('q', q);
        if (trace !== undefined) query.set('trace_id', traceId(trace));
        const expected = events[who].filter((e) => (service === undefined || e.service === service) && (level === undefined || level.split(',').includes(e.level))
          && (q === undefined || e.message.toLowerCase().includes(q.toLowerCase())) && (trace === undefined || e.trace_id === traceId(trace)))
          .sort((a, b) => b.timestamp - a.timestamp).map((e) => e.id);
        const got: HeliosEvent[] = [];
        let next: string | null = null;
        do {
          const res = await get(`/api/v1/events?${query}${next === null ? '' : `&cursor=${next}`}`, who);
          expect(res.status).toBe(200);
          const page = (await res.json()) as EventPage;
          got.push(...page.items);
          next = page.next;
        } while (next !== null);
        expect(got.map((e) => e.id)).toEqual(expected);
        expect(got.every((e) => e.tenant === TENANTS[who])).toBe(true);
      }), { numRuns: 25 });
  });

  it('defaults to the last hour and 100 events', async () => {
    const page = (await (await get('/api/v1/events', 'A')).json()) as EventPage & { from: number; to: number };
    expect(page.to - page.from).toBe(3_600_000);
    expect(page.items.map((e) => e.id)).toEqual([...events.A].reverse().map((e) => e.id));
  });

  it('answers 400 naming the parameter for unknown, repeated or bad ones', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/events?limit=0', 'limit'], ['/api/v1/events?limit=1001', 'limit'], ['/api/v1/events?limit=1&limit=2', 'limit'], ['/api/v1/events?level=LOUD', 'level'],
      ['/api/v1/events?from=yesterday', 'from'], ['/api/v1/events?from=30d', 'from'], ['/api/v1/events?from=1h&to=2h', 'from'], ['/api/v1/events?cursor=abc', 'cursor'],
      ['/api/v1/events?service=', 'service'], [`/api/v1/events?tenant=${TENANTS.B}`, 'tenant'], ['/api/v1/traces/xyz', 'traceId'], [`/api/v1/traces/${traceId(1)}?limit=-1`, 'limit'],
      ['/api/v1/services?window=1h', 'window'], [`/api/v1/services?tenant=${TENANTS.B}`, 'tenant'], ['/api/v1/services?tenant=', 'tenant'], ['/api/v1/services/checkout/series?from=nope', 'from'], ['/api/v1/anomalies?limit=abc', 'limit'], ['/api/v1/reports?sevrity=high', 'sevrity'],
      ['/api/v1/events/tail?levels=ERROR', 'levels'], ['/api/v1/openapi.json?x=1', 'x'],
    ];
    for (const [path, param] of cases) {
      const res = await get(path, 'A');
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; details?: string[] } };
      expect(body.error.code).toBe('HLS_ERR_QUERY_INVALID');
      expect(body.error.details).toEqual([param]);
      expect(body.error.message.startsWith(`${param}:`)).toBe(true);
    }
    // Any unknown parameter name, not just typos we thought of.
    await fc.assert(fc.asyncProperty(fc.stringMatching(/^[a-z_]{1,12}$/).filter((n) => !['from', 'to', 'service', 'level', 'endpoint', 'trace_id', 'q', 'tenant', 'limit', 'cursor'].includes(n)), async (name) => {
      const res = await get(`/api/v1/events?${name}=1`, 'A');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { details: string[] } }).error.details).toEqual([name]);
    }), { numRuns: 20 });
  });

  it('answers 401 to every read without a key', async () => {
    for (const path of ['/api/v1/events', '/api/v1/events/tail', `/api/v1/traces/${traceId(1)}`, '/api/v1/services', '/api/v1/services/checkout/series', '/api/v1/services/checkout/context']) {
      expect((await get(path, undefined)).status, path).toBe(401);
    }
    expect((await get('/api/v1/openapi.json', undefined)).status).toBe(200);
  });

  it('returns a trace\u2019s events of the key\u2019s tenant only; 404 for a trace it does not have', async () => {
    for (const who of ['A', 'B'] as const) {
      const res = await get(`/api/v1/traces/${traceId(2)}`, who);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: HeliosEvent[]; truncated: boolean };
      expect(body.items.map((e) => e.id).sort()).toEqual(events[who].filter((e) => e.trace_id === traceId(2)).map((e) => e.id).sort());
      expect(body.truncated).toBe(false);
    }
    const onlyB = eventOf('B', 0);
    onlyB.trace_id = traceId(99);
    await store.insertEvents([onlyB]);
    expect((await get(`/api/v1/traces/${traceId(99)}`, 'A')).status).toBe(404);
    expect((await get(`/api/v1/traces/${traceId(99)}`, 'B')).status).toBe(200);
  });

  it('lists the key\u2019s tenant\u2019s services with their series, and serves their rollups', async () => {
    for (const who of ['A', 'B'] as const) {
      const body = (await (await get('/api/v1/services', who)).json()) as { items: Array<{ tenant: string; service: string; series: Array<{ events: number }>; anomalies: { count: number }; detectorState: ServiceDetectionStatus | null }> };
      expect(body.items.map((s) => s.service).sort()).toEqual(SERVICES);
      expect(body.items.every((s) => s.tenant === TENANTS[who])).toBe(true);
      // Each tenant's own saved detection state; none for payments (alpha's row there is of an unknown version).
      expect(Object.fromEntries(body.items.map((s) => [s.service, s.detectorState]))).toEqual({ checkout: STATUS[who], payments: null });
      for (const s of body.items) {
        expect(s.series.reduce((n, p) => n + p.events, 0)).toBe(events[who].filter((e) => e.service === s.service).length);
        expect(s.anomalies.count).toBe(who === 'A' && s.service === 'checkout' ? 1 : 0);
      }
      const series = (await (await get('/api/v1/services/checkout/series?from=2h', who)).json()) as { tenant: string; items: Array<{ tenant: string; events: number }> };
      expect(series.tenant).toBe(TENANTS[who]);
      expect(series.items.reduce((n, m) => n + m.events, 0)).toBe(events[who].filter((e) => e.service === 'checkout').length);
    }
  });

  it('gives a span\u2019s evidence of the key\u2019s tenant only: totals, top errors, endpoints, example traces', async () => {
    const from = T0 + 10_000, to = T0 + 50_000;
    for (const who of ['A', 'B'] as const) {
      const res = await get(`/api/v1/services/checkout/context?from=${from}&to=${to}`, who);
      expect(res.status).toBe(200);
      const c = (await res.json()) as { window: { events: number; errors: number }; topErrors: Array<{ message: string; events: number }>; slowestEndpoints: Array<{ endpoint: string }>; tenants: Array<{ tenant: string }>; exampleTraceIds: string[] };
      const mine = events[who].filter((e) => e.service === 'checkout' && e.timestamp >= from && e.timestamp < to);
      expect(c.window.events).toBe(mine.length);
      expect(c.window.errors).toBe(mine.filter((e) => e.level === 'ERROR').length);
      expect(c.topErrors.reduce((n, e) => n + e.events, 0)).toBe(mine.filter((e) => e.level === 'ERROR').length);
      expect(c.slowestEndpoints.map((e) => e.endpoint).sort()).toEqual([...new Set(mine.map((e) => e.endpoint))].sort());
      expect(c.tenants.map((x) => x.tenant)).toEqual([TENANTS[who]]);
      for (const id of c.exampleTraceIds) expect(mine.some((e) => e.trace_id === id)).toBe(true);
    }
    expect((await get(`/api/v1/services/checkout/context?tenant=${TENANTS.B}`, 'A')).status).toBe(400);
    expect((await get('/api/v1/services/checkout/context?from=2h&to=3h', 'A')).status).toBe(400);
  });

  /** Reads server-sent events until `until` says stop, or the stream ends. */
  async function readSse(res: Response, until: (events: Array<{ id?: string; event: string; data: string }>) => boolean): Promise<Array<{ id?: string; event: string; data: string }>> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const out: Array<{ id?: string; event: string; data: string }> = [];
    let buffer = '';
    while (!until(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields['event'] !== undefined) out.push({ ...(fields['id'] === undefined ? {} : { id: fields['id'] }), event: fields['event'], data: fields['data'] ?? '' });
      }
    }
    await reader.cancel().catch(() => undefined);
    return out;
  }

  for (const transport of ['node', 'uws'] as const) {
    it(`tails new events of the key\u2019s tenant with the filters, and resumes from Last-Event-ID (${transport})`, async () => {
      const th = transport === 'node' ? h : await startHarness('uws', {
        auth: { enabled: true, keys: [{ key: KEYS.A, tenant: TENANTS.A }, { key: KEYS.B, tenant: TENANTS.B }] },
        readApi: { maxRangeHours: 24, maxTails: 4, tailPollMs: 100, tailDelayMs: 0, tailStallMs: 1000 },
      }, { store });
      try {
        const start = Date.now();
        const res = await fetch(`${th.url}/api/v1/events/tail?service=payments&from=${start}`, { headers: { authorization: `Bearer ${KEYS.A}` } });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const fresh = Array.from({ length: 8 }, (_, i) => [eventOf('A', i, start + i + 1), eventOf('B', i, start + i + 1)]).flat();
        await store.insertEvents(fresh);
        const want = fresh.filter((e) => e.tenant === TENANTS.A && e.service === 'payments');
        const got = await readSse(res, (xs) => xs.length >= want.length);
        expect(got.map((x) => (JSON.parse(x.data) as HeliosEvent).id)).toEqual(want.map((e) => e.id));
        // Resume after the second: the rest, and nothing of the other tenant.
        const resumed = await fetch(`${th.url}/api/v1/events/tail?service=payments`, { headers: { authorization: `Bearer ${KEYS.A}`, 'last-event-id': got[1]!.id! } });
        const rest = await readSse(resumed, (xs) => xs.length >= want.length - 2);
        expect(rest.map((x) => (JSON.parse(x.data) as HeliosEvent).id)).toEqual(want.slice(2).map((e) => e.id));
        const bad = await fetch(`${th.url}/api/v1/events/tail`, { headers: { authorization: `Bearer ${KEYS.A}`, 'last-event-id': 'garbage' } });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: { details: string[] } }).error.details).toEqual(['Last-Event-ID']);
      } finally {
        if (th !== h) await th.gateway.stop();
      }
    });
  }

  it('ends a tail whose client takes nothing with a final dropped event, and bounds the number of tails', async () => {
    const big = Array.from({ length: 1500 }, (_, i) => ({ ...eventOf('A', i, Date.now() - 5000 + i), message: `bulk ${i} ${'x'.repeat(16_000)}` }));
    await store.insertEvents(big);
    const slow = await fetch(`${h.url}/api/v1/events/tail?q=bulk&from=1h`, { headers: { authorization: `Bearer ${KEYS.A}` } });
    expect(slow.status).toBe(200);
    // Read nothing while the server fills the socket, then wait past tailStallMs.
    await new Promise((r) => setTimeout(r, 3000));
    const events = await readSse(slow, () => false);
    expect(events.length).toBeLessThan(big.length);
    expect(events[events.length - 1]!.event).toBe('dropped');
    expect(JSON.parse(events[events.length - 1]!.data)).toMatchObject({ resume: expect.any(String) });
    const metrics = await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } })).text();
    expect(metrics).toMatch(/helios_tail_dropped_total [1-9]/);

    await new Promise((r) => setTimeout(r, 300)); // earlier tests' tails see their clients' close
    const open = await Promise.all(Array.from({ length: 4 }, () => fetch(`${h.url}/api/v1/events/tail`, { headers: { authorization: `Bearer ${KEYS.B}` } })));
    expect(open.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const fifth = await fetch(`${h.url}/api/v1/events/tail`, { headers: { authorization: `Bearer ${KEYS.B}` } });
    expect(fifth.status).toBe(503);
    await Promise.all(open.map((r) => r.body!.cancel()));
  }, 30_000);
});
