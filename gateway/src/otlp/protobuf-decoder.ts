import { MalformedPayload, prefixPath } from './malformed.js';
import {
  BinaryId, DecodeAccumulator, EXCEPTION_EVENT, EXCEPTION_TYPE, ZERO_TIME, assignProperty, dataPointToEvent, flattenAnyValue, logRecordToEvent, nanoTimeFromHalves,
  resourceInfo, setAttribute, spanToEvent,
  type Attributes, type DataPointFields, type DecodeContext, type LogRecordFields, type MetricInfo, type MetricType,
  type NanoTime, type RawId, type ResourceInfo, type SpanFields,
} from './translate.js';
import { I64, LEN, VARINT, WireReader, expectWireType, int64ToDecimal, int64ToNumber, uint64ToNumber } from './wire-reader.js';

/**
 * OTLP protobuf (opentelemetry-proto v1, field numbers from the .proto files) read straight from
 * the wire into Helios events: no intermediate message objects; ids are hex-encoded straight from
 * the body. Unknown fields are skipped, as protobuf requires; a known field with the wrong wire
 * type, a truncated field or a length past its message is a MalformedPayload naming where.
 *
 * Fields can legally arrive in any order, so containers whose header (resource, scope, metric
 * name/unit, aggregation temporality) is needed to translate their children are read in two
 * passes: header fields first, then the children. Both passes only walk tags; the cost is small.
 */

const EMPTY_ID: RawId = new BinaryId('');
/** AnyValue nesting (arrays in kvlists in arrays...) beyond this is refused: bounded stack on hostile input. */
export const MAX_ANY_VALUE_DEPTH = 32;
const NO_RECORDED_VALUE_FLAG = 1;

/** Enter the length-delimited field at the reader's position; returns the parent's limit for `leave`. */
function enter(r: WireReader): number {
  const end = r.readLengthEnd();
  const parentLimit = r.limit;
  r.limit = end;
  return parentLimit;
}

/** `enter` for a field whose truncation should be reported at `segment`. */
function enterAt(r: WireReader, segment: string): number {
  try {
    return enter(r);
  } catch (err) {
    throw prefixPath(err, segment);
  }
}

function leave(r: WireReader, parentLimit: number): void {
  r.limit = parentLimit;
}

function readNanoTime(r: WireReader, tag: number, name: string): NanoTime {
  expectWireType(tag, I64, name);
  r.readFixed64();
  return nanoTimeFromHalves(r.lo, r.hi);
}

// ---------------------------------------------------------------------------------------------
// common.v1: AnyValue, KeyValue, Resource, InstrumentationScope

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** AnyValue as a JS value: scalars, arrays, objects; bytes as base64 text; int64 beyond ±2^53 as exact decimal text. */
function readAnyValue(r: WireReader, depth: number): unknown {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new MalformedPayload('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  let value: unknown = null;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'stringValue');
        value = r.readString();
        break;
      case 2:
        expectWireType(tag, VARINT, 'boolValue');
        r.readVarint64();
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case 3: {
        expectWireType(tag, VARINT, 'intValue');
        r.readVarint64();
        const n = int64ToNumber(r.lo, r.hi);
        value = Number.isSafeInteger(n) ? n : int64ToDecimal(r.lo, r.hi);
        break;
      }
      case 4:
        expectWireType(tag, I64, 'doubleValue');
        value = r.readDouble();
        break;
      case 5: {
        expectWireType(tag, LEN, 'arrayValue');
        const parentLimit = enterAt(r, 'arrayValue');
        const values: unknown[] = [];
        while (r.pos < r.limit) {
          const inner = r.readTag();
          if (inner >>> 3 === 1) {
            expectWireType(inner, LEN, 'values');
            const arrayLimit = enterAt(r, `arrayValue.values[${values.length}]`);
            try {
              values.push(readAnyValue(r, depth + 1));
            } catch (err) {
              throw prefixPath(err, `arrayValue.values[${values.length}]`);
            }
            leave(r, arrayLimit);
          } else r.skip(inner);
        }
        leave(r, parentLimit);
        value = values;
        break;
      }
      case 6: {
        expectWireType(tag, LEN, 'kvlistValue');
        const parentLimit = enterAt(r, 'kvlistValue');
        const object: Record<string, unknown> = {};
        let index = 0;
        while (r.pos < r.limit) {
          const inner = r.readTag();
          if (inner >>> 3 === 1) {
            expectWireType(inner, LEN, 'values');
            const kvLimit = enterAt(r, `kvlistValue.values[${index}]`);
            try {
              readKeyValue(r, depth + 1, object, null);
            } catch (err) {
              throw prefixPath(err, `kvlistValue.values[${index}]`);
            }
            leave(r, kvLimit);
            index++;
          } else r.skip(inner);
        }
        leave(r, parentLimit);
        value = object;
        break;
      }
      case 7:
        expectWireType(tag, LEN, 'bytesValue');
        value = base64(r.readBytes());
        break;
      default:
        r.skip(tag);
    }
  }
  return value;
}

