import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Topics, type HeliosEvent } from '@helios/core';
import { createKafkaBus } from '@helios/bus';
import { brokers, postEvents, runNamespace, spawnHelios, waitFor } from './kafka-testkit.js';

/**
 * A gateway on two threads over Kafka (each thread its own producer and spool folder), stopped by SIGTERM
 * under load: every event answered 202 before it exited is on Kafka afterwards, once.
 */
describe.runIf(brokers.length > 0)('gateway threads on kafka, SIGTERM under load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('has every acknowledged event on Kafka once after exiting 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-threads-term-'));
    const namespace = runNamespace('threads-term');
    const raw = {
      dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads: 2 }, plugins: { detectors: [], reporters: [] },
      bus: { kind: 'kafka', kafka: { brokers, namespace, topics: { 'helios.events': { partitions: 3 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 }, 'helios.dead-letter': { partitions: 1 } } } },
    };
    const gateway = await spawnHelios(['up', '--role', 'gateway'], raw, dir);
    cleanup.push(() => gateway.kill9());
    expect(readdirSync(join(dir, 'spool'))).toContain('thread-1');

    // Eight clients, each on connections of its own, posting until the gateway stops answering 202.
    const acked: string[] = [];
    let stopping = false;
    const client = async (c: number) => {
      for (let i = 0; ; i++) {
        const res = await postEvents(gateway.port, Array.from({ length: 20 }, (_, k) => ({ service: `svc-${(c + k) % 5}`, message: `c${c} r${i} e${k}` })));
        if (res.status !== 202) {
          if (!stopping) throw new Error(`refused before SIGTERM: ${res.status}; gateway log: ${gateway.stderr().slice(-2000)}`);
          return;
        }
        acked.push(...res.ids);
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    await waitFor(() => acked.length >= 4000, '4,000 acknowledged events');
    stopping = true;
    const code = gateway.stop();
    await Promise.all(clients);
    expect(await code).toBe(0);
    expect(gateway.stderr()).toContain('"msg":"stopped"');

    const reader = await createKafkaBus({ brokers, namespace, clientId: 'helios-test-reader' });
    cleanup.push(() => reader.close(5000));
    const seen = new Map<string, number>();
    reader.subscribe<HeliosEvent>(Topics.events, 'test-reader', async (records) => {
      for (const r of records) seen.set(r.value.id, (seen.get(r.value.id) ?? 0) + 1);
    });
    await waitFor(() => acked.every((id) => seen.has(id)), 'every acknowledged event on Kafka');
    expect(acked.filter((id) => seen.get(id) !== 1)).toEqual([]);
  }, 180_000);
});
