import { busKey, Topics, isAnomalyRecord, type AnomalyTopicRecord, type Registry, type Anomaly, type Bus, type HeliosEvent, type Logger, type Subscription } from '@helios/core';
import { createEventWriter } from './event-writer.js';
import type { Store } from './store.js';

export interface StorageConsumerOptions {
  bus: Bus;
  store: Store;
  logger: Logger;
  /** Flush at this many buffered events; the most records taken from the bus at once is twice this (default 5000). */
  batchSize?: number;
  /** Flush at most this long after the first buffered event (default 200 ms). */
  flushIntervalMs?: number;
  /** Run `store.maintain()` this often (partitions, retention, rollups); 0 disables it (default 60 s). */
  maintenanceIntervalMs?: number;
  /** Backoff while the database is unreachable (defaults 100 ms doubling to 5 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  onStored?: (count: number) => void;
  /** Registry for the writer's metrics (helios_store_write_*, helios_store_dead_letters_total). */
  metrics?: Registry;
  /**
   * Events the store refuses are isolated from their batch and kept in the store's helios_dead_letters;
   * with this topic (the Kafka bus's dead-letter topic) each is also published there, value
   * `{ reason, error, event }`, next to the records consumers could not decode. Default: the table only.
   */
  deadLetterTopic?: string;
}

export interface StorageConsumer extends Subscription {
  /** Since when the database has been unreachable (writes held and retried); undefined when healthy. */
  readonly unavailableSince: number | undefined;
}

/**
 * The storage role: everything on the events and anomalies topics ends up in the store.
 * A batch is acknowledged to the bus only after the store committed it, and inserts are idempotent,
 * so a redelivered batch is stored once. While the database is down the writer holds the batch in
 * flight and retries it with backoff, so the bus stops handing out records: nothing is dropped and
 * nothing piles up in this process beyond one batch. An event the store refuses (a value it cannot
 * hold) is split out of its batch and dead-lettered, so it never holds back the rest of the batch or the
 * partition.
 */
export function startStorageConsumer(options: StorageConsumerOptions): StorageConsumer {
  const { bus, store, logger } = options;
  const batchSize = options.batchSize ?? 5000;
  const writer = createEventWriter({
    store, batchSize, flushIntervalMs: options.flushIntervalMs ?? 200, logger,
    ...(options.retryInitialMs === undefined ? {} : { retryInitialMs: options.retryInitialMs }),
    ...(options.retryMaxMs === undefined ? {} : { retryMaxMs: options.retryMaxMs }),
    ...(options.onStored === undefined ? {} : { onStored: options.onStored }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.deadLetterTopic === undefined ? {} : {
      onDeadLetter: (letter) => bus.publish(options.deadLetterTopic!, [{ key: busKey(letter.event), value: { reason: letter.reason, error: letter.error, event: letter.event } }]),
    }),
  });
  // Two batches' worth per handler call: the store writes them on two connections at once (writeConcurrency).
  const events = bus.subscribe<HeliosEvent>(Topics.events, 'helios-storage', (records) => writer.write(records.map((r) => r.value)), {
    maxBatch: batchSize * 2,
    // The writer is built for concurrent callers (they share one batch), so partitions need not wait
    // for each other's flush: with one at a time, a quiet partition cost every other the flush interval.
    partitionsConcurrently: 16,
  });
  // The topic also carries incident resolutions (the report runtime records those); only anomalies are stored here.
  const anomalies = bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'helios-storage', async (records) => {
    await store.insertAnomalies(records.map((r) => r.value).filter(isAnomalyRecord));
  });

  const maintenanceIntervalMs = options.maintenanceIntervalMs ?? 60_000;
  let maintenanceTimer: NodeJS.Timeout | undefined;
  let maintaining: Promise<void> | undefined;
  const runMaintenance = () => {
    maintaining ??= store.maintain()
      .then((result) => {
        if (result.partitionsCreated.length + result.partitionsDropped.length > 0) logger.info(result, 'store maintenance');
      })
      .catch((err: unknown) => logger.warn({ err }, 'store maintenance failed; retrying at the next interval'))
      .finally(() => {
        maintaining = undefined;
      });
  };
  if (maintenanceIntervalMs > 0) {
    runMaintenance();
    maintenanceTimer = setInterval(runMaintenance, maintenanceIntervalMs);
    maintenanceTimer.unref();
  }

  let closing: Promise<void> | undefined;
  return {
    get unavailableSince() {
      return writer.unavailableSince;
    },
    close() {
      closing ??= (async () => {
        if (maintenanceTimer !== undefined) clearInterval(maintenanceTimer);
        // Stop intake and let the batch in flight finish (or fail, so the bus keeps it), then wait for maintenance.
        await Promise.all([events.close(), anomalies.close(), writer.close()]);
        await maintaining;
      })();
      return closing;
    },
  };
}
