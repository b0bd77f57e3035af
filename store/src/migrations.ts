import { MAX_LATENCY_MS, MAX_SAMPLE_RATE } from '@helios/core';
import { ERROR_LEVEL_PREDICATE, SEARCH_TEXT_EXPRESSION } from './event-search.js';
import { ROLLUP_PREDICATE } from './event-role-sql.js';
import { ROLLUP_COUNTS, ROLLUP_PERCENTILES } from './maintenance.js';
import type { SqlClient } from './sql-client.js';
import { WEIGHTED_AVG_LATENCY, WEIGHTED_PERCENTILES_FUNCTION, weightedLatencyPercentile } from './weighted-sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const EVENT_COLUMNS = `
  id uuid NOT NULL,
  ts timestamptz NOT NULL,
  tenant text NOT NULL,
  service text NOT NULL,
  level text NOT NULL,
  kind text NOT NULL,
  message text NOT NULL,
  endpoint text,
  latency_ms double precision,
  status_code integer,
  error_code text,
  trace_id text,
  span_id text,
  attributes jsonb NOT NULL,
  resource jsonb NOT NULL,
  PRIMARY KEY (id, ts)`;

/** Migration 1's continuous aggregate (TimescaleDB), counting rows; migration 4 replaces it with WEIGHTED_ROLLUP_SELECT. */
const ROLLUP_SELECT = `
  SELECT time_bucket(interval '1 minute', ts) AS bucket, tenant, service,
         count(*) AS events,
         count(*) FILTER (WHERE level = 'TRACE') AS trace, count(*) FILTER (WHERE level = 'DEBUG') AS debug,
         count(*) FILTER (WHERE level = 'INFO') AS info, count(*) FILTER (WHERE level = 'WARN') AS warn,
         count(*) FILTER (WHERE level = 'ERROR') AS error, count(*) FILTER (WHERE level = 'CRITICAL') AS critical,
         count(*) FILTER (WHERE level IN ('ERROR', 'CRITICAL') OR status_code >= 500) AS errors,
         avg(latency_ms) AS latency_avg,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS latency_p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency_p95,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS latency_p99,
         max(latency_ms) AS latency_max,
         count(DISTINCT endpoint) AS unique_endpoints
    FROM helios_events GROUP BY 1, 2, 3`;

/**
 * Migration 4's continuous aggregate: the rollup table's columns from the same sample_rate-weighted
 * aggregates refreshRollups (maintenance.ts) fills the table with. TimescaleDB 2.7+ accepts FILTER,
 * ORDER BY inside aggregates and immutable functions over aggregates in a continuous aggregate
 * (migration 1's FILTER and percentile_cont already needed 2.7); window functions and subqueries it
 * does not, which is why the weighted percentile is one function over an ordered array_agg. Called
 * once per percentile here (no subquery to share one call), so it walks the minute's samples three times.
 */
export const WEIGHTED_ROLLUP_SELECT = `
  SELECT time_bucket(interval '1 minute', ts) AS bucket, tenant, service, ${ROLLUP_COUNTS},
         ${WEIGHTED_AVG_LATENCY} AS latency_avg,
         ${ROLLUP_PERCENTILES.map((f) => `${weightedLatencyPercentile(f)} AS latency_p${Math.round(f * 100)}`).join(',\n         ')},
         max(latency_ms) AS latency_max,
         count(DISTINCT endpoint) AS unique_endpoints
    FROM helios_events GROUP BY 1, 2, 3`;

/**
 * Versioned, append-only once shipped: never edit a migration that has shipped, add a new one.
 * (Migration 1 was rewritten before the first release to make the time-partitioned layout the first one.)
 *
 * Events are partitioned by time so retention drops whole days instead of deleting rows:
 * - with TimescaleDB installed (and preloaded), a hypertable with daily chunks and the per-minute
 *   rollups as a continuous aggregate refreshed by a TimescaleDB policy;
 * - otherwise native declarative partitioning by range of `ts`: daily partitions created ahead by the
 *   maintenance job, a DEFAULT partition so no write ever fails for lack of one, and the rollups as a
 *   table the maintenance job brings up to date from `helios_rollup_pending` (minutes the writer touched).
 * The primary key (tenant, id, ts) (since migration 5; (id, ts) before) includes the partition key, which
 * both layouts require; a redelivered event (bus redelivery, a client retry carrying its timestamp, as the
 * SDK's do) comes with the same timestamp, so it still makes them unique, per tenant. A client retry with
 * an id but no timestamp is dated anew at ingestion and can be stored twice.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'time-partitioned events, rollups, anomalies, reports',
    sql: `
      DO $helios$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
          BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
          EXCEPTION WHEN others THEN
            RAISE NOTICE 'helios: timescaledb is available but CREATE EXTENSION failed (%); using declarative partitioning', SQLERRM;
          END;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
          CREATE TABLE helios_events (${EVENT_COLUMNS});
          PERFORM create_hypertable('helios_events', 'ts', chunk_time_interval => interval '1 day');
        ELSE
          CREATE TABLE helios_events (${EVENT_COLUMNS}) PARTITION BY RANGE (ts);
          CREATE TABLE helios_events_default PARTITION OF helios_events DEFAULT;
        END IF;
      END
      $helios$;
      CREATE INDEX helios_events_service_ts ON helios_events (service, ts DESC);
      CREATE INDEX helios_events_errors ON helios_events (service, ts DESC) WHERE level IN ('ERROR', 'CRITICAL') OR status_code >= 500;

      CREATE TABLE helios_rollup_pending (
        tenant text NOT NULL,
        service text NOT NULL,
        bucket timestamptz NOT NULL
      );

      DO $helios$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
          BEGIN
            EXECUTE $sql$CREATE MATERIALIZED VIEW helios_rollups_1m WITH (timescaledb.continuous) AS ${ROLLUP_SELECT} WITH NO DATA$sql$;
            PERFORM add_continuous_aggregate_policy('helios_rollups_1m', start_offset => interval '3 days', end_offset => interval '1 minute', schedule_interval => interval '1 minute');
            RETURN;
          EXCEPTION WHEN others THEN
            RAISE NOTICE 'helios: continuous aggregate not created (%); using a rollup table', SQLERRM;
          END;
        END IF;
        CREATE TABLE helios_rollups_1m (
          bucket timestamptz NOT NULL,
          tenant text NOT NULL,
          service text NOT NULL,
          events bigint NOT NULL,
          trace bigint NOT NULL, debug bigint NOT NULL, info bigint NOT NULL, warn bigint NOT NULL, error bigint NOT NULL, critical bigint NOT NULL,
          errors bigint NOT NULL,
          latency_avg double precision, latency_p50 double precision, latency_p95 double precision, latency_p99 double precision, latency_max double precision,
          unique_endpoints bigint NOT NULL,
          PRIMARY KEY (service, tenant, bucket)
        );
      END
      $helios$;

      CREATE TABLE helios_anomalies (
        id uuid PRIMARY KEY,
        tenant text NOT NULL,
        service text NOT NULL,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        detected_at timestamptz NOT NULL,
        detector text NOT NULL,
        severity text NOT NULL,
        score double precision NOT NULL,
        threshold double precision NOT NULL,
        features jsonb NOT NULL,
        explanation jsonb NOT NULL,
        model_version text NOT NULL
      );
      CREATE INDEX helios_anomalies_detected ON helios_anomalies (detected_at DESC);

      CREATE TABLE helios_reports (
        id uuid PRIMARY KEY,
        anomaly_id uuid NOT NULL,
        tenant text NOT NULL,
        service text NOT NULL,
        created_at timestamptz NOT NULL,
        title text NOT NULL,
        severity text NOT NULL,
        composer text NOT NULL,
        notes jsonb NOT NULL,
        sections jsonb NOT NULL,
        markdown text NOT NULL,
        deliveries jsonb NOT NULL
      );
      CREATE INDEX helios_reports_created ON helios_reports (created_at DESC);
      CREATE UNIQUE INDEX helios_reports_anomaly ON helios_reports (anomaly_id);
    `,
  },
  {
    version: 2,
    name: 'events.sample_rate (how many events a sampled event stands for)',
    // A constant default is a catalog-only change (no table rewrite) on PostgreSQL 11+ and PGlite, and
    // every existing row reads as 1 (not sampled). Partitions and hypertable chunks get the column
    // from the parent. The TimescaleDB continuous aggregate (migration 1) kept counting rows until migration 4.
    sql: `ALTER TABLE helios_events ADD COLUMN IF NOT EXISTS sample_rate double precision NOT NULL DEFAULT 1;`,
  },
  {
    version: 3,
    name: 'anomalies.metric (the metric series an anomaly is in; null for the service\'s requests)',
    // Nullable without a default: a catalog-only change; every existing anomaly is a request-series one.
    sql: `ALTER TABLE helios_anomalies ADD COLUMN IF NOT EXISTS metric jsonb;`,
  },
  {
    version: 4,
    name: 'latency percentiles weighted by sample_rate (helios_weighted_percentiles; the continuous aggregate counts sample_rate)',
    // The rollup table (plain PostgreSQL, PGlite): minutes holding sampled events get recomputed by the
    // next maintenance round (their stored percentiles counted rows; with every rate 1 nothing changes,
    // the weighted percentile equals percentile_cont). That scans the events once, at upgrade.
    // TimescaleDB: a continuous aggregate's query cannot be altered, so it is dropped and created again
    // in the same transaction (a failure keeps the old one, counting rows, and says so). Created WITH NO
    // DATA (WITH DATA cannot run in a transaction): the policy re-materializes the last 3 days; older
    // minutes still within retention need one `CALL refresh_continuous_aggregate('helios_rollups_1m', NULL, now() - interval '3 days')`.
    sql: `
      ${WEIGHTED_PERCENTILES_FUNCTION};
      DO $helios$
      BEGIN
        IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('helios_rollups_1m')) = 'r' THEN
          INSERT INTO helios_rollup_pending (tenant, service, bucket)
          SELECT DISTINCT tenant, service, date_trunc('minute', ts) FROM helios_events WHERE sample_rate <> 1;
          RETURN;
        END IF;
        BEGIN
          DROP MATERIALIZED VIEW helios_rollups_1m;
          EXECUTE $sql$CREATE MATERIALIZED VIEW helios_rollups_1m WITH (timescaledb.continuous) AS ${WEIGHTED_ROLLUP_SELECT} WITH NO DATA$sql$;
          PERFORM add_continuous_aggregate_policy('helios_rollups_1m', start_offset => interval '3 days', end_offset => interval '1 minute', schedule_interval => interval '1 minute');
          RAISE NOTICE 'helios: helios_rollups_1m now weighs sample_rate; minutes older than 3 days need CALL refresh_continuous_aggregate(''helios_rollups_1m'', NULL, now() - interval ''3 days'')';
        EXCEPTION WHEN others THEN
          RAISE NOTICE 'helios: continuous aggregate not recreated (%); helios_rollups_1m keeps counting rows', SQLERRM;
        END;
      END
      $helios$;
    `,
  },
  {
    version: 5,
    name: 'events keyed by (tenant, id, ts): idempotency per tenant; helios_dead_letters (events the store refused)',
    // Two tenants may choose the same event id: with the key (id, ts) the second tenant's event was
    // acknowledged and silently not stored. ts stays in the key because both partitioned layouts need
    // the partition key in every unique index. Rebuilding the key index reads the events table once.
    // helios_dead_letters keeps the event as JSON text (text takes any event JSON.stringify can write:
    // lone surrogates and NUL arrive as \u escapes), so a dead letter can always be written.
    sql: `
      ALTER TABLE helios_events DROP CONSTRAINT helios_events_pkey;
      ALTER TABLE helios_events ADD PRIMARY KEY (tenant, id, ts);
      CREATE TABLE helios_dead_letters (
        seq bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        tenant text NOT NULL,
        event_id text NOT NULL,
        reason text NOT NULL,
        error text NOT NULL,
        event text NOT NULL
      );
      CREATE INDEX helios_dead_letters_tenant ON helios_dead_letters (tenant, received_at DESC);
      WITH repaired AS (
        UPDATE helios_events SET sample_rate = least(sample_rate, ${MAX_SAMPLE_RATE}),
                                 latency_ms = CASE WHEN latency_ms > ${MAX_LATENCY_MS} OR latency_ms < 0 THEN NULL ELSE latency_ms END
         WHERE sample_rate > ${MAX_SAMPLE_RATE} OR latency_ms > ${MAX_LATENCY_MS} OR latency_ms < 0
        RETURNING tenant, service, ts)
      INSERT INTO helios_rollup_pending (tenant, service, bucket) SELECT DISTINCT tenant, service, date_trunc('minute', ts) FROM repaired;
    `,
  },
  {
    version: 7,
    name: 'incident lifecycle (open, acknowledged, resolved, feedback, silenced) and silences',
    // An incident's id is its opening anomaly's id; no foreign key, so the report runtime may record an
    // incident before the storage writer has stored its anomaly (they consume the same topic in parallel).
    sql: `
      CREATE TABLE IF NOT EXISTS helios_incidents (
        id uuid PRIMARY KEY,
        tenant text NOT NULL,
        service text NOT NULL,
        series text,
        severity text NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at timestamptz,
        resolved_by text,
        resolution_delivered_at timestamptz,
        feedback jsonb,
        report_id uuid,
        silenced_by uuid
      );
      CREATE INDEX IF NOT EXISTS helios_incidents_opened ON helios_incidents (opened_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS helios_incidents_tenant_opened ON helios_incidents (tenant, opened_at DESC, id DESC);
      CREATE TABLE IF NOT EXISTS helios_silences (
        id uuid PRIMARY KEY,
        tenant text NOT NULL,
        service text NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
        comment text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS helios_silences_service ON helios_silences (tenant, service, ends_at);
    `,
  },
  {
    version: 8,
    name: 'event search indexes: (tenant, service, ts), (tenant, ts), trace_id, trigram text index when pg_trgm is available; rollups by bucket',
    // The read API's searches are always of a bounded time range, newest first, and (with auth on) of
    // one tenant: (tenant, service, ts DESC) and (tenant, ts DESC) serve them in index order; trace
    // lookups take the partial trace_id index. Free text ("message or error code contains") is an
    // ILIKE '%text%' on SEARCH_TEXT_EXPRESSION, which a pg_trgm GIN index answers; pg_trgm is a trusted
    // extension (PostgreSQL 13+: the database owner may create it) and PGlite loads it as a module
    // (pglite.ts). Where CREATE EXTENSION fails the search still works, narrowed by the time-range and
    // tenant indexes, and the notice says why. The operator class is looked up in whatever schema holds
    // the extension (it is per database, while tests and deployments may put Helios in any schema).
    // The rollup index serves GET /api/v1/services (every service's last hour) on a plain rollup table.
    sql: `
      CREATE INDEX IF NOT EXISTS helios_events_tenant_service_ts ON helios_events (tenant, service, ts DESC);
      CREATE INDEX IF NOT EXISTS helios_events_tenant_ts ON helios_events (tenant, ts DESC);
      CREATE INDEX IF NOT EXISTS helios_events_trace ON helios_events (trace_id) WHERE trace_id IS NOT NULL;
      DO $helios$
      DECLARE
        trgm_schema text;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
          -- In public where possible: an extension lives in one schema per database, and one created in a
          -- Helios schema would go with it (DROP SCHEMA ... CASCADE) and take other schemas' text indexes along.
          BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
          EXCEPTION WHEN others THEN
            BEGIN
              CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXCEPTION WHEN others THEN
              RAISE NOTICE 'helios: pg_trgm is available but CREATE EXTENSION failed (%); event text search runs without a text index', SQLERRM;
            END;
          END;
        END IF;
        SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
        IF trgm_schema IS NOT NULL THEN
          EXECUTE format('CREATE INDEX IF NOT EXISTS helios_events_text_trgm ON helios_events USING gin (${SEARCH_TEXT_EXPRESSION.replace(/'/g, "''")} %I.gin_trgm_ops)', trgm_schema);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass('helios_rollups_1m') AND relkind = 'r') THEN
          CREATE INDEX IF NOT EXISTS helios_rollups_1m_bucket ON helios_rollups_1m (bucket, tenant);
        END IF;
      END
      $helios$;
    `,
  },
  {
    version: 9,
    name: 'helios_detector_state: detector models, baselines and open incidents per series (stateless detect workers)',
    // One row per (plugin, tenant, series): the newest snapshot only (a write of an older snapshot is
    // refused by the upsert's guard on updated_at). bytea: a model is an opaque blob to the store, and
    // a large one parses faster as bytes than as jsonb.
    sql: `
      CREATE TABLE IF NOT EXISTS helios_detector_state (
        plugin text NOT NULL,
        tenant text NOT NULL,
        series_key text NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL,
        state bytea NOT NULL,
        PRIMARY KEY (plugin, tenant, series_key)
      );
    `,
  },
  {
    version: 11,
    name: 'rollups of requests and log records only (not dependency calls, internal spans, metric points); anomalies keep their stream',
    // core/src/event/role.ts: only entry spans and Helios JSON events are requests. A plain rollup table is
    // recomputed by the maintenance job (REFRESH_ROLLUPS now filters); the minutes of the last 3 days holding
    // events it no longer counts are marked pending so they are recomputed. A continuous aggregate is
    // recreated with the filter (older minutes as in migration 4's notice).
    sql: `
      ALTER TABLE helios_anomalies ADD COLUMN IF NOT EXISTS stream jsonb;
      DO $helios$
      BEGIN
        IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('helios_rollups_1m')) = 'r' THEN
          INSERT INTO helios_rollup_pending (tenant, service, bucket)
            SELECT DISTINCT tenant, service, date_trunc('minute', ts) FROM helios_events
             WHERE ts > now() - interval '3 days' AND NOT (${ROLLUP_PREDICATE});
        ELSIF to_regclass('helios_rollups_1m') IS NOT NULL THEN
          BEGIN
            DROP MATERIALIZED VIEW helios_rollups_1m;
            EXECUTE $sql$CREATE MATERIALIZED VIEW helios_rollups_1m WITH (timescaledb.continuous) AS ${WEIGHTED_ROLLUP_SELECT.replace('FROM helios_events GROUP BY', `FROM helios_events WHERE ${ROLLUP_PREDICATE} GROUP BY`)} WITH NO DATA$sql$;
            PERFORM add_continuous_aggregate_policy('helios_rollups_1m', start_offset => interval '3 days', end_offset => interval '1 minute', schedule_interval => interval '1 minute');
          EXCEPTION WHEN others THEN
            RAISE NOTICE 'helios: continuous aggregate not recreated (%); helios_rollups_1m keeps counting every event', SQLERRM;
          END;
        END IF;
      END
      $helios$;
    `,
  },
  {
    version: 12,
    name: 'helios_reports.charts: the report\'s SVG charts stored with it (API, console and file reporter show the same chart)',
    sql: 'ALTER TABLE helios_reports ADD COLUMN IF NOT EXISTS charts jsonb;',
  },
  {
    version: 13,
    name: 'event search by error level: partial index (tenant, ts DESC) of ERROR and CRITICAL events',
    // A tenant + level ERROR search over a day read the tenant's whole day through (tenant, ts DESC) when
    // the tenant had few or no errors (p99 246 ms at 10 M events, bench/RESULTS.md); this index holds only
    // error events (about 2% of rows in the bench), so it finds them, or finds none, in index order. Its
    // predicate is the one the search's level filter implies (event-search.ts); migration 1's
    // helios_events_errors also counts status >= 500 and leads with service, so it cannot serve a tenant.
    sql: `CREATE INDEX IF NOT EXISTS helios_events_tenant_errors_ts ON helios_events (tenant, ts DESC) WHERE ${ERROR_LEVEL_PREDICATE};`,
  },
];

// Any constant works; it only has to be the same in every Helios process sharing a database.
const MIGRATION_LOCK_KEY = 4_815_162_342;

/**
 * Apply pending migrations in one transaction; safe to run twice and from two processes at once:
 * the transaction-scoped advisory lock serializes migrators, and the second one reads the versions
 * the first committed (each statement sees what committed before it started).
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS helios_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM helios_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO helios_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
