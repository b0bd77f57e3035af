import { HeliosError, metricSeriesName, type Anomaly, type IncidentFeedback, type IncidentRecord, type IncidentStatus, type Silence } from '@helios/core';
import type { SqlClient } from './sql-client.js';
import type { Page } from './page.js';

/** Which incidents `listIncidents` returns, newest opened first. */
export interface IncidentListOptions {
  limit?: number;
  /** Opaque cursor from a previous page. */
  before?: string;
  service?: string;
  status?: IncidentStatus;
  /** Only this tenant's incidents; undefined reads every tenant (operators, the API with auth off). */
  tenant?: string;
}

/** Scopes a read or write to one tenant: another tenant's incident or silence is "not found". */
export interface TenantScope {
  tenant?: string;
}

export interface SilenceListOptions extends TenantScope {
  service?: string;
  /** Only silences in force at this time (epoch ms). */
  activeAt?: number;
}

/** Reads of incidents and silences (what the API and plugins see). */
export interface IncidentReader {
  getIncident(id: string, scope?: TenantScope): Promise<IncidentRecord | undefined>;
  listIncidents(options?: IncidentListOptions): Promise<Page<IncidentRecord>>;
  listSilences(options?: SilenceListOptions): Promise<Silence[]>;
  /** A tenant's open or acknowledged incidents of one series (`series` undefined: the service's requests), oldest first, at most 100. */
  unresolvedIncidents(of: { tenant: string; service: string; series: string | undefined }): Promise<IncidentRecord[]>;
}

/**
 * Writes of the incident lifecycle. Every transition is one UPDATE guarded by the current status, so
 * two processes (the report runtime resolving, an on-call acknowledging) cannot undo each other.
 */
export interface IncidentWriter {
  /** Record an incident opened by `anomaly` (idempotent by the anomaly id); returns the stored incident. */
  openIncident(anomaly: Anomaly, options?: { silencedBy?: string; at?: number }): Promise<IncidentRecord>;
  setIncidentReport(id: string, reportId: string): Promise<void>;
  /** Open -> acknowledged; an acknowledged or resolved incident stays as it is. Undefined: no such incident (in scope). */
  acknowledgeIncident(id: string, by: { by: string; at: number } & TenantScope): Promise<IncidentRecord | undefined>;
  /** Open or acknowledged -> resolved; a resolved incident keeps its first resolution. Undefined: no such incident (in scope). */
  resolveIncident(id: string, by: { by: string; at: number } & TenantScope): Promise<IncidentRecord | undefined>;
  /** The resolution was handed to every reporter: a redelivered resolution record is not delivered again. */
  markResolutionDelivered(id: string, at: number): Promise<void>;
  setIncidentFeedback(id: string, feedback: IncidentFeedback, scope?: TenantScope): Promise<IncidentRecord | undefined>;
  createSilence(silence: Silence): Promise<Silence>;
  /** False when there was no such silence (in scope). */
  deleteSilence(id: string, scope?: TenantScope): Promise<boolean>;
  /** The silence covering a tenant's service at `at` that ends last, if any. */
  activeSilence(tenant: string, service: string, at: number): Promise<Silence | undefined>;
}

