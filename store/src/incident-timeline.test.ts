import { describe, expect, it } from 'vitest';
import { normalizeEventInput, newEventId, type Anomaly } from '@helios/core';
import { createPgliteClient, createSqlStore } from './index.js';
import { T0 } from './store-contract.testkit.js';

const event = (tenant: string, fields: Record<string, unknown>) => normalizeEventInput({ service: 'checkout', ...fields }, { tenant, now: T0 });
const anomaly = (tenant: string, service: string, windowStart: number): Anomaly => ({
  id: newEventId(), tenant, service, windowStart, windowEnd: windowStart + 300_000, detectedAt: windowStart + 300_000, detector: 'test', severity: 'high', score: 0.8, threshold: 0.6,
  features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
  explanation: [{ feature: 'error_rate', value: 0.5, baseline: 0.01, contribution: 1, direction: 'up' }], modelVersion: 'v1',
});

describe('incident timeline (store)', () => {
  it('returns the service\'s minutes and the anomalous windows of the same tenant only', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    // Two tenants' `checkout` in the same minutes, and anomalies of both.
    await store.insertEvents([
      ...Array.from({ length: 10 }, (_, m) => event('acme', { timestamp: T0 + m * 60_000 + 5, level: m >= 7 ? 'ERROR' : 'INFO', latency_ms: 40 })),
      ...Array.from({ length: 10 }, (_, m) => event('globex', { timestamp: T0 + m * 60_000 + 7, latency_ms: 900 })),
      event('globex', { timestamp: T0 + 20 * 60_000 }),
    ]);
    await store.insertAnomalies([anomaly('acme', 'checkout', T0 + 5 * 60_000), anomaly('acme', 'payments', T0 + 6 * 60_000), anomaly('globex', 'search', T0 + 6 * 60_000), anomaly('acme', 'old', T0 - 3_600_000)]);
    const t = await store.incidentTimeline({ tenant: 'acme', service: 'checkout', from: T0, anomaliesFrom: T0, anomaliesTo: T0 + 600_000 });
    expect(t.minutes.map((m) => m.minute)).toEqual(Array.from({ length: 10 }, (_, m) => T0 + m * 60_000));
    expect(t.minutes.map((m) => m.errors)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(t.minutes.every((m) => m.events === 1 && m.p95LatencyMs === 40)).toBe(true);
    expect(t.anomalies.map((a) => a.service)).toEqual(['checkout', 'payments']);
    expect(t.anomalies[0]).toMatchObject({ windowStart: T0 + 5 * 60_000, windowEnd: T0 + 10 * 60_000, severity: 'high', feature: 'error_rate' });
    expect(t.asOf).toBe(T0 + 9 * 60_000 + 5);
    await store.close();
  });
});
