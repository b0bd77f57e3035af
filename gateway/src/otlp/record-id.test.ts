import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataPointEventId, spanEventId } from './record-id.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hexId = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const ms = fc.integer({ min: 0, max: 2 ** 48 - 1 });

describe('deterministic OTLP record ids', () => {
  it('are UUIDv8 with the timestamp in the first 48 bits, the same for the same span, and differ with tenant, trace or span', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), hexId(16), hexId(8), hexId(8), ms, (tenant, otherTenant, traceId, spanId, otherSpanId, at) => {
        const id = spanEventId(tenant, traceId, spanId, at);
        expect(id).toMatch(UUID_V8);
        expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
        expect(spanEventId(tenant, traceId, spanId, at)).toBe(id);
        if (otherTenant !== tenant) expect(spanEventId(otherTenant, traceId, spanId, at)).not.toBe(id);
        if (otherSpanId !== spanId) expect(spanEventId(tenant, traceId, otherSpanId, at)).not.toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  it('do not collide across 200,000 distinct spans of one trace', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(spanEventId('default', '0af7651916cd43dd8448eb211c80319c', i.toString(16).padStart(16, '0'), 1_700_000_000_000));
    expect(seen.size).toBe(200_000);
  });

  it('tell data points apart by resource, attributes and time, and keep them equal otherwise', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean(), fc.constant(null))), fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 999_999 }), (attributes, host, subMsNanos) => {
        const time = { ms: 1_700_000_000_000, subMsNanos };
        const resource = { 'service.name': 'api', 'host.name': host };
        const id = dataPointEventId('t', resource, time, attributes, time.ms);
        expect(dataPointEventId('t', { ...resource }, { ...time }, { ...attributes }, time.ms)).toBe(id);
        expect(dataPointEventId('t', { ...resource, 'host.name': `${host}x` }, time, attributes, time.ms)).not.toBe(id);
        expect(dataPointEventId('t', resource, { ms: time.ms, subMsNanos: (subMsNanos + 1) % 1_000_000 }, attributes, time.ms)).not.toBe(id);
        expect(dataPointEventId('t', resource, time, { ...attributes, 'metric.value': 'other-than-any' }, time.ms)).not.toBe(id);
      }),
      { numRuns: 500 },
    );
  });
});
