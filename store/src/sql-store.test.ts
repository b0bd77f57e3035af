import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEventInput, newEventId, type Anomaly, type IncidentReport } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from './index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const event = (fields: Record<string, unknown>) => normalizeEventInput({ service: 'checkout', ...fields }, { tenant: 'acme', now: T0 });

function anomaly(detectedAt: number): Anomaly {
  return {
    id: newEventId(), tenant: 'acme', service: 'checkout', windowStart: detectedAt - 300_000, windowEnd: detectedAt, detectedAt,
    detector: 'test', severity: 'high', score: 0.8, threshold: 0.6,
    features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
    explanation: [], modelVersion: 'v1',
  };
}

describe('SQL store on PGlite', () => {
  let store: Store;
  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
  });
  afterAll(() => store.close());

  it('applies migrations once', async () => {
    expect(await store.migrate()).toEqual([]);
  });

  it('stores a redelivered event once', async () => {
    const e = event({ message: 'hello' });
    expect(await store.insertEvents([e])).toBe(1);
    expect(await store.insertEvents([e, e])).toBe(0);
    expect(await store.countEvents({ service: 'checkout' })).toBe(1);
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

  it('saves a report and replaces it when the same anomaly is reported again', async () => {
    const base: IncidentReport = {
      id: newEventId(), anomalyId: newEventId(), tenant: 'acme', service: 'checkout', createdAt: T0, title: 't1', severity: 'high',
      composer: 'x', notes: [], markdown: '# t1', deliveries: [],
      sections: { executiveSummary: 's', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
    };
    await store.saveReport(base);
    await store.saveReport({ ...base, id: newEventId(), title: 't2' });
    const got = await store.getReport(base.id);
    expect(got?.title).toBe('t2');
    await store.setDeliveries(base.id, [{ reporter: 'file', status: 'delivered', location: '/tmp/x.md', at: T0 }]);
    expect((await store.getReport(base.id))?.deliveries[0]?.location).toBe('/tmp/x.md');
    expect(await store.getReport('not-a-uuid')).toBeUndefined();
  });
});
