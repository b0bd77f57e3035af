import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeliosError, isHeliosError, eventRecords, parseEventsBody, newEventId, normalizeEventBatch, type Bus, type BusRecord, type EventRequestBatch, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from './memory-bus.js';
import { createSpooledBus } from './spooled-bus.js';

interface Numbered {
  id: string;
  seq: number;
}

/** A memory bus that can be switched off like an unreachable broker: publishes reject, isReady is false. */
function switchableBus(): Bus & { down: boolean; publishCalls: number } {
  const memory = createMemoryBus({ capacity: 1_000_000 });
  const bus = {
    down: false,
    publishCalls: 0,
    kind: 'switchable',
    async publish<T>(topic: string, records: readonly BusRecord<T>[]) {
      bus.publishCalls++;
      if (bus.down) throw new HeliosError('HLS_ERR_BUS_CLOSED', 'broker unreachable');
      await memory.publish(topic, records);
    },
    subscribe: memory.subscribe.bind(memory),
    isReady: () => !bus.down,
    drain: memory.drain.bind(memory),
    close: memory.close.bind(memory),
  };
  return bus;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const spoolDir = () => mkdtempSync(join(tmpdir(), 'helios-spool-'));
const records = (from: number, n: number, keys = 3): BusRecord<Numbered>[] => Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % keys}`, value: { id: `e${from + i}`, seq: from + i } }));

describe('spooled bus', () => {
  it('passes request bytes (publishEvents) to the inner bus, and spools their events one by one while it is down', async () => {
    const inner = switchableBus();
    const forwarded: EventRequestBatch[] = [];
    const withBytes: Bus = {
      ...inner,
      isReady: () => inner.isReady(),
      async publishEvents(topic, batch) {
        if (inner.down) throw new HeliosError('HLS_ERR_BUS_CLOSED', 'broker unreachable');
        forwarded.push(batch);
        await inner.publish(topic, eventRecords(batch.events));
      },
    };
    const bus = await createSpooledBus(withBytes, { dir: spoolDir(), maxBytes: 10_000_000, retryMs: 5 });
    const got: HeliosEvent[] = [];
    bus.subscribe<HeliosEvent>('t', 'g', async (rs) => void got.push(...rs.map((r) => r.value)));
    const request = (seq: number): EventRequestBatch => {
      const body = Buffer.from(JSON.stringify([{ service: 'a', attributes: { seq } }, { service: 'b', attributes: { seq } }]));
      const idBase = newEventId();
      return { events: normalizeEventBatch(parseEventsBody(body, 'json', 10), { tenant: 't', now: 1, idBase }), body, kind: 'json', tenant: 't', receivedAt: 1, idBase };
    };
    const batches = [request(0), request(1), request(2)];
    await bus.publishEvents!('t', batches[0]!);
    inner.down = true;
    await bus.publishEvents!('t', batches[1]!);
    expect(bus.spoolStats()).toMatchObject({ spooling: true, appendedRecords: 2 });
    inner.down = false;
    await bus.publishEvents!('t', batches[2]!);
    expect(await bus.drain(5000)).toBe(true);
    // The first went through as bytes; the spooled one was replayed as events; the last queued behind it.
    expect(forwarded[0]).toBe(batches[0]);
    expect(got).toEqual(batches.flatMap((b) => b.events));
    await bus.close();
  });

  it('spools while the inner bus is down, acknowledges after the fsync, and replays in order when it is back', async () => {
    const inner = switchableBus();
    const bus = await createSpooledBus(inner, { dir: spoolDir(), maxBytes: 10_000_000, retryMs: 5, replayBatchRecords: 7 });
    const got: Numbered[] = [];
    bus.subscribe<Numbered>('t', 'g', async (rs) => void got.push(...rs.map((r) => r.value)));

    await bus.publish('t', records(0, 10));
    inner.down = true;
    await Promise.all([0, 1, 2, 3, 4].map((i) => bus.publish('t', records(10 + i * 10, 10))));
    expect(bus.spoolStats()).toMatchObject({ spooling: true, appendedRecords: 50 });
    expect(bus.isReady()).toBe(true);
    inner.down = false;
    // Still behind the spool until it is replayed: appended, not published past the spooled records.
    const late = bus.publish('t', records(60, 10));
    expect(await bus.drain(5000)).toBe(true);
    await late;
    expect(await bus.drain(5000)).toBe(true);
    expect(got.map((v) => v.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    for (const key of ['k0', 'k1', 'k2']) {
      const seqs = got.filter((v) => `k${v.seq % 3}` === key).map((v) => v.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(bus.spoolStats()).toMatchObject({ bytes: 0, spooling: false });
    await bus.close();
  });

  it('replays what an earlier process acknowledged and never replayed, ignoring a torn tail', async () => {
    const dir = spoolDir();
    const deadInner = switchableBus();
    deadInner.down = true;
    const crashed = await createSpooledBus(deadInner, { dir, maxBytes: 10_000_000 });
    await crashed.publish('t', records(0, 100));
    await crashed.publish('other', records(100, 5));
    // The process "dies" here: no close. A half-written frame follows the acknowledged ones.
    const segment = readdirSync(dir).find((n) => n.endsWith('.spool'))!;
    appendFileSync(join(dir, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5]));

    const inner = switchableBus();
    const got: string[] = [];
    inner.subscribe<Numbered>('t', 'g', async (rs) => void got.push(...rs.map((r) => r.value.id)));
    inner.subscribe<Numbered>('other', 'g', async (rs) => void got.push(...rs.map((r) => r.value.id)));
    const restarted = await createSpooledBus(inner, { dir, maxBytes: 10_000_000, retryMs: 5 });
    await waitFor(() => got.length >= 105, 'the 105 spooled records');
    expect(await restarted.drain(5000)).toBe(true);
    expect(got).toEqual(records(0, 105).map((r) => r.value.id));
    await restarted.close();
  });

  it('refuses with HLS_ERR_BUS_FULL only when the spool is full', async () => {
    const inner = switchableBus();
    inner.down = true;
    const bus = await createSpooledBus(inner, { dir: spoolDir(), maxBytes: 4096 });
    let accepted = 0;
    let full: unknown;
    for (let i = 0; i < 100 && full === undefined; i++) {
      try {
        await bus.publish('t', records(i * 5, 5));
        accepted++;
      } catch (err) {
        full = err;
      }
    }
    expect(accepted).toBeGreaterThan(5);
    expect(isHeliosError(full, 'HLS_ERR_BUS_FULL')).toBe(true);
    inner.down = false;
    expect(await bus.drain(5000)).toBe(true);
    await bus.publish('t', records(1000, 5));
    await bus.close();
  });

  it('is not ready while a full spool refuses publishes, also once the inner bus is reachable but the replay fails', async () => {
    const inner = switchableBus();
    inner.down = true;
    const bus = await createSpooledBus(inner, { dir: spoolDir(), maxBytes: 4096, retryMs: 5, maxRetryMs: 10 });
    expect(bus.isReady()).toBe(true); // spooling, with room
    let full = false;
    for (let i = 0; i < 100 && !full; i++) {
      await bus.publish('t', records(i * 5, 5)).catch((err: unknown) => (full = isHeliosError(err, 'HLS_ERR_BUS_FULL')));
    }
    expect(full).toBe(true);
    expect(bus.isReady()).toBe(false);
    expect(bus.notReadyReason?.()).toMatch(/spool is full .* the bus is unavailable/);
    // The brokers answer again, but every write fails: publishes still go to the full spool, so still not ready.
    const failingWrites = { ...inner, isReady: () => true, publish: () => Promise.reject(new HeliosError('HLS_ERR_BUS_CLOSED', 'write failed')), close: async () => undefined };
    const reachable = await createSpooledBus(failingWrites, { dir: spoolDir(), maxBytes: 4096, retryMs: 5, maxRetryMs: 10 });
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      await reachable.publish('t', records(i * 5, 5)).catch((err: unknown) => (refused = isHeliosError(err, 'HLS_ERR_BUS_FULL')));
    }
    expect(refused).toBe(true);
    expect(reachable.isReady()).toBe(false);
    expect(reachable.notReadyReason?.()).toMatch(/spool is full .* replays into the bus/);
    await reachable.close(50);
    // Once the spool is replayed, ready again.
    inner.down = false;
    expect(await bus.drain(5000)).toBe(true);
    expect(bus.isReady()).toBe(true);
    expect(bus.notReadyReason?.()).toBeUndefined();
    await bus.close();
  });

  it('hands every acknowledged record to the inner bus exactly in append order, whatever the outages (model)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ down: fc.boolean(), n: fc.integer({ min: 1, max: 20 }) }), { minLength: 1, maxLength: 25 }), async (steps) => {
        const inner = switchableBus();
        const bus = await createSpooledBus(inner, { dir: spoolDir(), maxBytes: 10_000_000, retryMs: 1, fsyncIntervalMs: 0, replayBatchRecords: 9 });
        const got: number[] = [];
        bus.subscribe<Numbered>('t', 'g', async (rs) => void got.push(...rs.map((r) => r.value.seq)));
        let next = 0;
        for (const step of steps) {
          inner.down = step.down;
          await bus.publish('t', records(next, step.n, 1));
          next += step.n;
        }
        inner.down = false;
        expect(await bus.drain(5000)).toBe(true);
        // One key: the model is a single ordered log of everything acknowledged.
        expect(got).toEqual(Array.from({ length: next }, (_, i) => i));
        await bus.close();
      }),
      { numRuns: 30 },
    );
  });
});
