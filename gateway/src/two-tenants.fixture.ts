import { newEventId, type Anomaly } from '@helios/core';

/**
 * Two tenants with keys, for API tests that show a key reads and writes its own tenant only: both tenants
 * get the same service names, interleaved in time, so a read ignoring the tenant would mix them.
 */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const TENANTS = { A: 'tenant-alpha', B: 'tenant-bravo' } as const;
export const KEYS = { A: 'key-of-alpha-0001', B: 'key-of-bravo-0001' } as const;
export type Who = keyof typeof TENANTS;

/** The i-th anomaly of a tenant's service, one minute apart. */
export function anomalyOf(who: Who, service: string, i: number): Anomaly {
  return {
    id: newEventId(), tenant: TENANTS[who], service, windowStart: T0 + i * 60_000 - 300_000, windowEnd: T0 + i * 60_000, detectedAt: T0 + i * 60_000,
    detector: 'test', severity: 'high', score: 0.9, threshold: 0.6,
    features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
    explanation: [], modelVersion: 'v1',
  };
}
