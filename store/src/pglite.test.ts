import { describe, expect, it } from 'vitest';
import { isHeliosError } from '@helios/core';
import { createPgliteClient } from './pglite.js';

describe('PGlite on its own thread', () => {
  it('keeps a transaction together: a statement sent meanwhile runs after it, and a failed one rolls back with its SQLSTATE', async () => {
    const client = await createPgliteClient();
    try {
      await client.exec('CREATE TABLE t (n integer PRIMARY KEY)');
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const tx = client.transaction(async (t) => {
        await t.query('INSERT INTO t VALUES (1)');
        await held;
        await t.copyFrom('t (n)', '2\n3\n');
        return (await t.query<{ c: number }>('SELECT count(*)::int AS c FROM t')).rows[0]!.c;
      });
      // Sent while the transaction is open: it must not run inside it (it would see the uncommitted row, or be rolled back with it).
      const outside = client.query<{ c: number }>('SELECT count(*)::int AS c FROM t');
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      expect(await tx).toBe(3);
      expect((await outside).rows[0]!.c).toBe(3);

      const failed = await client.transaction(async (t) => {
        await t.query('INSERT INTO t VALUES (4)');
        await t.copyFrom('t (n)', '5\n1\n');
      }).catch((err: unknown) => err);
      expect((failed as { code?: string }).code).toBe('23505');
      expect((await client.query<{ c: number }>('SELECT count(*)::int AS c FROM t')).rows[0]!.c).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('closes once; statements after close are refused with HLS_ERR_STORE', async () => {
    const client = await createPgliteClient();
    await Promise.all([client.close(), client.close()]);
    const err = await client.query('SELECT 1').catch((e: unknown) => e);
    expect(isHeliosError(err) && err.code).toBe('HLS_ERR_STORE');
  });
});
