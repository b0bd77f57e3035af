import { HeliosError, parseEventsBody, normalizeEventBatch, busKey, type EventsBodyKind, type HeliosEvent, type EventRequestBatch } from '@helios/core';
import { encodeRecordHeaders, withRecordHeader } from './kafka-record-headers.js';

/**
 * Request bytes on Kafka: the gateway forwards a Helios JSON request's own bytes instead of writing every
 * normalized event again (JSON-encoding the events cost about as much as parsing them, on the gateway's one
 * thread; bench/RESULTS.md, Kafka). Consumers read such a record with the gateway's own parse and
 * normalization, given the tenant, the receive time and the request's first id (the others derive from it:
 * EventIdSequence), so they see the same events, ids included, field for field (kafka-event-batch.test.ts).
 *
 * One record per key (tenant/service), so a service's events stay in one partition and in order:
 * - a request of one service (what an SDK or exporter sends) is forwarded as it is: JSON or NDJSON;
 * - a JSON array of several services is cut at its top-level elements, one JSON array per service;
 * - NDJSON of several services, or a record over the topic's limit, is left to the caller, which then
 *   writes the events one by one (the record format without these headers).
 */

/** Header carrying the schema version of the JSON value; consumers refuse versions they do not know. */
export const SCHEMA_VERSION_HEADER = 'helios-schema-version';
/** How a record's value holds events; absent: one normalized event (HeliosEvent JSON). */
export const VALUE_FORMAT_HEADER = 'helios-format';
const FORMAT_OF_KIND: Record<EventsBodyKind, string> = { json: 'input-json', ndjson: 'input-ndjson' };
const KIND_OF_FORMAT = new Map<string, EventsBodyKind>([['input-json', 'json'], ['input-ndjson', 'ndjson']]);
/**
 * What normalizing the value needs besides it, as JSON (`RequestHeader`): one header, written once per
 * record on top of an encoded pair (schema version, format) shared by all.
 */
const REQUEST_HEADER = 'helios-request';

interface RequestHeader {
  tenant: string;
  /** Epoch ms the gateway normalized with (the default timestamp). */
  receivedAt: number;
  /** The batch's first id (EventIdSequence). */
  idBase: string;
  /** Each value's index in the request (absent: 0, 1, 2, ...), when the record holds part of it. */
  indexes?: number[];
}

export interface EventBatchRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** `headers` in their wire form (encodeRecordHeaders). */
  encodedHeaders: Buffer;
}

/** Is this value a request's events (`eventBatchRecords`) rather than one event? */
export function isEventBatchFormat(format: string | undefined): boolean {
  return format !== undefined && KIND_OF_FORMAT.has(format);
}

/** Wire form of (schema version, format), per schema version and kind: the part every record of that kind shares. */
const sharedHeaders = new Map<string, Buffer>();
function recordHeaders(schemaVersion: string, kind: EventsBodyKind, request: string): Pick<EventBatchRecord, 'headers' | 'encodedHeaders'> {
  const format = FORMAT_OF_KIND[kind];
  const headers = { [SCHEMA_VERSION_HEADER]: schemaVersion, [VALUE_FORMAT_HEADER]: format, [REQUEST_HEADER]: request };
  let shared = sharedHeaders.get(schemaVersion + format);
  if (shared === undefined) sharedHeaders.set(schemaVersion + format, (shared = encodeRecordHeaders({ [SCHEMA_VERSION_HEADER]: schemaVersion, [VALUE_FORMAT_HEADER]: format })));
  return { headers, encodedHeaders: withRecordHeader(shared, REQUEST_HEADER, request) };
}

/**
 * The records carrying `batch` as request bytes, each value at most `maxValueBytes`; undefined when they
 * cannot (see the module comment): the caller publishes `eventRecords(batch.events)` instead.
 */
