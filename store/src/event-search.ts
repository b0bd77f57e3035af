import { ERROR_LEVELS, HeliosError, type HeliosEvent, type Level } from '@helios/core';
import type { SqlQueryable } from './sql-client.js';

/**
 * Which events a search or a tail reads. Every field narrows; absent ones do not. The time range is
 * required and bounded by the caller (the API): an unbounded search on a 10 M-event table is a full scan.
 */
export interface EventFilter {
  /** Only this tenant's events; undefined reads every tenant (operators, and the read API with auth off). */
  tenant?: string;
  /** Any of these services. */
  services?: readonly string[];
  /** Any of these levels. */
  levels?: readonly Level[];
  endpoint?: string;
  traceId?: string;
  /** Case-insensitive substring of the message or the error code. */
  text?: string;
}

export interface EventSearchQuery extends EventFilter {
  /** [from, to) of event time, epoch ms. */
  from: number;
  to: number;
  limit: number;
  /** Opaque cursor from a previous page: the next (older) page. */
  cursor?: string;
}

/** A stored event and its position in the (ts, id, tenant) order, as an opaque cursor. */
export interface StoredEvent {
  event: HeliosEvent;
  cursor: string;
}

export interface EventSearchPage {
  items: StoredEvent[];
  /** Cursor of the next (older) page; undefined on the last one. */
  nextCursor: string | undefined;
}

export interface EventTailQuery extends EventFilter {
  /** Events after this cursor, oldest first. */
  after: string;
  /** Only events before this time (epoch ms): a tail leaves the last moments to writes still in flight. */
  until?: number;
  limit: number;
}

/** A position in the (ts, id, tenant) order. `ts` is PostgreSQL's own text of the timestamp (microseconds), not epoch ms, so no row is skipped or repeated. */
interface Position {
  ts: string;
  id: string;
  tenant: string;
}

const EVENT_SELECT = `SELECT id, ts, ts::text AS ts_key, tenant, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id, sample_rate, attributes, resource FROM helios_events`;

/** The expression migration 8's trigram index is built on: one index serves "message or error code contains". */
export const SEARCH_TEXT_EXPRESSION = `(coalesce(error_code, '') || ' ' || message)`;

/**
 * The predicate of migration 13's partial index (tenant, ts DESC) for level-filtered searches. The search
 * writes its level filter as `level = $n` or `level = ANY($n)`; PostgreSQL plans an unnamed statement with
 * its parameter values, so a filter of error levels only (ERROR, CRITICAL or both) implies this predicate
 * and the index answers it, while a filter naming any other level reads (tenant, ts DESC) instead.
 */
export const ERROR_LEVEL_PREDICATE = `level IN (${[...ERROR_LEVELS].map((l) => `'${l}'`).join(', ')})`;

function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function millis(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

function jsonValue(value: unknown): Record<string, unknown> {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
}

/** A helios_events row (selected with every column) as the event it stored. */
export function rowToEvent(r: Record<string, any>): HeliosEvent {
  return {
    id: r.id, timestamp: millis(r.ts), tenant: r.tenant, service: r.service, level: r.level, kind: r.kind, message: r.message,
    endpoint: r.endpoint ?? null, latency_ms: toNumberOrNull(r.latency_ms), status_code: toNumberOrNull(r.status_code),
    error_code: r.error_code ?? null, trace_id: r.trace_id ?? null, span_id: r.span_id ?? null, sample_rate: Number(r.sample_rate),
    attributes: jsonValue(r.attributes) as HeliosEvent['attributes'], resource: jsonValue(r.resource) as HeliosEvent['resource'],
  };
}

/** base64url of the JSON [ts text, id, tenant]: opaque to clients, and anything else decodes to a 400 naming the parameter. */
export function encodeEventCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.ts, p.id, p.tenant])).toString('base64url');
}

