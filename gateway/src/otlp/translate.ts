import { HeliosError, PEER_ATTRIBUTE, PEER_TYPE_ATTRIBUTE, levelFromSeverityNumber, makeStorable, MAX_ATTRIBUTE_KEY_LENGTH as CORE_MAX_ATTRIBUTE_KEY_LENGTH, newEventId, parseLevel, type AttributeValue, type HeliosEvent, type Level } from '@helios/core';
import type { NanoTime } from './nano-time.js';
import { dataPointEventId, logEventId, spanEventId } from './record-id.js';
import { dependencyEndpoint, peerOfSpan, templatePath, trimStacktrace } from './span-shape.js';

/**
 * OTLP records (already read from protobuf or JSON into the plain shapes below) to Helios events.
 * Both decoders feed the same functions, so the two encodings cannot drift apart.
 *
 * A translator returns either the event or a string: the reason the record is rejected, relative to
 * the record (`traceId: expected 16 bytes, got 5`). Rejections are counted for the OTLP
 * partial-success response; the rest of the request is kept.
 */

/*
 * HeliosEvent limits (core/src/event/schema.ts: 128 attributes, keys <= 256, strings <= 4096) are
 * applied while translating, so every event is valid.
 */
/** Payload attributes kept per record; the rest of the 128 is room for derived ones (otel.scope.name, span.kind, metric.*). */
export const MAX_PAYLOAD_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_KEY_LENGTH = CORE_MAX_ATTRIBUTE_KEY_LENGTH;
export const MAX_ATTRIBUTE_STRING_LENGTH = 4096;
export const MAX_SERVICE_LENGTH = 256;
export const MAX_QUANTILES = 16;
export const UNKNOWN_SERVICE = 'unknown_service';

export type Attributes = Record<string, AttributeValue>;

/** An id field of a protobuf record: its bytes, already as lower-case hex (WireReader.readBytesAsHex). */
export class BinaryId {
  constructor(readonly hex: string) {}
}

/** A trace or span id as a decoder read it: hex text from OTLP/JSON (not yet checked) or bytes from protobuf; empty when absent. */
export type RawId = BinaryId | string;

export interface DecodeContext {
  tenant: string;
  /** Ingestion time in epoch ms, used when a record carries no timestamp. */
  now: number;
  /**
   * Most records (log records, spans, data points; kept or rejected) one request may carry.
   * Decoding stops with HLS_ERR_TOO_MANY_EVENTS as soon as it is passed, so a small body packed
   * with tiny records cannot make the gateway build an unbounded batch. Unlimited when absent.
   */
  maxRecords?: number;
}

export interface ResourceInfo {
  service: string;
  attributes: Attributes;
}

export type { NanoTime } from './nano-time.js';

export const ZERO_TIME: NanoTime = Object.freeze({ ms: 0, subMsNanos: 0 });

const TWO_POW_32_MOD_1E6 = 967296; // 2^32 = 4294 * 1e6 + 967296
/** fixed64 nanoseconds (two halves) to NanoTime without losing precision past 2^53 ns. */
export function nanoTimeFromHalves(lo: number, hi: number): NanoTime {
  const rest = hi * TWO_POW_32_MOD_1E6 + lo; // < 2^52, exact
  const restMs = Math.floor(rest / 1e6);
  return { ms: hi * 4294 + restMs, subMsNanos: rest - restMs * 1e6 };
}

export function isZeroTime(time: NanoTime): boolean {
  return time.ms === 0 && time.subMsNanos === 0;
}

export function durationMs(start: NanoTime, end: NanoTime): number {
  return end.ms - start.ms + (end.subMsNanos - start.subMsNanos) / 1e6;
}

/**
 * Attribute value kept as a scalar: strings are cut to the schema's limit; non-finite numbers (NaN,
 * ±Infinity, legal in OTLP) become null because JSON and the store cannot carry them.
 */
export function scalar(value: AttributeValue): AttributeValue {
  if (typeof value === 'string') return value.length > MAX_ATTRIBUTE_STRING_LENGTH ? value.slice(0, MAX_ATTRIBUTE_STRING_LENGTH) : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return value;
}

/**
 * Set one payload attribute within the limits: keys over 256 characters and attributes past
 * MAX_PAYLOAD_ATTRIBUTES are dropped (the OTel SDKs drop past their limits the same way).
 */
