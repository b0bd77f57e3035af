/**
 * Store bench on a real PostgreSQL server (HELIOS_PG_URL, e.g. `scripts/postgres.sh url`), or on
 * embedded PGlite when no server is configured:
 * - writer throughput (COPY into staging + INSERT ... ON CONFLICT), same events, each into a fresh database:
 *   PostgreSQL on 2 connections vs 1; PGlite with every index vs without one index or the search indexes or any
 *   secondary index (what index maintenance costs the embedded writer);
 * - the storage consumer end to end: in-process bus -> batching writer -> COPY;
 * - incident-context latency (p50/p99) on a large events table generated server-side;
 * - PostgreSQL only: rollup refresh (store.maintain() recomputing every queued minute) and the weighted
 *   rollup percentiles vs percentile_cont, same run (rollup.ts).
 * Sizes: HELIOS_BENCH_STORE_EVENTS (writer, default 200,000), HELIOS_BENCH_STORE_CONTEXT_ROWS (default 2,000,000),
 * HELIOS_BENCH_STORE_QUERIES (default 200); rollup: HELIOS_BENCH_STORE_ROLLUP_EVENTS (default 1,000,000),
 * HELIOS_BENCH_STORE_ROLLUP_MINUTES (default 60), HELIOS_BENCH_STORE_ROLLUP_KEYS (tenant/service pairs, default 200),
 * HELIOS_BENCH_STORE_ROLLUP_ROUNDS (default 3); HELIOS_BENCH_STORE_ROLLUP=0 skips it.
 */
import { randomUUID } from 'node:crypto';
import { normalizeEventInput, silentLogger, Topics, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createPgliteClient, createPostgresClient, createSqlStore, startStorageConsumer, type SqlClient, type Store } from '@helios/store';
import { fillEvents } from '../fill-events.js';
import { median, upperQuantileOfSorted, type BenchResult } from '../result.js';
import { intFromEnv } from '../env.js';
import { rollupRefreshBench } from './rollup.js';

export type { BenchResult };

const DAY = 86_400_000;
const SERVICES = 20;


function syntheticEvents(count: number, now: number): HeliosEvent[] {
  const events: HeliosEvent[] = [];
  for (let i = 0; i < count; i++) {
    const error = i % 50 === 0;
    events.push(
      normalizeEventInput(
        {
          service: `svc-${i % SERVICES}`, timestamp: now - (count - i), level: error ? 'ERROR' : 'INFO',
          message: error ? 'upstream timeout' : `GET /api/items/${i % 1000} ok`, endpoint: `/api/e${i % 30}`,
          latency_ms: (i * 7919) % 1000, status_code: error ? 503 : 200, ...(error ? { error_code: 'UPSTREAM_TIMEOUT' } : {}),
          trace_id: (i.toString(16) + '0'.repeat(32)).slice(0, 32),
          attributes: { 'http.method': 'GET', 'http.route': `/api/e${i % 30}`, 'user.tier': i % 3 === 0 ? 'pro' : 'free' },
          resource: { 'service.version': '1.4.2', 'deployment.environment': 'prod' },
        },
        { tenant: `tenant-${i % 10}`, now },
      ),
    );
  }
  return events;
}

/** Runs `fn` on an empty database: a fresh schema on the PostgreSQL server, or a fresh in-memory PGlite. */
type FreshDatabase = <T>(fn: (client: SqlClient) => Promise<T>) => Promise<T>;

const freshPglite: FreshDatabase = async (fn) => {
  const client = await createPgliteClient();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
};