/**
 * One KeyValue into `target`. With `count` (attribute maps) the value is flattened to a scalar and
 * the attribute limits apply; without (kvlist values) it is kept as a nested JS value.
 * Returns the new count.
 */
function readKeyValue(r: WireReader, depth: number, target: Record<string, unknown>, count: number | null): number {
  let key = '';
  let value: unknown = null;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'key');
        key = r.readString();
        break;
      case 2: {
        expectWireType(tag, LEN, 'value');
        const parentLimit = enterAt(r, 'value');
        try {
          value = readAnyValue(r, depth);
        } catch (err) {
          throw prefixPath(err, 'value');
        }
        leave(r, parentLimit);
        break;
      }
      default:
        r.skip(tag);
    }
  }
  if (count === null) {
    assignProperty(target, key, value);
    return 0;
  }
  return setAttribute(target as Attributes, key, flattenAnyValue(value), count);
}

/** A repeated KeyValue field (the current tag) added to `target`; returns the new attribute count. */
function readAttribute(r: WireReader, tag: number, name: string, index: number, target: Attributes, count: number): number {
  expectWireType(tag, LEN, name);
  let parentLimit = 0;
  try {
    parentLimit = enter(r);
    count = readKeyValue(r, 0, target, count);
  } catch (err) {
    throw prefixPath(err, `${name}[${index}]`);
  }
  leave(r, parentLimit);
  return count;
}

/** Resource message at the reader's position into `target` (attributes); returns the new count. */
function readResource(r: WireReader, target: Attributes, count: number): number {
  let index = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) count = readAttribute(r, tag, 'attributes', index++, target, count);
    else r.skip(tag);
  }
  return count;
}

/** InstrumentationScope's name; version and attributes are not carried into events. */
function readScopeName(r: WireReader): string {
  let name = '';
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'name');
      name = r.readString();
    } else r.skip(tag);
  }
  return name;
}

/**
 * First pass over a Resource* or Scope* container: reads the header field (number 1: resource or
 * scope) wherever it sits. Leaves the reader at the container's start for the second pass.
 */
function readResourceHeader(r: WireReader): ResourceInfo {
  const start = r.pos;
  const attributes: Attributes = {};
  let count = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'resource');
      const parentLimit = enterAt(r, 'resource');
      try {
        count = readResource(r, attributes, count);
      } catch (err) {
        throw prefixPath(err, 'resource');
      }
      leave(r, parentLimit);
    } else r.skip(tag);
  }
  r.pos = start;
  return resourceInfo(attributes);
}

function readScopeHeader(r: WireReader): string {
  const start = r.pos;
  let name = '';
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'scope');
      const parentLimit = enterAt(r, 'scope');
      try {
        name = readScopeName(r);
      } catch (err) {
        throw prefixPath(err, 'scope');
      }
      leave(r, parentLimit);
    } else r.skip(tag);
  }
  r.pos = start;
  return name;
}

/**
 * The shared skeleton of all three requests: Export*ServiceRequest { repeated Resource* = 1 },
 * Resource* { resource = 1; repeated Scope* = 2 }, Scope* { scope = 1; repeated <record> = 2 }.
 * `readRecord` is called with the reader limited to one record message.
 */
