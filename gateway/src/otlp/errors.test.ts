import { isHeliosError } from '@helios/core';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeOtlp, encodeOtlpResponse, encodeOtlpStatus, GrpcCode, type OtlpDecodeResult } from './index.js';
import { sampleTraces, utf8 } from './otel-sdk.fixture.js';
import { decodeProto, encodeProto, hexBytes, protoTypes } from './proto-codec.fixture.js';

const context = { tenant: 'acme', now: 1_700_000_000_000 };
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

function malformedMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(isHeliosError(err, 'HLS_ERR_BODY_MALFORMED')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected HLS_ERR_BODY_MALFORMED, nothing was thrown');
}

/** Minimal protobuf writer for hand-made wrong payloads. */
const varint = (value: number): number[] => {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
};
const len = (field: number, content: number[]): number[] => [...varint((field << 3) | 2), ...varint(content.length), ...content];

describe('partial success', () => {
  const span = (fields: Record<string, unknown>) => ({
    traceId: hexBytes(TRACE_ID), spanId: hexBytes(SPAN_ID), name: 'op', startTimeUnixNano: '1714564800123456789', endTimeUnixNano: '1714564800200000000', ...fields,
  });

  it('keeps good spans and counts the ones that cannot be translated (protobuf)', () => {
    const body = encodeProto(protoTypes.traceRequest, {
      resourceSpans: [{ scopeSpans: [
        { spans: [span({})] },
        { spans: [span({}), span({}), span({ name: 'kept' }), span({ traceId: hexBytes('0102030405') }), span({ spanId: new Uint8Array(0) }), span({ startTimeUnixNano: 0 })] },
      ] }],
    });
    const result = decodeOtlp('traces', body, 'protobuf', context);
    expect(result.events.map((e) => e.message)).toEqual(['op', 'op', 'op', 'kept']);
    expect(result.rejected).toBe(3);
    expect(result.rejectionMessage).toBe('3 rejected; first: resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 16 bytes, got 5');
  });

  it('names the record and the problem in OTLP/JSON', () => {
    const body = utf8(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [
      { traceId: TRACE_ID, spanId: SPAN_ID, startTimeUnixNano: '1', endTimeUnixNano: '2' },
      { traceId: TRACE_ID, spanId: 'xyz', startTimeUnixNano: '1' },
    ] }] }] }));
    const result = decodeOtlp('traces', body, 'json', context);
    expect(result.events).toHaveLength(1);
    expect(result).toMatchObject({ rejected: 1, rejectionMessage: 'resourceSpans[0].scopeSpans[0].spans[1].spanId: expected 16 hex characters, got "xyz"' });
  });

  it('rejects log records with a bad span id and data points of nameless metrics', () => {
    const logs = decodeOtlp('logs', encodeProto(protoTypes.logsRequest, {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { body: { stringValue: 'bad' }, spanId: hexBytes('01') }] }] }],
    }), 'protobuf', context);
    expect(logs.events.map((e) => e.message)).toEqual(['ok']);
    expect(logs.rejectionMessage).toBe('resourceLogs[0].scopeLogs[0].logRecords[1].spanId: expected 8 bytes, got 1');

    const metrics = decodeOtlp('metrics', utf8(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [
      { name: 'kept', gauge: { dataPoints: [{ asInt: '5' }] } },
      { gauge: { dataPoints: [{ asDouble: 1 }, { asDouble: 2 }] } },
    ] }] }] })), 'json', context);
    expect(metrics.events.map((e) => e.attributes['metric.value'])).toEqual([5]);
    expect(metrics).toMatchObject({ rejected: 2, rejectionMessage: '2 rejected; first: resourceMetrics[0].scopeMetrics[0].metrics[1].gauge.dataPoints[0].name: required, got an empty metric name' });
  });
});

