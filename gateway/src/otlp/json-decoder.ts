import { MalformedPayload, describeJson, prefixPath } from './malformed.js';
import type { OtlpSignal } from './protobuf-decoder.js';
import {
  DecodeAccumulator, EXCEPTION_EVENT, ZERO_TIME, exceptionOf, assignProperty, dataPointToEvent, flattenAnyValue, logRecordToEvent, resourceInfo, setAttribute,
  spanToEvent,
  type Attributes, type DataPointFields, type DecodeContext, type LogRecordFields, type MetricInfo, type MetricType, type NanoTime,
  type ResourceInfo, type SpanFields,
} from './translate.js';

/**
 * OTLP/JSON (the OTLP specification's "JSON Protobuf Encoding"):
 * - keys are the lowerCamelCase field names; the original snake_case names are not valid keys, so
 *   they are unknown fields, and unknown fields are ignored as the specification requires;
 * - traceId/spanId/parentSpanId are hex strings (not base64); `bytesValue` is base64 and kept as text;
 * - 64-bit integers may be decimal strings or numbers; timestamps are split into ms + sub-ms
 *   nanoseconds from the text, so they stay exact beyond 2^53 ns;
 * - enums are integers, and the enum value names (`SPAN_KIND_SERVER`) are accepted too;
 * - null means "absent", like protobuf's JSON mapping.
 * A value of the wrong JSON type is a MalformedPayload naming the field.
 */

type Json = unknown;
type JsonObject = Record<string, Json>;

const MAX_ANY_VALUE_DEPTH = 32;

function enumTable(prefix: string, names: readonly string[]): Record<string, number> {
  const table: Record<string, number> = Object.create(null) as Record<string, number>;
  names.forEach((name, value) => {
    table[`${prefix}${name}`] = value;
  });
  return table;
}

const SEVERITY_NUMBERS = enumTable('SEVERITY_NUMBER_', [
  'UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) => [level, `${level}2`, `${level}3`, `${level}4`]),
]);
const SPAN_KINDS = enumTable('SPAN_KIND_', ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']);
const STATUS_CODES = enumTable('STATUS_CODE_', ['UNSET', 'OK', 'ERROR']);
const TEMPORALITIES = enumTable('AGGREGATION_TEMPORALITY_', ['UNSPECIFIED', 'DELTA', 'CUMULATIVE']);

// ---------------------------------------------------------------------------------------------
// Typed field access: absent/null gives the protobuf default, a wrong type throws.

function objectField(value: Json, name: string): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new MalformedPayload(name, `expected an object, got ${describeJson(value)}`);
  return value as JsonObject;
}

function arrayField(value: Json, name: string): readonly Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedPayload(name, `expected an array, got ${describeJson(value)}`);
  return value;
}

function stringField(value: Json, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new MalformedPayload(name, `expected a string, got ${describeJson(value)}`);
  return value;
}

function boolField(value: Json, name: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new MalformedPayload(name, `expected true or false, got ${describeJson(value)}`);
  return value;
}

const UNSIGNED_DECIMAL = /^\d{1,20}$/;
const SIGNED_DECIMAL = /^-?\d{1,19}$/;

/** fixed64 nanoseconds as decimal text (exact) or a number (exact only below 2^53). */
function nanoTimeField(value: Json, name: string): NanoTime {
  if (value === undefined || value === null) return ZERO_TIME;
  if (typeof value === 'string' && UNSIGNED_DECIMAL.test(value)) {
    if (value.length <= 6) return { ms: 0, subMsNanos: Number(value) };
    return { ms: Number(value.slice(0, -6)), subMsNanos: Number(value.slice(-6)) };
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    const ms = Math.floor(value / 1e6);
    return { ms, subMsNanos: value - ms * 1e6 };
  }
  throw new MalformedPayload(name, `expected unsigned nanoseconds as a decimal string or integer, got ${describeJson(value)}`);
}

/** int64/uint64 as a number: exact up to ±2^53, beyond that the nearest double. */
function int64Field(value: Json, name: string, signed: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && (signed || value >= 0)) return value;
  if (typeof value === 'string' && (signed ? SIGNED_DECIMAL : UNSIGNED_DECIMAL).test(value)) return Number(value);
  throw new MalformedPayload(name, `expected ${signed ? 'an integer' : 'an unsigned integer'} as a decimal string or number, got ${describeJson(value)}`);
}

