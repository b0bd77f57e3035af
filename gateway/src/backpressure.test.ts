import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Topics, type Bus, type BusRecord } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { startHarness, type Harness } from './harness.fixture.js';

/**
 * Under a flood the gateway refuses instead of buffering, and on shutdown it finishes what it
 * accepted. Assertions are on counts (accepted vs refused, events on the bus) and on heap size after a
 * full GC, never on timing.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A body of `n` events, ~640 bytes each. */
const batch = (n: number, tag: string) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ service: `svc-${i % 4}`, message: `${tag} ${'x'.repeat(560)}`, latency_ms: i })));

/** POST `total` bodies over `connections` keep-alive connections; resolves with the count of each status. */
async function flood(url: string, body: string, total: number, connections: number): Promise<Map<number, number>> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const res = await pool.request({ path: '/api/v1/events', method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return statuses;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.gateway.stop();
  harness = undefined;
});

describe.each(['uws', 'node'] as const)('backpressure and shutdown over %s', (transport) => {
  it('refuses a flood into a bus that never drains with 429, holding no more than the bus takes', async () => {
    const capacity = 2_000;
    const perRequest = 50; // ~32 KB bodies
    harness = await startHarness(transport, { maxEventsPerRequest: perRequest }, { capacity, consume: false });
    const body = batch(perRequest, 'flood');
    // Warm up (JIT, connection pools), then measure the heap across a flood of 3,000 requests (~96 MB of bodies).
    const warmUp = await flood(harness.url, body, 20, 8);
    const before = heapAfterGc();
    const statuses = await flood(harness.url, body, 3_000, 64);
    const after = heapAfterGc();
    const accepted = (warmUp.get(202) ?? 0) + (statuses.get(202) ?? 0);
    expect(accepted).toBe(capacity / perRequest); // exactly the 40 requests that filled the bus
    expect(statuses.get(429)).toBe(3_000 - (statuses.get(202) ?? 0));
    expect([...statuses.keys()].every((s) => s === 202 || s === 429)).toBe(true);
    // Nothing of the refused 95 MB is kept: the heap grows by far less than what was sent.
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('on stop: refuses new connections, finishes requests in flight, and only then resolves', async () => {
    const inner = createMemoryBus({ capacity: 100_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let publishing = 0;
    // A bus slow to acknowledge: every publish waits for the gate.
    const slowBus: Bus = {
      ...inner,
      kind: 'slow',
      async publish<T>(topic: string, records: readonly BusRecord<T>[]) {
        publishing++;
        await gate;
        await inner.publish(topic, records);
      },
    };
    harness = await startHarness(transport, {}, { bus: slowBus, consume: false });
    const { url, gateway } = harness;
    const inFlight = Array.from({ length: 20 }, (_, i) => fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'drain', message: `m${i}` }) }));
    while (publishing < 20) await new Promise((resolve) => setImmediate(resolve));
    let stopped = false;
    const stopping = gateway.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    // The listening socket is closed: a new connection is refused.
    await expect(fetch(`${url}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
    release();
    const responses = await Promise.all(inFlight.map((p, i) => p.catch((err: Error) => { throw new Error(`request ${i}: ${err.message} ${String((err.cause as Error)?.message)}`); })));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    await stopping;
    expect(stopped).toBe(true);
    const seen: string[] = [];
    inner.subscribe<{ message: string }>(Topics.events, 'check', async (records) => void seen.push(...records.map((r) => r.value.message)));
    await inner.drain(5000);
    expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    harness = undefined;
  });
});
