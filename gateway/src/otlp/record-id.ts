import type { AttributeValue } from '@helios/core';
import type { NanoTime } from './nano-time.js';

/**
 * Deterministic event ids for OTLP records, so that an exporter's retry of a request the gateway
 * already stored (a lost response, a timeout) is stored once: the store keys events by (id, timestamp)
 * and skips duplicates.
 *
 * The id is a UUIDv8 (RFC 9562, custom) laid out like Helios's UUIDv7 ids: the record's timestamp in
 * milliseconds in the first 48 bits (so ids still sort by time and inserts stay at the index's right
 * edge), then the version 8, the variant, and 74 bits of a 128-bit non-cryptographic hash (cyrb128
 * mixing, 4 lanes of Math.imul) of what identifies the record:
 * - span: tenant, trace_id, span_id (unique by the specification);
 * - log record: tenant, resource, scope, time and observed time in nanoseconds, severity, trace and
 *   span id, body and attributes;
 * - data point: tenant, resource, scope, time in nanoseconds, and its attributes, which by then carry
 *   the metric name, type, unit and value.
 * The tenant is always part of the key: two tenants sending the same span keep one each.
 */

const HEX = '0123456789abcdef';
const SEPARATOR = 0xffff;

/** Hash state fed field by field; `id()` ends it. One per record, reused through `reset()`. */
export class RecordIdHasher {
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;

  constructor() {
    this.reset();
  }

  reset(): this {
    this.h1 = 1779033703;
    this.h2 = 3144134277;
    this.h3 = 1013904242;
    this.h4 = 2773480762;
    return this;
  }

  private code(k: number): void {
    const h1 = this.h2 ^ Math.imul(this.h1 ^ k, 597399067);
    const h2 = this.h3 ^ Math.imul(this.h2 ^ k, 2869860233);
    const h3 = this.h4 ^ Math.imul(this.h3 ^ k, 951274213);
    this.h4 = h1 ^ Math.imul(this.h4 ^ k, 2716044179);
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
  }

  str(text: string): this {
    for (let i = 0; i < text.length; i++) this.code(text.charCodeAt(i));
    this.code(SEPARATOR);
    return this;
  }

  num(value: number): this {
    return this.str(String(value));
  }

  time(time: NanoTime): this {
    return this.str(`${time.ms}.${time.subMsNanos}`);
  }

  /** A flat attribute map (values are scalars after translation), in its own key order. */
  attributes(attributes: Readonly<Record<string, AttributeValue>>): this {
    for (const key in attributes) {
      this.str(key);
      const value = attributes[key];
      this.str(typeof value === 'string' ? value : value === null ? '\u0000null' : typeof value === 'boolean' ? (value ? '\u0000true' : '\u0000false') : `\u0000${value}`);
    }
    return this.str('');
  }

  /** The UUIDv8 text for a record at `timestampMs` (the event's timestamp). */
  id(timestampMs: number): string {
    return finish(this.h1, this.h2, this.h3, this.h4, timestampMs);
  }

  /** Mix one 32-bit word in (four multiplications, where str() spends four per character). */
  word(w: number): this {
    this.code(w);
    return this;
  }
}

/** The id under construction as ASCII bytes (as core's newEventId does): one latin1 read at the end, no string concatenation. */
const text = Buffer.from('00000000-0000-8000-8000-000000000000', 'latin1');
const HEX_CODES = Buffer.from(HEX, 'latin1');

function putHex(value: number, at: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--, value >>>= 4) text[at + i] = HEX_CODES[value & 15]!;
}