export type IncidentStore = IncidentReader & IncidentWriter;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function millis(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

function optionalMillis(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : millis(value);
}

function rowToIncident(r: Record<string, any>): IncidentRecord {
  const optional = <K extends keyof IncidentRecord>(key: K, value: IncidentRecord[K] | null | undefined) => (value === null || value === undefined ? {} : { [key]: value });
  return {
    id: r.id, tenant: r.tenant, service: r.service, ...optional('series', r.series), severity: r.severity, status: r.status,
    openedAt: millis(r.opened_at), updatedAt: millis(r.updated_at),
    ...optional('acknowledgedAt', optionalMillis(r.acknowledged_at)), ...optional('acknowledgedBy', r.acknowledged_by),
    ...optional('resolvedAt', optionalMillis(r.resolved_at)), ...optional('resolvedBy', r.resolved_by),
    ...optional('resolutionDeliveredAt', optionalMillis(r.resolution_delivered_at)),
    ...optional('feedback', typeof r.feedback === 'string' ? JSON.parse(r.feedback) : r.feedback),
    ...optional('reportId', r.report_id), ...optional('silencedBy', r.silenced_by),
  };
}

function rowToSilence(r: Record<string, any>): Silence {
  return {
    id: r.id, tenant: r.tenant, service: r.service, startsAt: millis(r.starts_at), endsAt: millis(r.ends_at),
    comment: r.comment, createdBy: r.created_by, createdAt: millis(r.created_at),
  };
}

/** Cursor = "<opened_at epoch ms>_<uuid>" of the last incident of a page (keyset paging). */
function decodeCursor(cursor: string | undefined): { at: number; id: string } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const match = /^(\d+)_([0-9a-f-]{36})$/.exec(cursor);
  if (match === null) throw new HeliosError('HLS_ERR_EVENT_INVALID', `before: not a cursor from a previous page, got ${JSON.stringify(cursor)}`);
  return { at: Number(match[1]), id: match[2]! };
}

