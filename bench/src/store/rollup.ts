/**
 * Rollup refresh cost on PostgreSQL: `store.maintain()` recomputing every queued minute, and the cost of
 * the sample_rate-weighted percentiles (helios_weighted_percentiles, migration 4) against the row-based
 * `percentile_cont` the rollups used before, measured in the same run on the same events.
 *
 * maintain() has only the weighted form, so the same-run A/B is one rollup SELECT (GROUP BY tenant,
 * service, minute: the rollup counts, mean and percentiles of every minute) built twice from the store's
 * own pieces, the percentile expression being the only difference. It shares the group sort, counts and
 * mean with maintain() but not its per-minute index scans and upsert, so its ratio bounds the percentile
 * part of maintain()'s cost, not maintain()'s total.
 */
import { createSqlStore, type SqlClient } from '@helios/store';
import { ROLLUP_COUNTS, ROLLUP_PERCENTILES, WEIGHTED_AVG_LATENCY, weightedLatencyPercentiles } from '@helios/store/rollup-sql';
import { median, type BenchResult } from '../result.js';

export interface RollupBenchOptions {
  /** Events generated server-side (one INSERT ... SELECT generate_series). */
  events: number;
  /** Spread over this many minutes ending at `now`. */
  minutes: number;
  /** tenant/service pairs (tenant-0..9 first, then svc-0, svc-1, ...). */
  keys: number;
  /** Timed rounds of each variant, after one untimed warm-up round. */
  rounds: number;
  now: number;
  log: (line: string) => void;
}

const PERCENTILE_CONT = ROLLUP_PERCENTILES.map((f) => `percentile_cont(${f}) WITHIN GROUP (ORDER BY latency_ms)`).join(', ');

/** The rollup of every minute in helios_events, with `percentiles` as its latency percentile column(s). */
const rollupSelect = (percentiles: string) =>
  `SELECT tenant, service, date_trunc('minute', ts) AS bucket, ${ROLLUP_COUNTS}, ${WEIGHTED_AVG_LATENCY} AS latency_avg,
          ${percentiles}, max(latency_ms) AS latency_max, count(DISTINCT endpoint) AS unique_endpoints
     FROM helios_events GROUP BY 1, 2, 3`;

const VARIANTS = {
  weighted: rollupSelect(`${weightedLatencyPercentiles(ROLLUP_PERCENTILES)} AS latency`),
  percentile_cont: rollupSelect(PERCENTILE_CONT),
} as const;

/**
 * Every 5th event sampled (sample_rate 1..46, as an SDK keeping 1 request in N reports), the rest 1;
 * latencies 0..999 ms, 2% errors. Each key's events are spread evenly over the minutes.
 */
async function fillSampledEvents(client: SqlClient, o: RollupBenchOptions): Promise<void> {
  const span = o.minutes * 60_000;
  // Minute-aligned, so the events fill exactly `minutes` minutes of each key.
  const end = Math.floor(o.now / 60_000) * 60_000;
  await client.query(
    `INSERT INTO helios_events (id, ts, tenant, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id, attributes, resource, sample_rate)
     SELECT gen_random_uuid(), to_timestamp(($1::bigint + g::bigint * $2::bigint / $3::bigint) / 1000.0),
            'tenant-' || (g % $4 % 10), 'svc-' || (g % $4 / 10),
            CASE WHEN g % 50 = 0 THEN 'ERROR' ELSE 'INFO' END, 'log', 'ok', '/api/e' || (g % 30), ((g * 7919) % 1000)::double precision,
            CASE WHEN g % 50 = 0 THEN 503 ELSE 200 END, NULL, NULL, NULL, '{}'::jsonb, '{}'::jsonb,
            CASE WHEN g % 5 = 0 THEN 1 + g % 50 ELSE 1 END
       FROM generate_series(0, $3::bigint - 1) AS g`,
    [end - span, span, o.events, o.keys],
  );
  await client.exec('ANALYZE helios_events');
}

/** `client` is an empty schema of its own; events/s of rollup work = events / seconds of the timed step. */
export async function rollupRefreshBench(client: SqlClient, o: RollupBenchOptions): Promise<BenchResult[]> {
  if (!(o.events >= 1 && o.minutes >= 1 && o.keys >= 1 && o.rounds >= 1)) {
    throw new Error(`store rollup bench: events, minutes, keys and rounds must be >= 1, got ${JSON.stringify({ events: o.events, minutes: o.minutes, keys: o.keys, rounds: o.rounds })}`);
  }
  const store = createSqlStore(client);
  await store.migrate();
  await store.maintain({ now: o.now });
  o.log(`store: rollup: filling ${o.events.toLocaleString('en')} events over ${o.minutes} minutes, ${o.keys} tenant/service keys`);
  await fillSampledEvents(client, o);

  const timeMaintain = async (): Promise<{ seconds: number; minutes: number }> => {
    await client.exec(`INSERT INTO helios_rollup_pending (tenant, service, bucket) SELECT DISTINCT tenant, service, date_trunc('minute', ts) FROM helios_events`);
    const started = performance.now();
    const { rollupsRefreshed } = await store.maintain({ now: o.now });
    return { seconds: (performance.now() - started) / 1000, minutes: rollupsRefreshed };
  };
  const timeSelect = async (sql: string): Promise<number> => {
    const started = performance.now();
    await client.query(sql);
    return (performance.now() - started) / 1000;
  };

  // Warm-up: caches, plans, and the rollup rows, so every timed maintain() updates the same rows.
  const { minutes: refreshed } = await timeMaintain();
  for (const sql of Object.values(VARIANTS)) await timeSelect(sql);

  const seconds: Record<'maintain' | keyof typeof VARIANTS, number[]> = { maintain: [], weighted: [], percentile_cont: [] };
  for (let round = 0; round < o.rounds; round++) {
    seconds.maintain.push((await timeMaintain()).seconds);
    // Alternate which variant goes first, so a drift in the machine's load does not favour one.
    const order = round % 2 === 0 ? (['percentile_cont', 'weighted'] as const) : (['weighted', 'percentile_cont'] as const);
    for (const variant of order) seconds[variant].push(await timeSelect(VARIANTS[variant]));
    o.log(`store: rollup round ${round + 1}/${o.rounds}: maintain ${seconds.maintain.at(-1)!.toFixed(2)} s, ` +
      `SELECT weighted ${seconds.weighted.at(-1)!.toFixed(2)} s, percentile_cont ${seconds.percentile_cont.at(-1)!.toFixed(2)} s`);
  }

  const size = `${o.events} events, ${refreshed} tenant/service minutes`;
  const rate = (s: number[]) => o.events / median(s);
  const baselineName = `store.postgres.rollup.select.percentile_cont (${size})`;
  const baseline = rate(seconds.percentile_cont);
  const weighted = rate(seconds.weighted);
  return [
    { name: `store.postgres.rollup.maintain (weighted, ${size})`, value: rate(seconds.maintain), unit: 'events/s' },
    { name: baselineName, value: baseline, unit: 'events/s' },
    { name: `store.postgres.rollup.select.weighted (${size})`, value: weighted, unit: 'events/s', baseline: baselineName, baselineValue: baseline, ratio: weighted / baseline },
  ];
}
