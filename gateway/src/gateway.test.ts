import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.fixture.js';

const post = (url: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(`${url}/api/v1/events`, { method: 'POST', headers, body });

describe.each(['uws', 'node'] as const)('gateway over %s', (transport) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(transport);
    expect(h.gateway.transport).toBe(transport);
  });
  afterAll(() => h.gateway.stop());

  it('accepts one event, an array, and NDJSON with 202 once the bus has them', async () => {
    const one = await post(h.url, JSON.stringify({ service: 'pay', level: 'error', metadata: { latency_ms: 12 } }));
    expect(one.status).toBe(202);
    const body = (await one.json()) as { accepted: number; ids: string[] };
    expect(body.accepted).toBe(1);
    const many = await post(h.url, JSON.stringify([{ service: 'a' }, { service: 'b' }]));
    expect(((await many.json()) as { accepted: number }).accepted).toBe(2);
    const nd = await post(h.url, '{"service":"c"}\n\n{"service":"d"}\n', { 'content-type': 'application/x-ndjson' });
    expect(nd.status).toBe(202);
    await h.bus.drain();
    const stored = h.received.find((e) => e.id === body.ids[0]);
    expect(stored).toMatchObject({ service: 'pay', level: 'ERROR', latency_ms: 12, tenant: 'default' });
    expect(h.received.map((e) => e.service)).toEqual(expect.arrayContaining(['a', 'b', 'c', 'd']));
  });

  it('accepts gzip bodies', async () => {
    const res = await post(h.url, gzipSync(JSON.stringify([{ service: 'zipped' }])), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
  });

  it('answers 400 listing every problem with its path, and accepts nothing of that batch', async () => {
    const before = h.received.length;
    const res = await post(h.url, JSON.stringify([{ service: 'ok' }, { service: 'x', metadata: { latency_ms: 'abc' } }, { servce: 'y' }]));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; details: string[] } };
    expect(error.code).toBe('HLS_ERR_EVENT_INVALID');
    expect(error.details).toEqual(['[1].metadata.latency_ms: expected number, got "abc"', '[2].service: required', '[2].servce: unknown field']);
    await h.bus.drain();
    expect(h.received.length).toBe(before);
  });

  it('names malformed bodies, empty bodies, bad encodings and types', async () => {
    const bad = await post(h.url, '{"service": ');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'HLS_ERR_BODY_MALFORMED', message: expect.stringMatching(/^invalid JSON/) });
    expect((await post(h.url, '')).status).toBe(400);
    expect((await post(h.url, 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(h.url, 'x', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415);
    expect((await post(h.url, 'not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(400);
  });

  it('enforces the body, inflated-size and events-per-request limits with 413', async () => {
    expect((await post(h.url, JSON.stringify({ service: 's', message: 'x'.repeat(70 * 1024) }))).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20)); // 1 MiB of spaces, ~1 KiB compressed
    const res = await post(h.url, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/inflated body exceeds/);
    expect((await post(h.url, JSON.stringify(Array.from({ length: 101 }, () => ({ service: 's' }))))).status).toBe(413);
  });

  it('serves health, readiness, metrics, and 404/405 for unknown routes', async () => {
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/helios_events_ingested_total\{service="pay",level="ERROR"\} 1/);
    expect(metrics).toContain('helios_ingestion_latency_seconds_bucket');
    expect(metrics).toMatch(/helios_http_requests_total\{route="events",status="202"\} [1-9]/);
    expect(metrics).toMatch(/helios_http_requests_total\{route="readyz",status="200"\} 1\b/);
    expect((await fetch(`${h.url}/nope`)).status).toBe(404);
    // GET /api/v1/events is the search, served only by a process with a store; other methods than GET and POST are refused.
    expect((await fetch(`${h.url}/api/v1/events`)).status).toBe(404);
    expect((await fetch(`${h.url}/api/v1/events`, { method: 'PUT', body: '{}' })).status).toBe(405);
    expect((await fetch(`${h.url}/api/v1/anomalies`, { method: 'POST', body: '{}' })).status).toBe(405);
  });
});

describe('gateway auth and backpressure', () => {
  it('requires an API key when auth is on and stamps the key\u2019s tenant', async () => {
    const h = await startHarness('uws', { auth: { enabled: true, keys: [{ key: 'secret-key-1', tenant: 'acme' }] } });
    try {
      expect((await post(h.url, '{"service":"s"}')).status).toBe(401);
      expect((await post(h.url, '{"service":"s"}', { 'content-type': 'application/json', 'x-api-key': 'wrong-key-00' })).status).toBe(401);
      expect((await post(h.url, '{"service":"s"}', { 'content-type': 'application/json', authorization: 'Bearer secret-key-1' })).status).toBe(202);
      expect((await post(h.url, '{"service":"s"}', { 'content-type': 'application/json', 'x-api-key': 'secret-key-1' })).status).toBe(202);
      expect((await post(h.url, '{"service":"s"}', { 'content-type': 'application/json', authorization: 'bearer secret-key-1' })).status).toBe(202);
      await h.bus.drain();
      expect(h.received.map((e) => e.tenant)).toEqual(['acme', 'acme', 'acme']);
    } finally {
      await h.gateway.stop();
    }
  });

  it('answers 429 with Retry-After when the bus is full, instead of buffering', async () => {
    const refusals: number[] = [];
    const h = await startHarness('uws', {}, { capacity: 1, consume: false, onCapacityRefusal: (at) => refusals.push(at) });
    try {
      expect((await post(h.url, '{"service":"s"}')).status).toBe(202);
      expect(refusals).toEqual([]);
      const res = await post(h.url, '{"service":"s"}');
      expect(res.status).toBe(429);
      expect(refusals).toHaveLength(1); // detection is told telemetry of this moment may be missing
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HLS_ERR_BUS_FULL');
    } finally {
      await h.gateway.stop();
    }
  });

  it('answers 503 with Retry-After when decompressed bodies in flight would pass the memory budget', async () => {
    const h = await startHarness('uws', { maxInflatedBytes: 256 * 1024, maxInFlightBodyBytes: 200 * 1024 });
    try {
      const small = await post(h.url, gzipSync(JSON.stringify({ service: 'gz' })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(small.status).toBe(202);
      const big = gzipSync(JSON.stringify({ service: 'gz', message: 'x'.repeat(60_000), attributes: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'y'.repeat(1500)])) }));
      const res = await post(h.url, big, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HLS_ERR_OVERLOADED');
      // The budget is released: the next small request is accepted again.
      expect((await post(h.url, gzipSync(JSON.stringify({ service: 'gz' })), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(202);
    } finally {
      await h.gateway.stop();
    }
  });

  it('stops accepting on shutdown and reports not ready; stop is idempotent', async () => {
    const h = await startHarness('node');
    await Promise.all([h.gateway.stop(), h.gateway.stop()]);
    await expect(fetch(`${h.url}/healthz`)).rejects.toThrow();
  });
});