/** The incident lifecycle and silences on the store's SQL client (tables of migration 7). */
export function createIncidentStore(client: SqlClient): IncidentStore {
  /** One guarded UPDATE, then the row as it is (changed or not), within the scope. */
  async function transition(id: string, scope: TenantScope, set: string, guard: string, params: unknown[]): Promise<IncidentRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const tenantClause = scope.tenant === undefined ? '' : ` AND tenant = $${params.length + 2}`;
    const all = [id, ...params, ...(scope.tenant === undefined ? [] : [scope.tenant])];
    await client.query(`UPDATE helios_incidents SET ${set} WHERE id = $1 AND ${guard}${tenantClause}`, all);
    return getIncident(id, scope);
  }

  async function getIncident(id: string, scope: TenantScope = {}): Promise<IncidentRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = scope.tenant === undefined
      ? await client.query('SELECT * FROM helios_incidents WHERE id = $1', [id])
      : await client.query('SELECT * FROM helios_incidents WHERE id = $1 AND tenant = $2', [id, scope.tenant]);
    return rows[0] === undefined ? undefined : rowToIncident(rows[0]);
  }

  return {
    getIncident,

    async listIncidents(options = {}) {
      const limit = Math.max(1, Math.min(500, Math.floor(options.limit ?? 50)));
      const where: string[] = [];
      const params: unknown[] = [];
      const cursor = decodeCursor(options.before);
      if (cursor !== undefined) where.push(`(opened_at, id) < (to_timestamp($${params.push(cursor.at)} / 1000.0), $${params.push(cursor.id)}::uuid)`);
      if (options.service !== undefined) where.push(`service = $${params.push(options.service)}`);
      if (options.status !== undefined) where.push(`status = $${params.push(options.status)}`);
      if (options.tenant !== undefined) where.push(`tenant = $${params.push(options.tenant)}`);
      const { rows } = await client.query(
        `SELECT * FROM helios_incidents ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT $${params.push(limit + 1)}`,
        params,
      );
      const items = rows.slice(0, limit).map(rowToIncident);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last !== undefined ? `${last.openedAt}_${last.id}` : undefined };
    },

    async listSilences(options = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (options.tenant !== undefined) where.push(`tenant = $${params.push(options.tenant)}`);
      if (options.service !== undefined) where.push(`service = $${params.push(options.service)}`);
      if (options.activeAt !== undefined) {
        const at = params.push(options.activeAt);
        where.push(`starts_at <= to_timestamp($${at} / 1000.0) AND ends_at > to_timestamp($${at} / 1000.0)`);
      }
      const { rows } = await client.query(`SELECT * FROM helios_silences ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY starts_at DESC, id DESC LIMIT 1000`, params);
      return rows.map(rowToSilence);
    },

    async unresolvedIncidents(of) {
      const { rows } = await client.query(
        `SELECT * FROM helios_incidents WHERE tenant = $1 AND service = $2 AND series IS NOT DISTINCT FROM $3 AND status <> 'resolved'
          ORDER BY opened_at, id LIMIT 100`,
        [of.tenant, of.service, of.series ?? null],
      );
      return rows.map(rowToIncident);
    },

    async openIncident(anomaly, options = {}) {
      const at = options.at ?? anomaly.detectedAt;
      await client.query(
        `INSERT INTO helios_incidents (id, tenant, service, series, severity, status, opened_at, updated_at, silenced_by)
         VALUES ($1, $2, $3, $4, $5, 'open', to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0), $8)
         ON CONFLICT (id) DO NOTHING`,
        [anomaly.id, anomaly.tenant, anomaly.service, anomaly.metric === undefined ? null : metricSeriesName(anomaly.metric), anomaly.severity, anomaly.detectedAt, at, options.silencedBy ?? null],
      );
      return (await getIncident(anomaly.id))!;
    },

    async setIncidentReport(id, reportId) {
      await client.query('UPDATE helios_incidents SET report_id = $2 WHERE id = $1', [id, reportId]);
    },

    acknowledgeIncident: (id, { by, at, tenant }) => transition(id, { tenant }, `status = 'acknowledged', acknowledged_at = to_timestamp($3 / 1000.0), acknowledged_by = $2, updated_at = to_timestamp($3 / 1000.0)`, `status = 'open'`, [by, at]),

    resolveIncident: (id, { by, at, tenant }) => transition(id, { tenant }, `status = 'resolved', resolved_at = to_timestamp($3 / 1000.0), resolved_by = $2, updated_at = to_timestamp($3 / 1000.0)`, `status <> 'resolved'`, [by, at]),

    async markResolutionDelivered(id, at) {
      await client.query('UPDATE helios_incidents SET resolution_delivered_at = to_timestamp($2 / 1000.0) WHERE id = $1', [id, at]);
    },

    setIncidentFeedback: (id, feedback, scope = {}) => transition(id, scope, `feedback = $2::jsonb, updated_at = to_timestamp($3 / 1000.0)`, 'true', [JSON.stringify(feedback), feedback.at]),

    async createSilence(silence) {
      if (!(silence.endsAt > silence.startsAt)) throw new HeliosError('HLS_ERR_EVENT_INVALID', `endsAt: must be after startsAt (${silence.startsAt}), got ${silence.endsAt}`);
      await client.query(
        `INSERT INTO helios_silences (id, tenant, service, starts_at, ends_at, comment, created_by, created_at)
         VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0), $6, $7, to_timestamp($8 / 1000.0))`,
        [silence.id, silence.tenant, silence.service, silence.startsAt, silence.endsAt, silence.comment, silence.createdBy, silence.createdAt],
      );
      return silence;
    },

    async deleteSilence(id, scope = {}) {
      if (!UUID.test(id)) return false;
      const { rows } = scope.tenant === undefined
        ? await client.query('DELETE FROM helios_silences WHERE id = $1 RETURNING id', [id])
        : await client.query('DELETE FROM helios_silences WHERE id = $1 AND tenant = $2 RETURNING id', [id, scope.tenant]);
      return rows.length > 0;
    },

    async activeSilence(tenant, service, at) {
      const { rows } = await client.query(
        `SELECT * FROM helios_silences WHERE tenant = $1 AND service = $2 AND starts_at <= to_timestamp($3 / 1000.0) AND ends_at > to_timestamp($3 / 1000.0)
          ORDER BY ends_at DESC, id LIMIT 1`,
        [tenant, service, at],
      );
      return rows[0] === undefined ? undefined : rowToSilence(rows[0]);
    },
  };
}
