import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { SqlClient } from './sql-client.js';

/** Embedded PostgreSQL (WASM). `dataDir` undefined or ':memory:' keeps the database in memory. */
export async function createPgliteClient(dataDir?: string): Promise<SqlClient> {
  const inMemory = dataDir === undefined || dataDir === ':memory:';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  // pg_trgm: migration 8's text index for event search (loaded here; CREATE EXTENSION enables it per database).
  const db = inMemory ? new PGlite({ extensions: { pg_trgm } }) : new PGlite(dataDir, { extensions: { pg_trgm } });
  await db.waitReady;
  let closed = false;
  return {
    dialect: 'pglite',
    query: async <R>(text: string, params?: unknown[]) => {
      const result = await db.query<R>(text, params);
      return { rows: result.rows };
    },
    exec: async (text: string) => {
      await db.exec(text);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async <R>(text: string, params?: unknown[]) => ({ rows: (await tx.query<R>(text, params)).rows }),
          exec: async (text: string) => {
            await tx.exec(text);
          },
          // PGlite has no COPY stream from the client; it reads a Blob handed with the query as the file /dev/blob.
          copyFrom: async (target: string, data: string) => (await tx.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([data]) })).affectedRows ?? 0,
        }),
      ),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