async function withSchema<T>(url: string, fn: (client: SqlClient) => Promise<T>): Promise<T> {
  const schema = `helios_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = createPostgresClient(url);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const client = createPostgresClient({ connectionString: url, options: `-c search_path=${schema}`, max: 8 });
  try {
    return await fn(client);
  } finally {
    await client.close();
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  }
}

/** Rows/s through store.insertEvents, called with `batchSize x concurrency` events at a time (as the storage consumer does). */
async function writeRate(fresh: FreshDatabase, events: HeliosEvent[], batchSize: number, concurrency: number, now: number, dropIndexes: readonly string[] = []): Promise<number> {
  return fresh(async (client) => {
    const store = createSqlStore(client, { batchSize, writeConcurrency: concurrency });
    await store.migrate();
    await store.maintain({ now });
    for (const index of dropIndexes) await client.exec(`DROP INDEX ${index}`);
    const call = batchSize * concurrency;
    await store.insertEvents(events.slice(0, call)); // warm-up: connections, staging tables, plans
    const rest = events.slice(call);
    const started = performance.now();
    for (let i = 0; i < rest.length; i += call) await store.insertEvents(rest.slice(i, i + call));
    const seconds = (performance.now() - started) / 1000;
    return rest.length / seconds;
  });
}

/** Events/s from the in-process bus into PostgreSQL through the storage consumer (size/time batching, COPY, 2 connections). */
async function consumerRate(fresh: FreshDatabase, events: HeliosEvent[], batchSize: number, now: number): Promise<number> {
  return fresh(async (client) => {
    const store = createSqlStore(client, { batchSize });
    await store.migrate();
    await store.maintain({ now });
    const bus = createMemoryBus({ capacity: events.length });
    for (let i = 0; i < events.length; i += 10_000) {
      await bus.publish(Topics.events, events.slice(i, i + 10_000).map((value) => ({ key: `${value.tenant}/${value.service}`, value })));
    }
    let stored = 0;
    let done!: () => void;
    const allStored = new Promise<void>((resolve) => (done = resolve));
    const started = performance.now();
    const consumer = startStorageConsumer({
      bus, store, logger: silentLogger(), batchSize, maintenanceIntervalMs: 0,
      onStored: (n) => {
        stored += n;
        if (stored >= events.length) done();
      },
    });
    await allStored;
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    await bus.close(1000);
    return events.length / seconds;
  });
}



async function contextLatencies(store: Store, queries: number, now: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    // A 5-minute window at a pseudo-random time within the last 6 days, baseline = the 3 windows before it.
    const to = now - ((i * 7_368_787) % (6 * DAY));
    const started = performance.now();
    await store.incidentContext({ tenant: 'tenant-1', service: `svc-${i % SERVICES}`, from: to - 300_000, to });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

export async function runStoreBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = options.json ? (_line: string) => {} : (line: string) => process.stderr.write(`${line}\n`);
  const url = process.env['HELIOS_PG_URL'];
  const postgres = url !== undefined && url !== '';
  // Without a server the suite measures embedded PGlite (no COPY there, so no comparison), with smaller defaults.
  const fresh: FreshDatabase = postgres ? (fn) => withSchema(url, fn) : freshPglite;
  const db = postgres ? 'postgres' : 'pglite';
  if (!postgres) log('store: HELIOS_PG_URL not set; measuring embedded PGlite only (scripts/postgres.sh start; export HELIOS_PG_URL="$(scripts/postgres.sh url)")');
  const writeEvents = intFromEnv('HELIOS_BENCH_STORE_EVENTS', postgres ? 200_000 : 50_000);
  const contextRows = intFromEnv('HELIOS_BENCH_STORE_CONTEXT_ROWS', postgres ? 2_000_000 : 200_000);
  const queries = intFromEnv('HELIOS_BENCH_STORE_QUERIES', 200);
  const batchSize = 5000;
  const now = Date.now();
  const results: BenchResult[] = [];

  log(`store: generating ${writeEvents.toLocaleString('en')} events`);
  const events = syntheticEvents(writeEvents, now);
  if (postgres) {
    const one = await writeRate(fresh, events, batchSize, 1, now);
    const two = await writeRate(fresh, events, batchSize, 2, now);
    const oneName = `store.postgres.write.copy (batches of ${batchSize}, 1 connection)`;
    results.push({ name: oneName, value: one, unit: 'events/s' });
    results.push({ name: `store.postgres.write.copy (batches of ${batchSize}, 2 connections)`, value: two, unit: 'events/s', baseline: oneName, baselineValue: one, ratio: two / one });
  } else {
    // Same events into a fresh in-memory PGlite each time, variants alternating, median of 3 rounds: the
    // writer (COPY from /dev/blob) with every index, and without migration 13's error-level index, the
    // trigram index, the search indexes of migrations 8 and 13 (what they cost) or any secondary index.
    // (json_to_recordset, measured here before, was slower: bench/RESULTS.md.)
    const search = ['helios_events_text_trgm', 'helios_events_tenant_service_ts', 'helios_events_tenant_ts', 'helios_events_trace', 'helios_events_tenant_errors_ts'];
    const variants = {
      copy: [],
      'copy, no error-level index (migration 13)': ['helios_events_tenant_errors_ts'],
      'copy, no trigram index': ['helios_events_text_trgm'],
      'copy, no search indexes': search,
      'copy, primary key only': [...search, 'helios_events_service_ts', 'helios_events_errors'],
    } as const;
    const rates = new Map<string, number[]>();
    for (let round = 0; round < 3; round++) {
      for (const [name, drop] of Object.entries(variants)) {
        const rate = await writeRate(fresh, events, batchSize, 1, now, drop);
        rates.set(name, [...(rates.get(name) ?? []), rate]);
        log(`store: round ${round + 1}, PGlite ${name}: ${Math.round(rate)} events/s`);
      }
    }
    const copy = median(rates.get('copy')!);
    const copyName = `store.pglite.write.copy (batches of ${batchSize})`;
    results.push({ name: copyName, value: copy, unit: 'events/s' });
    for (const name of Object.keys(variants).filter((n) => n !== 'copy')) {
      const value = median(rates.get(name)!);
      results.push({ name: `store.pglite.write.${name} (batches of ${batchSize})`, value, unit: 'events/s', baseline: copyName, baselineValue: copy, ratio: value / copy });
    }
  }

  log('store: storage consumer from the in-process bus');
  results.push({ name: `store.${db}.consumer (memory bus -> COPY, batchSize ${batchSize})`, value: await consumerRate(fresh, events, batchSize, now), unit: 'events/s' });

  await fresh(async (client) => {
    const store = createSqlStore(client);
    await store.migrate();
    await store.maintain({ now });
    log(`store: filling ${contextRows.toLocaleString('en')} events over 7 days`);
    const fillStarted = performance.now();
    await fillEvents(client, { rows: contextRows, now, services: SERVICES, log });
    results.push({ name: `store.${db}.fill (server-side, ${contextRows} rows)`, value: contextRows / ((performance.now() - fillStarted) / 1000), unit: 'rows/s' });
    await contextLatencies(store, 20, now); // warm the cache the way a running system has it
    const times = await contextLatencies(store, queries, now);
    results.push({ name: `store.${db}.context.p50 (${contextRows} rows)`, value: upperQuantileOfSorted(times, 0.5), unit: 'ms' });
    results.push({ name: `store.${db}.context.p99 (${contextRows} rows)`, value: upperQuantileOfSorted(times, 0.99), unit: 'ms' });
  });

  if (postgres && intFromEnv('HELIOS_BENCH_STORE_ROLLUP', 1) !== 0) {
    results.push(...await fresh((client) => rollupRefreshBench(client, {
      events: intFromEnv('HELIOS_BENCH_STORE_ROLLUP_EVENTS', 1_000_000),
      minutes: intFromEnv('HELIOS_BENCH_STORE_ROLLUP_MINUTES', 60),
      keys: intFromEnv('HELIOS_BENCH_STORE_ROLLUP_KEYS', 200),
      rounds: intFromEnv('HELIOS_BENCH_STORE_ROLLUP_ROUNDS', 3),
      now, log,
    })));
  }
  return results;
}
