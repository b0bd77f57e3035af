import { afterAll, describe, expect, it } from 'vitest';
import { newEventId } from '@helios/core';
import { createPgliteClient, createPostgresClient, createSqlStore, type SqlClient } from './index.js';
import { migrate, WEIGHTED_ROLLUP_SELECT } from './migrations.js';
import { event, T0 } from './store-contract.testkit.js';
import { weightedLatencyPercentiles } from './weighted-sql.js';

const FRACTIONS = [0, 0.001, 0.1, 0.1001, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/**
 * helios_weighted_percentiles against percentile_cont itself: groups of 1 to 40 rows with ties, with
 * weights 1 (must equal percentile_cont of the rows) and whole weights (must equal percentile_cont of
 * the population they stand for, each row repeated `weight` times). Exact equality: same positions,
 * same arithmetic. Fractions as close as 0.1 / 0.1001 check that one walk answers neighbours right.
 */
function describeWeightedPercentiles(name: string, open: () => Promise<SqlClient>): void {
  describe(name, () => {
    const samples = `
      CREATE TEMP TABLE samples AS
      SELECT g % 97 AS grp, ((g * 7919) % 53)::double precision / 4 AS latency_ms, (1 + (g * 31) % 5)::double precision AS weight
        FROM generate_series(0, 3999) AS g WHERE g / 97 <= (g % 97) % 40`; // group k holds (k % 40) + 1 rows
    const weighted = (weight: string) => `
      SELECT grp, ${weightedLatencyPercentiles(FRACTIONS).replace(/sample_rate/g, weight)} AS wp FROM samples GROUP BY grp`;

    it('equals percentile_cont of the rows when every weight is 1', async () => {
      const client = await open();
      try {
        await client.exec(samples);
        const { rows } = await client.query<{ groups: number; mismatches: number }>(
          `SELECT count(*)::int AS groups, count(*) FILTER (WHERE w.wp IS DISTINCT FROM p.pc)::int AS mismatches
             FROM (${weighted('1::double precision')}) w
             JOIN (SELECT grp, percentile_cont('{${FRACTIONS.join(',')}}'::double precision[]) WITHIN GROUP (ORDER BY latency_ms) AS pc FROM samples GROUP BY grp) p USING (grp)`,
        );
        expect(rows[0]).toEqual({ groups: 97, mismatches: 0 });
      } finally {
        await client.close();
      }
    });

    it('equals percentile_cont of the population whole weights stand for, and differs from the rows\u2019', async () => {
      const client = await open();
      try {
        await client.exec(samples);
        const { rows } = await client.query<{ groups: number; mismatches: number; unlike_rows: number }>(
          `SELECT count(*)::int AS groups, count(*) FILTER (WHERE w.wp IS DISTINCT FROM e.pc)::int AS mismatches,
                  count(*) FILTER (WHERE w.wp IS DISTINCT FROM r.pc)::int AS unlike_rows
             FROM (${weighted('weight')}) w
             JOIN (SELECT grp, percentile_cont('{${FRACTIONS.join(',')}}'::double precision[]) WITHIN GROUP (ORDER BY latency_ms) AS pc
                     FROM samples CROSS JOIN LATERAL generate_series(1, weight::int) GROUP BY grp) e USING (grp)
             JOIN (SELECT grp, percentile_cont('{${FRACTIONS.join(',')}}'::double precision[]) WITHIN GROUP (ORDER BY latency_ms) AS pc FROM samples GROUP BY grp) r USING (grp)`,
        );
        expect(rows[0]!.groups).toBe(97);
        expect(rows[0]!.mismatches).toBe(0);
        expect(rows[0]!.unlike_rows).toBeGreaterThan(50); // the weights matter in most groups
      } finally {
        await client.close();
      }
    });

    it('the TimescaleDB continuous aggregate query (migration 4) computes what the rollup table holds', async () => {
      const client = await open();
      try {
        const store = createSqlStore(client);
        await store.migrate();
        const minute = T0 + 600_000;
        const events = Array.from({ length: 90 }, (_, i) => event({
          service: i % 2 === 0 ? 'cagg-a' : 'cagg-b', timestamp: minute + i * 1000, endpoint: `/e${i % 4}`,
          level: i % 9 === 0 ? 'ERROR' : i % 7 === 0 ? 'WARN' : 'INFO', status_code: i % 11 === 0 ? 503 : 200,
          ...(i % 13 === 0 ? {} : { latency_ms: (i * 37) % 101 }), sample_rate: 1 + (i % 5) * 2.5,
        }));
        await store.insertEvents(events);
        await store.maintain({ now: T0 });
        // Without TimescaleDB: a stand-in time_bucket, right for the one-minute buckets the query uses.
        await client.exec(`CREATE FUNCTION time_bucket(width interval, ts timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc('minute', ts) $$`);
        const cagg = await client.query(`SELECT * FROM (${WEIGHTED_ROLLUP_SELECT}) c WHERE service LIKE 'cagg-%' ORDER BY bucket, tenant, service`);
        const table = await client.query(`SELECT * FROM helios_rollups_1m WHERE service LIKE 'cagg-%' ORDER BY bucket, tenant, service`);
        expect(cagg.rows.length).toBeGreaterThan(2);
        expect(cagg.rows).toEqual(table.rows);
      } finally {
        await client.close();
      }
    });
  });
}

describe('weightedLatencyPercentiles', () => {
  it('refuses fractions that are out of [0, 1] or not ascending, naming them', () => {
    for (const bad of [[], [1.5], [-0.1], [0.9, 0.5], [Number.NaN]]) {
      expect(() => weightedLatencyPercentiles(bad)).toThrow(expect.objectContaining({ code: 'HLS_ERR_INTERNAL', message: expect.stringContaining('fractions') }));
    }
  });
});

describeWeightedPercentiles('weighted percentiles on PGlite', async () => {
  const client = await createPgliteClient();
  await migrate(client);
  return client;
});

const url = process.env['HELIOS_PG_URL'];
const schemas: string[] = [];
describe.runIf(url)('on PostgreSQL', () => {
  afterAll(async () => {
    const admin = createPostgresClient(url!);
    for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.close();
  });
  describeWeightedPercentiles('weighted percentiles on PostgreSQL', async () => {
    const schema = `helios_test_${newEventId().replace(/-/g, '').slice(0, 16)}`;
    const admin = createPostgresClient(url!);
    await admin.exec(`CREATE SCHEMA ${schema}`);
    await admin.close();
    schemas.push(schema);
    // One connection: the TEMP table must be visible to every query of a test.
    const client = createPostgresClient({ connectionString: url!, options: `-c search_path=${schema}`, max: 1 });
    await migrate(client);
    return client;
  });
});
