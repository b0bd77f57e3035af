import { describe, expect, it } from 'vitest';
import { HeliosError, type BusRecord } from '@helios/core';
import { createMemoryBus } from './memory-bus.js';

const records = (from: number, n: number, key = 'k'): BusRecord<number>[] => Array.from({ length: n }, (_, i) => ({ key, value: from + i }));

describe('in-process bus', () => {
  it('gives every group every record, in order, including records published before it subscribed', async () => {
    const bus = createMemoryBus({ capacity: 10_000 });
    await bus.publish('t', records(0, 5));
    const a: number[] = [];
    const b: number[] = [];
    bus.subscribe<number>('t', 'a', async (batch) => void a.push(...batch.map((r) => r.value)), { maxBatch: 2 });
    bus.subscribe<number>('t', 'b', async (batch) => void b.push(...batch.map((r) => r.value)));
    await bus.publish('t', records(5, 5));
    expect(await bus.drain(2000)).toBe(true);
    expect(a).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b).toEqual(a);
    await bus.close();
  });

  it('refuses publishes beyond capacity with HLS_ERR_BUS_FULL, and accepts again once consumed', async () => {
    const bus = createMemoryBus({ capacity: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bus.subscribe<number>('t', 'slow', () => gate);
    await bus.publish('t', records(0, 10));
    await expect(bus.publish('t', records(10, 1))).rejects.toMatchObject({ code: 'HLS_ERR_BUS_FULL', status: 429 });
    release();
    expect(await bus.drain(2000)).toBe(true);
    await expect(bus.publish('t', records(10, 5))).resolves.toBeUndefined();
    await bus.close();
  });

  it('retries a failed batch without skipping it (at-least-once)', async () => {
    const bus = createMemoryBus({ capacity: 100, retryMs: 1 });
    const seen: number[] = [];
    let failures = 0;
    bus.subscribe<number>('t', 'flaky', async (batch) => {
      if (failures++ < 3) throw new Error('boom');
      seen.push(...batch.map((r) => r.value));
    });
    await bus.publish('t', records(0, 3));
    expect(await bus.drain(2000)).toBe(true);
    expect(seen).toEqual([0, 1, 2]);
    await bus.close();
  });

  it('close drains what was published, then refuses new publishes; twice is safe', async () => {
    const bus = createMemoryBus({ capacity: 100 });
    const seen: number[] = [];
    bus.subscribe<number>('t', 'g', async (batch) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(...batch.map((r) => r.value));
    }, { maxBatch: 1 });
    await bus.publish('t', records(0, 4));
    await Promise.all([bus.close(), bus.close()]);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(bus.isReady()).toBe(false);
    const err = await bus.publish('t', records(4, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeliosError);
    expect((err as HeliosError).code).toBe('HLS_ERR_BUS_CLOSED');
  });
});
