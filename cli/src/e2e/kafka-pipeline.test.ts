import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig, silentLogger as quietLogger, type HeliosEvent } from '@helios/core';
// HELIOS_TEST_LOG=debug shows the app's logs.
const silentLogger = () => (process.env['HELIOS_TEST_LOG'] ? createLogger({ level: process.env['HELIOS_TEST_LOG'] as 'debug' }) : quietLogger());
import type { Store } from '@helios/store';
import { startHelios, type HeliosApp } from '../app.js';
import { brokers, openTestStore, pgUrl, postEvents, runNamespace, spawnHelios, storedCopies, waitFor, type HeliosChild } from './kafka-testkit.js';

/**
 * Gateway -> Kafka -> storage consumer against the shared broker (HELIOS_KAFKA_BROKERS), each run in a
 * namespace of its own (topics and groups prefixed), so it never meets other suites' records.
 */
describe('kafka end-to-end environment', () => {
  it.runIf(process.env['CI'] === 'true')('has a broker and PostgreSQL in CI', () => {
    // In CI a missing service must fail, not skip: otherwise the delivery guarantees would go untested silently.
    expect(brokers, 'HELIOS_KAFKA_BROKERS must be set when CI=true').not.toHaveLength(0);
    expect(pgUrl, 'HELIOS_PG_URL must be set when CI=true').toBeDefined();
  });
});

const kafkaConfig = (namespace: string, extra: Record<string, unknown> = {}) => ({
  kind: 'kafka',
  kafka: { brokers, namespace, topics: { 'helios.events': { partitions: 4 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 }, 'helios.dead-letter': { partitions: 1 } } },
  ...extra,
});

describe.runIf(brokers.length > 0)('gateway -> kafka -> storage', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('stores every acknowledged event once, handing each service its events in order', async () => {
    const test = await openTestStore();
    cleanup.push(() => test.close());
    // What the storage consumer hands the store, in call order.
    const handed: HeliosEvent[] = [];
    const store: Store = Object.create(test.store, {
      insertEvents: { value: (events: readonly HeliosEvent[]) => (handed.push(...events), test.store.insertEvents(events)) },
    });
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-rt-'));
    const config = resolveConfig({
      dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 }, bus: kafkaConfig(runNamespace('roundtrip')), plugins: { detectors: [], reporters: [] },
    });
    const app: HeliosApp = await startHelios({ config, baseDir: dir, roles: ['gateway', 'storage'], store, logger: silentLogger() });
    cleanup.push(() => app.stop());

    const services = ['checkout', 'search', 'payments', 'auth', 'cart', 'ads'];
    const acked: string[] = [];
    // 6 services x 40 requests x 25 events (each request one service's: forwarded as it came), requests of a
    // service sent one after the other, services concurrently.
    await Promise.all(services.map(async (service) => {
      for (let request = 0; request < 40; request++) {
        const events = Array.from({ length: 25 }, (_, i) => ({ service, message: 'ok', attributes: { seq: request * 25 + i } }));
        const res = await postEvents(app.port, events);
        expect(res.status).toBe(202);
        acked.push(...res.ids);
      }
    }));
    // Then 5 requests holding every service (the gateway cuts their bytes per service), one after the other.
    for (let request = 0; request < 5; request++) {
      const events = services.flatMap((service) => Array.from({ length: 5 }, (_, i) => ({ service, message: 'mixed', attributes: { seq: 1000 + request * 5 + i } })));
      const res = await postEvents(app.port, events);
      expect(res.status).toBe(202);
      acked.push(...res.ids);
    }
    await waitFor(async () => (await storedCopies(test.client, acked)).size === acked.length, 'every acknowledged event stored');
    expect(await app.settle(30_000)).toBe(true);

    const copies = await storedCopies(test.client, acked);
    expect(copies.size).toBe(6150);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    for (const service of services) {
      const seqs = handed.filter((e) => e.service === service).map((e) => e.attributes['seq'] as number);
      expect(seqs).toEqual(Array.from({ length: 1025 }, (_, i) => i));
    }
    const metrics = await app.metrics.metrics();
    expect(metrics).toMatch(/helios_kafka_consumer_lag\{topic="helios-test\.roundtrip\.[^"]+helios\.events",group="[^"]+helios-storage",partition="0"\} 0/);
    expect(metrics).toMatch(/helios_kafka_produce_errors_total 0/);
  });

  it.runIf(pgUrl !== undefined)('loses and duplicates nothing when a storage worker is SIGKILLed mid-batch', async () => {
    const test = await openTestStore();
    cleanup.push(() => test.close());
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-worker-'));
    const namespace = runNamespace('worker-kill');
    const raw = {
      dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      // Small batches, many commits: the kill lands between a batch's write and its offset commit more often.
      // A killed worker's partitions move to the next one after the session timeout (6 s, the broker's minimum).
      bus: kafkaConfig(namespace, { kafka: { ...kafkaConfig(namespace).kafka, sessionTimeoutMs: 6000 } }),
      store: { kind: 'postgres', url: test.url, batchSize: 200, flushIntervalMs: 20, maintenanceIntervalMs: 3_600_000 },
      plugins: { detectors: [], reporters: [] },
    };
    const gateway = await startHelios({ config: resolveConfig(raw), baseDir: dir, roles: ['gateway'], logger: silentLogger() });
    cleanup.push(() => gateway.stop());
    // Everything is published before the worker starts, so it has a backlog to be killed in the middle of.
    const acked: string[] = [];
    await Promise.all(Array.from({ length: 4 }, async (_, w) => {
      for (let request = 0; request < 50; request++) {
        const res = await postEvents(gateway.port, Array.from({ length: 100 }, (_, i) => ({ service: `svc-${(w * 3 + i) % 7}`, message: 'm' })));
        expect(res.status).toBe(202);
        acked.push(...res.ids);
      }
    }));

    let worker: HeliosChild = await spawnHelios(['worker', '--role', 'storage'], raw, dir);
    cleanup.push(() => worker.kill9());
    await waitFor(async () => (await storedCopies(test.client, acked)).size >= 2000, 'the first worker to store a part of the backlog');
    await worker.kill9();
    const atKill = (await storedCopies(test.client, acked)).size;
    if (process.env["HELIOS_TEST_LOG"]) console.info(`worker killed with ${atKill} of ${acked.length} stored`);
    expect(atKill).toBeLessThan(acked.length);

    worker = await spawnHelios(['worker', '--role', 'storage'], raw, dir);
    await waitFor(async () => (await storedCopies(test.client, acked)).size === acked.length, 'the second worker to store the rest');
    const copies = await storedCopies(test.client, acked);
    expect(copies.size).toBe(20_000);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    const { rows } = await test.client.query<{ n: string | number }>('SELECT count(*) AS n FROM helios_events');
    expect(Number(rows[0]!.n)).toBe(20_000);
    // Its lag gauge is served on the worker's own /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    expect(metrics).toContain('helios_kafka_consumer_lag{');
    expect(await worker.stop()).toBe(0);
  }, 180_000);
});
