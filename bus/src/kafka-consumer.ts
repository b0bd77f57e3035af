import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { attemptOf, retry, type BackoffPolicy, type BusHandler, type BusRecord, type Logger, type SubscribeOptions, type Subscription } from '@helios/core';
import { decodeEventBatchRecord, isEventBatchFormat, SCHEMA_VERSION_HEADER, VALUE_FORMAT_HEADER } from './kafka-event-batch.js';

/**
 * Consuming side of the Kafka bus (kafkajs): one consumer per subscription; offsets are committed only
 * after the handler's promise resolved for the records before them; a failing handler is retried with
 * backoff, never skipped. Records that do not decode go to `deadLetter` before the offset moves past them.
 */

export interface KafkaConsumersOptions {
  kafka: Kafka;
  logger: Logger;
  /** The event schema version records must carry. */
  schemaVersion: string;
  /** Name on the brokers of a Helios topic or group (the namespace prefix). */
  physical: (name: string) => string;
  sessionTimeoutMs: number;
  /** Handler retry backoff, doubled per failure up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  /** Resolves once the brokers were reached (topics exist); consumers start then. */
  whenSetUp: () => Promise<void>;
  deadLetter(topic: string, partition: number, message: { key: Buffer | null; value: Buffer | null; offset: string }, reason: string): Promise<void>;
}

export interface GroupState {
  topic: string;
  /** Kafka group id. */
  group: string;
  /** The group name the subscriber gave. */
  helios: string;
  consumer: Consumer;
  closed: boolean;
  closing?: Promise<void>;
}

export interface KafkaConsumers {
  subscribe<T>(topicName: string, groupName: string, handler: BusHandler<T>, subscribeOptions?: SubscribeOptions): Subscription;
  /** The groups consuming in this process now. */
  groups(): GroupState[];
  closeAll(): Promise<void>;
}

export function createKafkaConsumers(options: KafkaConsumersOptions): KafkaConsumers {
  const { kafka, logger, schemaVersion, physical, retryMs, maxRetryMs, whenSetUp, deadLetter } = options;
  const retryPolicy: BackoffPolicy = { initialMs: retryMs, maxMs: maxRetryMs };
  const groups = new Set<GroupState>();

  function decode<T>(batch: EachBatchPayload['batch'], from: number, to: number): { records: BusRecord<T>[]; rejected: Array<{ index: number; reason: string }> } {
    const records: BusRecord<T>[] = [];
    const rejected: Array<{ index: number; reason: string }> = [];
    for (let i = from; i < to; i++) {
      const m = batch.messages[i]!;
      const version = m.headers?.[SCHEMA_VERSION_HEADER]?.toString();
      if (version !== schemaVersion) {
        rejected.push({ index: i, reason: `schema version ${version ?? '(missing)'} is not ${schemaVersion}` });
        continue;
      }
      const format = m.headers?.[VALUE_FORMAT_HEADER]?.toString();
      if (format !== undefined && isEventBatchFormat(format)) {
        // A request's events as its bytes: one record here per event, as if they had been published one by one.
        try {
          const key = m.key?.toString() ?? '';
          const headers = m.headers!;
          for (const value of decodeEventBatchRecord(m.value ?? Buffer.alloc(0), (name) => headers[name]?.toString())) records.push({ key, value: value as T });
        } catch (err) {
          rejected.push({ index: i, reason: `request bytes (${format}) do not decode: ${(err as Error).message}` });
        }
        continue;
      }
      try {
        records.push({ key: m.key?.toString() ?? '', value: JSON.parse(m.value?.toString() ?? 'null') as T });
      } catch (err) {
        rejected.push({ index: i, reason: `value is not JSON: ${(err as Error).message}` });
      }
    }
    return { records, rejected };
  }

  function startConsumer<T>(state: GroupState, handler: BusHandler<T>, maxBatch: number, partitionsConcurrently: number): void {
    const { consumer, topic, group } = state;
    const run = async () => {
      await whenSetUp();
      if (state.closed) return;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: partitionsConcurrently,
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          for (let from = 0; from < batch.messages.length; from += maxBatch) {
            if (!isRunning() || isStale() || state.closed) return;
            const to = Math.min(batch.messages.length, from + maxBatch);
            const { records, rejected } = decode<T>(batch, from, to);
            for (const { index, reason } of rejected) await deadLetter(topic, batch.partition, batch.messages[index]!, reason);
            if (records.length > 0) {
              // At-least-once: the same records are retried, never skipped; nothing past them is committed.
              const outcome = await retry(
                async (n) => {
                  if (n > 1) await heartbeat(); // the wait may have been long: tell the group this member lives
                  return attemptOf(() => handler(records));
                },
                {
                  policy: retryPolicy,
                  shouldStop: () => !isRunning() || isStale() || state.closed,
                  onRetry: ({ attempt, error }) => logger.error({ err: error, topic, group, partition: batch.partition, records: records.length, failures: attempt }, 'bus handler failed; retrying batch'),
                },
              );
              if (outcome.status !== 'success') return;
            }
            const last = batch.messages[to - 1]!.offset;
            resolveOffset(last);
            await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            await heartbeat();
          }
        },
      });
    };
    run().catch((err) => logger.error({ err, topic, group }, 'kafka consumer failed to start'));
  }

function subscribe<T>(topicName: string, groupName: string, handler: BusHandler<T>, subscribeOptions?: SubscribeOptions): Subscription {
    const topic = physical(topicName);
    for (const g of groups) if (g.topic === topic && g.helios === groupName) throw new Error(`group ${groupName} already consumes ${topic} in this process`);
    // Members of one Kafka group must all subscribe to the same topics (kafkajs assigns partitions of
    // topics a member never subscribed to otherwise). So a group consuming a second topic in this
    // process (helios-storage: events, then anomalies) uses `<group>.<topic>` for it; the first keeps its name.
    const group = [...groups].some((g) => g.helios === groupName) ? physical(`${groupName}.${topicName}`) : physical(groupName);
    const consumer = kafka.consumer({
      groupId: group,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: 3000,
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 10 },
    });
    const state: GroupState = { topic, group, helios: groupName, consumer, closed: false };
    groups.add(state);
    startConsumer(state, handler, subscribeOptions?.maxBatch ?? 1000, Math.max(1, subscribeOptions?.partitionsConcurrently ?? 1));
    return {
      close() {
        state.closing ??= (async () => {
          state.closed = true;
          await consumer.disconnect().catch((err) => logger.warn({ err, topic, group }, 'kafka consumer disconnect failed'));
          groups.delete(state);
        })();
        return state.closing;
      },
    };
  }

  /** Stop every consumer of this process. */
  async function closeAll(): Promise<void> {
    await Promise.all([...groups].map((g) => (g.closing ??= (async () => {
      g.closed = true;
      await g.consumer.disconnect().catch(() => undefined);
      groups.delete(g);
    })())));
  }

  return { subscribe, groups: () => [...groups], closeAll };
}
