import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHeliosError, silentLogger } from '@helios/core';
import { createProduceLanes, type ProduceLanesOptions } from './kafka-lanes.js';
import type { KafkaBusStats } from './kafka-options.js';
import type { EncodedRecord, ProduceClient, TopicRecords } from './kafka-records.js';

/** A stand-in broker: records what each produce request carried, per producer; fails requests on demand. */
function fakeBroker() {
  const requests: Array<{ producer: number; batches: Array<{ topic: string; records: EncodedRecord[] }> }> = [];
  const written = new Map<string, string[]>();
  let producers = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const failNext: number[] = [];
  const newProducer = (): ProduceClient => {
    const id = producers++;
    return {
      connect: async () => undefined,
      async send(batches: readonly TopicRecords[]) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        requests.push({ producer: id, batches: batches.map((b) => ({ topic: b.topic, records: [...b.records] })) });
        if (failNext.length > 0 && failNext[0] === requests.length) {
          failNext.shift();
          throw new Error('broker said no');
        }
        for (const b of batches) for (const r of b.records) {
          const at = `${b.topic}/${r.partition}`;
          written.set(at, [...(written.get(at) ?? []), r.value!.toString()]);
        }
      },
      close: async () => undefined,
    };
  };
  return { requests, written, newProducer, failNext, producersMade: () => producers, maxInFlight: () => maxInFlight };
}

const stats = (): KafkaBusStats => ({ produceRequests: 0, publishCalls: 0, recordsAcknowledged: 0, publishFailures: 0, deadLettered: 0 });
const record = (partition: number, value: string, bytes = 10): EncodedRecord => ({ partition, key: Buffer.from(`k${partition}`), value: Buffer.from(value), bytes });
const lanesWith = (broker: ReturnType<typeof fakeBroker>, overrides: Partial<ProduceLanesOptions> = {}) =>
  createProduceLanes({
    count: 1, newProducer: broker.newProducer, lingerMs: 2, maxBatchRecords: 10_000, maxRequestBytes: 1 << 24, maxBatchBytesOf: () => 1 << 20,
    reconnectMs: 10, stats: stats(), logger: silentLogger(), ...overrides,
  });

describe('produce lanes (no broker)', () => {
  it('acknowledges every publish, writes each partition in publish order, and shares produce requests among concurrent publishes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 40 }),
        async (count, publishes) => {
          const broker = fakeBroker();
          const laneStats = stats();
          const lanes = lanesWith(broker, { count, stats: laneStats, maxBatchRecords: 25 });
          await Promise.all(publishes.map((partitions, call) => lanes.enqueue('t', partitions.map((p, i) => record(p, `${call}:${i}`)))));
          const total = publishes.reduce((n, p) => n + p.length, 0);
          expect(laneStats.recordsAcknowledged).toBe(total);
          // Per partition: the order of publish calls, and of records within a call.
          for (let p = 0; p < 8; p++) {
            const want = publishes.flatMap((partitions, call) => partitions.flatMap((q, i) => (q === p ? [`${call}:${i}`] : [])));
            expect(broker.written.get(`t/${p}`) ?? []).toEqual(want);
          }
          // A request never carries more than maxBatchRecords, and one lane never has two requests in flight.
          for (const r of broker.requests) expect(r.batches.reduce((n, b) => n + b.records.length, 0)).toBeLessThanOrEqual(25);
          expect(broker.maxInFlight()).toBeLessThanOrEqual(count);
          // Publishes made together share one request per lane when they fit in it.
          if (count === 1 && total <= 25) expect(laneStats.produceRequests).toBe(1);
          await lanes.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('cuts requests so no partition batch exceeds the topic limit', async () => {
    const broker = fakeBroker();
    const lanes = lanesWith(broker, { maxBatchBytesOf: () => 512 + 300 });
    await lanes.enqueue('t', Array.from({ length: 10 }, (_, i) => record(0, `v${i}`, 100)));
    for (const r of broker.requests) expect(r.batches.reduce((n, b) => n + b.records.length, 0)).toBeLessThanOrEqual(3);
    expect(broker.written.get('t/0')).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  it('rejects exactly the publishes of a failed request with a coded error, replaces the producer, and delivers later publishes', async () => {
    const broker = fakeBroker();
    const laneStats = stats();
    const lanes = lanesWith(broker, { stats: laneStats });
    broker.failNext.push(1);
    const first = await Promise.allSettled([lanes.enqueue('t', [record(0, 'a')]), lanes.enqueue('t', [record(1, 'b')])]);
    expect(first.every((r) => r.status === 'rejected' && isHeliosError(r.reason, 'HLS_ERR_BUS_CLOSED'))).toBe(true);
    expect(laneStats.publishFailures).toBe(2);
    expect(broker.producersMade()).toBe(2);
    await lanes.enqueue('t', [record(0, 'c')]);
    expect(broker.written.get('t/0')).toEqual(['c']);
    expect(broker.requests.at(-1)!.producer).toBe(1);
  });

  it('rejects what is still queued when closed', async () => {
    const broker = fakeBroker();
    const lanes = lanesWith(broker, { lingerMs: 10_000 });
    const pending = lanes.enqueue('t', [record(0, 'never sent')]);
    await lanes.close();
    await expect(pending).rejects.toMatchObject({ code: 'HLS_ERR_BUS_CLOSED' });
    expect(broker.requests).toHaveLength(0);
  });
});
