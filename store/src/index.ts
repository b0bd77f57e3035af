export { createIncidentStore, type IncidentStore, type IncidentReader, type IncidentWriter, type IncidentListOptions, type SilenceListOptions, type TenantScope } from './incident-store.js';
export type { Store, StoreReader, DeadLetter, EventScan, Page, ListOptions, ContextQuery, RollupQuery, ServiceMinute, TimelineQuery } from './store.js';
export type { SqlClient, SqlQueryable, SqlTransaction } from './sql-client.js';
export { SEARCH_TEXT_EXPRESSION, containsPattern, cursorAtTime, decodeEventCursor, encodeEventCursor, type EventFilter, type EventSearchQuery, type EventSearchPage, type EventTailQuery, type StoredEvent } from './event-search.js';
export type { ServiceOverview, ServicePoint } from './service-overview.js';
export type { SeriesStatusQuery } from './series-status.js';
export { createDetectorStateStore, type DetectorStateStore, type DetectorStateWrite, type SavedDetectorState } from './detector-state.js';
export { createSqlStore, type SqlStoreOptions } from './sql-store.js';
export { createPgliteClient } from './pglite.js';
export { createPostgresClient, isTransientStoreError, type PostgresClientOptions } from './postgres.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
export type { MaintenanceResult } from './maintenance.js';
export { createEventWriter, rowErrorReason, type EventWriter, type EventWriterOptions } from './event-writer.js';
export { startStorageConsumer, type StorageConsumer, type StorageConsumerOptions } from './storage-consumer.js';

import { join } from 'node:path';
import { HeliosError, type HeliosConfig, type Logger } from '@helios/core';
import { createPgliteClient } from './pglite.js';
import { createPostgresClient } from './postgres.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** The store the config asks for (embedded PGlite or a PostgreSQL server), migrated and ready. */
export async function openStore(config: Pick<HeliosConfig, 'dataDir' | 'store'>, options: { logger?: Logger } = {}): Promise<Store> {
  const s = config.store;
  let client;
  if (s.kind === 'postgres') {
    if (s.url === '') throw new HeliosError('HLS_ERR_CONFIG_INVALID', "store.url: required when store.kind is 'postgres'");
    client = createPostgresClient({ connectionString: s.url, max: s.poolSize }, options.logger === undefined ? {} : { logger: options.logger });
  } else {
    client = await createPgliteClient(config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'pglite'));
  }
  const store = createSqlStore(client, { batchSize: s.batchSize, retentionDays: s.retentionDays, partitionsAhead: s.partitionsAhead });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
