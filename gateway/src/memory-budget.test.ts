/**
 * Bounded memory over the real transports: one byte budget for every body in flight (raw bytes counted
 * as they arrive, decoded bytes of compressed bodies), refused with 503 + Retry-After beyond it, the same
 * for every encoding; and /readyz telling the truth when the bus refuses.
 */
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, createSpooledBus } from '@helios/bus';
import { startHarness, type Harness } from './harness.fixture.js';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/**
 * POST `body` over node:http in two halves, the second only once `between` resolved: uploads then
 * overlap for as long as the test wants, like slow clients. A connection the server closes while the
 * upload is still going may end in a socket error after the answer: the answer is what counts.
 */
function postInHalves(port: number, body: Buffer, headers: Record<string, string>, between: Promise<void>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/events', headers: { ...headers, 'content-length': String(body.length) }, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: '' }));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half));
    void between.then(() => {
      if (!req.destroyed) req.end(body.subarray(half));
    });
  });
}

/** An NDJSON body of about `bytes` bytes: `events` events of one service with long messages. */
function ndjson(bytes: number, events: number, service: string): Buffer {
  const message = 'm'.repeat(Math.floor(bytes / events) - 60);
  return Buffer.from(Array.from({ length: events }, (_, i) => JSON.stringify({ service, level: 'INFO', message: `${i} ${message}` })).join('\n'));
}

