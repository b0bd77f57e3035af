import type { DependencyStats, DependencyTotals } from '@helios/core';
import { DEPENDENCY_PREDICATE, PEER_SQL, PEER_TYPE_SQL, REQUEST_PREDICATE } from './event-role-sql.js';
import type { SqlQueryable } from './sql-client.js';
import { eventCount, WEIGHTED_AVG_LATENCY, weightedLatencyPercentile } from './weighted-sql.js';

const ERROR_PREDICATE = `(level IN ('ERROR', 'CRITICAL') OR status_code >= 500)`;
/** Peers reported per incident, most changed first. */
const MAX_DEPENDENCIES = 10;
const TRACES_PER_DEPENDENCY = 3;

export interface DependencyQuery {
  tenant: string;
  service: string;
  from: number;
  to: number;
  baselineRanges: ReadonlyArray<readonly [number, number]>;
}

interface TotalsRow {
  peer: string;
  peer_type: string;
  calls: unknown;
  errors: unknown;
  avg_latency: unknown;
  p95_latency: unknown;
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const EMPTY: DependencyTotals = { calls: 0, errors: 0, errorRate: 0, avgLatencyMs: null, p95LatencyMs: null };

function totalsOf(r: TotalsRow | undefined): DependencyTotals {
  if (r === undefined) return EMPTY;
  const calls = Number(r.calls), errors = Number(r.errors);
  return { calls, errors, errorRate: calls > 0 ? errors / calls : 0, avgLatencyMs: numberOrNull(r.avg_latency), p95LatencyMs: numberOrNull(r.p95_latency) };
}

/** How far a dependency moved from its baseline: the rise of its error rate, or of its p95 latency (as a log ratio). */
export function dependencyChange(d: Pick<DependencyStats, 'window' | 'baseline'>): number {
  const errorRise = d.window.errorRate - d.baseline.errorRate;
  const w = d.window.p95LatencyMs, b = d.baseline.p95LatencyMs;
  const slower = w !== null && b !== null && b > 0 && w > 0 ? Math.log(w / b) / Math.log(10) : 0;
  return Math.max(errorRise, slower);
}

/**
 * A service's calls to each dependency (client/producer spans, grouped by peer; core/src/event/role.ts) in
 * [from, to) against the baseline ranges, with the most frequent failure, example traces, and the trace-aware
 * count: failed requests of the service whose trace holds a failed call to the peer. All of one tenant.
 */
export async function dependencyStats(client: SqlQueryable, q: DependencyQuery): Promise<DependencyStats[]> {
  const inWindow = `service = $1 AND tenant = $2 AND ts >= to_timestamp($3 / 1000.0) AND ts < to_timestamp($4 / 1000.0)`;
  const windowParams = [q.service, q.tenant, q.from, q.to];
  const totals = `SELECT ${PEER_SQL} AS peer, ${PEER_TYPE_SQL} AS peer_type, ${eventCount()} AS calls, ${eventCount(ERROR_PREDICATE)} AS errors,
                         ${WEIGHTED_AVG_LATENCY} AS avg_latency, ${weightedLatencyPercentile(0.95)} AS p95_latency FROM helios_events`;
  const baselineParams: unknown[] = [q.service, q.tenant];
  const baselineWhere = q.baselineRanges.map(([from, to]) => `(ts >= to_timestamp($${baselineParams.push(from)} / 1000.0) AND ts < to_timestamp($${baselineParams.push(to)} / 1000.0))`);
  const [inWindowRows, baselineRows, failures, traces, followed] = await Promise.all([
    client.query<TotalsRow>(`${totals} WHERE ${inWindow} AND ${DEPENDENCY_PREDICATE} GROUP BY 1, 2 ORDER BY errors DESC, calls DESC LIMIT 100`, windowParams),
    client.query<TotalsRow>(`${totals} WHERE service = $1 AND tenant = $2 AND (${baselineWhere.join(' OR ')}) AND ${DEPENDENCY_PREDICATE} GROUP BY 1, 2 LIMIT 1000`, baselineParams),
    client.query<{ peer: string; failure: string | null; n: unknown }>(
      `SELECT ${PEER_SQL} AS peer, COALESCE(status_code::text, error_code) AS failure, ${eventCount()} AS n FROM helios_events
        WHERE ${inWindow} AND ${DEPENDENCY_PREDICATE} AND ${ERROR_PREDICATE} GROUP BY 1, 2 ORDER BY n DESC LIMIT 500`, windowParams),
    client.query<{ peer: string; trace_id: string }>(
      `SELECT ${PEER_SQL} AS peer, trace_id, bool_or(${ERROR_PREDICATE}) AS failed, max(latency_ms) AS worst FROM helios_events
        WHERE ${inWindow} AND ${DEPENDENCY_PREDICATE} AND trace_id IS NOT NULL GROUP BY 1, 2
        ORDER BY failed DESC, worst DESC NULLS LAST LIMIT 1000`, windowParams),
    client.query<{ peer: string; n: unknown }>(
      `WITH failed_calls AS (SELECT DISTINCT trace_id, ${PEER_SQL} AS peer FROM helios_events
                               WHERE ${inWindow} AND ${DEPENDENCY_PREDICATE} AND ${ERROR_PREDICATE} AND trace_id IS NOT NULL),
            failed_requests AS (SELECT trace_id, sample_rate FROM helios_events
                                 WHERE ${inWindow} AND ${REQUEST_PREDICATE} AND ${ERROR_PREDICATE} AND trace_id IS NOT NULL)
       SELECT f.peer, round(sum(r.sample_rate))::bigint AS n FROM failed_requests r JOIN failed_calls f USING (trace_id) GROUP BY f.peer`, windowParams),
  ]);
  const baselineOf = new Map(baselineRows.rows.map((r) => [`${r.peer}\u0000${r.peer_type}`, r]));
  const topFailure = new Map<string, string | null>();
  for (const r of failures.rows) if (!topFailure.has(r.peer)) topFailure.set(r.peer, r.failure);
  const tracesOf = new Map<string, string[]>();
  for (const r of traces.rows) {
    const list = tracesOf.get(r.peer) ?? [];
    if (list.length < TRACES_PER_DEPENDENCY) tracesOf.set(r.peer, [...list, r.trace_id]);
  }
  const followedOf = new Map(followed.rows.map((r) => [r.peer, Number(r.n)]));
  const out: DependencyStats[] = inWindowRows.rows.map((r) => ({
    peer: r.peer,
    peerType: r.peer_type,
    window: totalsOf(r),
    baseline: totalsOf(baselineOf.get(`${r.peer}\u0000${r.peer_type}`)),
    topFailure: topFailure.get(r.peer) ?? null,
    exampleTraceIds: tracesOf.get(r.peer) ?? [],
    requestErrorsWithFailedCall: followedOf.get(r.peer) ?? 0,
  }));
  return out.sort((a, b) => dependencyChange(b) - dependencyChange(a) || b.window.calls - a.window.calls).slice(0, MAX_DEPENDENCIES);
}