export function setAttribute(target: Attributes, key: string, value: AttributeValue, count: number): number {
  if (key.length === 0 || key.length > MAX_ATTRIBUTE_KEY_LENGTH) return count;
  if (!Object.prototype.hasOwnProperty.call(target, key)) {
    if (count >= MAX_PAYLOAD_ATTRIBUTES) return count;
    count++;
  }
  assignProperty(target, key, scalar(value));
  return count;
}

/** `target[key] = value` that stays a plain data property even for the key `__proto__`. */
export function assignProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Complex AnyValues (arrays, kvlists) flattened to JSON text; bytes arrive as base64 text. */
export function flattenAnyValue(value: unknown): AttributeValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value, nonFiniteAsNull);
}

function nonFiniteAsNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** A log body as message text: strings as they are, anything else as JSON. */
export function bodyToMessage(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, nonFiniteAsNull);
}

export function resourceInfo(attributes: Attributes): ResourceInfo {
  const name = attributes['service.name'];
  let service = typeof name === 'string' && name.length > 0 ? name : UNKNOWN_SERVICE;
  if (service.length > MAX_SERVICE_LENGTH) service = service.slice(0, MAX_SERVICE_LENGTH);
  return { service, attributes };
}

const HEX_ID = /^[0-9a-fA-F]*$/;

/**
 * A trace/span id as lower-case hex, null when absent or all zeros (the OTel "invalid" id), or a
 * rejection reason when its length is wrong.
 */
export function idToHex(raw: RawId, byteLength: number, field: string): string | null | { reason: string } {
  if (typeof raw === 'string') {
    if (raw.length === 0) return null;
    if (raw.length !== byteLength * 2 || !HEX_ID.test(raw)) {
      return { reason: `${field}: expected ${byteLength * 2} hex characters, got ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw)}` };
    }
    const hex = raw.toLowerCase();
    return isAllZeroHex(hex) ? null : hex;
  }
  const hex = raw.hex;
  if (hex.length === 0) return null;
  if (hex.length !== byteLength * 2) return { reason: `${field}: expected ${byteLength} bytes, got ${hex.length / 2}` };
  return isAllZeroHex(hex) ? null : hex;
}

function isAllZeroHex(hex: string): boolean {
  for (let i = 0; i < hex.length; i++) if (hex.charCodeAt(i) !== 48) return false;
  return true;
}

function stringAttribute(attributes: Attributes, key: string): string | null {
  const value = attributes[key];
  if (typeof value === 'string') return value.length > 0 ? value : null;
  return null;
}

/** HTTP/RPC status from an attribute that may be a number or numeric text; null unless 0..999. */
function statusAttribute(attributes: Attributes, key: string): number | null {
  const value = attributes[key];
  const code = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(code) && code >= 0 && code <= 999 ? code : null;
}

/**
 * The endpoint of a request: `http.route` (a template already), else the raw path (`url.path`, `http.target`)
 * with its query cut and its ids templated (`templatePath`); the raw path stays in the attributes.
 */
function endpointOf(attributes: Attributes): string | null {
  const route = stringAttribute(attributes, 'http.route');
  const raw = route ?? stringAttribute(attributes, 'url.path') ?? stringAttribute(attributes, 'http.target');
  const endpoint = raw === null || route !== null ? raw : templatePath(raw);
  return endpoint !== null && endpoint.length > 1024 ? endpoint.slice(0, 1024) : endpoint;
}

function httpStatusOf(attributes: Attributes): number | null {
  return statusAttribute(attributes, 'http.response.status_code') ?? statusAttribute(attributes, 'http.status_code');
}

function errorTypeOf(attributes: Attributes): string | null {
  trimStacktrace(attributes);
  const code = stringAttribute(attributes, 'error.type') ?? stringAttribute(attributes, 'exception.type');
  return code !== null && code.length > 256 ? code.slice(0, 256) : code;
}

function withResource(resource: ResourceInfo): Attributes {
  // Each event gets its own copy: events are mutable downstream (enrichment), a shared object would leak edits.
  return { ...resource.attributes };
}

// ---------------------------------------------------------------------------------------------
// Logs

export interface LogRecordFields {
  time: NanoTime;
  observedTime: NanoTime;
  severityNumber: number;
  severityText: string;
  /** The body as a JS value (string, number, boolean, array, object) or null when absent. */
  body: unknown;
  eventName: string;
  attributes: Attributes;
  traceId: RawId;
  spanId: RawId;
}

/**
 * The event, made storable (lone surrogates to U+FFFD), or the reason it cannot be stored (a timestamp
 * past year 9999, a sample_rate over 1e9...): core's makeStorable, the check every input format goes through.
 */
