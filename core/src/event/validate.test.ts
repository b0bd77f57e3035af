import { describe, expect, it } from 'vitest';
import { HeliosError } from '../errors.js';
import { EventIdSequence, levelFromSeverityNumber, newEventId, normalizeEventBatch, normalizeEventInput, parseLevel } from './validate.js';

const opts = { tenant: 'acme', now: Date.UTC(2026, 0, 1) };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HeliosError);
    expect((err as HeliosError).code).toBe('HLS_ERR_EVENT_INVALID');
    return [...(err as HeliosError).details];
  }
  throw new Error('expected a validation error');
}

describe('normalizeEventInput', () => {
  it('fills every field of the normalized schema, lifting the original metadata envelope', () => {
    const e = normalizeEventInput({ service: 'pay', level: 'warning', message: 'slow', metadata: { latency_ms: 12.5, error_code: 'X', endpoint: '/p', region: 'eu' } }, opts);
    expect(e).toMatchObject({ service: 'pay', level: 'WARN', message: 'slow', kind: 'event', latency_ms: 12.5, error_code: 'X', endpoint: '/p', status_code: null, trace_id: null, span_id: null, tenant: 'acme', timestamp: opts.now });
    expect(e.attributes).toEqual({ region: 'eu' });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/); // UUIDv7: time-ordered
  });

  it('keeps a client sample_rate (how many events a sampled one stands for), 1 when absent, and rejects one below 1', () => {
    expect(normalizeEventInput({ service: 's' }, opts).sample_rate).toBe(1);
    expect(normalizeEventInput({ service: 's', sample_rate: 12.5 }, opts).sample_rate).toBe(12.5);
    expect(problems(() => normalizeEventInput({ service: 's', sample_rate: 0.5 }, opts))).toEqual([expect.stringMatching(/^sample_rate: expected number to be greater or equal to 1, got 0.5/)]);
    expect(problems(() => normalizeEventInput({ service: 's', sample_rate: '3' }, opts))).toEqual(['sample_rate: expected number, got "3"']);
  });

  it('accepts RFC 3339 and epoch-ms timestamps and keeps a client id', () => {
    expect(normalizeEventInput({ service: 's', timestamp: '2026-01-02T03:04:05.678Z' }, opts).timestamp).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    expect(normalizeEventInput({ service: 's', timestamp: 1700000000123 }, opts).timestamp).toBe(1700000000123);
    const id = '01890A5D-AC96-774B-BCCE-B302099A8057';
    expect(normalizeEventInput({ service: 's', id }, opts).id).toBe(id.toLowerCase());
  });

  it('names the path and the bad value of every problem', () => {
    expect(problems(() => normalizeEventInput({ service: 'pay', metadata: { latency_ms: 'abc' } }, opts))).toEqual(['metadata.latency_ms: expected number, got "abc"']);
    expect(problems(() => normalizeEventInput({ servce: 'x' }, opts))).toEqual(['service: required', 'servce: unknown field']);
    const all = problems(() => normalizeEventInput({ service: '', level: 'loud', timestamp: 'yesterday', trace_id: 'XYZ', latency_ms: -1, status_code: 20.5 }, opts));
    expect(all).toEqual(expect.arrayContaining([
      expect.stringMatching(/^service: /),
      'level: expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, got "loud"',
      'timestamp: expected an RFC 3339 date-time or epoch milliseconds from 0 to 253402300799999 (end of 9999), got "yesterday"',
      'trace_id: expected 32 lower-case hex characters, got "XYZ"',
      expect.stringMatching(/^latency_ms: .*got -1$/),
      expect.stringMatching(/^status_code: .*got 20.5$/),
    ]));
    expect(problems(() => normalizeEventInput('just a string', opts))).toEqual(['(root): expected object, got "just a string"']);
  });

  it('rejects impossible calendar dates that match the pattern', () => {
    expect(problems(() => normalizeEventInput({ service: 's', timestamp: '2026-13-45T99:00:00Z' }, opts))[0]).toMatch(/^timestamp: not a valid RFC 3339/);
  });
});

