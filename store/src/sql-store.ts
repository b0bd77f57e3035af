import type { Anomaly, HeliosEvent, IncidentContext, IncidentReport, ReportDelivery, StoredAnomaly, WindowTotals } from '@helios/core';
import { createIncidentStore } from './incident-store.js';
import { HeliosError } from '@helios/core';
import { EVENT_COPY_COLUMNS, eventsToCopyText } from './copy-text.js';
import { dependencyStats } from './dependency-stats.js';
import { EVENT_ROLE_SQL, REQUEST_PREDICATE } from './event-role-sql.js';
import { createDetectorStateStore } from './detector-state.js';
import { maintain } from './maintenance.js';
import { migrate } from './migrations.js';
import { eventsAfter, rowToEvent, searchEvents, traceEvents } from './event-search.js';
import { serviceOverview } from './service-overview.js';
import { detectorSeriesStates } from './series-status.js';
import { ERROR_PREDICATE, eventCount, WEIGHTED_AVG_LATENCY, weightedLatencyPercentile } from './weighted-sql.js';
import { incidentTimeline } from './incident-timeline.js';
import type { SqlClient } from './sql-client.js';
import type { ContextQuery, ListOptions, Page, ServiceMinute, Store } from './store.js';

// Weighted by sample_rate like the counts: a 1-in-50 sampled fast request stands for 50 fast requests.
const P95_LATENCY = weightedLatencyPercentile(0.95);

function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function millis(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

function clampLimit(limit: number | undefined, max = 500): number {
  return Math.max(1, Math.min(max, Math.floor(limit ?? 50)));
}

/** Cursor = "<epoch ms>_<uuid>" of the last item; keyset pagination stays fast on deep pages. */
function decodeCursor(cursor: string | undefined): { at: number; id: string } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const match = /^(\d+)_([0-9a-f-]{36})$/.exec(cursor);
  if (match === null) throw new HeliosError('HLS_ERR_EVENT_INVALID', `before: not a cursor from a previous page, got ${JSON.stringify(cursor)}`);
  return { at: Number(match[1]), id: match[2]! };
}

function rowToAnomaly(r: Record<string, any>): Anomaly {
  return {
    id: r.id, tenant: r.tenant, service: r.service,
    windowStart: millis(r.window_start), windowEnd: millis(r.window_end), detectedAt: millis(r.detected_at),
    detector: r.detector, severity: r.severity, score: Number(r.score), threshold: Number(r.threshold),
    features: r.features, explanation: r.explanation, modelVersion: r.model_version,
    ...(r.metric === null || r.metric === undefined ? {} : { metric: r.metric }),
    ...(r.stream === null || r.stream === undefined ? {} : { stream: r.stream }),
  };
}

/** Anomalies with their incident's lifecycle and their report (columns of ANOMALIES_WITH_LIFECYCLE). */
function rowToStoredAnomaly(r: Record<string, any>): StoredAnomaly {
  return {
    ...rowToAnomaly(r),
    ...(r.incident_status === null || r.incident_status === undefined ? {} : { incidentId: r.id, status: r.incident_status }),
    ...(r.incident_resolved_at === null || r.incident_resolved_at === undefined ? {} : { resolvedAt: millis(r.incident_resolved_at) }),
    ...(r.report_id === null || r.report_id === undefined ? {} : { reportId: r.report_id }),
  };
}

/** A subquery, so the paging WHERE names its columns unqualified as for a table. */
const ANOMALIES_WITH_LIFECYCLE = `(SELECT a.*, i.status AS incident_status, i.resolved_at AS incident_resolved_at, r.id AS report_id
    FROM helios_anomalies a LEFT JOIN helios_incidents i ON i.id = a.id LEFT JOIN helios_reports r ON r.anomaly_id = a.id) AS anomalies`;

function rowToReport(r: Record<string, any>): IncidentReport {
  return {
    id: r.id, anomalyId: r.anomaly_id, tenant: r.tenant, service: r.service, createdAt: millis(r.created_at),
    title: r.title, severity: r.severity, composer: r.composer, notes: r.notes, sections: r.sections,
    markdown: r.markdown, deliveries: r.deliveries,
    // Reports stored before migration 12, or without a timeline to chart, have none.
    ...(Array.isArray(r.charts) && r.charts.length > 0 ? { charts: r.charts } : {}),
  };
}

/** Text any column takes: lone surrogates and NUL (which PostgreSQL text cannot hold) as U+FFFD. */
function storableText(text: string): string {
  return (text as unknown as { toWellFormed(): string }).toWellFormed().replace(/\u0000/g, '\ufffd');
}

