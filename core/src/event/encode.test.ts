import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeliosEvent, encodeJsonBatch, jsonString } from './encode.js';
import { KINDS, LEVELS, type HeliosEvent } from './schema.js';

// Strings with everything JSON has to escape: quotes, backslashes, control characters, NUL, lone
// surrogates, astral characters (surrogate pairs), and non-ASCII text.
const nasty = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\n', '\r', '\t', '\u001f', '\u007f', '\u2028', '\u2029', '\ud800', '\udfff', '😀', 'é', 'a', '/') }),
  fc.string({ unit: 'grapheme' }),
  fc.string(),
);
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, 1e21, 1e300, -1e-7, 5e-324, -0, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY),
);
const scalar = fc.oneof(nasty, number, fc.boolean(), fc.constant(null));
const attributes = fc.dictionary(nasty, scalar, { maxKeys: 12 });

const event: fc.Arbitrary<HeliosEvent> = fc.record({
  id: fc.oneof(fc.uuid(), nasty),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), number),
  service: nasty,
  level: fc.constantFrom(...LEVELS),
  message: nasty,
  kind: fc.constantFrom(...KINDS),
  endpoint: fc.option(nasty),
  latency_ms: fc.option(number),
  status_code: fc.option(fc.integer()),
  error_code: fc.option(nasty),
  trace_id: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), nasty)),
  span_id: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), nasty)),
  sample_rate: fc.oneof(fc.constant(1), fc.integer({ min: 1 }), fc.double({ min: 1 }), number),
  attributes,
  resource: attributes,
  tenant: nasty,
});

describe('encodeHeliosEvent', () => {
  it('parses back to the same object as JSON.stringify for random events', () => {
    fc.assert(
      fc.property(event, (e) => {
        const text = encodeHeliosEvent(e);
        expect(text).toBeDefined();
        expect(JSON.parse(text!)).toStrictEqual(JSON.parse(JSON.stringify(e)));
        // Same UTF-8 bytes on the wire as the generic path once decoded (lone surrogates stay escaped).
        expect(JSON.parse(Buffer.from(text!).toString())).toStrictEqual(JSON.parse(Buffer.from(JSON.stringify(e)).toString()));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes string literals exactly as JSON.stringify does', () => {
    fc.assert(fc.property(nasty, (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 5000 });
  });

  it('gives up (undefined) on values not shaped like a HeliosEvent', () => {
    const base = JSON.parse(JSON.stringify(fc.sample(event, { numRuns: 1, seed: 1 })[0])) as Record<string, unknown>;
    expect(encodeHeliosEvent(base as unknown as HeliosEvent)).toBeDefined();
    for (const [field, value] of [['id', 1], ['timestamp', '1'], ['endpoint', undefined], ['latency_ms', 1n], ['sample_rate', null], ['sample_rate', undefined], ['sample_rate', '2'], ['attributes', null], ['attributes', [1]], ['resource', { nested: { a: 1 } }]] as const) {
      expect(encodeHeliosEvent({ ...base, [field]: value } as unknown as HeliosEvent)).toBeUndefined();
    }
    expect(encodeHeliosEvent({ hello: 'world' } as unknown as HeliosEvent)).toBeUndefined();
  });
});

describe('encodeJsonBatch', () => {
  const anyValue = fc.oneof(event, fc.jsonValue(), fc.record({ n: number, s: nasty }), event.map((e) => ({ ...e, extra: 'x' })));
  it('each buffer is the UTF-8 JSON of its value (events, other values, non-ASCII, mixed)', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 30 }), fc.boolean(), (values, heliosEvents) => {
        const buffers = encodeJsonBatch(values, (v) => v, heliosEvents);
        expect(buffers.length).toBe(values.length);
        for (let i = 0; i < values.length; i++) {
          const expected = JSON.parse(JSON.stringify(values[i])) as Record<string, unknown>;
          // A value with every HeliosEvent field keeps only those when written as an event.
          if (heliosEvents && expected !== null && typeof expected === 'object' && 'extra' in expected) delete expected['extra'];
          expect(JSON.parse(buffers[i]!.toString('utf8'))).toStrictEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('writes plain JSON.stringify bytes for values that are not events', () => {
    const values = [{ a: 'é😀"' }, [1, 2], 'x', 3, null, { b: '\ud800' }];
    const buffers = encodeJsonBatch(values, (v) => v, false);
    expect(buffers.map((b) => b.toString('utf8'))).toStrictEqual(values.map((v) => JSON.stringify(v)));
  });
});
