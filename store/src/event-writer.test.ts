import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeliosError, normalizeEventInput, type HeliosEvent } from '@helios/core';
import { Registry } from 'prom-client';
import { createEventWriter } from './event-writer.js';
import type { DeadLetter } from './store.js';

const events = (n: number, service = 'w') => Array.from({ length: n }, () => normalizeEventInput({ service }, { tenant: 'acme', now: 0 }));
const unreachable = () => new HeliosError('HLS_ERR_STORE', 'connecting to PostgreSQL: connect ECONNREFUSED', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' }) });

/** A store whose availability the test switches; it records every batch it committed. */
function fakeStore() {
  const batches: HeliosEvent[][] = [];
  const ids = new Set<string>();
  let down = false;
  let attempts = 0;
  return {
    batches, ids,
    get attempts() {
      return attempts;
    },
    setDown(value: boolean) {
      down = value;
    },
    deadLetters: [] as DeadLetter[],
    /** Events the store refuses as a database refuses a value it cannot hold (SQLSTATE class 22). */
    poisoned: new Set<string>(),
    async insertDeadLetters(letters: readonly DeadLetter[]) {
      this.deadLetters.push(...letters);
      return letters.length;
    },
    async insertEvents(batch: readonly HeliosEvent[]) {
      attempts++;
      if (down) throw unreachable();
      const poison = batch.find((e) => this.poisoned.has(e.id));
      if (poison !== undefined) {
        throw new HeliosError('HLS_ERR_STORE', 'writing events: timestamp out of range [22008]', { cause: Object.assign(new Error('timestamp out of range'), { code: '22008' }) });
      }
      batches.push([...batch]);
      let added = 0;
      for (const e of batch) if (!ids.has(e.id)) (ids.add(e.id), added++);
      return added;
    },
  };
}

describe('event writer', () => {
  it('writes a full batch at once and a partial one after the flush interval', async () => {
    const store = fakeStore();
    const writer = createEventWriter({ store, batchSize: 100, flushIntervalMs: 20 });
    await writer.write(events(100));
    expect(store.batches.map((b) => b.length)).toEqual([100]);
    await writer.write(events(3));
    expect(store.batches.map((b) => b.length)).toEqual([100, 3]);
    await writer.close();
  });

  it('coalesces concurrent writers into one batch, up to batchSize', async () => {
    const store = fakeStore();
    const writer = createEventWriter({ store, batchSize: 100, flushIntervalMs: 50 });
    await Promise.all([writer.write(events(30)), writer.write(events(30)), writer.write(events(30))]);
    expect(store.batches.map((b) => b.length)).toEqual([90]);
    await writer.close();
  });

  it('holds the batch while the store is unreachable and writes it once it is back; callers wait meanwhile', async () => {
    const store = fakeStore();
    let stored = 0;
    const writer = createEventWriter({ store, batchSize: 10, flushIntervalMs: 5, retryInitialMs: 5, retryMaxMs: 20, onStored: (n) => (stored += n) });
    store.setDown(true);
    let settled = false;
    const pending = writer.write(events(10)).then(() => (settled = true));
    while (store.attempts < 3) await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    expect(writer.unavailableSince).toBeTypeOf('number');
    store.setDown(false);
    await pending;
    expect(stored).toBe(10);
    expect(store.ids.size).toBe(10);
    expect(writer.unavailableSince).toBeUndefined();
    await writer.close();
  });

  it('bounds memory: a write waits while maxBufferedEvents are buffered', async () => {
    const store = fakeStore();
    store.setDown(true);
    const writer = createEventWriter({ store, batchSize: 10, flushIntervalMs: 5, maxBufferedEvents: 20, retryInitialMs: 5, retryMaxMs: 5 });
    const first = writer.write(events(10)); // taken as the batch in flight
    const second = writer.write(events(10));
    const third = writer.write(events(10));
    let fourthAccepted = false;
    const fourth = writer.write(events(10)).then(() => (fourthAccepted = true));
    while (store.attempts < 3) await new Promise((r) => setTimeout(r, 5));
    expect(fourthAccepted).toBe(false);
    store.setDown(false);
    await Promise.all([first, second, third, fourth]);
    expect(store.ids.size).toBe(40);
    await writer.close();
  });

  it('rejects on an error that retrying cannot fix, and rejects the batch in flight when closed during an outage', async () => {
    const broken = { insertEvents: async () => { throw new HeliosError('HLS_ERR_STORE', 'syntax error [42601]', { cause: new TypeError('bad') }); } };
    const writer = createEventWriter({ store: broken, batchSize: 1, flushIntervalMs: 5 });
    await expect(writer.write(events(1))).rejects.toMatchObject({ code: 'HLS_ERR_STORE' });
    await writer.close();

    const store = fakeStore();
    store.setDown(true);
    const closing = createEventWriter({ store, batchSize: 5, flushIntervalMs: 5, retryInitialMs: 5, retryMaxMs: 5 });
    const held = closing.write(events(5));
    while (store.attempts < 2) await new Promise((r) => setTimeout(r, 5));
    await closing.close();
    await expect(held).rejects.toMatchObject({ code: 'HLS_ERR_STORE' });
    await expect(closing.write(events(1))).rejects.toMatchObject({ code: 'HLS_ERR_STORE' });
  });
});

describe('event writer metrics', () => {
  it('exports batch sizes, write durations, transient errors and availability', async () => {
    const { createMetricsRegistry } = await import('@helios/core');
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const store = fakeStore();
    const writer = createEventWriter({ store, batchSize: 10, flushIntervalMs: 5, retryInitialMs: 5, metrics: registry });
    await writer.write(events(10));
    store.setDown(true);
    const held = writer.write(events(4));
    await new Promise((r) => setTimeout(r, 30));
    expect(await registry.getSingleMetricAsString('helios_store_unavailable')).toMatch(/helios_store_unavailable 1/);
    store.setDown(false);
    await held;
    const text = await registry.metrics();
    expect(text).toMatch(/helios_store_write_batch_size_count 2/);
    expect(text).toMatch(/helios_store_write_batch_size_sum 14/);
    expect(text).toMatch(/helios_store_write_duration_seconds_count 2/);
    expect(text).toMatch(/helios_store_write_errors_total\{reason="transient"\} [1-9]/);
    expect(text).toMatch(/helios_store_unavailable 0/);
    await writer.close();
  });

  it('splits a batch the store refuses until the refused rows are alone: every other row is stored, each refused one dead-lettered once and counted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.uniqueArray(fc.nat(299), { maxLength: 6 }), async (n, poisonAt) => {
        const store = fakeStore();
        const batch = events(n);
        const poisoned = new Set(poisonAt.filter((i) => i < n).map((i) => batch[i]!.id));
        for (const id of poisoned) store.poisoned.add(id);
        const metrics = new Registry();
        let stored = 0;
        const writer = createEventWriter({ store, batchSize: 1000, flushIntervalMs: 1, metrics, onStored: (k) => (stored += k) });
        await writer.write(batch);
        await writer.close();
        expect(stored).toBe(n - poisoned.size);
        expect([...store.ids].sort()).toEqual(batch.filter((e) => !poisoned.has(e.id)).map((e) => e.id).sort());
        expect(store.deadLetters.map((l) => l.event.id).sort()).toEqual([...poisoned].sort());
        expect(store.deadLetters.every((l) => l.reason === '22008')).toBe(true);
        const counted = (await metrics.getSingleMetric('helios_store_dead_letters_total')!.get()).values;
        expect(counted.reduce((k, v) => k + v.value, 0)).toBe(poisoned.size);
      }),
      { numRuns: 60 },
    );
  });

  it('fails the batch, dead-lettering nothing, when the error is not about a row (a missing table, permissions)', async () => {
    const store = fakeStore();
    store.insertEvents = async () => {
      throw new HeliosError('HLS_ERR_STORE', 'relation "helios_events" does not exist [42P01]', { cause: Object.assign(new Error('relation does not exist'), { code: '42P01' }) });
    };
    const writer = createEventWriter({ store, batchSize: 10, flushIntervalMs: 1 });
    await expect(writer.write(events(10))).rejects.toThrow(/42P01/);
    expect(store.deadLetters).toEqual([]);
    await writer.close();
  });
});