/** Proto3 JSON doubles: numbers, or the strings "NaN", "Infinity", "-Infinity" (and numeric text). */
function doubleField(value: Json, name: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    const n = Number(value);
    if (value.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw new MalformedPayload(name, `expected a number, got ${describeJson(value)}`);
}

function optionalDouble(value: Json, name: string): number | null {
  return value === undefined || value === null ? null : doubleField(value, name);
}

function enumField(value: Json, name: string, names: Record<string, number>): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const known = names[value];
    if (known !== undefined) return known;
  }
  throw new MalformedPayload(name, `expected an enum value (integer or name), got ${describeJson(value)}`);
}

// ---------------------------------------------------------------------------------------------
// common.v1

function anyValue(value: Json, depth: number): unknown {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new MalformedPayload('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const object = objectField(value, '');
  if (object === null) return null;
  // A oneof: a sender should set one member; if it sets several, the first in field-number order wins.
  if (object.stringValue !== undefined && object.stringValue !== null) return stringField(object.stringValue, 'stringValue');
  if (object.boolValue !== undefined && object.boolValue !== null) return boolField(object.boolValue, 'boolValue');
  if (object.intValue !== undefined && object.intValue !== null) {
    const n = int64Field(object.intValue, 'intValue', true);
    return Number.isSafeInteger(n) || typeof object.intValue !== 'string' ? n : BigInt(object.intValue).toString();
  }
  if (object.doubleValue !== undefined && object.doubleValue !== null) return doubleField(object.doubleValue, 'doubleValue');
  if (object.arrayValue !== undefined && object.arrayValue !== null) {
    const array = objectField(object.arrayValue, 'arrayValue');
    const values = arrayField(array?.values, 'arrayValue.values');
    const out: unknown[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      try {
        out[i] = anyValue(values[i], depth + 1);
      } catch (err) {
        throw prefixPath(err, `arrayValue.values[${i}]`);
      }
    }
    return out;
  }
  if (object.kvlistValue !== undefined && object.kvlistValue !== null) {
    const kvlist = objectField(object.kvlistValue, 'kvlistValue');
    const values = arrayField(kvlist?.values, 'kvlistValue.values');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < values.length; i++) {
      try {
        const kv = objectField(values[i], '');
        if (kv === null) continue;
        assignProperty(out, stringField(kv.key, 'key'), anyValueField(kv.value, depth + 1));
      } catch (err) {
        throw prefixPath(err, `kvlistValue.values[${i}]`);
      }
    }
    return out;
  }
  if (object.bytesValue !== undefined && object.bytesValue !== null) return stringField(object.bytesValue, 'bytesValue');
  return null;
}

function anyValueField(value: Json, depth: number): unknown {
  try {
    return anyValue(value, depth);
  } catch (err) {
    throw prefixPath(err, 'value');
  }
}

/** A repeated KeyValue field into `target`, flattened and limited; returns the new count. */
function attributesInto(value: Json, name: string, target: Attributes, count: number): number {
  const list = arrayField(value, name);
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = objectField(list[i], '');
      if (kv === null) continue;
      count = setAttribute(target, stringField(kv.key, 'key'), flattenAnyValue(anyValueField(kv.value, 0)), count);
    } catch (err) {
      throw prefixPath(err, `${name}[${i}]`);
    }
  }
  return count;
}

function resourceOf(value: Json): ResourceInfo {
  const attributes: Attributes = {};
  try {
    const resource = objectField(value, '');
    if (resource !== null) attributesInto(resource.attributes, 'attributes', attributes, 0);
  } catch (err) {
    throw prefixPath(err, 'resource');
  }
  return resourceInfo(attributes);
}

function scopeNameOf(value: Json): string {
  try {
    const scope = objectField(value, '');
    return scope === null ? '' : stringField(scope.name, 'name');
  } catch (err) {
    throw prefixPath(err, 'scope');
  }
}

