import { describe, expect, it } from 'vitest';
import { HeliosError, parseEventsBody, newEventId, normalizeEventBatch, seededRandom, type EventsBodyKind, type HeliosEvent, type EventRequestBatch } from '@helios/core';
import { decodeEventBatchRecord, eventBatchRecords, topLevelElements, VALUE_FORMAT_HEADER } from './kafka-event-batch.js';
import { encodeRecordHeaders } from './kafka-record-headers.js';

const TENANT = 'acme';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

/** What the gateway does with a body: parse, normalize (ids assigned here). */
function gatewayBatch(text: string, kind: EventsBodyKind = 'json'): EventRequestBatch {
  const body = Buffer.from(text);
  const idBase = newEventId();
  const events = normalizeEventBatch(parseEventsBody(body, kind, 10_000), { tenant: TENANT, now: NOW, idBase });
  return { events, body, kind, tenant: TENANT, receivedAt: NOW, idBase };
}

/** What consumers get back from the records, one event per record entry, in record order. */
function consumerEvents(batch: EventRequestBatch, maxValueBytes = 1 << 20): { key: string; events: HeliosEvent[] }[] | undefined {
  const records = eventBatchRecords(batch, '1', maxValueBytes);
  return records?.map((r) => ({ key: r.key, events: decodeEventBatchRecord(r.value, (name) => r.headers[name]) }));
}

/** The gateway's events grouped per key, in body order: what each key's records must hold. */
function byKey(events: readonly HeliosEvent[]): Map<string, HeliosEvent[]> {
  const out = new Map<string, HeliosEvent[]>();
  for (const e of events) {
    const key = `${e.tenant}/${e.service}`;
    out.set(key, [...(out.get(key) ?? []), e]);
  }
  return out;
}

describe('topLevelElements', () => {
  it('finds each element of an array, however its strings and nesting look', () => {
    const elements = [
      { service: 'a', message: 'quote " and backslash \\ and brace } ] [ {', attributes: { list: 'x' } },
      { service: 'b', message: 'ünïcödé ✓ 😀', metadata: { nested: { deeper: [1, { x: '}' }] } } },
      { service: 'c', message: '\\', attributes: { 'k"ey': '\\"' } },
    ];
    for (const text of [JSON.stringify(elements), JSON.stringify(elements, null, 2), `  \n[ ${elements.map((e) => JSON.stringify(e)).join(' ,\n\t')} ]  `]) {
      const body = Buffer.from(text);
      const bounds = topLevelElements(body, elements.length)!;
      expect(bounds).toBeDefined();
      const slices = elements.map((_, i) => JSON.parse(body.subarray(bounds[2 * i], bounds[2 * i + 1]).toString()));
      expect(slices).toEqual(elements);
    }
  });

  it('refuses what is not an array of exactly that many objects', () => {
    expect(topLevelElements(Buffer.from('{"service":"a"}'), 1)).toBeUndefined();
    expect(topLevelElements(Buffer.from('[{"a":1},{"b":2}]'), 3)).toBeUndefined();
    expect(topLevelElements(Buffer.from('[{"a":1},{"b":2}]'), 1)).toBeUndefined();
    expect(topLevelElements(Buffer.from('[{"a":1},2]'), 2)).toBeUndefined();
  });
});