const NDJSON = { 'content-type': 'application/x-ndjson' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let h: Harness | undefined;
afterEach(async () => {
  await h?.gateway.stop();
  h = undefined;
});

describe.each(['uws', 'node'] as const)('in-flight body budget over %s', (transport) => {
  it('answers 503 + Retry-After to concurrent large uncompressed uploads beyond the budget; every 202 event reaches the bus; the budget is never passed and comes back to zero', async () => {
    const budget = 4 * 1024 * 1024;
    h = await startHarness(transport, { maxBodyBytes: 2 * 1024 * 1024, maxInFlightBodyBytes: budget, maxEventsPerRequest: 100 });
    let go!: () => void;
    const between = new Promise<void>((resolve) => (go = resolve));
    // 50 uploads of 1 MB, each half sent before any finishes: 25 MB would be in memory at once unbudgeted.
    const answers = Array.from({ length: 50 }, (_, i) => postInHalves(h!.port, ndjson(1024 * 1024, 50, `svc-${i}`), NDJSON, between));
    await sleep(300);
    expect(h.gateway.bodyBudget.inUse).toBeLessThanOrEqual(budget);
    go();
    const results = await Promise.all(answers);
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 503);
    expect(accepted.length + refused.length).toBe(results.length);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.retryAfter).toBe('1');
      expect((JSON.parse(r.body) as { error: { code: string } }).error.code).toBe('HLS_ERR_OVERLOADED');
    }
    // A 2xx is a promise: every id answered reached the bus.
    const ids = accepted.flatMap((r) => (JSON.parse(r.body) as { ids: string[] }).ids);
    expect(ids).toHaveLength(accepted.length * 50);
    await h.bus.drain(5000);
    const received = new Set(h.received.map((e) => e.id));
    for (const id of ids) expect(received.has(id)).toBe(true);
    expect(h.gateway.bodyBudget.peak).toBeLessThanOrEqual(budget);
    expect(h.gateway.bodyBudget.peak).toBeGreaterThan(budget / 2);
    // Everything is released once the requests ended, refused ones included.
    await sleep(50);
    expect(h.gateway.bodyBudget.inUse).toBe(0);
    expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/^helios_gateway_inflight_body_bytes 0$/m);
  });

  it('releases the bytes of an upload whose client went away before the body was complete', async () => {
    h = await startHarness(transport, { maxBodyBytes: 2 * 1024 * 1024, maxInFlightBodyBytes: 1024 * 1024 });
    const body = ndjson(1024 * 512, 10, 'gone');
    const req = httpRequest({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/api/v1/events', headers: { ...NDJSON, 'content-length': String(body.length) }, agent: false });
    req.on('error', () => undefined);
    req.write(body.subarray(0, 200 * 1024));
    for (let i = 0; h.gateway.bodyBudget.inUse === 0 && i < 200; i++) await sleep(5);
    expect(h.gateway.bodyBudget.inUse).toBeGreaterThan(0);
    req.destroy();
    for (let i = 0; h.gateway.bodyBudget.inUse !== 0 && i < 200; i++) await sleep(5);
    expect(h.gateway.bodyBudget.inUse).toBe(0);
  });

  it('budgets gzip and identity bodies by the same bytes: with the same room left, the same decoded size passes or is refused alike', async () => {
    const budget = 1024 * 1024;
    h = await startHarness(transport, { maxBodyBytes: 2 * 1024 * 1024, maxInflatedBytes: 2 * 1024 * 1024, maxInFlightBodyBytes: budget });
    // A slow upload holds part of the budget (its first half, about 150 KB) while the others arrive.
    let release!: () => void;
    const held = postInHalves(h.port, ndjson(300 * 1024, 10, 'slow'), NDJSON, new Promise<void>((resolve) => (release = resolve)));
    for (let i = 0; h.gateway.bodyBudget.inUse < 100 * 1024 && i < 200; i++) await sleep(5);
    const room = budget - h.gateway.bodyBudget.inUse;
    const fits = ndjson(Math.floor(room * 0.4), 20, 'fits');
    const tooBig = ndjson(Math.floor(room * 1.2), 20, 'too-big');
    const now = Promise.resolve();
    const answers = {
      fitsIdentity: await postInHalves(h.port, fits, NDJSON, now),
      fitsGzip: await postInHalves(h.port, gzipSync(fits), { ...NDJSON, 'content-encoding': 'gzip' }, now),
      tooBigIdentity: await postInHalves(h.port, tooBig, NDJSON, now),
      tooBigGzip: await postInHalves(h.port, gzipSync(tooBig), { ...NDJSON, 'content-encoding': 'gzip' }, now),
    };
    expect(answers.fitsIdentity.status).toBe(202);
    expect(answers.fitsGzip.status).toBe(202);
    expect(answers.tooBigIdentity.status).toBe(503);
    expect(answers.tooBigGzip.status).toBe(503);
    expect(answers.tooBigIdentity.retryAfter).toBe('1');
    expect(answers.tooBigGzip.retryAfter).toBe('1');
    release();
    expect((await held).status).toBe(202);
    expect(h.gateway.bodyBudget.peak).toBeLessThanOrEqual(budget);
    await sleep(20);
    expect(h.gateway.bodyBudget.inUse).toBe(0);
  });
});

describe('/readyz tells the truth when the bus refuses', () => {
  it('is 503 with a reason while the in-process bus is full, and ready again once consumed', async () => {
    h = await startHarness('node', {}, { capacity: 1, consume: false });
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${h.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"service":"s"}' })).status).toBe(202);
    const res = await fetch(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/full/);
    h.bus.subscribe(`helios.events`, 'late', async () => undefined);
    await h.bus.drain(2000);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });

  it('is 503 with a reason while a full spool refuses every request', async () => {
    const inner = createMemoryBus({ capacity: 1000 });
    await inner.close(); // the brokers are away: every event goes to the spool
    const spooled = await createSpooledBus(inner, { dir: mkdtempSync(join(tmpdir(), 'helios-gw-spool-')), maxBytes: 8 * 1024, retryMs: 10_000 });
    h = await startHarness('uws', {}, { bus: spooled, consume: false });
    try {
      expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
      let status = 202;
      for (let i = 0; i < 200 && status === 202; i++) {
        status = (await fetch(`${h.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 's', message: 'x'.repeat(400) }) })).status;
      }
      expect(status).toBe(429);
      const res = await fetch(`${h.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reason: string }).reason).toMatch(/spool is full/);
    } finally {
      await h.gateway.stop();
      h = undefined;
      await spooled.close(100);
    }
  });
});