function readRequest(
  r: WireReader,
  names: readonly [resources: string, scopes: string, records: string],
  readRecord: (r: WireReader, resource: ResourceInfo, scopeName: string, path: RecordPath) => void,
): void {
  const path: RecordPath = { resourceIndex: 0, scopeIndex: 0, recordIndex: 0, names };
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 !== 1) {
      r.skip(tag);
      continue;
    }
    expectWireType(tag, LEN, names[0]);
    let requestLimit = 0;
    try {
      requestLimit = enter(r);
      const resource = readResourceHeader(r);
      path.scopeIndex = 0;
      while (r.pos < r.limit) {
        const resourceTag = r.readTag();
        if (resourceTag >>> 3 !== 2) {
          r.skip(resourceTag);
          continue;
        }
        expectWireType(resourceTag, LEN, names[1]);
        let resourceLimit = 0;
        try {
          resourceLimit = enter(r);
          const scopeName = readScopeHeader(r);
          path.recordIndex = 0;
          while (r.pos < r.limit) {
            const scopeTag = r.readTag();
            if (scopeTag >>> 3 !== 2) {
              r.skip(scopeTag);
              continue;
            }
            expectWireType(scopeTag, LEN, names[2]);
            let scopeLimit = 0;
            try {
              scopeLimit = enter(r);
              readRecord(r, resource, scopeName, path);
            } catch (err) {
              throw prefixPath(err, `${names[2]}[${path.recordIndex}]`);
            }
            leave(r, scopeLimit);
            path.recordIndex++;
          }
        } catch (err) {
          throw prefixPath(err, `${names[1]}[${path.scopeIndex}]`);
        }
        leave(r, resourceLimit);
        path.scopeIndex++;
      }
    } catch (err) {
      throw prefixPath(err, `${names[0]}[${path.resourceIndex}]`);
    }
    leave(r, requestLimit);
    path.resourceIndex++;
  }
}

/** Where the record being read sits; turned into text only when a record is rejected. */
interface RecordPath {
  resourceIndex: number;
  scopeIndex: number;
  recordIndex: number;
  readonly names: readonly [string, string, string];
}

function pathText(path: RecordPath): string {
  const [resources, scopes, records] = path.names;
  return `${resources}[${path.resourceIndex}].${scopes}[${path.scopeIndex}].${records}[${path.recordIndex}]`;
}

// ---------------------------------------------------------------------------------------------
// logs.v1

function decodeLogs(r: WireReader, context: DecodeContext, acc: DecodeAccumulator): void {
  readRequest(r, ['resourceLogs', 'scopeLogs', 'logRecords'], (reader, resource, scopeName, path) => {
    const record: LogRecordFields = {
      time: ZERO_TIME, observedTime: ZERO_TIME, severityNumber: 0, severityText: '', body: null, eventName: '',
      attributes: {}, traceId: EMPTY_ID, spanId: EMPTY_ID,
    };
    let count = 0;
    let attributeIndex = 0;
    while (reader.pos < reader.limit) {
      const tag = reader.readTag();
      switch (tag >>> 3) {
        case 1:
          record.time = readNanoTime(reader, tag, 'timeUnixNano');
          break;
        case 11:
          record.observedTime = readNanoTime(reader, tag, 'observedTimeUnixNano');
          break;
        case 2:
          expectWireType(tag, VARINT, 'severityNumber');
          record.severityNumber = reader.readVarint32() | 0;
          break;
        case 3:
          expectWireType(tag, LEN, 'severityText');
          record.severityText = reader.readString();
          break;
        case 5: {
          expectWireType(tag, LEN, 'body');
          const parentLimit = enterAt(reader, 'body');
          try {
            record.body = readAnyValue(reader, 0);
          } catch (err) {
            throw prefixPath(err, 'body');
          }
          leave(reader, parentLimit);
          break;
        }
        case 6:
          count = readAttribute(reader, tag, 'attributes', attributeIndex++, record.attributes, count);
          break;
        case 9:
          expectWireType(tag, LEN, 'traceId');
          record.traceId = new BinaryId(reader.readBytesAsHex());
          break;
        case 10:
          expectWireType(tag, LEN, 'spanId');
          record.spanId = new BinaryId(reader.readBytesAsHex());
          break;
        case 12:
          expectWireType(tag, LEN, 'eventName');
          record.eventName = reader.readString();
          break;
        default:
          reader.skip(tag);
      }
    }
    const outcome = logRecordToEvent(record, resource, scopeName, context);
    if (typeof outcome === 'string') acc.reject(pathText(path), outcome);
    else acc.push(outcome);
  });
}

