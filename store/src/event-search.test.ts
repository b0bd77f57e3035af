import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, normalizeEventInput, seededRandom, type HeliosEvent, type Level } from '@helios/core';
import { createPgliteClient, createPostgresClient, createSqlStore, cursorAtTime, type EventFilter, type SqlClient, type SqlQueryable, type Store } from './index.js';
import { searchEvents, type EventSearchQuery } from './event-search.js';

/**
 * Event search, tail and trace reads checked against a reference model (a filter over the inserted
 * events) on generated events and queries, on PGlite and, with HELIOS_PG_URL, on PostgreSQL.
 */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const TENANTS = ['t-a', 't-b'];
const SERVICES = ['checkout', 'payments', 'search'];
const LEVELS: Level[] = ['INFO', 'WARN', 'ERROR'];
const WORDS = ['timeout', 'Upstream TIMEOUT', 'ok', '50%_done', 'a\\b', 'cart empty'];

function eventOf(i: number, rnd: (n: number) => number): HeliosEvent {
  const tenant = TENANTS[rnd(2)]!;
  return normalizeEventInput({
    id: newEventId(),
    // Several events share a millisecond: the keyset must order by id and tenant within it.
    timestamp: T0 + Math.floor(i / 3) * 1000,
    service: SERVICES[rnd(3)]!, level: LEVELS[rnd(3)]!, message: `${WORDS[rnd(WORDS.length)]} #${i}`,
    endpoint: `/e${rnd(3)}`, trace_id: traceId(rnd(8)), ...(rnd(4) === 0 ? { error_code: 'E_UPSTREAM' } : {}),
  }, { tenant, now: T0 });
}