describe('newEventId', () => {
  it('makes RFC 9562 UUIDv7s that carry the creation time and sort by it', async () => {
    const before = Date.now();
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    await new Promise((r) => setTimeout(r, 3));
    expect(newEventId() > id).toBe(true);
    expect(new Set(Array.from({ length: 10_000 }, newEventId)).size).toBe(10_000);
  });
});

describe('normalizeEventBatch', () => {
  it('reports problems of every event with its index and accepts nothing', () => {
    const lines = problems(() => normalizeEventBatch([{ service: 'ok' }, { service: 3 }, { service: 's', latency_ms: 'x' }], opts));
    expect(lines).toEqual(['[1].service: expected string, got 3', '[2].latency_ms: expected number, got "x"']);
  });

  it('gives each event its own id', () => {
    const events = normalizeEventBatch([{ service: 'a' }, { service: 'a' }], opts);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });
});

describe('levels', () => {
  it('maps OTel severity numbers in blocks of four', () => {
    expect([1, 4, 5, 9, 13, 17, 20, 21, 24].map(levelFromSeverityNumber)).toEqual(['TRACE', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'ERROR', 'CRITICAL', 'CRITICAL']);
    expect(levelFromSeverityNumber(0)).toBeUndefined();
    expect(levelFromSeverityNumber(25)).toBeUndefined();
  });

  it('parses level names in any case, with aliases', () => {
    expect(['error', 'Warn', 'WARNING', 'fatal', 'critical'].map(parseLevel)).toEqual(['ERROR', 'WARN', 'WARN', 'CRITICAL', 'CRITICAL']);
    expect(parseLevel('loud')).toBeUndefined();
    expect(parseLevel('constructor')).toBeUndefined();
  });
});

describe('EventIdSequence (a batch\'s ids from its first one)', () => {
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('derives distinct, increasing UUIDv7s from the first id, the same for whoever knows it', () => {
    const first = newEventId();
    const ids = new EventIdSequence(first);
    const derived = Array.from({ length: 1000 }, (_, i) => ids.at(i));
    expect(derived[0]).toBe(first);
    expect(new Set(derived).size).toBe(1000);
    for (const id of derived) expect(id).toMatch(UUID_V7);
    const low = BigInt(`0x${first.slice(24)}`);
    derived.forEach((id, i) => {
      expect(id.slice(0, 24)).toBe(first.slice(0, 24));
      expect(BigInt(`0x${id.slice(24)}`)).toBe((low + BigInt(i)) % 2n ** 48n);
    });
    expect(new EventIdSequence(first).at(777)).toBe(derived[777]);
  });

  it('wraps its last 48 bits instead of carrying into the rest', () => {
    const ids = new EventIdSequence('0190a0b4-1c2d-7e3f-8a9b-fffffffffffe');
    expect(ids.at(1)).toBe('0190a0b4-1c2d-7e3f-8a9b-ffffffffffff');
    expect(ids.at(2)).toBe('0190a0b4-1c2d-7e3f-8a9b-000000000000');
    expect(ids.at(0x1_0000_0003)).toBe('0190a0b4-1c2d-7e3f-8a9b-000100000001');
  });

  it('gives a batch normalized in parts (idIndexes) the ids the whole batch got', () => {
    const values = [{ service: 'a' }, { service: 'b', id: '0190A0B4-1C2D-7E3F-8A9B-0C1D2E3F4A5B' }, { service: 'a' }, { service: 'b' }];
    const idBase = newEventId();
    const whole = normalizeEventBatch(values, { tenant: 't', now: 1, idBase });
    expect(whole[1]!.id).toBe('0190a0b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b');
    const part = normalizeEventBatch([values[1], values[3]], { tenant: 't', now: 1, idBase, idIndexes: [1, 3] });
    expect(part.map((e) => e.id)).toEqual([whole[1]!.id, whole[3]!.id]);
    expect(new Set(whole.map((e) => e.id)).size).toBe(4);
  });
});
