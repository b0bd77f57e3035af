import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeliosError } from '../errors.js';
import { MAX_EVENT_TIMESTAMP_MS, MAX_SAMPLE_RATE } from './storable.js';
import { normalizeEventBatch, normalizeEventInput } from './validate.js';

const opts = { tenant: 'acme', now: Date.UTC(2026, 0, 1) };

function problems(value: unknown): string[] {
  try {
    normalizeEventInput(value, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(HeliosError);
    expect((err as HeliosError).code).toBe('HLS_ERR_EVENT_INVALID');
    return [...(err as HeliosError).details];
  }
  throw new Error('expected a validation error');
}

const isWellFormed = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

describe('normalizeEventInput: only what the store can hold is accepted (issue 18)', () => {
  it('refuses the hostile events of issue 18 naming the field and the allowed range', () => {
    expect(problems({ service: 'a', timestamp: 1e20 })).toEqual([expect.stringMatching(/^timestamp: expected an RFC 3339 date-time or epoch milliseconds from 0 to 253402300799999/)]);
    expect(problems({ service: 'a', timestamp: '0000-01-01T00:00:00Z' })).toEqual([expect.stringMatching(/^timestamp: expected a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z/)]);
    expect(problems({ service: 'a', sample_rate: 1e19 })).toEqual([expect.stringMatching(/^sample_rate: .*1000000000, got 10000000000000000000/)]);
    expect(problems({ service: 'a', attributes: { ['k'.repeat(200_000)]: 1 } })).toEqual([expect.stringMatching(/^attributes: key of 200000 characters, expected at most 256/)]);
    expect(problems({ service: 'a', metadata: { ['m'.repeat(300)]: 'x' } })).toEqual([expect.stringMatching(/^attributes: key of 300 characters/)]);
    expect(problems({ service: 'a', latency_ms: 1e300 })).toEqual([expect.stringMatching(/^latency_ms: .*1000000000000000/)]);
  });

  it('prefixes a batch event\'s problems with its index', () => {
    try {
      normalizeEventBatch([{ service: 'a' }, { service: 'a', timestamp: '0000-01-01T00:00:00Z' }], opts);
      expect.unreachable();
    } catch (err) {
      expect((err as HeliosError).details).toEqual([expect.stringMatching(/^\[1\]\.timestamp: expected a time from 1970/)]);
    }
  });

  it('replaces lone surrogates in every text field, attribute key and value with U+FFFD', () => {
    const e = normalizeEventInput(
      { service: 'a\ud800', message: 'x\udc00y', endpoint: '/\ud801', error_code: 'E\udfff', attributes: { k: '\ud800', ['\udbff']: 'v' }, resource: { r: 'ok\ud800' }, metadata: { m: '\udc01' } },
      opts,
    );
    expect(e).toMatchObject({ service: 'a\ufffd', message: 'x\ufffdy', endpoint: '/\ufffd', error_code: 'E\ufffd' });
    expect(e.attributes).toEqual({ k: '\ufffd', '\ufffd': 'v', m: '\ufffd' });
    expect(e.resource).toEqual({ r: 'ok\ufffd' });
    // A well-formed surrogate pair is text, kept as it is.
    expect(normalizeEventInput({ service: 'a', message: '\ud83d\ude00' }, opts).message).toBe('\ud83d\ude00');
  });

  it('every accepted event is within the store\'s ranges and well-formed (generated hostile-ish input)', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }));
    const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, 1, -1, 1e19, 1e308, 2 ** 63, MAX_SAMPLE_RATE, MAX_EVENT_TIMESTAMP_MS, MAX_EVENT_TIMESTAMP_MS + 1));
    const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
    const input = fc.record(
      {
        service: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
        message: text,
        timestamp: fc.oneof(number, fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1969-12-31T23:59:59Z')),
        latency_ms: number,
        status_code: number,
        sample_rate: number,
        attributes: fc.dictionary(fc.oneof(text, fc.constant('k'.repeat(257))), scalar, { maxKeys: 5 }),
        metadata: fc.dictionary(text, scalar, { maxKeys: 3 }),
      },
      { requiredKeys: ['service'] },
    );
    fc.assert(
      fc.property(input, (value) => {
        let event;
        try {
          event = normalizeEventInput(value, opts);
        } catch (err) {
          expect((err as HeliosError).code).toBe('HLS_ERR_EVENT_INVALID');
          return;
        }
        expect(event.timestamp).toBeGreaterThanOrEqual(0);
        expect(event.timestamp).toBeLessThanOrEqual(MAX_EVENT_TIMESTAMP_MS);
        expect(event.sample_rate).toBeGreaterThanOrEqual(1);
        expect(event.sample_rate).toBeLessThanOrEqual(MAX_SAMPLE_RATE);
        for (const s of [event.service, event.message, event.endpoint ?? '', event.error_code ?? '']) expect(isWellFormed(s)).toBe(true);
        for (const [k, v] of Object.entries(event.attributes)) {
          expect(k.length).toBeLessThanOrEqual(256);
          expect(isWellFormed(k)).toBe(true);
          if (typeof v === 'string') expect(isWellFormed(v)).toBe(true);
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