function storableOrReason(event: HeliosEvent): HeliosEvent | string {
  const problems = makeStorable(event);
  return problems.length === 0 ? event : problems.join('; ');
}

export function logRecordToEvent(record: LogRecordFields, resource: ResourceInfo, scopeName: string, context: DecodeContext): HeliosEvent | string {
  const traceId = idToHex(record.traceId, 16, 'traceId');
  if (traceId !== null && typeof traceId === 'object') return traceId.reason;
  const spanId = idToHex(record.spanId, 8, 'spanId');
  if (spanId !== null && typeof spanId === 'object') return spanId.reason;

  const attributes = record.attributes;
  if (scopeName !== '') attributes['otel.scope.name'] = scalar(scopeName);
  if (record.eventName !== '') attributes['event.name'] = scalar(record.eventName);
  let level: Level | undefined = levelFromSeverityNumber(record.severityNumber);
  if (level === undefined && record.severityText !== '') level = parseLevel(record.severityText);
  const timestamp = !isZeroTime(record.time) ? record.time.ms : !isZeroTime(record.observedTime) ? record.observedTime.ms : context.now;
  const message = bodyToMessage(record.body);
  // Deterministic, so a retried export is stored once (./record-id.ts); a record with no time at all
  // cannot be told from an identical one sent later, so it gets a fresh id.
  const id = isZeroTime(record.time) && isZeroTime(record.observedTime) ? newEventId()
    : logEventId({ tenant: context.tenant, resourceAttributes: resource.attributes, time: record.time, observedTime: record.observedTime, severityNumber: record.severityNumber, severityText: record.severityText, traceId, spanId, message, attributes }, timestamp);
  return storableOrReason({
    id,
    timestamp,
    service: resource.service,
    level: level ?? 'INFO',
    message,
    kind: 'log',
    endpoint: endpointOf(attributes),
    latency_ms: null,
    status_code: httpStatusOf(attributes),
    error_code: errorTypeOf(attributes),
    trace_id: traceId,
    span_id: spanId,
    sample_rate: 1,
    attributes,
    resource: withResource(resource),
    tenant: context.tenant,
  });
}

// ---------------------------------------------------------------------------------------------
// Traces

/** SpanKind enum values to the names Jaeger and the Collector use for the `span.kind` tag. */
export const SPAN_KIND_NAMES: readonly (string | null)[] = [null, 'internal', 'server', 'client', 'producer', 'consumer'];
export const STATUS_CODE_ERROR = 2;
/** Span event name and attributes the semantic conventions use for recorded exceptions. */
export const EXCEPTION_EVENT = 'exception';
export const EXCEPTION_TYPE = 'exception.type';
export const EXCEPTION_MESSAGE = 'exception.message';
export const EXCEPTION_STACKTRACE = 'exception.stacktrace';

/** What a span's first `exception` event recorded ('' where it did not say). */
export interface SpanException {
  type: string;
  message: string;
  stacktrace: string;
}

/** The exception a span event records: null unless it is an `exception` event with a type or a message. */
export function exceptionOf(eventName: string, attributes: Attributes): SpanException | null {
  if (eventName !== EXCEPTION_EVENT) return null;
  const text = (key: string): string => (typeof attributes[key] === 'string' ? attributes[key] as string : '');
  const exception = { type: text(EXCEPTION_TYPE), message: text(EXCEPTION_MESSAGE), stacktrace: text(EXCEPTION_STACKTRACE) };
  return exception.type === '' && exception.message === '' ? null : exception;
}

export interface SpanFields {
  traceId: RawId;
  spanId: RawId;
  parentSpanId: RawId;
  name: string;
  kind: number;
  startTime: NanoTime;
  endTime: NanoTime;
  attributes: Attributes;
  statusCode: number;
  statusMessage: string;
  /** The span's first `exception` event (how SDKs record exceptions), null when none. */
  exception: SpanException | null;
  /** W3C tracestate, '' when none; its `ot=th:` threshold gives the span's sample_rate. */
  traceState: string;
}

const OT_MEMBER = /(?:^|,)[ \t]*ot=([^,]*)/;
const OT_THRESHOLD = /(?:^|;)th:([0-9a-f]{1,14})(?:;|$)/;
const TWO_POW_56 = 2 ** 56;

/**
 * OpenTelemetry's adjusted count from the `ot=th:<hex>` rejection threshold of a span's tracestate
 * (OTel probability sampling: the span was kept with probability (2^56 - T) / 2^56, T the threshold
 * padded to 14 hex digits), so a span sampled at 1% counts as 100 requests. 1 when absent or malformed.
 */