describe('malformed bodies', () => {
  it('refuses bytes that are not protobuf, naming the problem', () => {
    expect(malformedMessage(() => decodeOtlp('traces', utf8('hello'), 'protobuf', context))).toMatch(/unsupported end-group/);
    expect(malformedMessage(() => decodeOtlp('logs', Uint8Array.of(0x0a, 0x05, 0x01), 'protobuf', context))).toBe(
      'resourceLogs[0]: truncated: length 5 exceeds the 1 byte(s) left',
    );
    expect(malformedMessage(() => decodeOtlp('metrics', Uint8Array.of(0x08, 0x01), 'protobuf', context))).toBe(
      'resourceMetrics: wire type varint, expected length-delimited (field 1)',
    );
  });

  it('locates a wrong wire type deep inside a span', () => {
    // resourceSpans[0].scopeSpans[0].spans[0] with startTimeUnixNano (field 7) sent length-delimited.
    const body = Uint8Array.from(len(1, len(2, len(2, len(7, [1, 2, 3])))));
    expect(malformedMessage(() => decodeOtlp('traces', body, 'protobuf', context))).toBe(
      'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: wire type length-delimited, expected fixed64 (field 7)',
    );
  });

  it('refuses a truncated SDK payload', async () => {
    const { payload } = await sampleTraces();
    const message = malformedMessage(() => decodeOtlp('traces', payload.protobuf.subarray(0, payload.protobuf.length - 7), 'protobuf', context));
    expect(message).toMatch(/^resourceSpans\[0\]: truncated/);
  });

  it('refuses AnyValues nested without bound', () => {
    let value: Record<string, unknown> = { stringValue: 'deep' };
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    const request = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: value }] }] }] };
    expect(malformedMessage(() => decodeOtlp('logs', utf8(JSON.stringify(request)), 'json', context))).toMatch(/nested deeper than 32 levels/);
    expect(malformedMessage(() => decodeOtlp('logs', encodeProto(protoTypes.logsRequest, request), 'protobuf', context))).toMatch(
      /^resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.body\.arrayValue\.values\[0\].*nested deeper than 32 levels/,
    );
  });

  it('refuses invalid JSON and wrong shapes, with the path of the field', () => {
    expect(malformedMessage(() => decodeOtlp('traces', utf8('{"resourceSpans": ['), 'json', context))).toMatch(/^invalid JSON: /);
    expect(malformedMessage(() => decodeOtlp('traces', Uint8Array.of(0x7b, 0xff, 0x7d), 'json', context))).toBe('invalid JSON: not UTF-8 text');
    expect(malformedMessage(() => decodeOtlp('logs', utf8('[]'), 'json', context))).toBe('expected a JSON object (ExportLogsServiceRequest), got an array');
    expect(malformedMessage(() => decodeOtlp('traces', utf8('{"resourceSpans": {}}'), 'json', context))).toBe('resourceSpans: expected an array, got an object');
    const wrongTime = { resourceSpans: [{ scopeSpans: [{}, { spans: [{ startTimeUnixNano: true }] }] }] };
    expect(malformedMessage(() => decodeOtlp('traces', utf8(JSON.stringify(wrongTime)), 'json', context))).toBe(
      'resourceSpans[0].scopeSpans[1].spans[0].startTimeUnixNano: expected unsigned nanoseconds as a decimal string or integer, got true',
    );
    const wrongInt = { resourceMetrics: [{ resource: { attributes: [{ key: 'n', value: { intValue: '12abc' } }] } }] };
    expect(malformedMessage(() => decodeOtlp('metrics', utf8(JSON.stringify(wrongInt)), 'json', context))).toBe(
      'resourceMetrics[0].resource.attributes[0].value.intValue: expected an integer as a decimal string or number, got "12abc"',
    );
    const wrongEnum = { resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 'SERVER' }] }] }] };
    expect(malformedMessage(() => decodeOtlp('traces', utf8(JSON.stringify(wrongEnum)), 'json', context))).toBe(
      'resourceSpans[0].scopeSpans[0].spans[0].kind: expected an enum value (integer or name), got "SERVER"',
    );
  });

  it('stops at maxRecords with HLS_ERR_TOO_MANY_EVENTS, counting rejected records too', () => {
    const records = (n: number) => utf8(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ spanId: i === 0 ? 'bad' : '' })) }] }] }));
    expect(decodeOtlp('logs', records(3), 'json', { ...context, maxRecords: 3 })).toMatchObject({ rejected: 1 });
    try {
      decodeOtlp('logs', records(4), 'json', { ...context, maxRecords: 3 });
      expect.unreachable();
    } catch (err) {
      expect(isHeliosError(err, 'HLS_ERR_TOO_MANY_EVENTS')).toBe(true);
    }
    // Protobuf: one byte per empty log record, so 10 bytes cannot become more than maxRecords events.
    const tinyRecords = Uint8Array.from(len(1, len(2, Array.from({ length: 10 }, () => [0x12, 0x00]).flat())));
    expect(() => decodeOtlp('logs', tinyRecords, 'protobuf', { ...context, maxRecords: 5 })).toThrow(/more than 5 records/);
    expect(decodeOtlp('logs', tinyRecords, 'protobuf', context).events).toHaveLength(10);
  });

  it('treats an empty body as an empty request, as protobuf does', () => {
    expect(decodeOtlp('traces', new Uint8Array(0), 'protobuf', context)).toEqual({ events: [], rejected: 0 });
    expect(decodeOtlp('traces', utf8('{}'), 'json', context)).toEqual({ events: [], rejected: 0 });
  });
});

