import { MalformedPayload, prefixPath } from './malformed.js';
import { BinaryId, DecodeAccumulator, EXCEPTION_EVENT, ZERO_TIME, exceptionOf, type SpanException, dataPointToEvent, logRecordToEvent, spanToEvent, type Attributes, type DataPointFields, type DecodeContext, type LogRecordFields, type MetricInfo, type MetricType, type ResourceInfo, type SpanFields } from './translate.js';
import { I64, LEN, VARINT, WireReader, expectWireType, int64ToNumber, uint64ToNumber } from './wire-reader.js';
import { EMPTY_ID, NO_RECORDED_VALUE_FLAG, enter, enterAt, leave, pathText, readAnyValue, readAttribute, readNanoTime, readRequest, type RecordPath } from './protobuf-messages.js';

export { MAX_ANY_VALUE_DEPTH } from './protobuf-messages.js';

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
 * Span.Event { name = 2; repeated KeyValue attributes = 3 }: the exception it records when it is an
 * `exception` event, else null. Attributes are read into a scratch object; events are rare.
 */
function readException(r: WireReader): SpanException | null {
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
  return exceptionOf(name, attributes);
}

function decodeTraces(r: WireReader, context: DecodeContext, acc: DecodeAccumulator): void {
  readRequest(r, ['resourceSpans', 'scopeSpans', 'spans'], (reader, resource, scopeName, path) => {
    const span: SpanFields = {
      traceId: EMPTY_ID, spanId: EMPTY_ID, parentSpanId: EMPTY_ID, name: '', kind: 0, startTime: ZERO_TIME, endTime: ZERO_TIME,
      attributes: {}, statusCode: 0, statusMessage: '', exception: null, traceState: '',
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
          if (span.exception === null) {
            const parentLimit = enterAt(reader, `events[${eventIndex}]`);
            try {
              span.exception = readException(reader);
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
