import { newEventId } from '@helios/core';
import { createPgliteClient, createPostgresClient, createSqlStore, type Store } from '@helios/store';

/** A migrated store for one test; `close` also drops what it created. */
export interface TestStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * The stores a store-backed test runs on: PGlite always, PostgreSQL when `HELIOS_PG_URL` is set (each store
 * in a schema of its own, dropped at close, so runs do not see each other's rows). With `CI=true` and no
 * `HELIOS_PG_URL` the PostgreSQL entry is still listed and fails when opened: integration tests fail, not
 * skip, in CI.
 */
export function testStores(env: NodeJS.ProcessEnv = process.env): Array<[name: string, open: () => Promise<TestStore>]> {
  const pglite: [string, () => Promise<TestStore>] = ['PGlite', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    return { store, close: () => store.close() };
  }];
  const url = env['HELIOS_PG_URL'];
  if (url === undefined || url === '') {
    return env['CI'] === 'true' ? [pglite, ['PostgreSQL', () => Promise.reject(new Error('CI=true but HELIOS_PG_URL is not set'))]] : [pglite];
  }
  return [pglite, ['PostgreSQL', async () => {
    const schema = `helios_test_${newEventId().replace(/-/g, '').slice(-16)}`;
    const admin = createPostgresClient(url);
    await admin.exec(`CREATE SCHEMA ${schema}`);
    const store = createSqlStore(createPostgresClient({ connectionString: url, options: `-c search_path=${schema}`, max: 4 }));
    await store.migrate();
    return {
      store,
      close: async () => {
        await store.close();
        await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
        await admin.close();
      },
    };
  }]];
}