describe('response bodies', () => {
  const partial: OtlpDecodeResult = { events: [], rejected: 3, rejectionMessage: 'resourceSpans[0].scopeSpans[0].spans[1].spanId: expected 8 bytes, got 1' };

  it('writes ExportTraceServiceResponse.partial_success that the OTLP protobuf schema reads back', () => {
    expect(decodeProto(protoTypes.traceResponse, encodeOtlpResponse('traces', partial, 'protobuf'))).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: partial.rejectionMessage },
    });
    expect(decodeProto(protoTypes.logsResponse, encodeOtlpResponse('logs', { rejected: 300 }, 'protobuf'))).toEqual({ partialSuccess: { rejectedLogRecords: '300' } });
    expect(decodeProto(protoTypes.metricsResponse, encodeOtlpResponse('metrics', { rejected: 2 ** 40, rejectionMessage: 'é' }, 'protobuf'))).toEqual({
      partialSuccess: { rejectedDataPoints: String(2 ** 40), errorMessage: 'é' },
    });
    expect(encodeOtlpResponse('traces', { rejected: 0 }, 'protobuf')).toEqual(new Uint8Array(0));
  });

  it('writes the OTLP/JSON form with int64 as a string', () => {
    const text = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    expect(text(encodeOtlpResponse('traces', partial, 'json'))).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: partial.rejectionMessage } });
    expect(text(encodeOtlpResponse('metrics', { rejected: 1 }, 'json'))).toEqual({ partialSuccess: { rejectedDataPoints: '1' } });
    expect(text(encodeOtlpResponse('logs', { rejected: 0 }, 'json'))).toEqual({});
  });

  it('writes google.rpc.Status in either encoding', () => {
    const Status = protobuf.Root.fromJSON({
      nested: { Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'bytes', id: 3 } } } },
    }).lookupType('Status');
    const message = 'resourceSpans: expected an array, got an object';
    expect(Status.toObject(Status.decode(encodeOtlpStatus(message, 'protobuf')))).toEqual({ code: GrpcCode.INVALID_ARGUMENT, message });
    expect(Status.toObject(Status.decode(encodeOtlpStatus('slow down', 'protobuf', GrpcCode.UNAVAILABLE)))).toEqual({ code: 14, message: 'slow down' });
    expect(JSON.parse(new TextDecoder().decode(encodeOtlpStatus(message, 'json')))).toEqual({ code: 3, message });
  });
});
