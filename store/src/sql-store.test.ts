import { describe, expect, it } from 'vitest';
import { defaultConfig, newEventId, silentLogger, Topics, type Anomaly } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createPgliteClient, createSqlStore, openStore, startStorageConsumer } from './index.js';
import { describeStoreContract, event, T0 } from './store-contract.testkit.js';
import { MIGRATIONS, migrate } from './migrations.js';

describeStoreContract('SQL store on PGlite', async () => createSqlStore(await createPgliteClient()));

describe('migration 2 (events.sample_rate)', () => {
  it('adds the column to a store holding version-1 rows, which then count as unsampled (1)', async () => {
    const client = await createPgliteClient();
    expect(await migrate(client, MIGRATIONS.slice(0, 1))).toEqual([1]);
    await client.query(`INSERT INTO helios_events (id, ts, tenant, service, level, kind, message, attributes, resource)
                        VALUES ($1, to_timestamp($2 / 1000.0), 'acme', 'old', 'INFO', 'event', '', '{}', '{}')`, [newEventId(), T0]);
    expect(await migrate(client, MIGRATIONS.slice(0, 2))).toEqual([2]);
    await migrate(client); // the store's queries need the later ones too
    const store = createSqlStore(client);
    await store.insertEvents([event({ service: 'old', timestamp: T0 + 1, sample_rate: 4 })]);
    const ctx = await store.incidentContext({ tenant: 'acme', service: 'old', from: T0, to: T0 + 1000 });
    expect(ctx.window.events).toBe(5);
    await store.close();
  });
});

describe('migration 4 (weighted latency percentiles)', () => {
  it('has the next maintenance round recompute the rollups of minutes holding sampled events, and only those', async () => {
    const client = await createPgliteClient();
    expect(await migrate(client, MIGRATIONS.slice(0, 3))).toEqual([1, 2, 3]);
    const store = createSqlStore(client);
    const sampled = [
      ...Array.from({ length: 40 }, (_, i) => event({ service: 'upgrade', timestamp: T0 + i, latency_ms: 10, sample_rate: 25 })),
      ...Array.from({ length: 20 }, (_, i) => event({ service: 'upgrade', timestamp: T0 + 100 + i, latency_ms: 1000 })),
    ];
    await store.insertEvents([...sampled, event({ service: 'upgrade', timestamp: T0 + 60_000, latency_ms: 5 })]);
    // As if a version-3 maintenance round had rolled these minutes up already (by rows).
    await client.exec('DELETE FROM helios_rollup_pending');
    expect(await migrate(client, MIGRATIONS.slice(0, 4))).toEqual([4]);
    expect((await store.maintain({ now: T0 })).rollupsRefreshed).toBe(1); // the minute with sampled events, not the other one
    const [row] = await store.rollups({ tenant: 'acme', service: 'upgrade', from: T0, to: T0 + 60_000 });
    expect(row).toMatchObject({ events: 1020, latencyP95Ms: 10 });
    await store.close();
  });
});

describe('migration 5 (key (tenant, id, ts), dead letters, stored values brought into bounds)', () => {
  it('repairs rows stored before validation bounded them, so the rollups compute again for every tenant', async () => {
    const client = await createPgliteClient();
    expect(await migrate(client, MIGRATIONS.slice(0, 4))).toEqual([1, 2, 3, 4]);
    const store = createSqlStore(client);
    // As version 4 accepted them (validation then had no upper bounds).
    const hostile = [{ ...event({ service: 'old', timestamp: T0 }), sample_rate: 1e19 }, { ...event({ service: 'old', timestamp: T0 + 1 }), latency_ms: 1e308, sample_rate: 10 }];
    await store.insertEvents([...hostile, { ...event({ service: 'other', timestamp: T0 }), tenant: 'b' }]);
    await expect(store.maintain({ now: T0 })).rejects.toThrow(/out of range/);
    expect(await migrate(client, MIGRATIONS.slice(0, 5))).toEqual([5]);
    await store.maintain({ now: T0 });
    const [row] = await store.rollups({ tenant: 'acme', service: 'old', from: T0, to: T0 + 60_000 });
    expect(row).toMatchObject({ events: 1_000_000_010, latencyMaxMs: null });
    expect((await store.rollups({ tenant: 'b', service: 'other', from: T0, to: T0 + 60_000 }))).toHaveLength(1);
    await store.close();
  });
});

describe('openStore', () => {
  it('opens a migrated embedded store by default', async () => {
    const store = await openStore({ ...defaultConfig(), dataDir: ':memory:' });
    expect(store.dialect).toBe('pglite');
    expect(await store.migrate()).toEqual([]);
    await store.close();
  });

  it('refuses kind postgres without a url, naming the key', async () => {
    const config = defaultConfig();
    await expect(openStore({ ...config, store: { ...config.store, kind: 'postgres' } })).rejects.toMatchObject({
      code: 'HLS_ERR_CONFIG_INVALID', message: expect.stringContaining('store.url'),
    });
  });
});

describe('storage consumer on PGlite', () => {
  it('stores what the bus delivers (events once each, anomalies), maintains partitions, and closes cleanly', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const bus = createMemoryBus({ capacity: 10_000 });
    let stored = 0;
    const consumer = startStorageConsumer({ bus, store, logger: silentLogger(), batchSize: 50, flushIntervalMs: 5, onStored: (n) => (stored += n) });
    const events = Array.from({ length: 120 }, (_, i) => event({ service: 'consumer', timestamp: Date.now() - i }));
    const anomaly: Anomaly = {
      id: newEventId(), tenant: 'acme', service: 'consumer', windowStart: T0, windowEnd: T0 + 60_000, detectedAt: T0 + 60_000,
      detector: 'test', severity: 'low', score: 1, threshold: 0.5,
      features: { total_events: 1, error_rate: 0, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
      explanation: [], modelVersion: 'v1',
    };
    await bus.publish(Topics.events, events.map((value) => ({ key: 'acme/consumer', value })));
    await bus.publish(Topics.events, events.slice(0, 30).map((value) => ({ key: 'acme/consumer', value }))); // redelivered
    await bus.publish(Topics.anomalies, [{ key: 'acme/consumer', value: anomaly }]);
    expect(await bus.drain(10_000)).toBe(true);
    expect(await store.countEvents({ service: 'consumer' })).toBe(120);
    expect(stored).toBe(120);
    expect((await store.listAnomalies()).items.map((a) => a.id)).toEqual([anomaly.id]);
    await consumer.close();
    await consumer.close();
    // The maintenance run at start created today's partition: a second run has nothing to create.
    expect((await store.maintain()).partitionsCreated).toEqual([]);
    await bus.close(1000);
    await store.close();
  });
});

describe('detector state retention', () => {
  it('drops the saved state of series not judged within the retention at maintenance, and keeps the rest', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const state = new Uint8Array([1]);
    await store.putDetectorStates('p', [
      { tenant: 'a', seriesKey: 'old', version: 1, updatedAt: T0 - 8 * 86_400_000, state },
      { tenant: 'a', seriesKey: 'recent', version: 1, updatedAt: T0 - 86_400_000, state },
    ]);
    expect((await store.maintain({ now: T0 })).detectorStatesExpired).toBe(1);
    expect(await store.getDetectorState('p', 'a', 'old')).toBeUndefined();
    expect(await store.getDetectorState('p', 'a', 'recent')).toBeDefined();
    await store.close();
  });
});
