import fc from 'fast-check';
import { HeliosEventSchema, MAX_SAMPLE_RATE, compileValidator, type HeliosEvent } from '@helios/core';
import { describe, expect, it } from 'vitest';
import { decodeOtlp } from './index.js';
import { SAMPLE_SPAN_ID, SAMPLE_TRACE_ID, utf8 } from './otel-sdk.fixture.js';
import { encodeProto, hexBytes, protoTypes } from './proto-codec.fixture.js';

/**
 * Issue 18: what the OTLP translators accept, the store can hold (core's makeStorable, the same check
 * Helios JSON goes through): lone surrogates become U+FFFD, out-of-range values reject the record
 * (counted in the partial-success answer), never the request.
 */
const context = { tenant: 'acme', now: 1_700_000_000_000 };
const isWellFormed = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
const eventValidator = compileValidator<HeliosEvent>(HeliosEventSchema);

function expectStorable(events: HeliosEvent[]): void {
  for (const e of events) {
    expect(eventValidator.errors(e)).toEqual([]);
    for (const text of [e.service, e.message, e.endpoint ?? '', e.error_code ?? '']) expect(isWellFormed(text)).toBe(true);
    for (const bag of [e.attributes, e.resource]) {
      for (const [k, v] of Object.entries(bag)) {
        expect(isWellFormed(k)).toBe(true);
        if (typeof v === 'string') expect(isWellFormed(v)).toBe(true);
        if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
      }
    }
  }
}

const LONE = '\ud800';
const logsBody = (service: string, key: string, value: string, body: string) => ({
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeLogs: [{ scope: { name: `scope${LONE}` }, logRecords: [{ body: { stringValue: body }, attributes: [{ key, value: { stringValue: value } }] }] }],
  }],
});

describe('OTLP records are made storable (issue 18)', () => {
  it('replaces lone surrogates in service, body, attribute keys and values with U+FFFD, in JSON and protobuf', () => {
    const json = decodeOtlp('logs', utf8(JSON.stringify(logsBody(`svc${LONE}`, `k${LONE}`, `v${LONE}`, `b${LONE}`))), 'json', context);
    expect(json.rejected).toBe(0);
    expect(json.events[0]).toMatchObject({ service: 'svc\ufffd', message: 'b\ufffd', attributes: { 'k\ufffd': 'v\ufffd', 'otel.scope.name': 'scope\ufffd' } });
    // protobufjs writes a lone surrogate as the UTF-8 of U+FFFD already; the decoded event must be storable either way.
    const proto = decodeOtlp('logs', encodeProto(protoTypes.logsRequest, logsBody(`svc${LONE}`, `k${LONE}`, `v${LONE}`, `b${LONE}`)), 'protobuf', context);
    expect(proto.rejected).toBe(0);
    expectStorable([...json.events, ...proto.events]);
  });

  it('rejects a span whose tracestate makes it stand for more than 1e9 spans, naming sample_rate, and keeps the others', () => {
    const spans = ['ot=th:ffffffffffffff', 'ot=th:8'].map((traceState, i) => ({
      traceId: hexBytes(SAMPLE_TRACE_ID), spanId: hexBytes(SAMPLE_SPAN_ID), name: `op${i}`, traceState, startTimeUnixNano: '1714564800123456789', endTimeUnixNano: '1714564800123457789',
    }));
    const result = decodeOtlp('traces', encodeProto(protoTypes.traceRequest, { resourceSpans: [{ scopeSpans: [{ spans }] }] }), 'protobuf', context);
    expect(result.rejected).toBe(1);
    expect(result.rejectionMessage).toMatch(/spans\[0\]\.sample_rate: expected a number from 1 to 1000000000/);
    expect(result.events.map((e) => e.sample_rate)).toEqual([2]);
  });

  it('every decoded record is storable, whatever the strings and numbers (generated hostile input, JSON and protobuf)', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }));
    const double = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -0));
    fc.assert(
      fc.property(text, text, text, double, double, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (service, key, value, gauge, sum, nanos) => {
        const metrics = {
          resourceMetrics: [{
            resource: { attributes: [{ key: 'service.name', value: { stringValue: service || 's' } }] },
            scopeMetrics: [{ metrics: [
              { name: key, unit: value, gauge: { dataPoints: [{ asDouble: gauge, timeUnixNano: nanos.toString(), attributes: [{ key, value: { stringValue: value } }] }] } },
              { name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ count: '3', sum, min: gauge, max: sum, timeUnixNano: nanos.toString(), bucketCounts: ['1', '2'], explicitBounds: [gauge] }] } },
            ] }],
          }],
        };
        const proto = decodeOtlp('metrics', encodeProto(protoTypes.metricsRequest, metrics), 'protobuf', context);
        expectStorable(proto.events);
        const logs = decodeOtlp('logs', utf8(JSON.stringify(logsBody(service, key, value, value))), 'json', context);
        expectStorable(logs.events);
        for (const e of [...proto.events, ...logs.events]) expect(e.sample_rate).toBeLessThanOrEqual(MAX_SAMPLE_RATE);
      }),
      { numRuns: 150 },
    );
  });
});
