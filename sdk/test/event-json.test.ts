import { expect, it } from 'vitest';
import fc from 'fast-check';
import { createEventSerializer } from '../src/event-json.js';
import type { WireEvent } from '../src/event.js';
import { uuidv7 } from '../src/event-id.js';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

it('writes exactly what JSON.stringify writes for any event the SDK builds', () => {
  const resource = { 'service.name': 'checkout', 'telemetry.sdk.name': '@helios/sdk' };
  const serialize = createEventSerializer(resource);
  const event: fc.Arbitrary<WireEvent> = fc.record({
    id: fc.constant(null).map(() => uuidv7()),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    service: fc.string(),
    level: fc.constantFrom('TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL' as const),
    message: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ minLength: 300, maxLength: 400 })),
    kind: fc.constantFrom('log', 'span', 'metric', 'event' as const),
    endpoint: maybe(fc.string({ unit: 'binary' })),
    latency_ms: maybe(fc.double({ noNaN: false })),
    status_code: maybe(fc.integer({ min: 0, max: 999 })),
    error_code: maybe(fc.string()),
    trace_id: maybe(hex(32)),
    span_id: maybe(hex(16)),
    sample_rate: maybe(fc.oneof(fc.double({ min: 1, noNaN: true }), fc.integer({ min: 1 }), fc.constant(4980 / 20))),
    attributes: maybe(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null)))),
    resource: fc.constantFrom(resource, undefined, { other: 'x' }),
  });
  fc.assert(fc.property(event, (e) => {
    expect(serialize(e)).toBe(JSON.stringify(e));
  }), { numRuns: 2000 });
});

it('ids are UUID v7, unique, and in creation order within a process', () => {
  const ids = Array.from({ length: 20_000 }, () => uuidv7());
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
});
