import type { KafkaConfig, RetryOptions, SASLOptions } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Topics, type Bus, type EventRequestBatch, type Logger } from '@helios/core';

// The Kafka bus's options, stats and constants: no Kafka library is loaded by importing this file, so
// `@helios/bus` can name them while the Kafka modules load only when a Kafka bus is created.

/**
 * Codecs the Kafka bus produces with: @platformatic/kafka writes them; kafkajs consumers read them
 * (kafka-compression.ts). zstd is left out: the kafkajs zstd codec is a native addon, so a consumer
 * reading a topic that another producer wrote with zstd fails on that batch.
 */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** Header carrying the event schema version on every record (kafka-event-batch.ts). */
export { SCHEMA_VERSION_HEADER } from './kafka-event-batch.js';
/** Header on dead-lettered records: why the record could not be handed to a handler. */
export const DEAD_LETTER_REASON_HEADER = 'helios-dead-letter-reason';

export interface KafkaTopicSpec {
  partitions: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic-level configs used when the topic is created, e.g. `{ 'retention.ms': '604800000' }`. */
  config?: Record<string, string>;
}

export interface KafkaBusOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: readonly string[];
  clientId?: string;
  /** Topics created at start when missing (existing ones are left as they are). Merged over the defaults. */
  topics?: Record<string, KafkaTopicSpec>;
  /** Passed to kafkajs as is: `true` or tls.connect options. */
  ssl?: KafkaConfig['ssl'];
  /** Passed to kafkajs as is: plain, scram-sha-256/512, aws, oauthbearer. */
  sasl?: SASLOptions;
  /**
   * Default `lz4`: with the bus's producer it costs the gateway the least CPU per event, and the
   * gateway's CPU is what limits throughput into Kafka here (bench/RESULTS.md, Kafka).
   */
  compression?: KafkaCompression;
  /**
   * Idempotent producers writing in parallel, each on its own connection with one produce request in
   * flight, each owning the partitions p with p % producers == its index (so per-key order holds).
   * Default 1.
   */
  producers?: number;
  /** How long the first publish waits for others to share its produce request. Default 5 ms. */
  lingerMs?: number;
  /** A produce request is sent at once when this many records wait. Default 10,000. */
  maxBatchRecords?: number;
  /** Upper bound for one produce request (all partitions together), bytes before compression. Default 16 MiB. */
  maxRequestBytes?: number;
  /** kafkajs retry policy for produce/admin requests; a publish rejects once it is exhausted. */
  retry?: RetryOptions;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Consumer handler retry backoff, doubled per failure up to `maxRetryMs`. Defaults 100 ms, 10 s. */
  retryMs?: number;
  maxRetryMs?: number;
  /** While the producer is unreachable, how often to try reconnecting (drives `isReady`). Default 1 s. */
  reconnectMs?: number;
  /**
   * Start even when the brokers do not answer: `createKafkaBus` resolves at once, `isReady` stays false
   * and publishes reject with HLS_ERR_BUS_CLOSED until connecting, creating the topics and reaching the
   * producer succeed, which is retried in the background every `reconnectMs`; subscriptions start then.
   * For the gateway behind the spool, which takes the publishes meanwhile. Default false: fail the start.
   */
  startWhileUnreachable?: boolean;
  /**
   * Records a consumer cannot decode (not JSON, unknown schema version) go here with the reason in a
   * header, so they never block their partition. Without it they are logged and skipped.
   */
  deadLetterTopic?: string;
  sessionTimeoutMs?: number;
  /**
   * Prefix of every topic and consumer group name on the brokers (e.g. `staging.`), so several Helios
   * deployments (or test runs) share a cluster without seeing each other. Default none.
   */
  namespace?: string;
  logger?: Logger;
  /**
   * Registers helios_kafka_consumer_lag{topic,group,partition} (read from the brokers at scrape time
   * for the groups this process consumes), helios_kafka_produce_errors_total and
   * helios_kafka_dead_letters_total.
   */
  metrics?: Registry;
}

/** Per-partition consumer lag of one group on one topic. */
export interface PartitionLag {
  topic: string;
  group: string;
  partition: number;
  /** Next offset the group will read: its committed offset, or the log start when it committed none. */
  position: number;
  /** Offset the next produced record will get (the high watermark). */
  endOffset: number;
  lag: number;
}

export interface KafkaBusStats {
  /** Produce requests sent (successful or not); far below `publishCalls` when publishes are batched. */
  produceRequests: number;
  publishCalls: number;
  recordsAcknowledged: number;
  publishFailures: number;
  /** Records handed to dead-letter handling by consumers. */
  deadLettered: number;
}

export interface KafkaBus extends Bus {
  readonly kind: 'kafka';
  /** Sends the request's bytes (kafka-event-batch.ts) where they can carry its events. */
  publishEvents(topic: string, batch: EventRequestBatch): Promise<void>;
  /** Per-partition lag of `group` on `topic` (any group, not only this process's; names before the namespace prefix). For metrics. */
  lag(topic: string, group: string): Promise<PartitionLag[]>;
  stats(): KafkaBusStats;
}

export const DEFAULT_KAFKA_TOPICS: Readonly<Record<string, KafkaTopicSpec>> = {
  [Topics.events]: { partitions: 10 },
  [Topics.anomalies]: { partitions: 3 },
  [Topics.reports]: { partitions: 3 },
  // One partition: every detect process reads all of it (a group of its own), and gaps are rare.
  [Topics.telemetryGaps]: { partitions: 1 },
};