export function eventBatchRecords(batch: EventRequestBatch, schemaVersion: string, maxValueBytes: number): EventBatchRecord[] | undefined {
  const { events, body, kind } = batch;
  if (events.length === 0) return [];
  // Built as text once: tenant, time and first id are the same for every record of the request.
  const request = `{"tenant":${JSON.stringify(batch.tenant)},"receivedAt":${batch.receivedAt},"idBase":"${batch.idBase}"`;
  const service = events[0]!.service;
  let oneService = true;
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.service !== service) {
      oneService = false;
      break;
    }
  }
  if (oneService) {
    if (body.length > maxValueBytes) return undefined;
    return [{ key: busKey(events[0]!), value: body, ...recordHeaders(schemaVersion, kind, request + '}') }];
  }
  if (kind !== 'json') return undefined;
  const bounds = topLevelElements(body, events.length);
  if (bounds === undefined) return undefined;
  const byService = new Map<string, number[]>();
  for (let i = 0; i < events.length; i++) {
    const own = byService.get(events[i]!.service);
    if (own === undefined) byService.set(events[i]!.service, [i]);
    else own.push(i);
  }
  const records: EventBatchRecord[] = [];
  for (const indexes of byService.values()) {
    // `[` element `,` element ... `]`: the elements' bytes as they came.
    let size = 1 + indexes.length;
    for (const i of indexes) size += bounds[2 * i + 1]! - bounds[2 * i]!;
    if (size > maxValueBytes) return undefined;
    const value = Buffer.allocUnsafe(size);
    let at = 0;
    for (let k = 0; k < indexes.length; k++) {
      value[at++] = k === 0 ? 0x5b : 0x2c;
      const from = bounds[2 * indexes[k]!]!;
      const to = bounds[2 * indexes[k]! + 1]!;
      // TypedArray#set: a plain memcpy, without Buffer#copy's argument handling.
      value.set(body.subarray(from, to), at);
      at += to - from;
    }
    value[at] = 0x5d;
    records.push({ key: busKey(events[indexes[0]!]!), value, ...recordHeaders(schemaVersion, 'json', `${request},"indexes":[${indexes.join(',')}]}`) });
  }
  return records;
}

/**
 * The events of a record written by `eventBatchRecords`, normalized as the gateway normalized them.
 * `header` reads one of the record's headers. Throws HLS_ERR_EVENT_INVALID naming what is wrong (the
 * consumer dead-letters the record).
 */
export function decodeEventBatchRecord(value: Buffer, header: (name: string) => string | undefined): HeliosEvent[] {
  const format = header(VALUE_FORMAT_HEADER);
  const kind = format === undefined ? undefined : KIND_OF_FORMAT.get(format);
  if (kind === undefined) throw new HeliosError('HLS_ERR_EVENT_INVALID', `${VALUE_FORMAT_HEADER} ${JSON.stringify(format)} is not a request-bytes format`);
  const text = header(REQUEST_HEADER);
  let request: Partial<RequestHeader>;
  try {
    request = JSON.parse(text ?? '') as Partial<RequestHeader>;
  } catch {
    throw new HeliosError('HLS_ERR_EVENT_INVALID', `${REQUEST_HEADER} header ${JSON.stringify(text)} is not JSON`);
  }
  const { tenant, receivedAt, idBase, indexes } = request;
  if (typeof tenant !== 'string' || tenant === '') throw new HeliosError('HLS_ERR_EVENT_INVALID', `${REQUEST_HEADER} names no tenant`);
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt)) throw new HeliosError('HLS_ERR_EVENT_INVALID', `${REQUEST_HEADER} receivedAt ${JSON.stringify(receivedAt)} is not epoch ms`);
  if (typeof idBase !== 'string' || !UUID.test(idBase)) throw new HeliosError('HLS_ERR_EVENT_INVALID', `${REQUEST_HEADER} idBase ${JSON.stringify(idBase)} is not a UUID`);
  const values = parseEventsBody(value, kind, Number.POSITIVE_INFINITY);
  if (indexes !== undefined && (!Array.isArray(indexes) || indexes.length !== values.length || !indexes.every((i) => Number.isInteger(i) && i >= 0))) {
    throw new HeliosError('HLS_ERR_EVENT_INVALID', `record holds ${values.length} events but ${REQUEST_HEADER} gives ${Array.isArray(indexes) ? indexes.length : 'no list of'} indexes`);
  }
  return normalizeEventBatch(values, { tenant, now: receivedAt, idBase, ...(indexes === undefined ? {} : { idIndexes: indexes }) });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Where each element of a JSON array starts and ends (`[start0, end0, start1, end1, ...]`), for a body
 * JSON.parse already accepted; undefined unless it is an array of `count` objects. A byte scan (strings
 * skipped, braces and brackets counted) is a quarter of what writing the events as JSON again costs.
 */
export function topLevelElements(body: Buffer, count: number): Int32Array | undefined {
  const bounds = new Int32Array(2 * count);
  const length = body.length;
  let i = 0;
  while (i < length && body[i] !== 0x5b) {
    // Only whitespace may come before the array.
    const c = body[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return undefined;
    i++;
  }
  let n = 0;
  let depth = 0;
  let start = 0;
  for (i++; i < length; i++) {
    const c = body[i]!;
    if (c === 0x22) {
      // A string: skip to its closing quote (a backslash escapes the next byte).
      for (i++; i < length; i++) {
        const d = body[i]!;
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) {
        if (c !== 0x7b || n === count) return undefined;
        start = i;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) break; // the array's closing bracket
      if (--depth === 0) {
        bounds[2 * n] = start;
        bounds[2 * n + 1] = i + 1;
        n++;
      }
    }
  }
  return n === count ? bounds : undefined;
}
