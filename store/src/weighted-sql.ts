/**
 * SQL aggregates that count what events stand for, not rows: a sampled event carries `sample_rate`
 * (core/src/event/schema.ts; 1 = not sampled), so an SDK that kept 1 request in 40 still yields
 * exact request and error counts. Every query that counts events, requests or errors uses these.
 */

/** Events (optionally those matching `predicate`) as a whole number; 0, not NULL, when none match. */
export function eventCount(predicate?: string): string {
  const sum = predicate === undefined ? 'sum(sample_rate)' : `sum(sample_rate) FILTER (WHERE ${predicate})`;
  // Rates like 1/0.3 do not add up to an exact integer in floating point; the count they stand for does.
  return `round(coalesce(${sum}, 0))::bigint`;
}

/** Mean latency with each event weighted by what it stands for (equal to avg(latency_ms) without sampling). */
export const WEIGHTED_AVG_LATENCY = `(sum(latency_ms * sample_rate) / nullif(sum(sample_rate) FILTER (WHERE latency_ms IS NOT NULL), 0))`;