/** Walk Export*ServiceRequest → Resource* → Scope* → records, like the protobuf decoder's readRequest. */
function walkRequest(
  request: JsonObject,
  names: readonly [resources: string, scopes: string, records: string],
  visit: (record: JsonObject, resource: ResourceInfo, scopeName: string, path: () => string) => void,
): void {
  const [resourcesName, scopesName, recordsName] = names;
  const resources = arrayField(request[resourcesName], resourcesName);
  for (let ri = 0; ri < resources.length; ri++) {
    try {
      const resourceEntry = objectField(resources[ri], '');
      if (resourceEntry === null) continue;
      const resource = resourceOf(resourceEntry.resource);
      const scopes = arrayField(resourceEntry[scopesName], scopesName);
      for (let si = 0; si < scopes.length; si++) {
        try {
          const scopeEntry = objectField(scopes[si], '');
          if (scopeEntry === null) continue;
          const scopeName = scopeNameOf(scopeEntry.scope);
          const records = arrayField(scopeEntry[recordsName], recordsName);
          for (let i = 0; i < records.length; i++) {
            try {
              const record = objectField(records[i], '');
              if (record !== null) visit(record, resource, scopeName, () => `${resourcesName}[${ri}].${scopesName}[${si}].${recordsName}[${i}]`);
            } catch (err) {
              throw prefixPath(err, `${recordsName}[${i}]`);
            }
          }
        } catch (err) {
          throw prefixPath(err, `${scopesName}[${si}]`);
        }
      }
    } catch (err) {
      throw prefixPath(err, `${resourcesName}[${ri}]`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function decodeLogs(request: JsonObject, context: DecodeContext, acc: DecodeAccumulator): void {
  walkRequest(request, ['resourceLogs', 'scopeLogs', 'logRecords'], (json, resource, scopeName, path) => {
    const record: LogRecordFields = {
      time: nanoTimeField(json.timeUnixNano, 'timeUnixNano'),
      observedTime: nanoTimeField(json.observedTimeUnixNano, 'observedTimeUnixNano'),
      severityNumber: enumField(json.severityNumber, 'severityNumber', SEVERITY_NUMBERS),
      severityText: stringField(json.severityText, 'severityText'),
      body: null,
      eventName: stringField(json.eventName, 'eventName'),
      attributes: {},
      traceId: stringField(json.traceId, 'traceId'),
      spanId: stringField(json.spanId, 'spanId'),
    };
    try {
      record.body = anyValue(json.body, 0);
    } catch (err) {
      throw prefixPath(err, 'body');
    }
    attributesInto(json.attributes, 'attributes', record.attributes, 0);
    const outcome = logRecordToEvent(record, resource, scopeName, context);
    if (typeof outcome === 'string') acc.reject(path(), outcome);
    else acc.push(outcome);
  });
}

function decodeTraces(request: JsonObject, context: DecodeContext, acc: DecodeAccumulator): void {
  walkRequest(request, ['resourceSpans', 'scopeSpans', 'spans'], (json, resource, scopeName, path) => {
    const span: SpanFields = {
      traceId: stringField(json.traceId, 'traceId'),
      spanId: stringField(json.spanId, 'spanId'),
      parentSpanId: stringField(json.parentSpanId, 'parentSpanId'),
      name: stringField(json.name, 'name'),
      kind: enumField(json.kind, 'kind', SPAN_KINDS),
      startTime: nanoTimeField(json.startTimeUnixNano, 'startTimeUnixNano'),
      endTime: nanoTimeField(json.endTimeUnixNano, 'endTimeUnixNano'),
      attributes: {},
      statusCode: 0,
      statusMessage: '',
      exception: null,
      traceState: stringField(json.traceState, 'traceState'),
    };
    attributesInto(json.attributes, 'attributes', span.attributes, 0);
    try {
      const status = objectField(json.status, '');
      if (status !== null) {
        span.statusCode = enumField(status.code, 'code', STATUS_CODES);
        span.statusMessage = stringField(status.message, 'message');
      }
    } catch (err) {
      throw prefixPath(err, 'status');
    }
    const events = arrayField(json.events, 'events');
    for (let i = 0; i < events.length && span.exception === null; i++) {
      try {
        const event = objectField(events[i], '');
        if (event === null || stringField(event.name, 'name') !== EXCEPTION_EVENT) continue;
        const attributes: Attributes = {};
        attributesInto(event.attributes, 'attributes', attributes, 0);
        span.exception = exceptionOf(EXCEPTION_EVENT, attributes);
      } catch (err) {
        throw prefixPath(err, `events[${i}]`);
      }
    }
    const outcome = spanToEvent(span, resource, scopeName, context);
    if (typeof outcome === 'string') acc.reject(path(), outcome);
    else acc.push(outcome);
  });
}

const METRIC_DATA_KEYS: ReadonlyArray<readonly [key: string, type: MetricType]> = [
  ['gauge', 'gauge'], ['sum', 'sum'], ['histogram', 'histogram'], ['exponentialHistogram', 'exponential_histogram'], ['summary', 'summary'],
];

function dataPointOf(json: JsonObject, type: MetricType, temporality: number, monotonic: boolean | null): DataPointFields {
  const point: DataPointFields = {
    type, time: nanoTimeField(json.timeUnixNano, 'timeUnixNano'), attributes: {}, value: null, count: null, sum: null, min: null, max: null,
    quantiles: null, temporality, monotonic,
  };
  attributesInto(json.attributes, 'attributes', point.attributes, 0);
  if (type === 'gauge' || type === 'sum') {
    if (json.asDouble !== undefined && json.asDouble !== null) point.value = doubleField(json.asDouble, 'asDouble');
    else if (json.asInt !== undefined && json.asInt !== null) point.value = int64Field(json.asInt, 'asInt', true);
    const flags = int64Field(json.flags, 'flags', false);
    if ((flags & 1) !== 0) point.value = null; // NO_RECORDED_VALUE
    return point;
  }
  point.count = int64Field(json.count, 'count', false);
  point.sum = optionalDouble(json.sum, 'sum');
  if (type === 'summary') {
    const quantiles = arrayField(json.quantileValues, 'quantileValues');
    if (quantiles.length > 0) point.quantiles = [];
    for (let i = 0; i < quantiles.length; i++) {
      try {
        const entry = objectField(quantiles[i], '');
        if (entry !== null) point.quantiles!.push([doubleField(entry.quantile ?? 0, 'quantile'), doubleField(entry.value ?? 0, 'value')]);
      } catch (err) {
        throw prefixPath(err, `quantileValues[${i}]`);
      }
    }
  } else {
    point.min = optionalDouble(json.min, 'min');
    point.max = optionalDouble(json.max, 'max');
  }
  return point;
}

function decodeMetrics(request: JsonObject, context: DecodeContext, acc: DecodeAccumulator): void {
  walkRequest(request, ['resourceMetrics', 'scopeMetrics', 'metrics'], (json, resource, scopeName, path) => {
    const metric: MetricInfo = { name: stringField(json.name, 'name'), unit: stringField(json.unit, 'unit') };
    for (const [key, type] of METRIC_DATA_KEYS) {
      const data = json[key];
      if (data === undefined || data === null) continue;
      try {
        const object = objectField(data, '')!;
        const temporality = type === 'gauge' || type === 'summary' ? 0 : enumField(object.aggregationTemporality, 'aggregationTemporality', TEMPORALITIES);
        const monotonic = type === 'sum' ? boolField(object.isMonotonic, 'isMonotonic') : null;
        const points = arrayField(object.dataPoints, 'dataPoints');
        for (let i = 0; i < points.length; i++) {
          let point: DataPointFields;
          try {
            const pointJson = objectField(points[i], '');
            if (pointJson === null) continue;
            point = dataPointOf(pointJson, type, temporality, monotonic);
          } catch (err) {
            throw prefixPath(err, `dataPoints[${i}]`);
          }
          const outcome = dataPointToEvent(point, metric, resource, scopeName, context);
          if (typeof outcome === 'string') acc.reject(`${path()}.${key}.dataPoints[${i}]`, outcome);
          else acc.push(outcome);
        }
      } catch (err) {
        throw prefixPath(err, key);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode an Export{Logs,Trace,Metrics}ServiceRequest in OTLP/JSON. Throws MalformedPayload. */
export function decodeJsonRequest(signal: OtlpSignal, body: Uint8Array, context: DecodeContext, acc: DecodeAccumulator): void {
  let parsed: Json;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch (err) {
    throw new MalformedPayload('', err instanceof SyntaxError ? `invalid JSON: ${err.message}` : 'invalid JSON: not UTF-8 text');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedPayload('', `expected a JSON object (Export${signal === 'logs' ? 'Logs' : signal === 'traces' ? 'Trace' : 'Metrics'}ServiceRequest), got ${describeJson(parsed)}`);
  }
  const request = parsed as JsonObject;
  if (signal === 'logs') decodeLogs(request, context, acc);
  else if (signal === 'traces') decodeTraces(request, context, acc);
  else decodeMetrics(request, context, acc);
}