export function adjustedCountFromTraceState(traceState: string): number {
  if (traceState === '' || !traceState.includes('th:')) return 1;
  const member = OT_MEMBER.exec(traceState);
  const threshold = member === null ? null : OT_THRESHOLD.exec(member[1]!.trimEnd());
  if (threshold === null) return 1;
  const t = parseInt(threshold[1]!.padEnd(14, '0'), 16);
  return TWO_POW_56 / (TWO_POW_56 - t);
}

export function spanToEvent(span: SpanFields, resource: ResourceInfo, scopeName: string, context: DecodeContext): HeliosEvent | string {
  const traceId = idToHex(span.traceId, 16, 'traceId');
  if (traceId === null) return 'traceId: required, got an empty or all-zero id';
  if (typeof traceId === 'object') return traceId.reason;
  const spanId = idToHex(span.spanId, 8, 'spanId');
  if (spanId === null) return 'spanId: required, got an empty or all-zero id';
  if (typeof spanId === 'object') return spanId.reason;
  const parentSpanId = idToHex(span.parentSpanId, 8, 'parentSpanId');
  if (parentSpanId !== null && typeof parentSpanId === 'object') return parentSpanId.reason;
  // A span without a start time has no place on a timeline and no duration; storing it at 1970 would mislead.
  if (isZeroTime(span.startTime)) return 'startTimeUnixNano: required, got 0';
  let latency: number | null = null;
  if (!isZeroTime(span.endTime)) {
    latency = durationMs(span.startTime, span.endTime);
    if (latency < 0) return 'endTimeUnixNano: before startTimeUnixNano';
  }

  const attributes = span.attributes;
  if (scopeName !== '') attributes['otel.scope.name'] = scalar(scopeName);
  const kindName = SPAN_KIND_NAMES[span.kind];
  if (kindName) attributes['span.kind'] = kindName;
  if (parentSpanId !== null) attributes['parent_span_id'] = parentSpanId;
  const httpStatus = httpStatusOf(attributes);
  const statusCode = httpStatus ?? statusAttribute(attributes, 'rpc.grpc.status_code');
  const isError = span.statusCode === STATUS_CODE_ERROR || (httpStatus !== null && httpStatus >= 500);
  const exception = span.exception;
  if (exception !== null) {
    // Kept for reports' top errors (their redaction covers the message); the stack only to its first lines.
    if (exception.type !== '' && attributes[EXCEPTION_TYPE] === undefined) attributes[EXCEPTION_TYPE] = scalar(exception.type);
    if (exception.message !== '' && attributes[EXCEPTION_MESSAGE] === undefined) attributes[EXCEPTION_MESSAGE] = scalar(exception.message);
    if (exception.stacktrace !== '' && attributes[EXCEPTION_STACKTRACE] === undefined) attributes[EXCEPTION_STACKTRACE] = exception.stacktrace;
  }
  trimStacktrace(attributes);
  const role = kindName === 'client' || kindName === 'producer' ? 'dependency' : 'other';
  let endpoint = endpointOf(attributes);
  if (role === 'dependency') {
    const peer = peerOfSpan(attributes);
    attributes[PEER_ATTRIBUTE] = scalar(peer.name);
    attributes[PEER_TYPE_ATTRIBUTE] = peer.type;
    endpoint = dependencyEndpoint(peer.name, attributes, span.name);
  }
  let errorCode = stringAttribute(attributes, 'error.type');
  if (errorCode === null && isError) {
    if (exception !== null && exception.type !== '') errorCode = exception.type;
    else if (span.statusMessage !== '') errorCode = span.statusMessage;
  }
  if (errorCode !== null && errorCode.length > 256) errorCode = errorCode.slice(0, 256);
  return storableOrReason({
    id: spanEventId(context.tenant, traceId, spanId, span.startTime.ms),
    timestamp: span.startTime.ms,
    service: resource.service,
    level: isError ? 'ERROR' : 'INFO',
    message: span.name,
    kind: 'span',
    endpoint,
    latency_ms: latency,
    status_code: statusCode,
    error_code: errorCode,
    trace_id: traceId,
    span_id: spanId,
    sample_rate: adjustedCountFromTraceState(span.traceState),
    attributes,
    resource: withResource(resource),
    tenant: context.tenant,
  });
}

// ---------------------------------------------------------------------------------------------
// Metrics

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';
export const TEMPORALITY_NAMES: readonly (string | null)[] = [null, 'delta', 'cumulative'];

export interface MetricInfo {
  name: string;
  unit: string;
}

