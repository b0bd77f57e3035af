import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeliosError, MAX_EVENT_TIMESTAMP_MS, MAX_LATENCY_MS, MAX_SAMPLE_RATE, normalizeEventInput, newEventId, type Anomaly, type HeliosEvent, type IncidentReport } from '@helios/core';
import { Registry } from 'prom-client';
import { createEventWriter } from './event-writer.js';
import type { Store } from './store.js';

/** The behaviour every store must have, run against PGlite always and against PostgreSQL when one is configured. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const DAY = 86_400_000;
export const event = (fields: Record<string, unknown>) => normalizeEventInput({ service: 'checkout', ...fields }, { tenant: 'acme', now: T0 });

function anomaly(detectedAt: number): Anomaly {
  return {
    id: newEventId(), tenant: 'acme', service: 'checkout', windowStart: detectedAt - 300_000, windowEnd: detectedAt, detectedAt,
    detector: 'test', severity: 'high', score: 0.8, threshold: 0.6,
    features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
    explanation: [], modelVersion: 'v1',
  };
}

export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(name, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
      await store.migrate();
    });
    afterAll(() => store?.close());

    it('applies migrations once', async () => {
      expect(await store.migrate()).toEqual([]);
    });

    it('scans a service\u2019s events oldest first in pages, the fields the window aggregator reads intact', async () => {
      const events = Array.from({ length: 7 }, (_, i) => event({ service: 'scan', timestamp: T0 + (i % 4) * 1000, level: i === 2 ? 'ERROR' : 'INFO', endpoint: `/e${i}`, latency_ms: 10 + i, status_code: 200 }));
      await store.insertEvents([...events, event({ service: 'scan-other', timestamp: T0 })]);
      const seen = [];
      for await (const page of store.scanEvents({ service: 'scan', from: T0, to: T0 + 60_000, pageSize: 3 })) {
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...page);
      }
      expect(seen.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      expect(seen.map((e) => e.timestamp)).toEqual([...seen.map((e) => e.timestamp)].sort((a, b) => a - b));
      const error = seen.find((e) => e.level === 'ERROR')!;
      expect(error).toMatchObject({ service: 'scan', tenant: 'acme', endpoint: '/e2', latency_ms: 12, status_code: 200, timestamp: T0 + 2000 });
    });

    it('keeps detector state per (plugin, tenant, series): any bytes round-trip, and an older snapshot never replaces a newer one', async () => {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.record({ tenant: fc.constantFrom('a', 'b'), key: fc.constantFrom('a/s', 'b/s', 'a\u0000s', 'a\\0s', 'a\u0000s\u0000m{"k":"v"}'), at: fc.integer({ min: 0, max: 1000 }), bytes: fc.uint8Array({ maxLength: 64 }) }), { minLength: 1, maxLength: 8 }),
        async (writes) => {
          const plugin = `p-${Math.random().toString(36).slice(2)}`;
          // The reference model: per (tenant, key) the write with the greatest time, the later one on a tie.
          const expected = new Map<string, { at: number; bytes: Uint8Array; version: number }>();
          for (const [i, w] of writes.entries()) {
            await store.putDetectorStates(plugin, [{ tenant: w.tenant, seriesKey: w.key, version: i, updatedAt: T0 + w.at, state: w.bytes }]);
            const id = `${w.tenant}|${w.key}`;
            if ((expected.get(id)?.at ?? -1) <= w.at) expected.set(id, { at: w.at, bytes: w.bytes, version: i });
          }
          for (const [id, want] of expected) {
            const [tenant, key] = id.split('|') as [string, string];
            const got = await store.getDetectorState(plugin, tenant, key);
            expect(got).toEqual({ version: want.version, updatedAt: T0 + want.at, state: expect.anything() });
            expect([...got!.state]).toEqual([...want.bytes]);
          }
          expect(await store.getDetectorState(plugin, 'c', 'a/s')).toBeUndefined();
          expect(await store.getDetectorState(`${plugin}-other`, 'a', 'a/s')).toBeUndefined();
        }), { numRuns: 15 });
    });

    it('stores a redelivered event once', async () => {
      const e = event({ message: 'hello' });
      expect(await store.insertEvents([e])).toBe(1);
      expect(await store.insertEvents([e, e])).toBe(0);
      expect(await store.countEvents({ service: 'checkout' })).toBe(1);
    });

    it('stores a batch that repeats an event once, and keeps text with tabs, newlines and backslashes intact', async () => {
      const tricky = event({ service: 'tricky', message: 'a\tb\nc\\d\r\n"quoted" ünïcode ✓', endpoint: '/x\\y', attributes: { 'k\tey': 'v\nal' } });
      expect(await store.insertEvents([tricky, event({ service: 'tricky' }), tricky])).toBe(2);
      expect(await store.countEvents({ service: 'tricky' })).toBe(2);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'tricky', from: T0, to: T0 + 1 });
      expect(ctx.window.events).toBe(2);
      expect(ctx.slowestEndpoints.map((e) => e.endpoint)).toEqual(['/x\\y']);
    });

    it('stores strings holding NUL characters (PostgreSQL text and jsonb cannot) with U+FFFD in their place, instead of failing the batch forever', async () => {
      const nul = event({ service: 'nul', message: 'a\u0000b', endpoint: '/n\u0000', attributes: { 'k\u0000': 'v\u0000', literal: 'backslash-u: \\u0000' } });
      expect(await store.insertEvents([nul])).toBe(1);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'nul', from: T0 - 1000, to: T0 + 1000 });
      expect(ctx.slowestEndpoints.map((e) => e.endpoint)).toEqual(['/n\ufffd']);
      expect(await store.countEvents({ service: 'nul' })).toBe(1);
    });

    it('builds incident context: totals vs baseline, top errors, slowest endpoints, traces', async () => {
      const events = [];
      for (let i = 0; i < 30; i++) events.push(event({ timestamp: T0 - 600_000 + i * 1000, endpoint: '/pay', latency_ms: 20, service: 'ctx' }));
      for (let i = 0; i < 10; i++) {
        events.push(event({ timestamp: T0 + i * 1000, endpoint: '/pay', latency_ms: 900, level: 'ERROR', error_code: 'DB_TIMEOUT', message: 'db timeout', service: 'ctx', trace_id: 'ab'.repeat(16) }));
        events.push(event({ timestamp: T0 + i * 1000, endpoint: '/cart', latency_ms: 30, service: 'ctx' }));
      }
      await store.insertEvents(events);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'ctx', from: T0, to: T0 + 300_000 });
      expect(ctx.window).toMatchObject({ events: 20, errors: 10 });
      expect(ctx.baseline).toMatchObject({ events: 30, errors: 0 });
      expect(ctx.topErrors[0]).toMatchObject({ errorCode: 'DB_TIMEOUT', message: 'db timeout', events: 10 });
      expect(ctx.slowestEndpoints.map((e) => e.endpoint)).toEqual(['/pay', '/cart']);
      expect(ctx.exampleTraceIds).toEqual(['ab'.repeat(16)]);
      expect(ctx.tenants).toEqual([{ tenant: 'acme', events: 20, errors: 10 }]);
    });

    it('compares the window with the same time on previous days when asked', async () => {
      const events = [];
      for (const day of [1, 2, 3, 4]) {
        for (let i = 0; i < day; i++) events.push(event({ service: 'daily', timestamp: T0 - day * DAY + i * 1000, latency_ms: 10, level: day === 2 ? 'ERROR' : 'INFO' }));
      }
      events.push(event({ service: 'daily', timestamp: T0 - 60_000 })); // just before the window: only in the 'preceding' baseline
      events.push(event({ service: 'daily', timestamp: T0 + 1000 }));
      await store.insertEvents(events);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'daily', from: T0, to: T0 + 300_000, baseline: 'previous-days', baselineWindows: 3 });
      expect(ctx.window.events).toBe(1);
      expect(ctx.baseline).toMatchObject({ from: T0 - 3 * DAY, to: T0 + 300_000 - DAY, events: 1 + 2 + 3, errors: 2 });
      const preceding = await store.incidentContext({ tenant: 'acme', service: 'daily', from: T0, to: T0 + 300_000 });
      expect(preceding.baseline).toMatchObject({ from: T0 - 900_000, to: T0, events: 1 });
    });

    it('pages anomalies newest first with a cursor', async () => {
      const all = [1, 2, 3, 4, 5].map((i) => anomaly(T0 + i * 60_000));
      expect(await store.insertAnomalies(all)).toBe(5);
      expect(await store.insertAnomalies(all)).toBe(0);
      const first = await store.listAnomalies({ limit: 2 });
      expect(first.items.map((a) => a.detectedAt)).toEqual([T0 + 300_000, T0 + 240_000]);
      const second = await store.listAnomalies({ limit: 2, before: first.nextCursor });
      expect(second.items.map((a) => a.detectedAt)).toEqual([T0 + 180_000, T0 + 120_000]);
      const third = await store.listAnomalies({ limit: 2, before: second.nextCursor });
      expect(third.items).toHaveLength(1);
      expect(third.nextCursor).toBeUndefined();
    });

    it('keeps the metric series of an anomaly in a metric series, and none for a request-series one', async () => {
      const metric = { name: 'queue.depth', attributes: { queue: 'orders', region: 'eu' } };
      const inMetric = { ...anomaly(T0 + 3_600_000), service: 'metric-svc', metric, features: { points: 5, mean: 300, min: 290, max: 310, last: 305, change: 200 } };
      const inRequests = { ...anomaly(T0 + 3_660_000), service: 'metric-svc' };
      expect(await store.insertAnomalies([inMetric, inRequests])).toBe(2);
      const { items } = await store.listAnomalies({ service: 'metric-svc' });
      expect(items.map((a) => a.metric)).toEqual([undefined, metric]);
      expect(items[1]!.features).toEqual(inMetric.features);
    });

    it('saves a report and replaces it when the same anomaly is reported again', async () => {
      const base: IncidentReport = {
        id: newEventId(), anomalyId: newEventId(), tenant: 'acme', service: 'checkout', createdAt: T0, title: 't1', severity: 'high',
        composer: 'x', notes: [], markdown: '# t1', deliveries: [],
        sections: { executiveSummary: 's', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
      };
      expect(await store.saveReport(base)).toBe(base.id);
      expect(await store.saveReport({ ...base, id: newEventId(), title: 't2' })).toBe(base.id);
      const got = await store.getReport(base.id);
      expect(got?.title).toBe('t2');
      expect(got?.charts).toBeUndefined();
      // The report's charts are stored with it, byte for byte (the console and the API show the same SVG).
      const charts = [{ feature: 'error_rate', title: 'checkout: error rate, 11:00–12:10 UTC', svg: '<svg xmlns="http://www.w3.org/2000/svg"><title>a &amp; b “q”</title></svg>' }];
      await store.saveReport({ ...base, charts });
      expect((await store.getReport(base.id))?.charts).toEqual(charts);
      expect((await store.listReports({ limit: 5 })).items.find((r) => r.id === base.id)?.charts).toEqual(charts);
      await store.setDeliveries(base.id, [{ reporter: 'file', status: 'delivered', location: '/tmp/x.md', at: T0 }]);
      expect((await store.getReport(base.id))?.deliveries[0]?.location).toBe('/tmp/x.md');
      expect(await store.getReport('not-a-uuid')).toBeUndefined();
    });

    it('creates daily partitions around today, moving rows the default partition already held into them', async () => {
      // Events of T0's day were written above before any partition existed: they sit in the default partition.
      const before = await store.countEvents();
      const result = await store.maintain({ now: T0 });
      expect(result.layout).toBe('partitioned');
      // 7 days of retention behind (the oldest day partly), today, 3 ahead.
      expect(result.partitionsCreated).toEqual(
        [-7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3].map((d) => `helios_events_p${new Date(T0 + d * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`),
      );
      expect(await store.countEvents()).toBe(before);
      expect((await store.maintain({ now: T0 })).partitionsCreated).toEqual([]);
      // Still idempotent once the event lives in its day partition.
      const e = event({ service: 'partitioned', timestamp: T0 + 5 });
      expect(await store.insertEvents([e])).toBe(1);
      expect(await store.insertEvents([e])).toBe(0);
    });

    it('retention drops whole expired day partitions and expired rows of the default partition', async () => {
      await store.maintain({ now: T0 });
      const oldDay = event({ service: 'retention', timestamp: T0 - 6 * DAY });
      const ancient = event({ service: 'retention', timestamp: T0 - 60 * DAY }); // no partition: default
      const recent = event({ service: 'retention', timestamp: T0 });
      expect(await store.insertEvents([oldDay, ancient, recent])).toBe(3);
      const result = await store.maintain({ now: T0 + 3 * DAY });
      // Cutoff T0 - 4 days (12:00): the partitions of days -7, -6, -5 end before it; day -4 holds events after it.
      expect(result.partitionsDropped.sort()).toEqual(
        [-7, -6, -5].map((d) => `helios_events_p${new Date(T0 + d * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`),
      );
      expect(await store.countEvents({ service: 'retention' })).toBe(1);
    });

    it('counts what sampled events stand for (sample_rate) in incident context and rollups, and scans the field back', async () => {
      const minute = T0 + 7_200_000;
      // 1000 /fast requests sent as 40 events of rate 25, 300 /slow ones as 20 of rate 15, 3 unsampled errors.
      const events = [];
      for (let i = 0; i < 40; i++) events.push(event({ service: 'sampled', timestamp: minute + i * 100, endpoint: '/fast', latency_ms: 10, status_code: 200, sample_rate: 25 }));
      for (let i = 0; i < 20; i++) events.push(event({ service: 'sampled', timestamp: minute + i * 100, endpoint: '/slow', latency_ms: 100, status_code: 200, sample_rate: 15 }));
      for (let i = 0; i < 3; i++) events.push(event({ service: 'sampled', timestamp: minute + 5000 + i, endpoint: '/slow', latency_ms: 100, status_code: 503, level: 'ERROR', error_code: 'DB_TIMEOUT' }));
      await store.insertEvents(events);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'sampled', from: minute, to: minute + 60_000 });
      expect(ctx.window).toMatchObject({ events: 1303, errors: 3 });
      expect(ctx.window.avgLatencyMs).toBeCloseTo((1000 * 10 + 303 * 100) / 1303, 9);
      expect(ctx.topErrors).toEqual([expect.objectContaining({ errorCode: 'DB_TIMEOUT', events: 3 })]);
      expect(ctx.slowestEndpoints.map((e) => [e.endpoint, e.events, e.errors])).toEqual([['/slow', 303, 3], ['/fast', 1000, 0]]);
      expect(ctx.tenants).toEqual([{ tenant: 'acme', events: 1303, errors: 3 }]);
      expect(await store.countEvents({ service: 'sampled' })).toBe(63); // stored rows
      const maintained = await store.maintain({ now: T0 });
      const [row] = await store.rollups({ tenant: 'acme', service: 'sampled', from: minute, to: minute + 60_000 });
      // TimescaleDB's continuous aggregate (migration 4) is refreshed by its own policy; nothing is refreshed here.
      if (maintained.rollupsRefreshed === 0 && maintained.layout === 'hypertable') return;
      expect(row).toMatchObject({ events: 1303, errors: 3, levels: { INFO: 1300, ERROR: 3 } });
      expect(row!.latencyAvgMs).toBeCloseTo((1000 * 10 + 303 * 100) / 1303, 9);
      const scanned = [];
      for await (const page of store.scanEvents({ service: 'sampled', from: minute, to: minute + 60_000 })) scanned.push(...page);
      expect(scanned.map((e) => e.sample_rate).sort((a, b) => a - b)).toEqual([...Array(3).fill(1), ...Array(20).fill(15), ...Array(40).fill(25)]);
    });

    it('weighs latency percentiles by sample_rate: 1,000 fast requests kept as 40 events outweigh 20 slow unsampled errors', async () => {
      const minute = T0 + 10_800_000;
      const events = [];
      for (let i = 0; i < 40; i++) events.push(event({ service: 'weighted-p', timestamp: minute + i * 100, endpoint: '/fast', latency_ms: 10, status_code: 200, sample_rate: 25 }));
      for (let i = 0; i < 20; i++) events.push(event({ service: 'weighted-p', timestamp: minute + i * 100, endpoint: '/slow', latency_ms: 1000, status_code: 500, level: 'ERROR' }));
      // Interpolation between samples of unequal weight: [0 x3, 100] -> p95 at position 0.95 * 3 = 2.85 -> 85 (rows alone: 95).
      events.push(event({ service: 'weighted-interp', timestamp: minute, endpoint: '/a', latency_ms: 0, sample_rate: 3 }));
      events.push(event({ service: 'weighted-interp', timestamp: minute + 1, endpoint: '/a', latency_ms: 100 }));
      await store.insertEvents(events);

      const ctx = await store.incidentContext({ tenant: 'acme', service: 'weighted-p', from: minute, to: minute + 60_000 });
      // 1,020 requests, 1,000 of them 10 ms: p95 sits at position 968 of 1,019, a fast one. By rows (60 rows, 20 slow) it would be 1000.
      expect(ctx.window).toMatchObject({ events: 1020, errors: 20, p95LatencyMs: 10 });
      expect(ctx.slowestEndpoints.map((e) => [e.endpoint, e.p95LatencyMs])).toEqual([['/slow', 1000], ['/fast', 10]]);
      const interp = await store.incidentContext({ tenant: 'acme', service: 'weighted-interp', from: minute, to: minute + 60_000 });
      expect(interp.window.p95LatencyMs).toBeCloseTo(85, 9);

      const maintained = await store.maintain({ now: T0 });
      if (maintained.rollupsRefreshed === 0 && maintained.layout === 'hypertable') return; // TimescaleDB's policy refreshes its rollups
      const [row] = await store.rollups({ tenant: 'acme', service: 'weighted-p', from: minute, to: minute + 60_000 });
      expect(row).toMatchObject({ events: 1020, latencyP50Ms: 10, latencyP95Ms: 10, latencyP99Ms: 1000, latencyMaxMs: 1000 });
      const [interpRow] = await store.rollups({ tenant: 'acme', service: 'weighted-interp', from: minute, to: minute + 60_000 });
      expect(interpRow!.latencyP50Ms).toBe(0);
      expect(interpRow!.latencyP95Ms).toBeCloseTo(85, 9);
      expect(interpRow!.latencyP99Ms).toBeCloseTo(97, 9);
    });

    it('with every sample_rate 1, latency percentiles are exactly percentile_cont of the rows (ties, gaps and nulls included)', async () => {
      const minute = T0 + 14_400_000;
      // Deterministic scatter with repeated values, a few huge outliers and events without a latency.
      const latencies = Array.from({ length: 257 }, (_, i) => (i % 17 === 0 ? null : i % 31 === 0 ? 5000 + i : ((i * 7919) % 613) / 7));
      const events = latencies.map((latency_ms, i) => event({ service: 'unweighted-p', timestamp: minute + i * 100, endpoint: `/e${i % 3}`, ...(latency_ms === null ? {} : { latency_ms }) }));
      await store.insertEvents(events);
      const percentileCont = (values: number[], p: number) => {
        const sorted = [...values].sort((a, b) => a - b);
        const h = p * (sorted.length - 1);
        const lo = sorted[Math.floor(h)]!;
        const hi = sorted[Math.ceil(h)]!;
        return Math.floor(h) === Math.ceil(h) ? lo : lo + (h - Math.floor(h)) * (hi - lo);
      };
      const measured = latencies.filter((l): l is number => l !== null);
      const ctx = await store.incidentContext({ tenant: 'acme', service: 'unweighted-p', from: minute, to: minute + 60_000 });
      expect(ctx.window.p95LatencyMs).toBe(percentileCont(measured, 0.95));
      for (const endpoint of ctx.slowestEndpoints) {
        const own = latencies.filter((l, i): l is number => l !== null && `/e${i % 3}` === endpoint.endpoint);
        expect(endpoint.p95LatencyMs).toBe(percentileCont(own, 0.95));
      }
      expect(ctx.slowestEndpoints).toHaveLength(3);

      const maintained = await store.maintain({ now: T0 });
      if (maintained.rollupsRefreshed === 0 && maintained.layout === 'hypertable') return;
      const rows = await store.rollups({ tenant: 'acme', service: 'unweighted-p', from: minute, to: minute + 60_000 });
      expect(rows).toHaveLength(1);
      const inMinute = latencies.filter((l, i): l is number => l !== null && i * 100 < 60_000);
      expect([rows[0]!.latencyP50Ms, rows[0]!.latencyP95Ms, rows[0]!.latencyP99Ms]).toEqual([0.5, 0.95, 0.99].map((p) => percentileCont(inMinute, p)));
    });

    it('keeps per-minute rollups per service up to date: counts by level, latency percentiles, unique endpoints', async () => {
      const minute = T0 + 3_600_000;
      const events = [];
      for (let i = 1; i <= 100; i++) events.push(event({ service: 'rollup', timestamp: minute + i * 100, latency_ms: i, endpoint: `/e${i % 4}`, level: i <= 10 ? 'ERROR' : 'INFO' }));
      events.push(event({ service: 'rollup', timestamp: minute + 60_000, level: 'WARN', status_code: 503 }));
      events.push(event({ service: 'other', timestamp: minute }));
      await store.insertEvents(events);
      await store.insertEvents(events.slice(0, 50)); // redelivery changes nothing
      await store.maintain({ now: T0 });
      const rows = await store.rollups({ tenant: 'acme', service: 'rollup', from: minute, to: minute + 120_000 });
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({
        minute, tenant: 'acme', service: 'rollup', events: 100, errors: 10, uniqueEndpoints: 4,
        levels: { TRACE: 0, DEBUG: 0, INFO: 90, WARN: 0, ERROR: 10, CRITICAL: 0 },
        latencyAvgMs: 50.5, latencyP50Ms: 50.5, latencyMaxMs: 100,
      });
      expect(rows[0]!.latencyP95Ms).toBeCloseTo(95.05, 6);
      expect(rows[0]!.latencyP99Ms).toBeCloseTo(99.01, 6);
      expect(rows[1]).toMatchObject({ minute: minute + 60_000, events: 1, errors: 1, levels: { WARN: 1 }, latencyAvgMs: null, uniqueEndpoints: 0 });

      // A late event for an already rolled-up minute: the minute is recomputed at the next run.
      await store.insertEvents([event({ service: 'rollup', timestamp: minute + 30_000, latency_ms: 1000, level: 'CRITICAL', endpoint: '/late' })]);
      const refreshed = await store.maintain({ now: T0 });
      expect(refreshed.rollupsRefreshed).toBe(1);
      const [first] = await store.rollups({ tenant: 'acme', service: 'rollup', from: minute, to: minute + 60_000 });
      expect(first).toMatchObject({ events: 101, errors: 11, uniqueEndpoints: 5, latencyMaxMs: 1000, levels: { CRITICAL: 1 } });
      expect((await store.maintain({ now: T0 })).rollupsRefreshed).toBe(0);
    });
    it('keeps two tenants apart that name their services alike: context, rollups, latest event time, anomalies, reports', async () => {
      // Each run: tenants A and B both send `shared-<run>` in the same minutes; B's errors carry messages,
      // trace ids and endpoints of its own. Nothing of B may reach what is read for A, and the reverse.
      const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
      const side = fc.array(fc.record({ message: fc.string({ maxLength: 40 }), traceId: hex32, error: fc.boolean(), offset: fc.integer({ min: 0, max: 59_999 }), latency: fc.integer({ min: 1, max: 5000 }) }), { minLength: 1, maxLength: 12 });
      let run = 0;
      await fc.assert(fc.asyncProperty(side, side, async (aSide, bSide) => {
        const n = run++;
        const service = `shared-${n}`;
        const minute = T0 + 7 * 3_600_000 + n * 120_000;
        const tenants = { A: `tenant-a-${n}`, B: `tenant-b-${n}` } as const;
        const eventsOf = (who: 'A' | 'B', rows: typeof aSide) => rows.map((r, i) => normalizeEventInput({
          service, timestamp: minute + r.offset, level: r.error ? 'ERROR' : 'INFO', message: `${who}:${r.message}`, trace_id: `${who === 'A' ? 'a' : 'b'}${r.traceId.slice(1)}`,
          endpoint: `/${who}/${i % 3}`, latency_ms: r.latency,
        }, { tenant: tenants[who], now: T0 }));
        const byTenant = { A: eventsOf('A', aSide), B: eventsOf('B', bSide) };
        // B's events last in time too, so a latest-event query that mixed tenants would see B's.
        const bLate = normalizeEventInput({ service, timestamp: minute + 60_000 + 30_000, level: 'CRITICAL', message: 'B:late' }, { tenant: tenants.B, now: T0 });
        await store.insertEvents([...byTenant.A, ...byTenant.B, bLate]);
        await store.maintain({ now: T0 });
        const anomalies = { A: { ...anomaly(minute + 60_000), tenant: tenants.A, service }, B: { ...anomaly(minute + 60_000), tenant: tenants.B, service } };
        await store.insertAnomalies([anomalies.A, anomalies.B]);
        const reportOf = (who: 'A' | 'B'): IncidentReport => ({
          id: newEventId(), anomalyId: anomalies[who].id, tenant: tenants[who], service, createdAt: minute + 60_000, title: `${who} report`, severity: 'high',
          composer: 'x', notes: [], markdown: `# ${who}`, deliveries: [],
          sections: { executiveSummary: 's', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
        });
        const reports = { A: reportOf('A'), B: reportOf('B') };
        await store.saveReport(reports.A);
        await store.saveReport(reports.B);

        for (const [who, other] of [['A', 'B'], ['B', 'A']] as const) {
          const own = byTenant[who];
          const ownErrors = own.filter((e) => e.level === 'ERROR');
          const ctx = await store.incidentContext({ tenant: tenants[who], service, from: minute, to: minute + 60_000 });
          expect(ctx.window.events).toBe(own.length);
          expect(ctx.window.errors).toBe(ownErrors.length);
          expect(ctx.tenants.map((t) => t.tenant)).toEqual([tenants[who]]);
          for (const e of ctx.topErrors) expect(e.message.startsWith(`${who}:`)).toBe(true);
          expect(ctx.topErrors.reduce((n, e) => n + e.events, 0)).toBe(ownErrors.length);
          for (const t of ctx.exampleTraceIds) expect(t.startsWith(who === 'A' ? 'a' : 'b')).toBe(true);
          for (const e of ctx.slowestEndpoints) expect(e.endpoint.startsWith(`/${who}/`)).toBe(true);
          const text = JSON.stringify(ctx);
          expect(text).not.toContain(tenants[other]);

          const rollups = await store.rollups({ tenant: tenants[who], service, from: minute, to: minute + 120_000 });
          expect(rollups.every((r) => r.tenant === tenants[who])).toBe(true);
          expect(rollups.reduce((n, r) => n + r.events, 0)).toBe(own.length + (who === 'B' ? 1 : 0));

          const latest = await store.latestEventTime(tenants[who], service);
          expect(latest).toBe(who === 'B' ? bLate.timestamp : Math.max(...own.map((e) => e.timestamp)));

          expect((await store.listAnomalies({ tenant: tenants[who], service })).items.map((a) => a.id)).toEqual([anomalies[who].id]);
          expect((await store.listReports({ tenant: tenants[who], service })).items.map((r) => r.id)).toEqual([reports[who].id]);
          expect((await store.getReport(reports[who].id, { tenant: tenants[who] }))?.title).toBe(`${who} report`);
          expect(await store.getReport(reports[other].id, { tenant: tenants[who] })).toBeUndefined();
        }
      }), { numRuns: 8 });
    });

    it('stores the same event id of two tenants as two events, each tenant\'s redelivery once (idempotency key (tenant, id))', async () => {
      const id = newEventId();
      const a = normalizeEventInput({ id, service: 'same-id', timestamp: T0 }, { tenant: 'tenant-a', now: T0 });
      const b = normalizeEventInput({ id, service: 'same-id', timestamp: T0 }, { tenant: 'tenant-b', now: T0 });
      expect(await store.insertEvents([a, b])).toBe(2);
      expect(await store.insertEvents([a, b, a])).toBe(0);
      expect(await store.countEvents({ service: 'same-id', tenant: 'tenant-a' })).toBe(1);
      expect(await store.countEvents({ service: 'same-id', tenant: 'tenant-b' })).toBe(1);
      // Paging by (ts, id) alone would skip the second tenant's row at a page boundary.
      const scanned = [];
      for await (const page of store.scanEvents({ service: 'same-id', from: T0, to: T0 + 1, pageSize: 1 })) scanned.push(...page);
      expect(scanned.map((e) => e.tenant).sort()).toEqual(['tenant-a', 'tenant-b']);
    });

    it('stores every event that passes validation, whatever its values, and the rollups and context still compute (generated hostile input)', async () => {
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }),
        fc.constantFrom('\u0000', 'a\u0000\\u0000b', '\\', '\t\n\r', 'x'.repeat(4096)),
      );
      const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, 1, 1e19, 1e308, -1e308, 2 ** 63, 2 ** 31, MAX_SAMPLE_RATE, MAX_LATENCY_MS, MAX_EVENT_TIMESTAMP_MS, 5e-324));
      const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
      const input = fc.record(
        {
          service: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), fc.constant('\ud800')),
          message: text, endpoint: text, error_code: text, level: fc.constantFrom('INFO', 'error', 'warning'),
          timestamp: fc.oneof(
            number,
            fc.integer({ min: 0, max: MAX_EVENT_TIMESTAMP_MS }),
            fc.constantFrom(0, MAX_EVENT_TIMESTAMP_MS, '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '2026-01-01T12:00:00.123456789+14:00'),
          ),
          latency_ms: number, status_code: number, sample_rate: number,
          attributes: fc.dictionary(fc.oneof(text, fc.constant('k'.repeat(256))), scalar, { maxKeys: 6 }),
          resource: fc.dictionary(text, scalar, { maxKeys: 3 }),
          metadata: fc.record({ latency_ms: number, status_code: number, extra: scalar }, { requiredKeys: [] }),
        },
        { requiredKeys: ['service'] },
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 8 }), async (inputs) => {
          const tenant = `prop-${run++}`;
          const accepted: HeliosEvent[] = [];
          for (const value of inputs) {
            try {
              accepted.push(normalizeEventInput(value, { tenant, now: T0 }));
            } catch (err) {
              if (!(err instanceof HeliosError) || err.code !== 'HLS_ERR_EVENT_INVALID') throw err;
            }
          }
          expect(await store.insertEvents(accepted)).toBe(accepted.length);
          expect(await store.countEvents({ tenant })).toBe(accepted.length);
        }),
        { numRuns: 40 },
      );
      await store.maintain({ now: T0 });
      // The window and its one preceding baseline window cover every time validation accepts.
      const half = Math.floor(MAX_EVENT_TIMESTAMP_MS / 2);
      for (const service of ['x', '\ufffd', '0']) await store.incidentContext({ tenant: 'prop-0', service, from: half, to: 2 * half, baselineWindows: 1 });
    });

    it('isolates the rows the store refuses by splitting the batch: the rest is stored, each refused row dead-lettered and counted', async () => {
      const good = Array.from({ length: 37 }, (_, i) => event({ service: 'bisect', timestamp: T0 + i }));
      // Past validation (as a record written before it existed would be): no timestamptz for year 3e9.
      const bad = [{ ...event({ service: 'bisect' }), timestamp: 1e20 }, { ...event({ service: 'bisect' }), timestamp: -1e17 }];
      const batch = [...good.slice(0, 5), bad[0]!, ...good.slice(5, 30), bad[1]!, ...good.slice(30)];
      const metrics = new Registry();
      const published: unknown[] = [];
      const writer = createEventWriter({ store, batchSize: 1000, flushIntervalMs: 5, metrics, onDeadLetter: async (letter) => void published.push(letter.event.id) });
      const before = await store.countDeadLetters({ tenant: 'acme' });
      await writer.write(batch);
      await writer.close();
      expect(await store.countEvents({ service: 'bisect' })).toBe(good.length);
      expect(await store.countDeadLetters({ tenant: 'acme' })).toBe(before + 2);
      expect(published.sort()).toEqual(bad.map((e) => e.id).sort());
      const counted = (await metrics.getSingleMetric('helios_store_dead_letters_total')!.get()).values.reduce((n, v) => n + v.value, 0);
      expect(counted).toBe(2);
    });

    it('keeps any event as a dead letter, even one no events column could hold', async () => {
      const e = { ...event({ service: 'dead' }), message: 'nul \u0000 and lone \ud800', attributes: { ['\udc00\u0000']: '\ud800' }, timestamp: Number.MAX_VALUE };
      expect(await store.insertDeadLetters([{ event: e, reason: '22008', error: 'timestamp out of range \ud800\u0000' }])).toBe(1);
      expect(await store.countDeadLetters({ tenant: 'acme' })).toBeGreaterThanOrEqual(1);
    });
  });
}
