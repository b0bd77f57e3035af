import kafkajs from 'kafkajs';
import type { Admin, Kafka, PartitionMetadata, RetryOptions } from 'kafkajs';
import { HeliosError, type Logger } from '@helios/core';
import type { KafkaBusOptions, KafkaTopicSpec, PartitionLag } from './kafka-options.js';

// Admin side of the Kafka bus (kafkajs): the client, topics created and described, consumer lag.

const { Kafka: KafkaClient, ConfigResourceTypes, logLevel } = kafkajs;

/** What the bus knows of a topic it produces to. */
export interface TopicInfo {
  /** Stand-in partition list for the key partitioner, which only reads its length for keyed records. */
  partitionMetadata: PartitionMetadata[];
  /** Largest record batch the broker accepts for this topic (max.message.bytes). */
  maxBatchBytes: number;
  /**
   * Encoded key and partition per key seen: keys are tenant+service, few and repeated on every record,
   * so encoding and hashing each once saves work per record. Cleared when it grows past KEY_CACHE_SIZE.
   */
  keys: Map<string, { key: Buffer; partition: number }>;
}

/** The kafkajs client every consumer and the admin share; its log lines go to the Helios logger. */
export function createKafkaClient(options: KafkaBusOptions, logger: Logger): Kafka {
  return new KafkaClient({
    clientId: options.clientId ?? 'helios',
    brokers: [...options.brokers],
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: options.retry ?? DEFAULT_KAFKA_RETRY,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(logger),
  });
}

/** Retry policy of produce and admin requests unless `retry` is given. */
export const DEFAULT_KAFKA_RETRY: RetryOptions = { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 };

function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: { namespace: string; level: number; log: { message: string; [key: string]: unknown } }) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { kafka: namespace, ...extra };
      // kafkajs logs every failed request at ERROR, including ones it retries; those are warnings here.
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

export async function ensureTopics(admin: Admin, specs: Record<string, KafkaTopicSpec>, logger: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = Object.entries(specs).filter(([name]) => !existing.has(name));
  if (missing.length > 0) {
    // Returns false (no error) when another process created them meanwhile.
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(([topic, spec]) => ({
          topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor ?? -1,
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // A KRaft broker can answer the leader poll with UNKNOWN_TOPIC_OR_PARTITION for a moment after it
      // created the topics; kafkajs's wait retries only LEADER_NOT_AVAILABLE, so the wait is finished here.
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      await waitForLeaders(admin, missing.map(([name]) => name));
    }
    logger.info({ topics: missing.map(([name]) => name) }, 'kafka topics created');
  }
  const present = Object.keys(specs).filter((name) => existing.has(name));
  if (present.length === 0) return;
  const metadata = await admin.fetchTopicMetadata({ topics: present });
  for (const t of metadata.topics) {
    const wanted = specs[t.name]!.partitions;
    if (t.partitions.length !== wanted) {
      logger.warn({ topic: t.name, partitions: t.partitions.length, configured: wanted }, 'kafka topic exists with another partition count; using it as it is');
    }
  }
}

/** Until every partition of `topics` has a leader; a topic the broker does not know yet is waited for too. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.length === topics.length && metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline) throw new HeliosError('HLS_ERR_BUS_CLOSED', `kafka topics ${topics.join(', ')} have no partition leaders ${timeoutMs} ms after creation`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function describeTopic(admin: Admin, topic: string): Promise<TopicInfo> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions ?? [];
  if (partitions.length === 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `kafka topic ${topic} does not exist (add it to the bus topics so it is created)`);
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
  });
  const maxBatchBytes = Number(configs.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue ?? 1_048_588);
  return { partitionMetadata: partitions.map((p) => ({ ...p, partitionId: p.partitionId })), maxBatchBytes, keys: new Map() };
}

/** Per-partition lag of `group` on `topic` (physical names). */
export async function readLag(admin: Admin, topic: string, group: string): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const committedByPartition = new Map<number, number>();
  for (const t of committed) for (const p of t.partitions) committedByPartition.set(p.partition, Number(p.offset));
  return ends
    .map((end) => {
      const endOffset = Number(end.high);
      const c = committedByPartition.get(end.partition) ?? -1;
      const position = c >= 0 ? c : Number(end.low);
      return { topic, group, partition: end.partition, position, endOffset, lag: Math.max(0, endOffset - position) };
    })
    .sort((a, b) => a.partition - b.partition);
}