// ---------------------------------------------------------------------------------------------
// trace.v1

function readStatus(r: WireReader, span: SpanFields): void {
  while (r.pos < r.limit) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 2:
        expectWireType(tag, LEN, 'message');
        span.statusMessage = r.readString();
        break;
      case 3:
        expectWireType(tag, VARINT, 'code');
        span.statusCode = r.readVarint32() | 0;
        break;
      default:
        r.skip(tag);
    }
  }
}

/**
 * Span.Event { name = 2; repeated KeyValue attributes = 3 }: the `exception.type` attribute when the
 * event is an `exception` event, else ''. Attributes are read into a scratch object; events are rare.
 */
function readExceptionType(r: WireReader): string {
  let name = '';
  const attributes: Attributes = {};
  let count = 0;
  let attributeIndex = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    const field = tag >>> 3;
    if (field === 2) {
      expectWireType(tag, LEN, 'name');
      name = r.readString();
    } else if (field === 3) {
      count = readAttribute(r, tag, 'attributes', attributeIndex++, attributes, count);
    } else r.skip(tag);
  }
  const type = attributes[EXCEPTION_TYPE];
  return name === EXCEPTION_EVENT && typeof type === 'string' ? type : '';
}

function decodeTraces(r: WireReader, context: DecodeContext, acc: DecodeAccumulator): void {
  readRequest(r, ['resourceSpans', 'scopeSpans', 'spans'], (reader, resource, scopeName, path) => {
    const span: SpanFields = {
      traceId: EMPTY_ID, spanId: EMPTY_ID, parentSpanId: EMPTY_ID, name: '', kind: 0, startTime: ZERO_TIME, endTime: ZERO_TIME,
      attributes: {}, statusCode: 0, statusMessage: '', exceptionType: '', traceState: '',
    };
    let count = 0;
    let attributeIndex = 0;
    let eventIndex = 0;
    while (reader.pos < reader.limit) {
      const tag = reader.readTag();
      switch (tag >>> 3) {
        case 1:
          expectWireType(tag, LEN, 'traceId');
          span.traceId = new BinaryId(reader.readBytesAsHex());
          break;
        case 2:
          expectWireType(tag, LEN, 'spanId');
          span.spanId = new BinaryId(reader.readBytesAsHex());
          break;
        case 4:
          expectWireType(tag, LEN, 'parentSpanId');
          span.parentSpanId = new BinaryId(reader.readBytesAsHex());
          break;
        case 3:
          expectWireType(tag, LEN, 'traceState');
          span.traceState = reader.readString();
          break;
        case 5:
          expectWireType(tag, LEN, 'name');
          span.name = reader.readString();
          break;
        case 6:
          expectWireType(tag, VARINT, 'kind');
          span.kind = reader.readVarint32() | 0;
          break;
        case 7:
          span.startTime = readNanoTime(reader, tag, 'startTimeUnixNano');
          break;
        case 8:
          span.endTime = readNanoTime(reader, tag, 'endTimeUnixNano');
          break;
        case 9:
          count = readAttribute(reader, tag, 'attributes', attributeIndex++, span.attributes, count);
          break;
        case 15: {
          expectWireType(tag, LEN, 'status');
          const parentLimit = enterAt(reader, 'status');
          try {
            readStatus(reader, span);
          } catch (err) {
            throw prefixPath(err, 'status');
          }
          leave(reader, parentLimit);
          break;
        }
        case 11:
          expectWireType(tag, LEN, 'events');
          if (span.exceptionType === '') {
            const parentLimit = enterAt(reader, `events[${eventIndex}]`);
            try {
              span.exceptionType = readExceptionType(reader);
            } catch (err) {
              throw prefixPath(err, `events[${eventIndex}]`);
            }
            leave(reader, parentLimit);
          } else reader.skip(tag);
          eventIndex++;
          break;
        default:
          reader.skip(tag); // links, dropped counts, flags: not carried into events
      }
    }
    const outcome = spanToEvent(span, resource, scopeName, context);
    if (typeof outcome === 'string') acc.reject(pathText(path), outcome);
    else acc.push(outcome);
  });
}

