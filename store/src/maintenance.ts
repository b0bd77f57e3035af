import { ROLLUP_PREDICATE } from './event-role-sql.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import { eventCount, WEIGHTED_AVG_LATENCY, weightedLatencyPercentiles } from './weighted-sql.js';

const DAY_MS = 86_400_000;
// Serializes maintenance across Helios processes sharing a database (one partition creator, one rollup refresher).
const MAINTENANCE_LOCK_KEY = 4_815_162_343;
const PARTITION_NAME = /^helios_events_p(\d{4})(\d{2})(\d{2})$/;
const ROLLUP_KEYS_PER_ROUND = 10_000;

/** Rollup columns events .. errors and what they count (sample_rate-weighted); migration 4's continuous aggregate counts the same. */
const ROLLUP_COUNT_DEFINITIONS: ReadonlyArray<readonly [column: string, sql: string]> = [
  ['events', eventCount()],
  ...(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const).map((level) => [level.toLowerCase(), eventCount(`level = '${level}'`)] as const),
  ['errors', eventCount("level IN ('ERROR', 'CRITICAL') OR status_code >= 500")],
];
export const ROLLUP_COUNTS = ROLLUP_COUNT_DEFINITIONS.map(([column, sql]) => `${sql} AS ${column}`).join(', ');
/** The rollups' latency_p50, latency_p95, latency_p99. */
export const ROLLUP_PERCENTILES = [0.5, 0.95, 0.99] as const;

// One statement per round of at most ROLLUP_KEYS_PER_ROUND pending minutes (see refreshRollups).
const REFRESH_ROLLUPS = `WITH due AS (
     DELETE FROM helios_rollup_pending WHERE ctid IN (SELECT ctid FROM helios_rollup_pending LIMIT ${ROLLUP_KEYS_PER_ROUND})
     RETURNING tenant, service, bucket),
   keys AS (SELECT DISTINCT tenant, service, bucket FROM due),
   upserted AS (
     INSERT INTO helios_rollups_1m (bucket, tenant, service, events, trace, debug, info, warn, error, critical, errors,
                                    latency_avg, latency_p50, latency_p95, latency_p99, latency_max, unique_endpoints)
     SELECT k.bucket, k.tenant, k.service, ${ROLLUP_COUNT_DEFINITIONS.map(([column]) => `a.${column}`).join(', ')}, a.latency_avg,
            a.latency[1], a.latency[2], a.latency[3], a.latency_max, a.unique_endpoints
       FROM keys k CROSS JOIN LATERAL (
       SELECT ${ROLLUP_COUNTS}, ${WEIGHTED_AVG_LATENCY} AS latency_avg,
              ${weightedLatencyPercentiles(ROLLUP_PERCENTILES)} AS latency,
              max(latency_ms) AS latency_max, count(DISTINCT endpoint) AS unique_endpoints
         FROM helios_events e
        WHERE e.service = k.service AND e.tenant = k.tenant AND e.ts >= k.bucket AND e.ts < k.bucket + interval '1 minute' AND ${ROLLUP_PREDICATE}
     ) a
     ON CONFLICT (service, tenant, bucket) DO UPDATE SET
       events = EXCLUDED.events, trace = EXCLUDED.trace, debug = EXCLUDED.debug, info = EXCLUDED.info, warn = EXCLUDED.warn,
       error = EXCLUDED.error, critical = EXCLUDED.critical, errors = EXCLUDED.errors, latency_avg = EXCLUDED.latency_avg,
       latency_p50 = EXCLUDED.latency_p50, latency_p95 = EXCLUDED.latency_p95, latency_p99 = EXCLUDED.latency_p99,
       latency_max = EXCLUDED.latency_max, unique_endpoints = EXCLUDED.unique_endpoints
     RETURNING 1)
   SELECT (SELECT count(*) FROM due) AS n`;

export interface MaintenanceOptions {
  /** Raw events older than this many days are dropped (whole partitions, plus stragglers in the default partition). */
  retentionDays: number;
  /** Daily partitions created ahead of today. */
  partitionsAhead: number;
  /** Clock for the day arithmetic; tests move it. */
  now?: number;
}

export interface MaintenanceResult {
  layout: 'partitioned' | 'hypertable';
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Minutes (per tenant and service) whose rollup was recomputed; 0 when TimescaleDB maintains them. */
  rollupsRefreshed: number;
  /** Saved detector states of series not judged within the retention (helios_detector_state) deleted. */
  detectorStatesExpired: number;
}

const startOfUtcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const partitionName = (dayStart: number) => `helios_events_p${new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '')}`;
const iso = (ms: number) => new Date(ms).toISOString();

