import type { AttributeValue, HeliosEvent } from './schema.js';

/**
 * Fixed-shape JSON writer for `HeliosEvent` (hot path of the Kafka bus, bench/RESULTS.md "Kafka").
 *
 * Every field of a HeliosEvent is always present, so the text is written field by field in schema
 * order without JSON.stringify's generic walk over the object. Strings that need no escaping (no quote,
 * backslash, control character or surrogate) are written as they are; others, and the attribute maps,
 * go through JSON.stringify so escaping is exactly JSON's. `JSON.parse(encodeHeliosEvent(e))` deep-equals
 * `JSON.parse(JSON.stringify(e))` (property test in encode.test.ts).
 *
 * Returns undefined when the value is not shaped like a HeliosEvent (a field missing or of another
 * type); callers then fall back to JSON.stringify.
 */
export function encodeHeliosEvent(e: HeliosEvent): string | undefined {
  const id = str(e.id);
  const service = str(e.service);
  const level = str(e.level);
  const message = str(e.message);
  const kind = str(e.kind);
  const tenant = str(e.tenant);
  const timestamp = num(e.timestamp);
  const endpoint = nstr(e.endpoint);
  const latency = nnum(e.latency_ms);
  const status = nnum(e.status_code);
  const errorCode = nstr(e.error_code);
  const traceId = nstr(e.trace_id);
  const spanId = nstr(e.span_id);
  const sampleRate = num(e.sample_rate);
  const attributes = map(e.attributes);
  const resource = map(e.resource);
  if (
    id === undefined || service === undefined || level === undefined || message === undefined || kind === undefined ||
    tenant === undefined || timestamp === undefined || endpoint === undefined || latency === undefined || status === undefined ||
    errorCode === undefined || traceId === undefined || spanId === undefined || sampleRate === undefined || attributes === undefined ||
    resource === undefined
  ) {
    return undefined;
  }
  return '{"id":' + id + ',"timestamp":' + timestamp + ',"service":' + service + ',"level":' + level + ',"message":' + message +
    ',"kind":' + kind + ',"endpoint":' + endpoint + ',"latency_ms":' + latency + ',"status_code":' + status +
    ',"error_code":' + errorCode + ',"trace_id":' + traceId + ',"span_id":' + spanId + ',"sample_rate":' + sampleRate + ',"attributes":' + attributes +
    ',"resource":' + resource + ',"tenant":' + tenant + '}';
}

// Strings written as they are: printable ASCII without quote or backslash. Everything else (what
// JSON.stringify escapes: quote, backslash, C0 controls, lone surrogates; and any non-ASCII text) takes
// the JSON.stringify path, which also tells the batch writer below the text may not be ASCII.
const SLOW = /["\\\u0000-\u001f\u007f-\uffff]/;

/** Set when a string took the JSON.stringify path (its text may hold non-ASCII characters). */
let slowPath = false;

/** A JSON string literal. */
export function jsonString(s: string): string {
  if (SLOW.test(s)) {
    slowPath = true;
    return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/**
 * UTF-8 JSON of each value, written into one buffer for the whole batch (one string, one encode, a
 * view per value: fewer allocations than one Buffer.from per value). `valueOf` picks the value out of
 * an item. With `heliosEvents`, values are expected to be HeliosEvents and go through
 * `encodeHeliosEvent` (fields outside the schema are not written), falling back to JSON.stringify for
 * any value not shaped like one; without it every value goes through JSON.stringify.
 */
export function encodeJsonBatch<T>(items: readonly T[], valueOf: (item: T) => unknown, heliosEvents: boolean): Buffer[] {
  const n = items.length;
  const lengths: number[] = new Array(n);
  let all = '';
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const value = valueOf(items[i]!);
    slowPath = false;
    let text = heliosEvents && typeof value === 'object' && value !== null ? encodeHeliosEvent(value as HeliosEvent) : undefined;
    if (text === undefined) {
      text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`value ${i} cannot be written as JSON`);
      slowPath = true;
    }
    // Byte length: the text is ASCII unless some string took the JSON.stringify path (then count).
    // JSON text never holds a lone surrogate (JSON.stringify escapes them), so per-value UTF-8 lengths
    // add up to the batch's.
    if (slowPath) {
      const bytes = Buffer.byteLength(text);
      if (bytes !== text.length) ascii = false;
      lengths[i] = bytes;
    } else {
      lengths[i] = text.length;
    }
    all += text;
  }
  const buffer = Buffer.from(all, ascii ? 'latin1' : 'utf8');
  const out: Buffer[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    out[i] = buffer.subarray(at, at + lengths[i]!);
    at += lengths[i]!;
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? jsonString(v) : undefined;
}

function nstr(v: unknown): string | undefined {
  return v === null ? 'null' : typeof v === 'string' ? jsonString(v) : undefined;
}

/** Numbers as JSON.stringify writes them (non-finite -> null). */
function num(v: unknown): string | undefined {
  return typeof v === 'number' ? (Number.isFinite(v) ? '' + v : 'null') : undefined;
}

function nnum(v: unknown): string | undefined {
  return v === null ? 'null' : num(v);
}

/** A flat attribute map (string keys, scalar values). */
function map(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof (m as { toJSON?: unknown }).toJSON === 'function') return undefined;
  let out = '{';
  let first = true;
  for (const k in m as Record<string, AttributeValue>) {
    if (!Object.prototype.hasOwnProperty.call(m, k)) continue;
    const v = (m as Record<string, unknown>)[k];
    let text: string;
    if (typeof v === 'string') text = jsonString(v);
    else if (typeof v === 'number') text = Number.isFinite(v) ? '' + v : 'null';
    else if (v === null) text = 'null';
    else if (v === true) text = 'true';
    else if (v === false) text = 'false';
    else if (v === undefined) continue; // JSON.stringify leaves out undefined members
    else return undefined; // nested objects, bigint, functions...: not an attribute map
    out += (first ? '' : ',') + jsonString(k) + ':' + text;
    first = false;
  }
  return out + '}';
}