// ---------------------------------------------------------------------------------------------
// metrics.v1

/** Metric.data oneof field numbers to their type and JSON field name. */
const METRIC_DATA_FIELDS: Record<number, { type: MetricType; name: string }> = {
  5: { type: 'gauge', name: 'gauge' },
  7: { type: 'sum', name: 'sum' },
  9: { type: 'histogram', name: 'histogram' },
  10: { type: 'exponential_histogram', name: 'exponentialHistogram' },
  11: { type: 'summary', name: 'summary' },
};

/** Attribute field number in each data point message (they differ: 7 in Number/Summary, 9 in Histogram, 1 in ExponentialHistogram). */
const ATTRIBUTES_FIELD: Record<MetricType, number> = { gauge: 7, sum: 7, histogram: 9, exponential_histogram: 1, summary: 7 };

function readQuantile(r: WireReader): [number, number] {
  let quantile = 0;
  let value = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, I64, 'quantile');
      quantile = r.readDouble();
    } else if (tag >>> 3 === 2) {
      expectWireType(tag, I64, 'value');
      value = r.readDouble();
    } else r.skip(tag);
  }
  return [quantile, value];
}

function readDataPoint(r: WireReader, type: MetricType, temporality: number, monotonic: boolean | null): DataPointFields {
  const point: DataPointFields = {
    type, time: ZERO_TIME, attributes: {}, value: null, count: null, sum: null, min: null, max: null, quantiles: null, temporality, monotonic,
  };
  const attributesField = ATTRIBUTES_FIELD[type];
  const isNumber = type === 'gauge' || type === 'sum';
  const isExponential = type === 'exponential_histogram';
  let count = 0;
  let attributeIndex = 0;
  let flags = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    const field = tag >>> 3;
    if (field === attributesField) {
      count = readAttribute(r, tag, 'attributes', attributeIndex++, point.attributes, count);
    } else if (field === 3) {
      point.time = readNanoTime(r, tag, 'timeUnixNano');
    } else if (isNumber) {
      if (field === 4) {
        expectWireType(tag, I64, 'asDouble');
        point.value = r.readDouble();
      } else if (field === 6) {
        expectWireType(tag, I64, 'asInt'); // sfixed64
        r.readFixed64();
        point.value = int64ToNumber(r.lo, r.hi); // exact up to ±2^53; beyond, the nearest double
      } else if (field === 8) {
        expectWireType(tag, VARINT, 'flags');
        flags = r.readVarint32();
      } else r.skip(tag);
    } else if (field === 4) {
      expectWireType(tag, I64, 'count');
      r.readFixed64();
      point.count = uint64ToNumber(r.lo, r.hi);
    } else if (field === 5) {
      expectWireType(tag, I64, 'sum');
      point.sum = r.readDouble();
    } else if (type === 'summary' && field === 6) {
      expectWireType(tag, LEN, 'quantileValues');
      const parentLimit = enterAt(r, `quantileValues[${point.quantiles?.length ?? 0}]`);
      try {
        (point.quantiles ??= []).push(readQuantile(r));
      } catch (err) {
        throw prefixPath(err, `quantileValues[${point.quantiles?.length ?? 0}]`);
      }
      leave(r, parentLimit);
    } else if (field === (isExponential ? 12 : 11) && type !== 'summary') {
      expectWireType(tag, I64, 'min');
      point.min = r.readDouble();
    } else if (field === (isExponential ? 13 : 12) && type !== 'summary') {
      expectWireType(tag, I64, 'max');
      point.max = r.readDouble();
    } else r.skip(tag); // start time, buckets, exemplars, flags of distributions
  }
  if ((flags & NO_RECORDED_VALUE_FLAG) !== 0) point.value = null;
  return point;
}

