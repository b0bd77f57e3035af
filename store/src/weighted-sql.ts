import { HeliosError } from '@helios/core';

/**
 * SQL aggregates that count what events stand for, not rows: a sampled event carries `sample_rate`
 * (core/src/event/schema.ts; 1 = not sampled), so an SDK that kept 1 request in 40 still yields
 * exact request and error counts. Every query that counts events, requests or errors, or takes a
 * latency mean or percentile, uses these.
 */

/** Events (optionally those matching `predicate`) as a whole number; 0, not NULL, when none match. */
/** What counts as an error everywhere in the store: ERROR or CRITICAL, or a status code >= 500. */
export const ERROR_PREDICATE = `(level IN ('ERROR', 'CRITICAL') OR status_code >= 500)`;

export function eventCount(predicate?: string): string {
  const sum = predicate === undefined ? 'sum(sample_rate)' : `sum(sample_rate) FILTER (WHERE ${predicate})`;
  // Rates like 1/0.3 do not add up to an exact integer in floating point; the count they stand for does.
  return `round(coalesce(${sum}, 0))::bigint`;
}

/** Mean latency with each event weighted by what it stands for (equal to avg(latency_ms) without sampling). */
export const WEIGHTED_AVG_LATENCY = `(sum(latency_ms * sample_rate) / nullif(sum(sample_rate) FILTER (WHERE latency_ms IS NOT NULL), 0))`;

/**
 * Weighted percentile_cont, installed by migration 4 (a change here needs a new migration that
 * runs it again: CREATE OR REPLACE). Definition: the percentile_cont of the population the samples
 * stand for, each sample repeated `weight` times. With total weight W, fraction f sits at position
 * h = f * (W - 1) of that population (0-based, as percentile_cont counts); the sample covering
 * position x is the first whose cumulative weight exceeds x, and the result interpolates linearly
 * between the samples at floor(h) and ceil(h). So with every weight 1 this is exactly
 * percentile_cont (same positions, same arithmetic: bit-equal), with whole weights it is exactly
 * percentile_cont of the expanded population, and fractional weights (a rate like 1/0.3) place
 * positions on the same continuous cumulative-weight axis.
 *
 * `samples` is an n x 2 array of (latency, weight) sorted by latency, `total` the sum of the
 * weights (the caller's sum() aggregate costs less than a second loop here), `fractions` ascending,
 * so one pass over the samples answers all of them. PL/pgSQL because, for p50/p95/p99 of 200,000
 * rows in groups of 50 or 10,000 on PostgreSQL 15, it took ~90 ms where the same walk in SQL
 * (generate_subscripts + window sum) took 205-275 ms and window functions over the query's rows
 * (which also cannot share one GROUP BY with the other aggregates) ~150 ms; row-based percentile_cont
 * took ~45 ms (bench/RESULTS.md, issue 5).
 */
export const WEIGHTED_PERCENTILES_FUNCTION = `
  CREATE OR REPLACE FUNCTION helios_weighted_percentiles(samples double precision[], total double precision, fractions double precision[])
  RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $helios_wp$
  DECLARE
    n integer := array_length(samples, 1);
    i integer := 1;
    upto double precision := samples[1][2];  -- cumulative weight of samples 1..i
    j integer;
    upto_j double precision;
    result double precision[] := '{}';
    f double precision;
    h double precision;
    lo double precision;
  BEGIN
    FOREACH f IN ARRAY fractions LOOP
      h := greatest(f * (total - 1), 0);
      -- i: the sample at position floor(h), j: at ceil(h). Only i carries over to the next (greater or
      -- equal) fraction, whose floor may still lie before this ceil. "< n" guards against a total that
      -- rounding left a hair above the samples' own sum.
      WHILE upto <= floor(h) AND i < n LOOP i := i + 1; upto := upto + samples[i][2]; END LOOP;
      j := i;
      upto_j := upto;
      WHILE upto_j <= ceil(h) AND j < n LOOP j := j + 1; upto_j := upto_j + samples[j][2]; END LOOP;
      lo := samples[i][1];
      result := result || CASE WHEN h = floor(h) THEN lo ELSE lo + (h - floor(h)) * (samples[j][1] - lo) END;
    END LOOP;
    RETURN result;
  END
  $helios_wp$`;

/**
 * Weighted latency percentiles of the group as a double precision[] in the order of `fractions`
 * (ascending, each in [0, 1]); NULL when no event of the group has a latency. One sort of the group
 * (the array_agg) and one pass, however many fractions.
 */
export function weightedLatencyPercentiles(fractions: readonly number[]): string {
  if (fractions.length === 0 || fractions.some((f, i) => !Number.isFinite(f) || f < 0 || f > 1 || (i > 0 && f < fractions[i - 1]!))) {
    throw new HeliosError('HLS_ERR_INTERNAL', `weightedLatencyPercentiles: fractions must be ascending numbers in [0, 1], got ${JSON.stringify(fractions)}`);
  }
  return `helios_weighted_percentiles(array_agg(ARRAY[latency_ms, sample_rate] ORDER BY latency_ms) FILTER (WHERE latency_ms IS NOT NULL), ` +
    `sum(sample_rate) FILTER (WHERE latency_ms IS NOT NULL), '{${fractions.join(',')}}'::double precision[])`;
}

/** One weighted latency percentile of the group (see weightedLatencyPercentiles). */
export function weightedLatencyPercentile(fraction: number): string {
  return `(${weightedLatencyPercentiles([fraction])})[1]`;
}