function matches(e: HeliosEvent, f: EventFilter & { from: number; to: number }): boolean {
  if (e.timestamp < f.from || e.timestamp >= f.to) return false;
  if (f.tenant !== undefined && e.tenant !== f.tenant) return false;
  if (f.services !== undefined && f.services.length > 0 && !f.services.includes(e.service)) return false;
  if (f.levels !== undefined && f.levels.length > 0 && !f.levels.includes(e.level)) return false;
  if (f.endpoint !== undefined && e.endpoint !== f.endpoint) return false;
  if (f.traceId !== undefined && e.trace_id !== f.traceId) return false;
  if (f.text !== undefined && f.text !== '' && !`${e.error_code ?? ''} ${e.message}`.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

const traceId = (k: number) => k.toString(16).padStart(32, '0');

const newestFirst = (a: HeliosEvent, b: HeliosEvent) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const filterArb = fc.record({
  tenant: fc.option(fc.constantFrom(...TENANTS), { nil: undefined }),
  services: fc.option(fc.subarray(SERVICES), { nil: undefined }),
  levels: fc.option(fc.subarray(LEVELS), { nil: undefined }),
  endpoint: fc.option(fc.constantFrom('/e0', '/e1', '/e9'), { nil: undefined }),
  traceId: fc.option(fc.constantFrom(traceId(1), traceId(3)), { nil: undefined }),
  text: fc.option(fc.constantFrom('timeout', 'TIMEOUT', '50%', '%', '_', 'a\\b', 'e_up', 'cart', ' #1'), { nil: undefined }),
  from: fc.integer({ min: -10, max: 60 }).map((s) => T0 + s * 1000),
  span: fc.integer({ min: 0, max: 80 }).map((s) => s * 1000),
  limit: fc.integer({ min: 1, max: 40 }),
});

function describeSearch(name: string, open: () => Promise<SqlClient>, cleanup?: () => Promise<void>): void {
  describe(`event search on ${name}`, () => {
    let store: Store;
    let client: SqlClient;
    const events: HeliosEvent[] = [];
    beforeAll(async () => {
      client = await open();
      store = createSqlStore(client);
      await store.migrate();
      const random = seededRandom(42);
      const rnd = (n: number) => Math.floor(random() * n);
      for (let i = 0; i < 150; i++) events.push(eventOf(i, rnd));
      await store.insertEvents(events);
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('has migration 8\u2019s and 13\u2019s search indexes, the pg_trgm text index included', async () => {
      const { rows } = await client.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'helios_events'`);
      expect(rows.map((r) => r.indexname)).toEqual(expect.arrayContaining(['helios_events_tenant_service_ts', 'helios_events_tenant_ts', 'helios_events_trace', 'helios_events_text_trgm', 'helios_events_tenant_errors_ts']));
    });

    it('pages through exactly the matching events, newest first, without repeats', async () => {
      await fc.assert(fc.asyncProperty(filterArb, async ({ span, ...q }) => {
        const query = { ...q, to: q.from + span };
        const expected = events.filter((e) => matches(e, query)).sort(newestFirst).map((e) => e.id);
        const got: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.searchEvents({ ...query, ...(cursor === undefined ? {} : { cursor }) });
          expect(page.items.length).toBeLessThanOrEqual(q.limit);
          got.push(...page.items.map((s) => s.event.id));
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        expect(got).toEqual(expected);
      }), { numRuns: 40 });
    });

    it('tails: eventsAfter from a time yields the matching events oldest first, resuming from any cursor', async () => {
      await fc.assert(fc.asyncProperty(filterArb, async ({ span: _span, ...q }) => {
        const expected = events.filter((e) => matches(e, { ...q, to: Infinity })).sort((a, b) => -newestFirst(a, b)).map((e) => e.id);
        const got: string[] = [];
        let after = cursorAtTime(q.from);
        for (;;) {
          const batch = await store.eventsAfter({ ...q, after });
          if (batch.length === 0) break;
          got.push(...batch.map((s) => s.event.id));
          after = batch[batch.length - 1]!.cursor;
        }
        expect(got).toEqual(expected);
      }), { numRuns: 25 });
    });

    it('returns a trace\u2019s events oldest first, one tenant\u2019s only when asked', async () => {
      for (const tenant of [undefined, ...TENANTS]) {
        const got = await store.traceEvents({ traceId: traceId(2), limit: 1000, ...(tenant === undefined ? {} : { tenant }) });
        const expected = events.filter((e) => e.trace_id === traceId(2) && (tenant === undefined || e.tenant === tenant));
        expect(got.truncated).toBe(false);
        expect(got.items.map((e) => e.id).sort()).toEqual(expected.map((e) => e.id).sort());
        expect(got.items.map((e) => e.timestamp)).toEqual([...got.items.map((e) => e.timestamp)].sort((a, b) => a - b));
      }
      const cut = await store.traceEvents({ traceId: traceId(2), limit: 2 });
      expect(cut).toMatchObject({ truncated: true, items: [expect.anything(), expect.anything()] });
    });

    it('answers a search of error levels from migration 13\u2019s partial index, other levels from (tenant, ts)', async () => {
      // A tenant with many events and a handful of errors (as most tenants are), so the planner's choice is
      // not a toss-up between tiny indexes; a day before the other tests' events and removed afterwards, so
      // neither their model nor the rollup overview's window sees them.
      const day = T0 - 86_400_000;
      const busy = normalizeEventInput({ service: 'checkout', level: 'INFO', message: 'ok' }, { tenant: 't-busy', now: T0 });
      const many = Array.from({ length: 4000 }, (_, i) => ({ ...busy, id: newEventId(), timestamp: day + i * 10, level: (i % 500 === 0 ? 'ERROR' : 'INFO') as Level }));
      await store.insertEvents(many);
      await client.exec('ANALYZE helios_events');
      const children = await client.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'helios_events_tenant_errors_ts'::regclass`);
      const errorIndexes = new Set(['helios_events_tenant_errors_ts', ...children.rows.map((r) => r.name)]);
      /** Index names in the plan of the SQL searchEvents sends (captured, then explained with its parameters). */
      const indexesUsed = async (q: EventSearchQuery): Promise<string[]> => {
        let sent: { sql: string; params: unknown[] } | undefined;
        const capture: SqlQueryable = { query: async (sql, params) => ((sent = { sql, params: params ?? [] }), { rows: [] }), exec: async () => {} };
        await searchEvents(capture, q);
        const { rows } = await client.query<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${sent!.sql}`, sent!.params);
        const plan = JSON.stringify(Object.values(rows[0]!)[0]);
        return [...plan.matchAll(/"Index Name":\s*"([^"]+)"/g)].map((m) => m[1]!);
      };
      try {
        const q = { tenant: 't-busy', from: day, to: day + 40_000, limit: 100 };
        for (const levels of [['ERROR'], ['ERROR', 'CRITICAL'], ['CRITICAL']] as Level[][]) {
          const used = await indexesUsed({ ...q, levels });
          expect(used.length, `levels ${levels}`).toBeGreaterThan(0);
          expect(used.every((name) => errorIndexes.has(name)), `levels ${levels}: ${used}`).toBe(true);
        }
        expect((await indexesUsed({ ...q, levels: ['WARN', 'ERROR'] })).some((name) => errorIndexes.has(name))).toBe(false);
        const found = await store.searchEvents({ ...q, levels: ['ERROR'] });
        expect(found.items.map((s) => s.event.id)).toEqual(many.filter((e) => e.level === 'ERROR').sort(newestFirst).map((e) => e.id));
      } finally {
        await client.exec(`DELETE FROM helios_events WHERE tenant = 't-busy'`);
      }
    }, 60_000);

    it('refuses a cursor it did not make, naming the parameter', async () => {
      for (const cursor of ['nope', Buffer.from('["x","y","z"]').toString('base64url'), Buffer.from('[1,2]').toString('base64url')]) {
        await expect(store.searchEvents({ from: T0, to: T0 + 1000, limit: 5, cursor })).rejects.toMatchObject({ code: 'HLS_ERR_QUERY_INVALID', message: expect.stringContaining('cursor') });
      }
    });

    it('lists services per tenant from the rollups, with their anomalies', async () => {
      await store.maintain({ now: T0 + 3_600_000 });
      const all = await store.serviceOverview({ from: T0 - 60_000, to: T0 + 3_600_000 });
      const pairs = new Set(events.map((e) => `${e.tenant}/${e.service}`));
      expect(new Set(all.map((s) => `${s.tenant}/${s.service}`))).toEqual(pairs);
      const one = await store.serviceOverview({ tenant: 't-a', from: T0 - 60_000, to: T0 + 3_600_000 });
      expect(one.every((s) => s.tenant === 't-a')).toBe(true);
      for (const s of one) {
        const mine = events.filter((e) => e.tenant === s.tenant && e.service === s.service);
        expect(s.series.reduce((n, p) => n + p.events, 0)).toBe(mine.length);
        expect(s.anomalies).toEqual({ count: 0, lastDetectedAt: null });
      }
    });
  });
}

describeSearch('PGlite', () => createPgliteClient());

const url = process.env['HELIOS_PG_URL'];
if (process.env['CI'] === 'true' && !url) {
  describe('event search on PostgreSQL', () => {
    it('has a server to test against (HELIOS_PG_URL)', () => expect.fail('CI=true but HELIOS_PG_URL is not set'));
  });
}
if (url !== undefined && url !== '') {
  const schema = `helios_test_${newEventId().replace(/-/g, '').slice(0, 16)}`;
  describeSearch('PostgreSQL', async () => {
    const admin = createPostgresClient(url);
    await admin.exec(`CREATE SCHEMA ${schema}`);
    await admin.close();
    return createPostgresClient({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
  }, async () => {
    const admin = createPostgresClient(url);
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  });
}
