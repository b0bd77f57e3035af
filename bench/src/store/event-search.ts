/**
 * Event search latency (GET /api/v1/events, the tail's poll, trace lookups) on a large events table in
 * a real PostgreSQL server (HELIOS_PG_URL; PGlite when none), events written through the store's own
 * writer (COPY into staging on PostgreSQL), spread over 7 days, 10 tenants, 20 services.
 * p50/p99 per query shape, each run HELIOS_BENCH_SEARCH_QUERIES times (default 200) after a warm-up;
 * then the free-text shapes again without the pg_trgm index, to show what it buys.
 * Size: HELIOS_BENCH_SEARCH_EVENTS (default 1,000,000).
 * For EXPLAIN ANALYZE and before/after runs without refilling (10 M events take ~25 minutes to write here),
 * on PostgreSQL: HELIOS_BENCH_SEARCH_KEEP=1 keeps the filled schema (its name is logged; the no-trigram
 * comparison is then skipped, as it drops the index), HELIOS_BENCH_SEARCH_SCHEMA=<name> searches such a kept
 * schema instead of filling one (kept too; drop it with DROP SCHEMA <name> CASCADE), and
 * HELIOS_BENCH_SEARCH_SHAPES=<substring> measures only the shapes whose name contains it.
 */
import { randomUUID } from 'node:crypto';
import { normalizeEventInput, type HeliosEvent } from '@helios/core';
import { createPgliteClient, createPostgresClient, createSqlStore, cursorAtTime, type EventSearchQuery, type SqlClient, type Store } from '@helios/store';
import { intFromEnv } from '../env.js';
import { upperQuantileOfSorted, type BenchResult } from '../result.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const TENANTS = 10;
const SERVICES = 20;

function eventAt(i: number, count: number, now: number): HeliosEvent {
  const error = i % 50 === 0;
  const ts = now - 7 * DAY + Math.floor((i * 7 * DAY) / count);
  return normalizeEventInput({
    timestamp: ts, service: `svc-${i % SERVICES}`, level: error ? 'ERROR' : i % 10 === 1 ? 'WARN' : 'INFO',
    message: error ? `upstream timeout after ${(i * 7919) % 5000} ms calling inventory` : `GET /api/items/${i % 1000} ok`,
    endpoint: `/api/e${i % 30}`, latency_ms: (i * 7919) % 1000, status_code: error ? 503 : 200, ...(error ? { error_code: `E_UPSTREAM_${i % 7}` } : {}),
    trace_id: ((i >> 3).toString(16) + 'f'.repeat(32)).slice(0, 32),
  }, { tenant: `tenant-${i % TENANTS}`, now });
}

async function timed(times: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run(i);
    out.push(performance.now() - started);
  }
  return out.sort((a, b) => a - b);
}

