import { HeliosEventSchema, compileValidator, type HeliosEvent } from '@helios/core';
import type { HrTime } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeOtlp } from './index.js';
import { SpanStatusCode } from '@opentelemetry/api';
import { BASE_MS, SAMPLE_SPAN_ID, SAMPLE_TRACE_ID, recordSpans, sampleLogs, sampleMetrics, sampleTraces, spansPayload, utf8 } from './otel-sdk.fixture.js';
import { encodeProto, hexBytes, protoTypes } from './proto-codec.fixture.js';

const context = { tenant: 'acme', now: 1_700_000_000_000 };
/** UUIDv8 (deterministic, ./record-id.ts) for records with a time; UUIDv7 (fresh) for the few without. */
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[78][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** HrTime to epoch ms, exactly (HrTime to nanoseconds as one double would round). */
const hrTimeToMs = (time: HrTime): number => time[0] * 1000 + Math.floor(time[1] / 1e6);
const eventValidator = compileValidator<HeliosEvent>(HeliosEventSchema);

function withoutIds(events: HeliosEvent[]): Array<Omit<HeliosEvent, 'id'>> {
  return events.map(({ id: _id, ...rest }) => rest);
}

function expectValidEvents(events: HeliosEvent[]): void {
  for (const event of events) {
    expect(eventValidator.errors(event)).toEqual([]);
    expect(event.id).toMatch(EVENT_ID);
  }
}

describe('traces from the OpenTelemetry JS SDK', () => {
  it('translates every span field by field (protobuf)', async () => {
    const { spans, payload } = await sampleTraces();
    const result = decodeOtlp('traces', payload.protobuf, 'protobuf', context);
    expect(result.rejected).toBe(0);
    expect(result.rejectionMessage).toBeUndefined();
    expect(result.events).toHaveLength(3);
    expectValidEvents(result.events);
    const byName = new Map(result.events.map((e) => [e.message, e]));
    const sdkSpan = (name: string) => spans.find((s) => s.name === name)!;
    const resource = { 'service.name': 'checkout', 'service.version': '2.0.1', 'host.cpus': 4, 'deployment.tags': '["a","b"]' };

    const server = sdkSpan('GET /api/orders/:id');
    expect(byName.get('GET /api/orders/:id')).toEqual({
      id: expect.any(String),
      timestamp: BASE_MS,
      service: 'checkout',
      level: 'INFO',
      message: 'GET /api/orders/:id',
      kind: 'span',
      endpoint: '/api/orders/:id',
      latency_ms: 42.25,
      status_code: 200,
      error_code: null,
      trace_id: server.spanContext().traceId,
      span_id: server.spanContext().spanId,
      sample_rate: 1,
      attributes: {
        'http.route': '/api/orders/:id', 'url.path': '/api/orders/42', 'http.response.status_code': 200, 'http.request.method': 'GET',
        'otel.scope.name': 'checkout-instrumentation', 'span.kind': 'server',
      },
      resource,
      tenant: 'acme',
    });

    const child = sdkSpan('SELECT orders');
    expect(byName.get('SELECT orders')).toEqual({
      id: expect.any(String),
      timestamp: BASE_MS + 1,
      service: 'checkout',
      level: 'ERROR',
      message: 'SELECT orders',
      kind: 'span',
      endpoint: 'postgresql SELECT orders', // a client span's endpoint: its peer and what was asked of it
      latency_ms: 30.5,
      status_code: null,
      error_code: 'DB_TIMEOUT',
      trace_id: server.spanContext().traceId,
      span_id: child.spanContext().spanId,
      sample_rate: 1,
      attributes: {
        'db.system': 'postgresql', 'error.type': 'DB_TIMEOUT', 'otel.scope.name': 'checkout-instrumentation', 'span.kind': 'client',
        parent_span_id: server.spanContext().spanId, 'peer.name': 'postgresql', 'peer.type': 'db',
      },
      resource,
      tenant: 'acme',
    });

    const unavailable = byName.get('POST /api/pay')!;
    expect(unavailable.level).toBe('ERROR'); // http status >= 500 with span status unset
    expect(unavailable.status_code).toBe(503); // from the older http.status_code
    expect(unavailable.error_code).toBeNull();
    expect(unavailable.latency_ms).toBeCloseTo(0.75, 9);
    expect(unavailable.timestamp).toBe(BASE_MS + 100);
  });

  it('gives the same events from OTLP/JSON as from protobuf', async () => {
    const { payload } = await sampleTraces();
    const fromProtobuf = decodeOtlp('traces', payload.protobuf, 'protobuf', context);
    const fromJson = decodeOtlp('traces', payload.json, 'json', context);
    expect(withoutIds(fromJson.events)).toEqual(withoutIds(fromProtobuf.events));
    expect(fromJson.rejected).toBe(0);
  });
});

describe('span error codes', () => {
  it('takes the exception type the SDK recorded on a failed span, before the status message', async () => {
    const spans = await recordSpans({ 'service.name': 'worker' }, (tracer) => {
      const failed = tracer.startSpan('charge');
      failed.addEvent('retry', { attempt: 1 });
      failed.recordException(new RangeError('amount out of range'));
      failed.setStatus({ code: SpanStatusCode.ERROR, message: 'amount out of range' });
      failed.end();
      const fine = tracer.startSpan('log-only');
      fine.recordException(new TypeError('handled'));
      fine.end();
    });
    const payload = spansPayload(spans);
    for (const [body, encoding] of [[payload.protobuf, 'protobuf'], [payload.json, 'json']] as const) {
      const events = decodeOtlp('traces', body, encoding, context).events;
      expect(events.map((e) => [e.message, e.level, e.error_code])).toEqual([
        ['charge', 'ERROR', 'RangeError'],
        ['log-only', 'INFO', null], // an exception on a span that did not fail is not the span's error
      ]);
      // The exception's message and the first lines of its stack are kept for reports' top errors.
      expect(events[0]!.attributes).toMatchObject({ 'exception.type': 'RangeError', 'exception.message': 'amount out of range' });
      const stack = events[0]!.attributes['exception.stacktrace'];
      expect(typeof stack === 'string' && stack.startsWith('RangeError: amount out of range')).toBe(true);
      expect(String(stack).split('\n').length).toBeLessThanOrEqual(8);
    }
  });
});

describe('logs from the OpenTelemetry JS SDK', () => {
  it('translates every record field by field (protobuf)', async () => {
    const { records, payload } = await sampleLogs();
    const result = decodeOtlp('logs', payload.protobuf, 'protobuf', context);
    expect(result.rejected).toBe(0);
    expect(result.events).toHaveLength(4);
    expectValidEvents(result.events);
    const [declined, structured, warning, bare] = result.events;
    expect(declined).toEqual({
      id: expect.any(String),
      timestamp: BASE_MS,
      service: 'payments',
      level: 'ERROR',
      message: 'card declined',
      kind: 'log',
      endpoint: '/api/pay',
      latency_ms: null,
      status_code: 402,
      error_code: 'CardDeclined',
      trace_id: SAMPLE_TRACE_ID,
      span_id: SAMPLE_SPAN_ID,
      sample_rate: 1,
      attributes: { 'http.route': '/api/pay', 'http.response.status_code': 402, 'exception.type': 'CardDeclined', 'otel.scope.name': 'payments-logger' },
      resource: { 'service.name': 'payments' },
      tenant: 'acme',
    });
    expect(structured).toMatchObject({ level: 'DEBUG', message: '{"step":"capture","attempt":2,"ok":false}', timestamp: BASE_MS + 5, trace_id: null, span_id: null });
    expect(warning).toMatchObject({ level: 'WARN', message: 'retrying', timestamp: BASE_MS + 6 }); // severityText only
    // Emitted without a timestamp: the SDK stamps the emit time.
    expect(bare).toMatchObject({ level: 'INFO', message: '42', timestamp: hrTimeToMs(records[3].hrTime) });
  });

  it('gives the same events from OTLP/JSON as from protobuf', async () => {
    const { payload } = await sampleLogs();
    expect(withoutIds(decodeOtlp('logs', payload.json, 'json', context).events)).toEqual(
      withoutIds(decodeOtlp('logs', payload.protobuf, 'protobuf', context).events),
    );
  });
});

describe('metrics from the OpenTelemetry JS SDK', () => {
  it('makes one event per data point with the value, counts and duration', async () => {
    const { resourceMetrics, payload } = await sampleMetrics();
    const result = decodeOtlp('metrics', payload.protobuf, 'protobuf', context);
    expect(result.rejected).toBe(0);
    expectValidEvents(result.events);
    expect(result.events).toHaveLength(5);
    const endTime = resourceMetrics.scopeMetrics[0].metrics[0].dataPoints[0].endTime;
    const timestamp = hrTimeToMs(endTime);
    for (const event of result.events) {
      expect(event).toMatchObject({ kind: 'metric', level: 'INFO', service: 'unknown_service', resource: { 'host.name': 'node-1' }, tenant: 'acme', timestamp });
      expect(event.resource['service.name']).toBeUndefined();
      expect(event.trace_id).toBeNull();
    }
    const points = (name: string) => result.events.filter((e) => e.message === name);

    const [ok, failed] = points('http.requests').sort((a, b) => (a.status_code ?? 0) - (b.status_code ?? 0));
    expect(ok).toMatchObject({ endpoint: '/api/orders', status_code: 200, error_code: null, latency_ms: null });
    expect(ok.attributes).toEqual({
      'http.route': '/api/orders', 'http.response.status_code': 200, 'otel.scope.name': 'orders-meter',
      'metric.name': 'http.requests', 'metric.unit': '{request}', 'metric.type': 'sum', 'metric.temporality': 'cumulative', 'metric.monotonic': true,
      'metric.value': 3,
    });
    expect(failed).toMatchObject({ status_code: 500, error_code: '500', attributes: { 'metric.value': 2 } });

    expect(points('queue.depth')[0].attributes).toMatchObject({ queue: 'emails', 'metric.type': 'gauge', 'metric.value': 7.5 });

    const [histogram] = points('http.server.request.duration');
    expect(histogram.latency_ms).toBe(30); // (10 + 20 + 60) / 3 ms
    expect(histogram.endpoint).toBe('/api/orders');
    expect(histogram.attributes).toMatchObject({ 'metric.type': 'histogram', 'metric.count': 3, 'metric.sum': 90, 'metric.min': 10, 'metric.max': 60 });

    const [exponential] = points('rpc.duration');
    expect(exponential.latency_ms).toBe(1000); // mean 1 s
    expect(exponential.attributes).toMatchObject({ 'metric.type': 'exponential_histogram', 'metric.count': 2, 'metric.sum': 2, 'metric.min': 0.5, 'metric.max': 1.5, 'metric.unit': 's' });
  });

  it('gives the same events from OTLP/JSON as from protobuf', async () => {
    const { payload } = await sampleMetrics();
    expect(withoutIds(decodeOtlp('metrics', payload.json, 'json', context).events)).toEqual(
      withoutIds(decodeOtlp('metrics', payload.protobuf, 'protobuf', context).events),
    );
  });

  it('translates summaries (not made by the JS SDK) with their quantiles, in both encodings', () => {
    const summary = {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'legacy' } }] },
        scopeMetrics: [{
          metrics: [{
            name: 'rpc.latency', unit: 'ms',
            summary: { dataPoints: [{ timeUnixNano: '1714564800123456789', count: '4', sum: 10, quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 0.99, value: 6 }] }] },
          }],
        }],
      }],
    };
    const fromJson = decodeOtlp('metrics', utf8(JSON.stringify(summary)), 'json', context);
    const fromProtobuf = decodeOtlp('metrics', encodeProto(protoTypes.metricsRequest, summary), 'protobuf', context);
    expect(fromJson.events).toHaveLength(1);
    expect(fromJson.events[0]).toMatchObject({
      service: 'legacy', timestamp: BASE_MS, message: 'rpc.latency', latency_ms: null,
      attributes: { 'metric.type': 'summary', 'metric.count': 4, 'metric.sum': 10, 'metric.quantile.0.5': 2, 'metric.quantile.0.99': 6 },
    });
    expect(withoutIds(fromProtobuf.events)).toEqual(withoutIds(fromJson.events));
  });
});