function finish(h1: number, h2: number, h3: number, h4: number, timestampMs: number): string {
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  const ms = Math.max(0, Math.min(Math.floor(timestampMs), 2 ** 48 - 1));
  // 48 bits of milliseconds around the first dash: the high 16 bits, then the low 32.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms - high * 2 ** 32;
  putHex(high >>> 0, 0, 4);
  putHex(low >>> 16, 4, 4);
  putHex(low & 0xffff, 9, 4);
  // xxxxxxxx-xxxx-8HHH-vHHH-HHHHHHHHHHHH: 12 + 2 + 12 + 48 = 74 hash bits.
  const a = h1 >>> 0;
  putHex(a >>> 20, 15, 3);
  text[19] = HEX_CODES[8 | ((a >>> 18) & 3)]!;
  putHex((a >>> 6) & 0xfff, 20, 3);
  putHex(h2 >>> 0, 24, 8);
  putHex((h3 >>> 16) & 0xffff, 32, 4);
  return text.toString('latin1', 0, 36);
}

const spanHasher = new RecordIdHasher();
/** Tenant names hashed once: a process sees a handful. */
const tenantWords = new Map<string, number>();

function tenantWord(tenant: string): number {
  let word = tenantWords.get(tenant);
  if (word === undefined) {
    const h = new RecordIdHasher().str(tenant);
    word = Number.parseInt(h.id(0).slice(24, 32), 16) | 0;
    if (tenantWords.size < 10_000) tenantWords.set(tenant, word);
  }
  return word;
}

/** Eight hex characters of `hex` from `at` as a 32-bit word (the ids are lower-case hex, checked by the translator). */
function hexWord(hex: string, at: number): number {
  let word = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i);
    word = (word << 4) | (c <= 57 ? c - 48 : c - 87);
  }
  return word;
}

/**
 * The id of a span: tenant, trace id and span id are its identity. Hashed as seven 32-bit words (the
 * id bytes read straight from their hex), not character by character: this runs for every span.
 */
export function spanEventId(tenant: string, traceIdHex: string, spanIdHex: string, timestampMs: number): string {
  return spanHasher
    .reset()
    .word(tenantWord(tenant))
    .word(hexWord(traceIdHex, 0)).word(hexWord(traceIdHex, 8)).word(hexWord(traceIdHex, 16)).word(hexWord(traceIdHex, 24))
    .word(hexWord(spanIdHex, 0)).word(hexWord(spanIdHex, 8))
    .id(timestampMs);
}

const recordHasher = new RecordIdHasher();
const resourceKeys = new WeakMap<object, string>();

/** A resource's attributes hashed once per decoded resource (every record of it reuses the key). */
function resourceKey(resourceAttributes: Readonly<Record<string, AttributeValue>>): string {
  let key = resourceKeys.get(resourceAttributes);
  if (key === undefined) resourceKeys.set(resourceAttributes, (key = new RecordIdHasher().attributes(resourceAttributes).id(0)));
  return key;
}

export interface LogIdentity {
  tenant: string;
  resourceAttributes: Readonly<Record<string, AttributeValue>>;
  time: NanoTime;
  observedTime: NanoTime;
  severityNumber: number;
  severityText: string;
  traceId: string | null;
  spanId: string | null;
  message: string;
  /** Carries the scope name and event name too, by the time this is called. */
  attributes: Readonly<Record<string, AttributeValue>>;
}

export function logEventId(log: LogIdentity, timestampMs: number): string {
  return recordHasher
    .reset()
    .str(log.tenant)
    .str(resourceKey(log.resourceAttributes))
    .time(log.time)
    .time(log.observedTime)
    .num(log.severityNumber)
    .str(log.severityText)
    .str(log.traceId ?? '')
    .str(log.spanId ?? '')
    .str(log.message)
    .attributes(log.attributes)
    .id(timestampMs);
}

/** `attributes` carry the scope, metric name, unit, type, temporality and value by the time this is called. */
export function dataPointEventId(tenant: string, resourceAttributes: Readonly<Record<string, AttributeValue>>, time: NanoTime, attributes: Readonly<Record<string, AttributeValue>>, timestampMs: number): string {
  return recordHasher.reset().str(tenant).str(resourceKey(resourceAttributes)).time(time).attributes(attributes).id(timestampMs);
}
