import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, isHeliosError, newEventId, normalizeEventInput, silentLogger, Topics, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createPostgresClient, createSqlStore, isTransientStoreError, migrate, openStore, startStorageConsumer, type SqlClient } from './index.js';
import { MIGRATIONS } from './migrations.js';
import { describeStoreContract, event, T0 } from './store-contract.testkit.js';

/**
 * Integration tests on a real PostgreSQL server: set HELIOS_PG_URL (scripts/postgres.sh url).
 * Each run works in its own schema, so runs do not see each other's tables. In CI the server is
 * required: a missing HELIOS_PG_URL fails the run instead of silently skipping these tests.
 */
const url = process.env['HELIOS_PG_URL'];
const script = process.env['HELIOS_PG_SCRIPT'];
const exec = promisify(execFile);

if (process.env['CI'] === 'true' && (!url || !script)) {
  describe('PostgreSQL store', () => {
    it('has a server to test against (HELIOS_PG_URL) and the script for the fault test (HELIOS_PG_SCRIPT)', () => {
      expect.fail(
        'CI=true but HELIOS_PG_URL or HELIOS_PG_SCRIPT is not set: run scripts/postgres.sh start, then export ' +
          'HELIOS_PG_URL="$(scripts/postgres.sh url)" HELIOS_PG_SCRIPT="$PWD/scripts/postgres.sh"',
      );
    });
  });
}

const schemas: string[] = [];
async function freshSchemaClient(connectionString: string, options: { max?: number } = {}): Promise<SqlClient> {
  const schema = `helios_test_${newEventId().replace(/-/g, '').slice(0, 16)}`;
  const admin = createPostgresClient(connectionString);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  await admin.close();
  schemas.push(schema);
  return createPostgresClient({ connectionString, options: `-c search_path=${schema}`, max: options.max ?? 10 });
}

