import { Topics, type Anomaly, type Bus, type HeliosEvent, type Logger, type Subscription } from '@helios/core';
import type { Store } from './store.js';

/**
 * The storage role: everything on the events and anomalies topics ends up in the store.
 * A batch is acknowledged to the bus only after the store committed it, and inserts are idempotent,
 * so a redelivered batch is stored once.
 */
export function startStorageConsumer(options: { bus: Bus; store: Store; logger: Logger; onStored?: (count: number) => void }): Subscription {
  const { bus, store } = options;
  const events = bus.subscribe<HeliosEvent>(Topics.events, 'helios-storage', async (records) => {
    const inserted = await store.insertEvents(records.map((r) => r.value));
    options.onStored?.(inserted);
  }, { maxBatch: 2000 });
  const anomalies = bus.subscribe<Anomaly>(Topics.anomalies, 'helios-storage', async (records) => {
    await store.insertAnomalies(records.map((r) => r.value));
  });
  return {
    async close() {
      await Promise.all([events.close(), anomalies.close()]);
    },
  };
}