export async function runEventSearchBench(): Promise<BenchResult[]> {
  const url = process.env['HELIOS_PG_URL'];
  let count = intFromEnv('HELIOS_BENCH_SEARCH_EVENTS', 1_000_000);
  const queries = intFromEnv('HELIOS_BENCH_SEARCH_QUERIES', 200);
  const only = process.env['HELIOS_BENCH_SEARCH_SHAPES'] ?? '';
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const reuse = process.env['HELIOS_BENCH_SEARCH_SCHEMA'] ?? '';
  const keep = reuse !== '' || process.env['HELIOS_BENCH_SEARCH_KEEP'] === '1';
  const schema = reuse !== '' ? reuse : `helios_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`HELIOS_BENCH_SEARCH_SCHEMA: not a schema name, got ${JSON.stringify(schema)}`);
  let client: SqlClient;
  let admin: SqlClient | undefined;
  if (url !== undefined && url !== '') {
    admin = createPostgresClient(url);
    if (reuse === '') await admin.exec(`CREATE SCHEMA ${schema}`);
    client = createPostgresClient({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
  } else {
    if (keep) throw new Error('HELIOS_BENCH_SEARCH_KEEP / HELIOS_BENCH_SEARCH_SCHEMA need a PostgreSQL server (HELIOS_PG_URL)');
    client = await createPgliteClient();
  }
  const db = client.dialect;
  const results: BenchResult[] = [];
  try {
    const store: Store = createSqlStore(client, { batchSize: 10_000, writeConcurrency: 2 });
    await store.migrate();
    let now = Date.now();
    if (reuse !== '') {
      // The kept events end where that run's clock was: search relative to its newest event.
      const { rows } = await client.query<{ newest: string; n: string }>('SELECT (extract(epoch FROM max(ts)) * 1000)::bigint::text AS newest, count(*)::text AS n FROM helios_events');
      now = Number(rows[0]?.newest) + 1;
      count = Number(rows[0]?.n);
      log(`event-search: searching kept schema ${schema}, ${count.toLocaleString('en')} events up to ${new Date(now).toISOString()}`);
    } else {
      // Daily partitions first, as a running Helios has them (maintenance at start): without them every event
      // lands in the default partition, and a search over a day reads one 7-day heap (the 10 M run of
      // 2026-12-08 02:06 did; bench/RESULTS.md).
      await store.maintain({ now });
      const fillStarted = performance.now();
      const chunk = 100_000;
      for (let from = 0; from < count; from += chunk) {
        const batch: HeliosEvent[] = [];
        for (let i = from; i < Math.min(count, from + chunk); i++) batch.push(eventAt(i, count, now));
        await store.insertEvents(batch);
        if ((from / chunk) % 10 === 9) log(`event-search: ${(from + chunk).toLocaleString('en')} of ${count.toLocaleString('en')} events written`);
      }
      results.push({ name: `search.${db}.write (store writer, ${count} events)`, value: count / ((performance.now() - fillStarted) / 1000), unit: 'events/s' });
      await client.exec('ANALYZE helios_events');
      if (keep) log(`event-search: filled schema ${schema} is kept (HELIOS_BENCH_SEARCH_KEEP=1)`);
    }

    const tenant = (i: number) => `tenant-${i % TENANTS}`;
    const page = (q: Partial<EventSearchQuery> & { span: number }, i: number): EventSearchQuery => ({ tenant: tenant(i), from: now - q.span, to: now, limit: 100, ...q });
    let deepCursor: string | undefined;
    const shapes: Array<[string, (i: number) => Promise<unknown>]> = [
      ['tenant, last 1h', (i) => store.searchEvents(page({ span: HOUR }, i))],
      ['tenant + service, last 1h', (i) => store.searchEvents(page({ span: HOUR, services: [`svc-${(i * 3) % SERVICES}`] }, i))],
      ['tenant + level ERROR, last 24h', (i) => store.searchEvents(page({ span: DAY, levels: ['ERROR'] }, i))],
      ['tenant + endpoint, last 24h', (i) => store.searchEvents(page({ span: DAY, endpoint: `/api/e${i % 30}` }, i))],
      ['tenant + text "timeout" (2% of events), last 24h', (i) => store.searchEvents(page({ span: DAY, text: 'timeout' }, i))],
      ['tenant + text "E_UPSTREAM_3" (rare), last 7d', (i) => store.searchEvents(page({ span: 7 * DAY, text: `e_upstream_${i % 7}` }, i))],
      ['tenant + text, no match, last 7d', (i) => store.searchEvents(page({ span: 7 * DAY, text: `nomatch${i}` }, i))],
      ['tenant, page 5 by cursor, last 24h', async (i) => {
        let q = page({ span: DAY }, i);
        for (let p = 0; p < 4; p++) {
          const r = await store.searchEvents(q);
          deepCursor = r.nextCursor;
          if (deepCursor === undefined) return;
          q = { ...q, cursor: deepCursor };
        }
        return store.searchEvents(q);
      }],
      ['trace by id', (i) => store.traceEvents({ traceId: ((((i * 7919) % count) >> 3).toString(16) + 'f'.repeat(32)).slice(0, 32), tenant: tenant(i), limit: 1000 })],
      ['tail poll (after now-5s)', (i) => store.eventsAfter({ tenant: tenant(i), after: cursorAtTime(now - 5000), until: now, limit: 500 })],
    ];
    const measure = async (label: string) => {
      for (const [name, run] of shapes.filter(([n]) => (label === '' || n.includes('text')) && n.includes(only))) {
        await timed(10, run);
        const times = await timed(queries, run);
        log(`event-search${label}: ${name}: p50 ${upperQuantileOfSorted(times, 0.5).toFixed(2)} ms, p99 ${upperQuantileOfSorted(times, 0.99).toFixed(2)} ms`);
        results.push({ name: `search.${db}.${name}${label}.p50 (${count} events)`, value: upperQuantileOfSorted(times, 0.5), unit: 'ms' });
        results.push({ name: `search.${db}.${name}${label}.p99 (${count} events)`, value: upperQuantileOfSorted(times, 0.99), unit: 'ms' });
      }
    };
    await measure('');
    if (keep) return results;
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'helios_events_text_trgm' AND schemaname = current_schema()`);
    if (Number(rows[0]?.n) > 0) {
      await client.exec('DROP INDEX helios_events_text_trgm');
      await measure(' [no trigram index]');
    } else {
      log('event-search: no pg_trgm index here (extension unavailable); the text shapes above ran without one');
    }
  } finally {
    await client.close();
    if (admin !== undefined) {
      if (!keep) await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    }
  }
  return results;
}