/** PostgreSQL's ISO output of a timestamptz (`2026-01-01 12:00:00.123456+00`) or an ISO 8601 instant. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2}){0,2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeEventCursor(cursor: string, parameter = 'cursor'): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 3 && parsed.every((x) => typeof x === 'string') && UUID.test(parsed[1]) && TIMESTAMP.test(parsed[0])) {
    return { ts: parsed[0], id: parsed[1], tenant: parsed[2] };
  }
  throw new HeliosError('HLS_ERR_QUERY_INVALID', `${parameter}: not a cursor from a previous page, got ${JSON.stringify(cursor.slice(0, 100))}`, { details: [parameter] });
}

/** ILIKE pattern matching `text` literally anywhere: %, _ and the escape character are escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** WHERE terms of a filter, appending their parameters to `params`. */
function filterTerms(f: EventFilter, params: unknown[]): string[] {
  const where: string[] = [];
  if (f.tenant !== undefined) where.push(`tenant = $${params.push(f.tenant)}`);
  if (f.services !== undefined && f.services.length > 0) where.push(f.services.length === 1 ? `service = $${params.push(f.services[0])}` : `service = ANY($${params.push(f.services)}::text[])`);
  if (f.levels !== undefined && f.levels.length > 0) where.push(f.levels.length === 1 ? `level = $${params.push(f.levels[0])}` : `level = ANY($${params.push(f.levels)}::text[])`);
  if (f.endpoint !== undefined) where.push(`endpoint = $${params.push(f.endpoint)}`);
  if (f.traceId !== undefined) where.push(`trace_id = $${params.push(f.traceId)}`);
  if (f.text !== undefined && f.text !== '') where.push(`${SEARCH_TEXT_EXPRESSION} ILIKE $${params.push(containsPattern(f.text))}`);
  return where;
}

function stored(r: Record<string, any>): StoredEvent {
  return { event: rowToEvent(r), cursor: encodeEventCursor({ ts: r.ts_key, id: r.id, tenant: r.tenant }) };
}

/**
 * Newest first, keyset-paged on (ts, id, tenant) descending: a deep page costs what the first one does.
 * The cursor's ts bounds the index range too (`ts <= cursor`), not only the row comparison, so the scan
 * starts at the cursor rather than filtering every newer row.
 */
export async function searchEvents(client: SqlQueryable, q: EventSearchQuery): Promise<EventSearchPage> {
  const params: unknown[] = [q.from, q.to];
  const where = ['ts >= to_timestamp($1 / 1000.0)', 'ts < to_timestamp($2 / 1000.0)', ...filterTerms(q, params)];
  if (q.cursor !== undefined) {
    const at = decodeEventCursor(q.cursor);
    const ts = `$${params.push(at.ts)}::timestamptz`;
    where.push(`ts <= ${ts}`, `(ts, id, tenant) < (${ts}, $${params.push(at.id)}::uuid, $${params.push(at.tenant)})`);
  }
  const { rows } = await client.query<Record<string, any>>(
    `${EVENT_SELECT} WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC, tenant DESC LIMIT ${Math.floor(q.limit) + 1}`,
    params,
  );
  const items = rows.slice(0, q.limit).map(stored);
  return { items, nextCursor: rows.length > q.limit ? items[items.length - 1]?.cursor : undefined };
}

/**
 * Events after `after`, oldest first (what a live tail sends next). `ts >= cursor` bounds the index range;
 * the row comparison skips what was already sent at the same instant.
 */
export async function eventsAfter(client: SqlQueryable, q: EventTailQuery): Promise<StoredEvent[]> {
  const params: unknown[] = [];
  const where = filterTerms(q, params);
  const at = decodeEventCursor(q.after, 'Last-Event-ID');
  const ts = `$${params.push(at.ts)}::timestamptz`;
  where.push(`ts >= ${ts}`, `(ts, id, tenant) > (${ts}, $${params.push(at.id)}::uuid, $${params.push(at.tenant)})`);
  if (q.until !== undefined) where.push(`ts < to_timestamp($${params.push(q.until)} / 1000.0)`);
  const { rows } = await client.query<Record<string, any>>(`${EVENT_SELECT} WHERE ${where.join(' AND ')} ORDER BY ts, id, tenant LIMIT ${Math.floor(q.limit)}`, params);
  return rows.map(stored);
}

/** The position just before any event at or after `at` (epoch ms): where a tail starting at `at` begins. */
export function cursorAtTime(at: number): string {
  return encodeEventCursor({ ts: new Date(at).toISOString(), id: '00000000-0000-0000-0000-000000000000', tenant: '' });
}

/** Every event of a trace, oldest first, at most `limit` (uses the partial index on trace_id). */
export async function traceEvents(client: SqlQueryable, q: { traceId: string; tenant?: string; limit: number }): Promise<{ items: HeliosEvent[]; truncated: boolean }> {
  const params: unknown[] = [q.traceId];
  const where = ['trace_id = $1'];
  if (q.tenant !== undefined) where.push(`tenant = $${params.push(q.tenant)}`);
  const { rows } = await client.query<Record<string, any>>(`${EVENT_SELECT} WHERE ${where.join(' AND ')} ORDER BY ts, id LIMIT ${Math.floor(q.limit) + 1}`, params);
  return { items: rows.slice(0, q.limit).map(rowToEvent), truncated: rows.length > q.limit };
}
