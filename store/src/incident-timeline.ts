import type { AnomalyWindow, FeatureExplanation, IncidentTimeline, Severity } from '@helios/core';
import type { SqlQueryable } from './sql-client.js';
import type { TimelineQuery } from './store.js';
import { ERROR_PREDICATE, eventCount, WEIGHTED_AVG_LATENCY, weightedLatencyPercentile } from './weighted-sql.js';

const P95_LATENCY = weightedLatencyPercentile(0.95);

function millis(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

/**
 * The service's per-minute totals from stored events (fresh, unlike the rollups) and the tenant's anomalous
 * windows around an incident. Both queries are of `q.tenant` only: another tenant's service of the same
 * name, or its anomalies, never show in a report.
 */
export async function incidentTimeline(client: SqlQueryable, q: TimelineQuery): Promise<IncidentTimeline> {
  const maxMinutes = Math.max(1, Math.min(1440, Math.floor(q.maxMinutes ?? 360)));
  const [latest, anomalies] = await Promise.all([
    client.query<{ latest: unknown }>('SELECT max(ts) AS latest FROM helios_events WHERE service = $1 AND tenant = $2', [q.service, q.tenant]),
    client.query<Record<string, any>>(
      `SELECT service, window_start, window_end, severity, explanation->0->>'feature' AS feature FROM helios_anomalies
        WHERE tenant = $1 AND window_end > to_timestamp($2 / 1000.0) AND window_start < to_timestamp($3 / 1000.0)
        ORDER BY window_start, service LIMIT 500`, [q.tenant, q.anomaliesFrom, q.anomaliesTo]),
  ]);
  const asOf = latest.rows[0]?.latest === null || latest.rows[0]?.latest === undefined ? q.from : millis(latest.rows[0].latest);
  const from = Math.max(q.from, Math.floor(asOf / 60_000) * 60_000 - (maxMinutes - 1) * 60_000);
  const minutes = await client.query<Record<string, any>>(
    `SELECT date_trunc('minute', ts) AS minute, ${eventCount()} AS events, ${eventCount(ERROR_PREDICATE)} AS errors,
            ${WEIGHTED_AVG_LATENCY} AS avg_latency, ${P95_LATENCY} AS p95_latency
       FROM helios_events WHERE service = $1 AND tenant = $2 AND ts >= to_timestamp($3 / 1000.0) AND ts <= to_timestamp($4 / 1000.0)
      GROUP BY 1 ORDER BY 1`, [q.service, q.tenant, from, asOf]);
  return {
    minutes: minutes.rows.map((r) => ({
      minute: millis(r.minute), events: Number(r.events), errors: Number(r.errors),
      avgLatencyMs: r.avg_latency === null ? null : Number(r.avg_latency), p95LatencyMs: r.p95_latency === null ? null : Number(r.p95_latency),
    })),
    anomalies: anomalies.rows.map((r): AnomalyWindow => ({
      service: r.service, windowStart: millis(r.window_start), windowEnd: millis(r.window_end), severity: r.severity as Severity,
      feature: (r.feature ?? null) as FeatureExplanation['feature'] | null,
    })),
    asOf,
  };
}