describe.runIf(url)('PostgreSQL store', () => {
  afterAll(async () => {
    const admin = createPostgresClient(url!);
    for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.close();
  });

  describeStoreContract('the store contract, COPY writer', async () => createSqlStore(await freshSchemaClient(url!)));

  it('openStore connects to the configured server and migrates', async () => {
    await (await freshSchemaClient(url!)).close();
    const schema = schemas[schemas.length - 1]!;
    const config = defaultConfig();
    const withSchema = `${url!}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const store = await openStore({ ...config, store: { ...config.store, kind: 'postgres', url: withSchema, poolSize: 2 } });
    try {
      expect(store.dialect).toBe('postgres');
      expect(await store.migrate()).toEqual([]);
      expect(await store.insertEvents([event({ service: 'open' })])).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('migrates once, also with two migrators racing on an empty database', async () => {
    const one = await freshSchemaClient(url!);
    const schema = schemas[schemas.length - 1]!;
    const two = createPostgresClient({ connectionString: url!, options: `-c search_path=${schema}` });
    try {
      const results = await Promise.all([migrate(one), migrate(two)]);
      expect(results.map((r) => r.join(',')).sort()).toEqual(['', MIGRATIONS.map((m) => m.version).join(',')]);
      expect(await migrate(one)).toEqual([]);
      const { rows } = await one.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = to_regclass('helios_events')`);
      expect(rows[0]?.relkind).toBe('p'); // declarative partitioning (no TimescaleDB here)
      const parts = await one.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('helios_events')`);
      expect(parts.rows.map((r) => r.name)).toEqual(['helios_events_default']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('two processes maintaining at once create each partition once', async () => {
    const one = await freshSchemaClient(url!);
    const schema = schemas[schemas.length - 1]!;
    const two = createPostgresClient({ connectionString: url!, options: `-c search_path=${schema}` });
    const a = createSqlStore(one);
    const b = createSqlStore(two);
    try {
      await a.migrate();
      await a.insertEvents([event({ service: 'race', timestamp: T0 })]); // sits in the default partition until its day exists
      const [ra, rb] = await Promise.all([a.maintain({ now: T0 }), b.maintain({ now: T0 })]);
      expect([...ra.partitionsCreated, ...rb.partitionsCreated].sort()).toHaveLength(11);
      expect(new Set([...ra.partitionsCreated, ...rb.partitionsCreated]).size).toBe(11);
      expect(await a.countEvents({ service: 'race' })).toBe(1);
      const { rows } = await one.query<{ n: string }>(`SELECT count(*) AS n FROM helios_events_default`);
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('COPY keeps tabs and newlines of a message, and a batch written again (in other chunks) is not stored twice', async () => {
    const client = await freshSchemaClient(url!);
    const copy = createSqlStore(client, { batchSize: 1000 });
    const again = createSqlStore(client, { batchSize: 700 });
    try {
      await copy.migrate();
      const events = Array.from({ length: 2500 }, (_, i) => event({ service: 'writers', timestamp: T0 + i, latency_ms: i, message: `m\t${i}\n` }));
      expect(await copy.insertEvents(events)).toBe(2500);
      expect(await again.insertEvents(events)).toBe(0);
      expect(await copy.insertEvents([...events.slice(0, 10), event({ service: 'writers' })])).toBe(1);
      expect(await copy.countEvents({ service: 'writers' })).toBe(2501);
      const { rows } = await client.query<{ message: string }>(`SELECT message FROM helios_events WHERE id = $1`, [events[7]!.id]);
      expect(rows[0]?.message).toBe('m\t7\n');
    } finally {
      await copy.close();
    }
  });

  it('maps connection failures and SQL errors to HLS_ERR_STORE; only the first is transient', async () => {
    const nowhere = createPostgresClient({ host: '127.0.0.1', port: 1, user: 'x', database: 'x', connectionTimeoutMillis: 2000 });
    const refused = await nowhere.query('SELECT 1').catch((err: unknown) => err);
    await nowhere.close();
    expect(isHeliosError(refused) && refused.code).toBe('HLS_ERR_STORE');
    expect(isTransientStoreError(refused)).toBe(true);

    const client = createPostgresClient(url!);
    const syntax = await client.query('SELEC 1').catch((err: unknown) => err);
    await client.close();
    expect(isHeliosError(syntax) && syntax.code).toBe('HLS_ERR_STORE');
    expect((syntax as Error).message).toContain('[42601]');
    expect(isTransientStoreError(syntax)).toBe(false);
  });

  // Stops and starts a PostgreSQL cluster of its own (another port) so other tests on HELIOS_PG_URL are not disturbed.
  describe.runIf(script)('fault: PostgreSQL stops during a steady write through the storage consumer', () => {
    const faultEnv = { ...process.env, PG_PORT: process.env['HELIOS_PG_FAULT_PORT'] ?? '5439' };
    const pg = async (command: string) => (await exec(script!, [command], { env: faultEnv })).stdout.trim();

    beforeAll(async () => {
      await pg('start');
    }, 120_000);
    afterAll(async () => {
      await pg('start'); // leave it running whatever happened, so the schema can be dropped
    }, 120_000);

    for (const how of ['stop', 'kill9'] as const) {
      it(`every published event is stored exactly once after a ${how} and a start`, async () => {
        const client = await freshSchemaClient(await pg('url'), { max: 4 });
        const store = createSqlStore(client);
        await store.migrate();
        const bus = createMemoryBus({ capacity: 1_000_000, retryMs: 50, maxRetryMs: 500 });
        let stored = 0;
        const consumer = startStorageConsumer({
          bus, store, logger: silentLogger(), batchSize: 500, flushIntervalMs: 20, maintenanceIntervalMs: 0,
          retryInitialMs: 50, retryMaxMs: 500, onStored: (n) => (stored += n),
        });
        const published: HeliosEvent[] = [];
        let publishing = true;
        let sawOutage = false;
        const producer = (async () => {
          let i = 0;
          while (publishing) {
            const batch = Array.from({ length: 100 }, () => normalizeEventInput({ service: 'fault', message: `e${i++}` }, { tenant: 'acme', now: T0 + i }));
            await bus.publish(Topics.events, batch.map((value) => ({ key: 'acme/fault', value })));
            published.push(...batch);
            if (consumer.unavailableSince !== undefined) sawOutage = true;
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        try {
          while (stored === 0) await new Promise((r) => setTimeout(r, 50));
          await new Promise((r) => setTimeout(r, 500));
          await pg(how);
          await new Promise((r) => setTimeout(r, 2000));
          await pg('start');
          await new Promise((r) => setTimeout(r, 1000));
          publishing = false;
          await producer;
          expect(await bus.drain(60_000)).toBe(true);

          // The consumer noticed the outage (held its batch and retried) rather than failing or dropping it.
          expect(sawOutage).toBe(true);
          const { rows } = await client.query<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM helios_events`);
          expect(Number(rows[0]!.n)).toBe(published.length);
          expect(Number(rows[0]!.ids)).toBe(published.length);
          expect(stored).toBe(published.length);
        } finally {
          publishing = false;
          await producer;
          await consumer.close();
          await bus.close(1000);
          await store.close();
        }
      }, 120_000);
    }
  });
});