/**
 * The store on any PostgreSQL speaking client (node-postgres or PGlite). Event writes are idempotent
 * by (tenant, id, ts) with ON CONFLICT DO NOTHING, fed by COPY into a staging table on both (PGlite reads
 * the COPY data from a Blob; it replaced one json_to_recordset INSERT there, which measured slower).
 */
export interface SqlStoreOptions {
  /** Most events in one statement (default 5000). */
  batchSize?: number;
  /**
   * Batches of one insertEvents call written at once, each on its own connection (default 2 on
   * PostgreSQL: the server's insert work then runs on two cores; 1 on PGlite, which has one connection).
   */
  writeConcurrency?: number;
  /** Raw events kept this many days (default 7). */
  retentionDays?: number;
  /** Daily partitions created ahead (default 3). */
  partitionsAhead?: number;
}

export function createSqlStore(client: SqlClient, options: SqlStoreOptions = {}): Store {
  const batchSize = options.batchSize ?? 5000;
  const writeConcurrency = Math.max(1, options.writeConcurrency ?? (client.dialect === 'postgres' ? 2 : 1));

  const maintenance = { retentionDays: options.retentionDays ?? 7, partitionsAhead: options.partitionsAhead ?? 3 };

  // One statement: insert the new events and mark the minutes they touched for the rollup job.
  // Only rows actually inserted are marked, so a redelivered batch costs no rollup work.
  const stagingInsert = `
    WITH ins AS (
      INSERT INTO helios_events (${EVENT_COPY_COLUMNS}) SELECT ${EVENT_COPY_COLUMNS} FROM helios_events_staging
      ON CONFLICT DO NOTHING RETURNING tenant, service, ts),
    marked AS (INSERT INTO helios_rollup_pending (tenant, service, bucket) SELECT DISTINCT tenant, service, date_trunc('minute', ts) FROM ins)
    SELECT count(*) AS n FROM ins`;

  /**
   * COPY into a per-connection temporary staging table (emptied at commit), then one INSERT ... SELECT
   * with ON CONFLICT DO NOTHING: COPY's speed, and redelivered events are stored once.
   */
  async function insertByCopy(batch: readonly HeliosEvent[]): Promise<number> {
    return client.transaction(async (tx) => {
      await tx.exec(`CREATE TEMP TABLE IF NOT EXISTS helios_events_staging (LIKE helios_events) ON COMMIT DELETE ROWS`);
      await tx.copyFrom(`helios_events_staging (${EVENT_COPY_COLUMNS})`, eventsToCopyText(batch));
      const { rows } = await tx.query<{ n: string | number }>(stagingInsert);
      return Number(rows[0]?.n ?? 0);
    });
  }

  /** Totals over one or more [from, to) ranges of a tenant's service (each one an index range scan on (service, ts)). */
  async function windowTotals(tenant: string, service: string, ranges: ReadonlyArray<readonly [number, number]>): Promise<WindowTotals> {
    const params: unknown[] = [service, tenant];
    const where = ranges.map(([from, to]) => `(ts >= to_timestamp($${params.push(from)} / 1000.0) AND ts < to_timestamp($${params.push(to)} / 1000.0))`);
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT ${eventCount()} AS events, ${eventCount(ERROR_PREDICATE)} AS errors,
              ${WEIGHTED_AVG_LATENCY} AS avg_latency, ${P95_LATENCY} AS p95_latency
         FROM helios_events WHERE service = $1 AND tenant = $2 AND (${where.join(' OR ')}) AND ${REQUEST_PREDICATE}`,
      params,
    );
    const r = rows[0]!;
    const from = Math.min(...ranges.map((x) => x[0]));
    const to = Math.max(...ranges.map((x) => x[1]));
    return { from, to, events: Number(r['events']), errors: Number(r['errors']), avgLatencyMs: toNumberOrNull(r['avg_latency']), p95LatencyMs: toNumberOrNull(r['p95_latency']) };
  }

  async function page<T extends { id: string }>(table: typeof ANOMALIES_WITH_LIFECYCLE | 'helios_reports', timeColumn: 'detected_at' | 'created_at', map: (r: Record<string, any>) => T, at: (t: T) => number, opts: ListOptions): Promise<Page<T>> {
    const limit = clampLimit(opts.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const cursor = decodeCursor(opts.before);
    if (cursor !== undefined) {
      params.push(cursor.at, cursor.id);
      where.push(`(${timeColumn}, id) < (to_timestamp($${params.length - 1} / 1000.0), $${params.length}::uuid)`);
    }
    if (opts.service !== undefined) where.push(`service = $${params.push(opts.service)}`);
    if (opts.tenant !== undefined) where.push(`tenant = $${params.push(opts.tenant)}`);
    params.push(limit + 1);
    const { rows } = await client.query(
      `SELECT * FROM ${table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${timeColumn} DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(map);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last !== undefined ? `${at(last)}_${last.id}` : undefined };
  }

  return {
    dialect: client.dialect,
    ...createDetectorStateStore(client),
    migrate: () => migrate(client),
    ...createIncidentStore(client),

    async insertEvents(events: readonly HeliosEvent[]): Promise<number> {
      if (events.length <= batchSize) return insertByCopy(events);
      // Chunks commit separately (each idempotent); up to writeConcurrency of them at once on their own connections.
      let inserted = 0;
      let next = 0;
      const worker = async () => {
        while (next < events.length) {
          const start = next;
          next += batchSize;
          const n = await insertByCopy(events.slice(start, start + batchSize)); // not `inserted += await`: that reads `inserted` before the await
          inserted += n;
        }
      };
      await Promise.all(Array.from({ length: Math.min(writeConcurrency, Math.ceil(events.length / batchSize)) }, worker));
      return inserted;
    },

    async insertAnomalies(anomalies: readonly Anomaly[]): Promise<number> {
      if (anomalies.length === 0) return 0;
      const { rows } = await client.query<{ n: string | number }>(
        `WITH ins AS (
           INSERT INTO helios_anomalies (id, tenant, service, window_start, window_end, detected_at, detector, severity, score, threshold, features, explanation, model_version, metric, stream)
           SELECT id, tenant, service, to_timestamp("windowStart" / 1000.0), to_timestamp("windowEnd" / 1000.0), to_timestamp("detectedAt" / 1000.0),
                  detector, severity, score, threshold, features, explanation, "modelVersion", metric, stream
             FROM json_to_recordset($1::json) AS r(id uuid, tenant text, service text, "windowStart" double precision, "windowEnd" double precision,
                  "detectedAt" double precision, detector text, severity text, score double precision, threshold double precision,
                  features jsonb, explanation jsonb, "modelVersion" text, metric jsonb, stream jsonb)
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT count(*) AS n FROM ins`,
        [JSON.stringify(anomalies)],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async insertDeadLetters(letters) {
      if (letters.length === 0) return 0;
      const rows = letters.map((l) => ({
        tenant: storableText(l.event.tenant), event_id: storableText(l.event.id), reason: storableText(l.reason), error: storableText(l.error.slice(0, 4096)),
        event: JSON.stringify(l.event),
      }));
      const { rows: out } = await client.query<{ n: string | number }>(
        `WITH ins AS (INSERT INTO helios_dead_letters (tenant, event_id, reason, error, event)
           SELECT tenant, event_id, reason, error, event FROM json_to_recordset($1::json) AS r(tenant text, event_id text, reason text, error text, event text) RETURNING 1)
         SELECT count(*) AS n FROM ins`,
        [JSON.stringify(rows)],
      );
      return Number(out[0]?.n ?? 0);
    },

    async countDeadLetters(filter = {}) {
      const { rows } = filter.tenant === undefined
        ? await client.query<{ n: string | number }>('SELECT count(*) AS n FROM helios_dead_letters')
        : await client.query<{ n: string | number }>('SELECT count(*) AS n FROM helios_dead_letters WHERE tenant = $1', [filter.tenant]);
      return Number(rows[0]?.n ?? 0);
    },

    async saveReport(report: IncidentReport): Promise<string> {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO helios_reports (id, anomaly_id, tenant, service, created_at, title, severity, composer, notes, sections, markdown, deliveries, charts)
         VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb, $13::jsonb)
         ON CONFLICT (anomaly_id) DO UPDATE SET title = EXCLUDED.title, severity = EXCLUDED.severity, composer = EXCLUDED.composer,
           notes = EXCLUDED.notes, sections = EXCLUDED.sections, markdown = EXCLUDED.markdown, deliveries = EXCLUDED.deliveries, charts = EXCLUDED.charts
         RETURNING id`,
        [report.id, report.anomalyId, report.tenant, report.service, report.createdAt, report.title, report.severity, report.composer,
          JSON.stringify(report.notes), JSON.stringify(report.sections), report.markdown, JSON.stringify(report.deliveries), report.charts === undefined ? null : JSON.stringify(report.charts)],
      );
      return rows[0]!.id;
    },

    async setDeliveries(reportId: string, deliveries: readonly ReportDelivery[]): Promise<void> {
      await client.query('UPDATE helios_reports SET deliveries = $2::jsonb WHERE id = $1', [reportId, JSON.stringify(deliveries)]);
    },

    async incidentContext(q: ContextQuery): Promise<IncidentContext> {
      const limit = clampLimit(q.limit, 50);
      const length = q.to - q.from;
      const baselineWindows = Math.max(1, Math.min(30, Math.floor(q.baselineWindows ?? 3)));
      const DAY = 86_400_000;
      const baselineRanges: Array<[number, number]> = q.baseline === 'previous-days'
        ? Array.from({ length: baselineWindows }, (_, i): [number, number] => [q.from - (i + 1) * DAY, q.to - (i + 1) * DAY])
        : [[q.from - baselineWindows * length, q.from]];
      // Every query is of the anomaly's tenant: services are named by tenants, and two tenants' `checkout`
      // are different services whose messages, trace ids and names must not reach each other's reports.
      const range = [q.service, q.from, q.to, q.tenant];
      const inRange = `service = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0) AND tenant = $4`;
      // Requests only (core/src/event/role.ts): a failed call to a dependency is not a second failed request,
      // and metric points are not requests at all. Top errors also take error log records, which name causes.
      const requests = `${inRange} AND ${REQUEST_PREDICATE}`;
      const [window, baseline, errors, endpoints, tenants, traces, dependencies] = await Promise.all([
        windowTotals(q.tenant, q.service, [[q.from, q.to]]),
        windowTotals(q.tenant, q.service, baselineRanges),
        client.query<Record<string, any>>(
          `SELECT error_code, message, ${eventCount()} AS events, max(ts) AS last_seen,
                  min(attributes->>'exception.message') AS exception_message, min(attributes->>'exception.stacktrace') AS stacktrace
             FROM helios_events
            WHERE ${inRange} AND ${EVENT_ROLE_SQL} IN ('request', 'log') AND ${ERROR_PREDICATE} GROUP BY error_code, message ORDER BY events DESC, error_code LIMIT ${limit}`, range),
        client.query<Record<string, any>>(
          `SELECT endpoint, ${eventCount()} AS events, ${eventCount(ERROR_PREDICATE)} AS errors, ${WEIGHTED_AVG_LATENCY} AS avg_latency,
                  ${P95_LATENCY} AS p95_latency
             FROM helios_events WHERE ${requests} AND endpoint IS NOT NULL
            GROUP BY endpoint ORDER BY p95_latency DESC NULLS LAST, events DESC LIMIT ${limit}`, range),
        client.query<Record<string, any>>(
          `SELECT tenant, ${eventCount()} AS events, ${eventCount(ERROR_PREDICATE)} AS errors FROM helios_events
            WHERE ${requests} GROUP BY tenant ORDER BY errors DESC, events DESC LIMIT ${limit}`, range),
        client.query<Record<string, any>>(
          `SELECT trace_id, max(latency_ms) AS worst FROM helios_events WHERE ${requests} AND trace_id IS NOT NULL AND ${ERROR_PREDICATE}
            GROUP BY trace_id ORDER BY worst DESC NULLS LAST LIMIT ${Math.min(limit, 10)}`, range),
        dependencyStats(client, { tenant: q.tenant, service: q.service, from: q.from, to: q.to, baselineRanges }),
      ]);
      return {
        window,
        baseline,
        topErrors: errors.rows.map((r) => ({
          errorCode: r.error_code ?? null, message: r.message, events: Number(r.events), lastSeen: millis(r.last_seen),
          ...(typeof r.exception_message === 'string' && r.exception_message !== '' ? { exceptionMessage: r.exception_message } : {}),
          ...(typeof r.stacktrace === 'string' && r.stacktrace !== '' ? { stacktrace: r.stacktrace } : {}),
        })),
        slowestEndpoints: endpoints.rows.map((r) => ({ endpoint: r.endpoint, events: Number(r.events), errors: Number(r.errors), avgLatencyMs: toNumberOrNull(r.avg_latency), p95LatencyMs: toNumberOrNull(r.p95_latency) })),
        tenants: tenants.rows.map((r) => ({ tenant: r.tenant, events: Number(r.events), errors: Number(r.errors) })),
        exampleTraceIds: traces.rows.map((r) => r.trace_id as string),
        dependencies,
      };
    },

    listAnomalies: (opts = {}) => page(ANOMALIES_WITH_LIFECYCLE, 'detected_at', rowToStoredAnomaly, (a) => a.detectedAt, opts),
    listReports: (opts = {}) => page('helios_reports', 'created_at', rowToReport, (r) => r.createdAt, opts),

    async getReport(id, options = {}) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const { rows } = options.tenant === undefined
        ? await client.query('SELECT * FROM helios_reports WHERE id = $1', [id])
        : await client.query('SELECT * FROM helios_reports WHERE id = $1 AND tenant = $2', [id, options.tenant]);
      return rows[0] === undefined ? undefined : rowToReport(rows[0]);
    },

    async *scanEvents(scan) {
      const pageSize = Math.max(1, Math.min(50_000, Math.floor(scan.pageSize ?? 5_000)));
      let after: { ts: unknown; id: string; tenant: string } | undefined;
      for (;;) {
        const params: unknown[] = [scan.from, scan.to];
        const where = ['ts >= to_timestamp($1 / 1000.0)', 'ts < to_timestamp($2 / 1000.0)'];
        if (scan.service !== undefined) where.push(`service = $${params.push(scan.service)}`);
        if (scan.tenant !== undefined) where.push(`tenant = $${params.push(scan.tenant)}`);
        // The last row's own ts value (not its epoch ms) continues the keyset, so sub-millisecond times cannot skip or repeat rows.
        // tenant last: two tenants may store the same event id (the key is (tenant, id, ts)).
        if (after !== undefined) where.push(`(ts, id, tenant) > ($${params.push(after.ts)}::timestamptz, $${params.push(after.id)}::uuid, $${params.push(after.tenant)})`);
        const { rows } = await client.query<Record<string, any>>(
          `SELECT id, ts, tenant, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id, sample_rate, attributes, resource
             FROM helios_events WHERE ${where.join(' AND ')} ORDER BY ts, id, tenant LIMIT ${pageSize}`,
          params,
        );
        if (rows.length === 0) return;
        yield rows.map(rowToEvent);
        if (rows.length < pageSize) return;
        const last = rows[rows.length - 1]!;
        after = { ts: last.ts instanceof Date ? last.ts.toISOString() : last.ts, id: last.id, tenant: last.tenant };
      }
    },

    async latestEventTime(tenant, service) {
      const { rows } = await client.query<{ latest: unknown }>('SELECT max(ts) AS latest FROM helios_events WHERE service = $1 AND tenant = $2', [service, tenant]);
      return rows[0]?.latest === null || rows[0]?.latest === undefined ? undefined : millis(rows[0].latest);
    },

    async countEvents(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.service !== undefined) where.push(`service = $${params.push(filter.service)}`);
      if (filter.tenant !== undefined) where.push(`tenant = $${params.push(filter.tenant)}`);
      const { rows } = await client.query<{ n: string | number }>(`SELECT count(*) AS n FROM helios_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`, params);
      return Number(rows[0]?.n ?? 0);
    },

    async rollups(q) {
      const { rows } = await client.query<Record<string, any>>(
        `SELECT * FROM helios_rollups_1m WHERE service = $1 AND tenant = $2 AND bucket >= to_timestamp($3 / 1000.0) AND bucket < to_timestamp($4 / 1000.0)
          ORDER BY bucket`,
        [q.service, q.tenant, q.from, Math.min(q.to, q.from + 10_080 * 60_000)],
      );
      return rows.map((r): ServiceMinute => ({
        minute: millis(r.bucket), tenant: r.tenant, service: r.service, events: Number(r.events),
        levels: { TRACE: Number(r.trace), DEBUG: Number(r.debug), INFO: Number(r.info), WARN: Number(r.warn), ERROR: Number(r.error), CRITICAL: Number(r.critical) },
        errors: Number(r.errors), latencyAvgMs: toNumberOrNull(r.latency_avg), latencyP50Ms: toNumberOrNull(r.latency_p50),
        latencyP95Ms: toNumberOrNull(r.latency_p95), latencyP99Ms: toNumberOrNull(r.latency_p99), latencyMaxMs: toNumberOrNull(r.latency_max),
        uniqueEndpoints: Number(r.unique_endpoints),
      }));
    },

    searchEvents: (q) => searchEvents(client, q),
    eventsAfter: (q) => eventsAfter(client, q),
    traceEvents: (q) => traceEvents(client, q),
    serviceOverview: (q) => serviceOverview(client, q),
    detectorSeriesStates: (q) => detectorSeriesStates(client, q),
    incidentTimeline: (q) => incidentTimeline(client, q),

    maintain: (opts = {}) => maintain(client, { ...maintenance, ...opts }),

    close: () => client.close(),
  };
}