export async function eventsLayout(db: SqlQueryable): Promise<'partitioned' | 'hypertable'> {
  const { rows } = await db.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass('helios_events')`);
  return rows[0]?.relkind === 'p' ? 'partitioned' : 'hypertable';
}

/**
 * Create the daily partition for [dayStart, dayStart + 1 day). Rows for that day that already
 * landed in the default partition (late or early events) are moved into it in the same
 * transaction, since PostgreSQL refuses a new partition whose range the default partition holds rows of.
 */
async function createDayPartition(client: SqlClient, dayStart: number): Promise<boolean> {
  const name = partitionName(dayStart);
  const from = iso(dayStart);
  const to = iso(dayStart + DAY_MS);
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MAINTENANCE_LOCK_KEY]);
    const { rows } = await tx.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
    if (rows[0]?.present === true) return false;
    // Writers wait here for a moment, so no row for this day can reach the default partition between the
    // check and the create. The parent first, in the mode CREATE ... PARTITION OF needs anyway (LOCK TABLE
    // takes its partitions along): locking the default partition first deadlocked with a writer that held
    // the parent and waited for the default partition (40P01, seen as a redelivered batch on Kafka).
    await tx.exec('LOCK TABLE helios_events IN ACCESS EXCLUSIVE MODE');
    const stray = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM helios_events_default WHERE ts >= $1 AND ts < $2) AS any`, [from, to]);
    if (stray.rows[0]?.any !== true) {
      await tx.exec(`CREATE TABLE ${name} PARTITION OF helios_events FOR VALUES FROM ('${from}') TO ('${to}')`);
      return true;
    }
    await tx.exec(`
      ALTER TABLE helios_events DETACH PARTITION helios_events_default;
      CREATE TABLE ${name} PARTITION OF helios_events FOR VALUES FROM ('${from}') TO ('${to}');
      INSERT INTO ${name} SELECT * FROM helios_events_default WHERE ts >= '${from}' AND ts < '${to}';
      DELETE FROM helios_events_default WHERE ts >= '${from}' AND ts < '${to}';
      ALTER TABLE helios_events ATTACH PARTITION helios_events_default DEFAULT;
    `);
    return true;
  });
}

async function dropExpired(client: SqlClient, cutoff: number): Promise<string[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MAINTENANCE_LOCK_KEY]);
    const { rows } = await tx.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('helios_events')`,
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const m = PARTITION_NAME.exec(name);
      if (m === null) continue;
      const dayEnd = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY_MS;
      if (dayEnd > cutoff) continue;
      await tx.exec(`DROP TABLE ${name}`);
      dropped.push(name);
    }
    await tx.query('DELETE FROM helios_events_default WHERE ts < $1', [iso(cutoff)]);
    return dropped;
  });
}

/**
 * Recompute the per-minute rollups of the minutes writers marked in helios_rollup_pending.
 * Counts, mean and percentiles weigh each event by its sample_rate (weighted-sql.ts).
 * Percentiles cannot be merged, so a touched minute is recomputed from its raw events (one index
 * range scan on (service, ts) per minute). Only pending marks visible to this statement's snapshot
 * are deleted, and those were committed together with their events, so the recomputation sees
 * them; marks committed later stay for the next round. The advisory lock keeps an older snapshot
 * from overwriting a newer one.
 */
export async function refreshRollups(client: SqlClient): Promise<number> {
  let refreshed = 0;
  for (;;) {
    const n = await client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MAINTENANCE_LOCK_KEY]);
      const { rows } = await tx.query<{ n: string | number }>(
        REFRESH_ROLLUPS,
      );
      return Number(rows[0]?.n ?? 0);
    });
    if (n === 0) return refreshed;
    refreshed += n;
  }
}

/** Partitions ahead, retention, rollups: what the storage role runs every `maintenanceIntervalMs`. */
export async function maintain(client: SqlClient, options: MaintenanceOptions): Promise<MaintenanceResult> {
  const now = options.now ?? Date.now();
  const cutoff = now - options.retentionDays * DAY_MS;
  const layout = await eventsLayout(client);
  const result: MaintenanceResult = { layout, partitionsCreated: [], partitionsDropped: [], rollupsRefreshed: 0, detectorStatesExpired: 0 };
  if (layout === 'partitioned') {
    // From the oldest day still within retention (late events) to `partitionsAhead` days ahead.
    for (let day = startOfUtcDay(cutoff); day <= startOfUtcDay(now) + options.partitionsAhead * DAY_MS; day += DAY_MS) {
      if (await createDayPartition(client, day)) result.partitionsCreated.push(partitionName(day));
    }
    result.partitionsDropped = await dropExpired(client, cutoff);
  } else {
    const { rows } = await client.query<{ chunk: string }>(`SELECT drop_chunks('helios_events', older_than => $1::timestamptz) AS chunk`, [iso(cutoff)]);
    result.partitionsDropped = rows.map((r) => r.chunk);
  }
  const rollupKind = await client.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass('helios_rollups_1m')`);
  if (rollupKind.rows[0]?.relkind === 'r') {
    result.rollupsRefreshed = await refreshRollups(client);
  } else {
    // A continuous aggregate: TimescaleDB's policy refreshes it; the writers' marks are not needed.
    await client.query('DELETE FROM helios_rollup_pending');
  }
  // A series silent for the whole retention has no events left to judge it by: its saved state goes too,
  // so the table holds the series of the retention, not every series ever seen.
  // (Maintenance of a store not migrated to version 9 yet, as in the migration tests, has no such table.)
  const hasStateTable = await client.query<{ t: string | null }>(`SELECT to_regclass('helios_detector_state')::text AS t`);
  if (hasStateTable.rows[0]?.t !== null && hasStateTable.rows[0]?.t !== undefined) {
    const expired = await client.query<{ n: number }>('WITH gone AS (DELETE FROM helios_detector_state WHERE updated_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [iso(cutoff)]);
    result.detectorStatesExpired = Number(expired.rows[0]?.n ?? 0);
  }
  return result;
}
