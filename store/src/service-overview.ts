import type { ServiceOverview } from '@helios/core';
import type { SqlQueryable } from './sql-client.js';

export type { ServiceOverview, ServicePoint } from '@helios/core';

function millis(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

/**
 * Every service with rollups in [from, to), per tenant (one tenant's when `tenant` is given), with the
 * anomalies detected in the same span. Rollups are as fresh as the last maintenance run.
 */
export async function serviceOverview(client: SqlQueryable, q: { tenant?: string; from: number; to: number }): Promise<ServiceOverview[]> {
  const params: unknown[] = [q.from, q.to];
  const tenantTerm = q.tenant === undefined ? '' : ` AND tenant = $${params.push(q.tenant)}`;
  const [rollups, anomalies] = await Promise.all([
    client.query<Record<string, any>>(
      `SELECT tenant, service, bucket, events, errors, latency_p95 FROM helios_rollups_1m
        WHERE bucket >= to_timestamp($1 / 1000.0) AND bucket < to_timestamp($2 / 1000.0)${tenantTerm} ORDER BY tenant, service, bucket`, params),
    client.query<Record<string, any>>(
      `SELECT tenant, service, count(*) AS n, max(detected_at) AS last FROM helios_anomalies
        WHERE detected_at >= to_timestamp($1 / 1000.0) AND detected_at < to_timestamp($2 / 1000.0)${tenantTerm} GROUP BY tenant, service`, params),
  ]);
  const key = (tenant: string, service: string) => JSON.stringify([tenant, service]);
  const anomaliesOf = new Map(anomalies.rows.map((r) => [key(r.tenant, r.service), { count: Number(r.n), lastDetectedAt: millis(r.last) }]));
  const byService = new Map<string, ServiceOverview>();
  for (const r of rollups.rows) {
    const k = key(r.tenant, r.service);
    let s = byService.get(k);
    if (s === undefined) {
      s = { tenant: r.tenant, service: r.service, eventsPerSecond: 0, errorRate: 0, latencyP95Ms: null, lastMinute: 0, series: [], anomalies: anomaliesOf.get(k) ?? { count: 0, lastDetectedAt: null } };
      byService.set(k, s);
    }
    s.series.push({ minute: millis(r.bucket), events: Number(r.events), errors: Number(r.errors), latencyP95Ms: r.latency_p95 === null ? null : Number(r.latency_p95) });
  }
  for (const s of byService.values()) {
    const last = s.series[s.series.length - 1]!;
    s.eventsPerSecond = last.events / 60;
    s.errorRate = last.events === 0 ? 0 : last.errors / last.events;
    s.latencyP95Ms = last.latencyP95Ms;
    s.lastMinute = last.minute;
  }
  return [...byService.values()];
}
