import type { SqlClient } from './sql-client.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Versioned, append-only: never edit a migration that has shipped, add a new one.
 * The events table's key includes ts so the table can become a partitioned table / hypertable.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, anomalies, reports',
    sql: `
      CREATE TABLE helios_events (
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
        PRIMARY KEY (id, ts)
      );
      CREATE INDEX helios_events_service_ts ON helios_events (service, ts DESC);
      CREATE INDEX helios_events_errors ON helios_events (service, ts DESC) WHERE level IN ('ERROR', 'CRITICAL') OR status_code >= 500;

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
];

// Any constant works; it only has to be the same in every Helios process sharing a database.
const MIGRATION_LOCK_KEY = 4_815_162_342;

/** Apply pending migrations; safe to run twice and from two processes at once (advisory lock). */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.exec(`CREATE TABLE IF NOT EXISTS helios_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM helios_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.exec(`BEGIN; ${m.sql}; INSERT INTO helios_migrations (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}'); COMMIT;`);
      applied.push(m.version);
    }
    return applied;
  } catch (err) {
    await client.exec('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
