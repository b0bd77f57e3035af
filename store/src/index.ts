export type { Store, StoreReader, Page, ListOptions, ContextQuery } from './store.js';
export type { SqlClient } from './sql-client.js';
export { createSqlStore } from './sql-store.js';
export { createPgliteClient } from './pglite.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
export { startStorageConsumer } from './storage-consumer.js';

import { join } from 'node:path';
import type { HeliosConfig } from '@helios/core';
import { createPgliteClient } from './pglite.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** The store the config asks for, migrated and ready. */
export async function openStore(config: Pick<HeliosConfig, 'dataDir' | 'store'>): Promise<Store> {
  const client = await createPgliteClient(config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'pglite'));
  const store = createSqlStore(client, { batchSize: config.store.batchSize });
  await store.migrate();
  return store;
}