describe('OTLP/JSON details from the specification', () => {
  const span = (fields: Record<string, unknown>) => utf8(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [fields] }] }] }));
  const validSpan = { traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'EEE19B7EC3C1B174', name: 'op', startTimeUnixNano: '1714564800123456789', endTimeUnixNano: '1714564800123457789' };

  it('accepts upper-case hex ids, enum names, int64 as numbers, and keeps timestamps exact past 2^53 ns', () => {
    const [event] = decodeOtlp('traces', span({ ...validSpan, kind: 'SPAN_KIND_CONSUMER', status: { code: 'STATUS_CODE_ERROR', message: 'boom' } }), 'json', context).events;
    expect(event).toMatchObject({
      trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174', service: 'unknown_service', level: 'ERROR', error_code: 'boom',
      timestamp: BASE_MS, attributes: { 'span.kind': 'consumer' },
    });
    expect(event.latency_ms).toBeCloseTo(0.001, 12); // 1000 ns, exact although both times exceed 2^53
    // 1714564800123999999 as a double rounds up to ...124000000; the decoder reads the digits instead.
    const [late] = decodeOtlp('traces', span({ ...validSpan, startTimeUnixNano: '1714564800123999999', endTimeUnixNano: 1714564800200000000, kind: 2 }), 'json', context).events;
    expect(late.timestamp).toBe(BASE_MS);
    expect(late.attributes['span.kind']).toBe('server');
  });

  it('counts a span sampled by OpenTelemetry probability sampling as its adjusted count (tracestate ot=th:), in both encodings', () => {
    const rateOf = (traceState: string) => decodeOtlp('traces', span({ ...validSpan, traceState }), 'json', context).events[0]!.sample_rate;
    expect(rateOf('')).toBe(1);
    expect(rateOf('ot=th:0')).toBe(1); // threshold 0: every span kept
    expect(rateOf('ot=th:8')).toBe(2); // 50%
    expect(rateOf('vendor=x, ot=rv:abcdef01234567;th:c')).toBe(4); // 25%, among other members and sub-keys
    expect(rateOf('ot=th:fd70a4')).toBeCloseTo(100, 3); // 1%, as the specification's example
    for (const malformed of ['ot=th:', 'ot=th:xyz', 'ot=th:123456789abcdef0', 'xot=th:8', 'vendor=th:8', 'ot=rv:8']) expect(rateOf(malformed), malformed).toBe(1);
    const proto = encodeProto(protoTypes.traceRequest, {
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: hexBytes(SAMPLE_TRACE_ID), spanId: hexBytes(SAMPLE_SPAN_ID), name: 'op', traceState: 'ot=th:c', startTimeUnixNano: '1714564800123456789', endTimeUnixNano: '1714564800123457789' }] }] }],
    });
    expect(decodeOtlp('traces', proto, 'protobuf', context).events[0]!.sample_rate).toBe(4);
  });

  it('dates a log record by timeUnixNano, else observedTimeUnixNano, else the ingestion time', () => {
    const logs = (records: unknown[]) => utf8(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }));
    const events = decodeOtlp('logs', logs([
      { timeUnixNano: '1714564800123456789', observedTimeUnixNano: '1714564900000000000' },
      { observedTimeUnixNano: 1714564800123456 * 1000, severityNumber: 'SEVERITY_NUMBER_FATAL' },
      { body: { kvlistValue: { values: [{ key: 'k', value: { intValue: 1 } }] } }, severityNumber: 0, severityText: 'nonsense' },
    ]), 'json', context).events;
    expect(events.map((e) => e.timestamp)).toEqual([BASE_MS, BASE_MS, context.now]);
    expect(events.map((e) => e.level)).toEqual(['INFO', 'CRITICAL', 'INFO']);
    expect(events[2].message).toBe('{"k":1}');
  });

  it('keeps events within the HeliosEvent limits: 100 payload attributes, 4096-character strings, 256-character keys', () => {
    const attributes = Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'x'.repeat(i === 0 ? 5000 : 3) } }));
    attributes.unshift({ key: 'y'.repeat(257), value: { stringValue: 'dropped' } });
    const [event] = decodeOtlp('traces', span({ ...validSpan, attributes }), 'json', context).events;
    expect(eventValidator.errors(event)).toEqual([]);
    expect(Object.keys(event.attributes).filter((k) => k.startsWith('k'))).toHaveLength(100);
    expect(event.attributes.k0).toHaveLength(4096);
    expect(event.attributes.k100).toBeUndefined();
    expect(event.attributes['otel.scope.name']).toBeUndefined(); // no scope in this request
  });

  it('reads negative and large int64 metric values the same from both encodings', () => {
    const request = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'delta', sum: { aggregationTemporality: 1, dataPoints: [
      { asInt: '-42', timeUnixNano: '1714564800123456789' }, { asInt: '9007199254740991' }, { asDouble: -0.5 }, { asInt: '7', flags: 1 },
    ] } }] }] }] };
    const fromJson = decodeOtlp('metrics', utf8(JSON.stringify(request)), 'json', context).events;
    const fromProtobuf = decodeOtlp('metrics', encodeProto(protoTypes.metricsRequest, request), 'protobuf', context).events;
    expect(fromJson.map((e) => e.attributes['metric.value'])).toEqual([-42, 9007199254740991, -0.5, null]);
    expect(fromJson[0].attributes).toMatchObject({ 'metric.temporality': 'delta', 'metric.monotonic': false });
    expect(fromJson.map((e) => e.timestamp)).toEqual([BASE_MS, context.now, context.now, context.now]);
    expect(withoutIds(fromProtobuf)).toEqual(withoutIds(fromJson));
  });

  it('ignores snake_case keys like any unknown field (the specification does not allow them)', () => {
    const result = decodeOtlp('traces', span({ ...validSpan, startTimeUnixNano: undefined, start_time_unix_nano: '1714564800123456789' }), 'json', context);
    expect(result.events).toHaveLength(0);
    expect(result.rejectionMessage).toBe('resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: required, got 0');
  });

  it('flattens attribute values: arrays and kvlists as JSON, bytes as base64, big int64 as exact text, NaN as null', () => {
    const attributes = [
      { key: 'list', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }, { arrayValue: { values: [{ boolValue: true }] } }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'a', value: { doubleValue: 1.5 } }, { key: '__proto__', value: { stringValue: 'kept' } }] } } },
      { key: 'raw', value: { bytesValue: 'AQID' } },
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'empty', value: {} },
      { key: '__proto__', value: { stringValue: 'plain property' } },
    ];
    const json = decodeOtlp('traces', span({ ...validSpan, attributes }), 'json', context).events[0];
    expect(json.attributes).toMatchObject({
      list: '[1,"x",[true]]', map: '{"a":1.5,"__proto__":"kept"}', raw: 'AQID', big: '9007199254740993', nan: null, empty: null,
    });
    expect(Object.getPrototypeOf(json.attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(json.attributes, '__proto__')?.value).toBe('plain property');

    const protobuf = encodeProto(protoTypes.traceRequest, {
      resourceSpans: [{ scopeSpans: [{ spans: [{
        ...validSpan, traceId: hexBytes(validSpan.traceId), spanId: hexBytes(validSpan.spanId),
        attributes: attributes.map((a) => (a.key === 'raw' ? { key: 'raw', value: { bytesValue: Uint8Array.of(1, 2, 3) } } : a.key === 'nan' ? { key: 'nan', value: { doubleValue: NaN } } : a)),
      }] }] }],
    });
    expect(decodeOtlp('traces', protobuf, 'protobuf', context).events[0].attributes).toEqual(json.attributes);
  });
});