/** One Metric message: name and unit first (pass 1), then its data points (pass 2). */
function readMetric(r: WireReader, resource: ResourceInfo, scopeName: string, path: RecordPath, context: DecodeContext, acc: DecodeAccumulator): void {
  const start = r.pos;
  const metric: MetricInfo = { name: '', unit: '' };
  while (r.pos < r.limit) {
    const tag = r.readTag();
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, LEN, 'name');
      metric.name = r.readString();
    } else if (field === 3) {
      expectWireType(tag, LEN, 'unit');
      metric.unit = r.readString();
    } else r.skip(tag);
  }
  r.pos = start;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    const data = METRIC_DATA_FIELDS[tag >>> 3];
    if (data === undefined) {
      r.skip(tag);
      continue;
    }
    expectWireType(tag, LEN, data.name);
    let dataLimit = 0;
    try {
      dataLimit = enter(r);
      readMetricData(r, data.type, data.name, metric, resource, scopeName, path, context, acc);
    } catch (err) {
      throw prefixPath(err, data.name);
    }
    leave(r, dataLimit);
  }
}

/** Gauge/Sum/Histogram/ExponentialHistogram/Summary: temporality and monotonicity first, then points. */
function readMetricData(
  r: WireReader, type: MetricType, fieldName: string, metric: MetricInfo, resource: ResourceInfo, scopeName: string,
  path: RecordPath, context: DecodeContext, acc: DecodeAccumulator,
): void {
  const start = r.pos;
  let temporality = 0;
  let monotonic: boolean | null = type === 'sum' ? false : null;
  if (type !== 'gauge' && type !== 'summary') {
    while (r.pos < r.limit) {
      const tag = r.readTag();
      const field = tag >>> 3;
      if (field === 2) {
        expectWireType(tag, VARINT, 'aggregationTemporality');
        temporality = r.readVarint32() | 0;
      } else if (field === 3 && type === 'sum') {
        expectWireType(tag, VARINT, 'isMonotonic');
        r.readVarint64();
        monotonic = r.lo !== 0 || r.hi !== 0;
      } else r.skip(tag);
    }
    r.pos = start;
  }
  let pointIndex = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 !== 1) {
      r.skip(tag);
      continue;
    }
    expectWireType(tag, LEN, 'dataPoints');
    let pointLimit = 0;
    let point: DataPointFields;
    try {
      pointLimit = enter(r);
      point = readDataPoint(r, type, temporality, monotonic);
    } catch (err) {
      throw prefixPath(err, `dataPoints[${pointIndex}]`);
    }
    leave(r, pointLimit);
    const outcome = dataPointToEvent(point, metric, resource, scopeName, context);
    if (typeof outcome === 'string') acc.reject(`${pathText(path)}.${fieldName}.dataPoints[${pointIndex}]`, outcome);
    else acc.push(outcome);
    pointIndex++;
  }
}

function decodeMetrics(r: WireReader, context: DecodeContext, acc: DecodeAccumulator): void {
  readRequest(r, ['resourceMetrics', 'scopeMetrics', 'metrics'], (reader, resource, scopeName, path) => {
    readMetric(reader, resource, scopeName, path, context, acc);
  });
}

// ---------------------------------------------------------------------------------------------

export type OtlpSignal = 'logs' | 'traces' | 'metrics';

/** Decode an Export{Logs,Trace,Metrics}ServiceRequest body. Throws MalformedPayload. */
export function decodeProtobufRequest(signal: OtlpSignal, body: Uint8Array, context: DecodeContext, acc: DecodeAccumulator): void {
  const reader = new WireReader(body);
  if (signal === 'logs') decodeLogs(reader, context, acc);
  else if (signal === 'traces') decodeTraces(reader, context, acc);
  else decodeMetrics(reader, context, acc);
}