/** What one data point carries; fields a point type does not have stay null. */
export interface DataPointFields {
  type: MetricType;
  time: NanoTime;
  attributes: Attributes;
  /** gauge/sum value; null when the point has none (e.g. the NO_RECORDED_VALUE flag). */
  value: number | string | null;
  count: number | null;
  sum: number | null;
  min: number | null;
  max: number | null;
  /** summary quantiles as [quantile, value] pairs. */
  quantiles: Array<[number, number]> | null;
  temporality: number;
  /** sum only. */
  monotonic: boolean | null;
}

/** Units of duration histograms (UCUM, as the semantic conventions write them) to milliseconds. */
const MS_PER_UNIT: Record<string, number> = { s: 1000, ms: 1, us: 0.001, ns: 0.000001 };

export function dataPointToEvent(point: DataPointFields, metric: MetricInfo, resource: ResourceInfo, scopeName: string, context: DecodeContext): HeliosEvent | string {
  if (metric.name === '') return 'name: required, got an empty metric name';
  const attributes = point.attributes;
  if (scopeName !== '') attributes['otel.scope.name'] = scalar(scopeName);
  attributes['metric.name'] = scalar(metric.name);
  attributes['metric.unit'] = scalar(metric.unit);
  attributes['metric.type'] = point.type;
  const temporality = TEMPORALITY_NAMES[point.temporality];
  if (temporality) attributes['metric.temporality'] = temporality;
  if (point.monotonic !== null) attributes['metric.monotonic'] = point.monotonic;
  let latency: number | null = null;
  if (point.type === 'gauge' || point.type === 'sum') {
    attributes['metric.value'] = scalar(point.value);
  } else {
    attributes['metric.count'] = point.count;
    attributes['metric.sum'] = point.sum === null ? null : scalar(point.sum);
    if (point.type !== 'summary') {
      attributes['metric.min'] = point.min === null ? null : scalar(point.min);
      attributes['metric.max'] = point.max === null ? null : scalar(point.max);
      const msPerUnit = MS_PER_UNIT[metric.unit];
      if (msPerUnit !== undefined && point.sum !== null && point.count !== null && point.count > 0) {
        const mean = (point.sum / point.count) * msPerUnit;
        if (Number.isFinite(mean) && mean >= 0) latency = mean;
      }
    } else if (point.quantiles !== null) {
      const quantiles = point.quantiles;
      for (let i = 0; i < quantiles.length && i < MAX_QUANTILES; i++) {
        attributes[`metric.quantile.${quantiles[i][0]}`] = scalar(quantiles[i][1]);
      }
    }
  }
  const timestamp = isZeroTime(point.time) ? context.now : point.time.ms;
  return storableOrReason({
    // Deterministic (./record-id.ts) unless the point has no time: then it cannot be told from a later identical one.
    id: isZeroTime(point.time) ? newEventId() : dataPointEventId(context.tenant, resource.attributes, point.time, attributes, timestamp),
    timestamp,
    service: resource.service,
    level: 'INFO',
    message: metric.name,
    kind: 'metric',
    endpoint: endpointOf(attributes),
    latency_ms: latency,
    status_code: httpStatusOf(attributes),
    error_code: errorTypeOf(attributes),
    trace_id: null,
    span_id: null,
    sample_rate: 1,
    attributes,
    resource: withResource(resource),
    tenant: context.tenant,
  });
}

// ---------------------------------------------------------------------------------------------

/** Collects events and rejections across one request. */
export class DecodeAccumulator {
  readonly events: HeliosEvent[] = [];
  rejected = 0;
  private firstRejection: string | undefined;
  private readonly maxRecords: number;

  constructor(maxRecords = Infinity) {
    this.maxRecords = maxRecords;
  }

  push(event: HeliosEvent): void {
    if (this.events.length + this.rejected >= this.maxRecords) this.tooMany();
    this.events.push(event);
  }

  private tooMany(): never {
    throw new HeliosError('HLS_ERR_TOO_MANY_EVENTS', `more than ${this.maxRecords} records in one request`);
  }

  /** `reason` is relative to the record at `path` (`resourceSpans[0].scopeSpans[0].spans[3]`). */
  reject(path: string, reason: string): void {
    if (this.events.length + this.rejected >= this.maxRecords) this.tooMany();
    this.rejected++;
    this.firstRejection ??= `${path}.${reason}`;
  }

  rejectionMessage(): string | undefined {
    if (this.firstRejection === undefined) return undefined;
    return this.rejected === 1 ? this.firstRejection : `${this.rejected} rejected; first: ${this.firstRejection}`;
  }
}