describe('request bytes on Kafka (eventBatchRecords -> decodeEventBatchRecord)', () => {
  it('forwards a one-service request as it came, and consumers get the very events the gateway answered for', () => {
    const text = JSON.stringify([
      { service: 'checkout', message: 'a', metadata: { endpoint: '/pay', latency_ms: 12.5, status_code: 200, region: 'eu' } },
      { service: 'checkout', level: 'error', message: 'b "quoted" ✓', timestamp: '2026-11-24T11:59:00Z', id: '0190A0B4-1C2D-7E3F-8A9B-0C1D2E3F4A5B' },
      { service: 'checkout', message: 'c', sample_rate: 20, attributes: { tier: 'pro' }, resource: { host: 'h1' } },
    ]);
    const batch = gatewayBatch(text);
    const records = eventBatchRecords(batch, '1', 1 << 20)!;
    expect(records).toHaveLength(1);
    expect(records[0]!.value).toBe(batch.body);
    expect(records[0]!.headers[VALUE_FORMAT_HEADER]).toBe('input-json');
    expect(consumerEvents(batch)).toEqual([{ key: 'acme/checkout', events: batch.events }]);
    // Defaults came from the gateway's receive time, ids from the gateway (the client's one lower-cased).
    expect(batch.events[0]!.timestamp).toBe(NOW);
    expect(batch.events[1]!.id).toBe('0190a0b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b');
  });

  it('forwards one event and one-service NDJSON as they came', () => {
    const single = gatewayBatch('{"service":"api","message":"one"}');
    expect(consumerEvents(single)).toEqual([{ key: 'acme/api', events: single.events }]);
    const ndjson = gatewayBatch('{"service":"api","message":"x"}\n\n{"service":"api","message":"y","level":"WARN"}\n', 'ndjson');
    const records = eventBatchRecords(ndjson, '1', 1 << 20)!;
    expect(records[0]!.headers[VALUE_FORMAT_HEADER]).toBe('input-ndjson');
    expect(consumerEvents(ndjson)).toEqual([{ key: 'acme/api', events: ndjson.events }]);
  });

  it('cuts a JSON array of several services into one record per service, each in body order', () => {
    const random = seededRandom(7);
    const pieces = ['plain', 'quote "', 'back\\slash', 'brace } ] {', 'ünï ✓ 😀', '\u0001ctl', ''];
    for (let round = 0; round < 50; round++) {
      const inputs = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => ({
        service: `svc-${Math.floor(random() * 5)}`,
        message: pieces[Math.floor(random() * pieces.length)]! + i,
        ...(random() < 0.5 ? { attributes: { k: pieces[Math.floor(random() * pieces.length)]!, n: [1, 2, { x: ']' }].length } } : {}),
        ...(random() < 0.3 ? { metadata: { latency_ms: Math.round(random() * 1000), endpoint: '/e' } } : {}),
        ...(random() < 0.2 ? { timestamp: NOW - 1000 * i } : {}),
      }));
      const batch = gatewayBatch(JSON.stringify(inputs, null, random() < 0.5 ? 2 : undefined));
      const got = consumerEvents(batch)!;
      expect(got).toBeDefined();
      const expected = byKey(batch.events);
      expect(new Map(got.map((r) => [r.key, r.events]))).toEqual(expected);
      expect(got).toHaveLength(expected.size);
    }
  });

  it('leaves to the caller what the format cannot carry: NDJSON of several services, values over the limit', () => {
    const ndjson = gatewayBatch('{"service":"a"}\n{"service":"b"}\n', 'ndjson');
    expect(eventBatchRecords(ndjson, '1', 1 << 20)).toBeUndefined();
    const big = gatewayBatch(JSON.stringify([{ service: 'a', message: 'x'.repeat(500) }, { service: 'b', message: 'y' }]));
    expect(eventBatchRecords(big, '1', 100)).toBeUndefined();
    expect(eventBatchRecords(gatewayBatch('{"service":"a","message":"' + 'x'.repeat(500) + '"}'), '1', 100)).toBeUndefined();
  });

  it('writes the wire form of exactly its headers', () => {
    const records = eventBatchRecords(gatewayBatch('[{"service":"a"},{"service":"b"},{"service":"a"}]'), '1', 1 << 20)!;
    for (const r of records) expect(r.encodedHeaders).toEqual(encodeRecordHeaders(r.headers));
    expect(JSON.parse(records[0]!.headers['helios-request']!)).toMatchObject({ tenant: TENANT, receivedAt: NOW, indexes: [0, 2] });
  });

  it('refuses records it cannot read, naming the problem', () => {
    const batch = gatewayBatch('[{"service":"a"},{"service":"a"}]');
    const [record] = eventBatchRecords(batch, '1', 1 << 20)!;
    const request = JSON.parse(record!.headers['helios-request']!) as Record<string, unknown>;
    const withRequest = (changes: Record<string, unknown>) => (name: string) => (name === 'helios-request' ? JSON.stringify({ ...request, ...changes }) : record!.headers[name]);
    const fails = (h: (name: string) => string | undefined, value = record!.value) => {
      try {
        decodeEventBatchRecord(value, h);
      } catch (err) {
        expect(err).toBeInstanceOf(HeliosError);
        return (err as HeliosError).message;
      }
      throw new Error('decoded');
    };
    expect(fails(withRequest({ tenant: undefined }))).toMatch(/names no tenant/);
    expect(fails(withRequest({ receivedAt: 'soon' }))).toMatch(/receivedAt "soon" is not epoch ms/);
    expect(fails(withRequest({ idBase: 'x' }))).toMatch(/idBase "x" is not a UUID/);
    expect(fails(withRequest({ indexes: [0] }))).toMatch(/2 events but helios-request gives 1 indexes/);
    expect(fails((name) => (name === 'helios-request' ? '{' : record!.headers[name]))).toMatch(/not JSON/);
    expect(fails(withRequest({}), Buffer.from('[{"service":"a"},{"service":'))).toMatch(/invalid JSON/);
    expect(fails(withRequest({}), Buffer.from('[{"service":"a"},{"service":"a","level":"nope"}]'))).toMatch(/\[1\]\.level/);
  });
});
