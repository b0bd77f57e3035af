import { Producer as PlatformaticProducer, ProduceAcks, type SASLOptions as PlatformaticSasl } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import type { Kafka, KafkaConfig, Message, RetryOptions, SASLOptions } from 'kafkajs';
import type { KafkaCompression } from './kafka-compression.js';

/** The Kafka client library that writes produce requests. */
export const KAFKA_PRODUCER_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaProducerClientName = (typeof KAFKA_PRODUCER_CLIENTS)[number];

/** One record ready for a produce request: partition chosen, key and value encoded. */
export interface EncodedRecord {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Headers besides the schema version (dead letters carry a reason and a source instead). */
  headers?: Record<string, string>;
  /** Estimated size in the batch, for cutting requests below max.message.bytes. */
  bytes: number;
}

/** Records of one topic; a request may carry several entries for the same topic. */
export interface TopicRecords {
  topic: string;
  records: readonly EncodedRecord[];
}

/**
 * A producer that sends one produce request at a time with acks=all and an idempotent producer id.
 * `send` resolves when the brokers acknowledged every record; after a rejection the caller throws the
 * producer away (its sequence numbers may no longer match the broker's) and makes a new one.
 */
export interface ProduceClient {
  /** Reach the brokers (and obtain a producer id); rejects while they are unreachable. */
  connect(): Promise<void>;
  send(batches: readonly TopicRecords[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProduceClientOptions {
  brokers: readonly string[];
  clientId: string;
  compression: KafkaCompression;
  /** Headers every record carries unless it brings its own. */
  defaultHeaders: Record<string, string>;
  ssl?: KafkaConfig['ssl'];
  sasl?: SASLOptions;
  retry: RetryOptions;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

/** kafkajs: the library's `sendBatch`, with records partitioned by the caller. */
export function kafkajsProduceClient(kafka: Kafka, compressionCode: number, defaultHeaders: Record<string, string>): ProduceClient {
  const producer = kafka.producer({
    idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false,
    // Never consulted (records come partitioned); naming it keeps kafkajs from warning about its default.
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  return {
    connect: () => producer.connect(),
    async send(batches) {
      // One entry per topic (the bus may pass a topic's records in several entries).
      const byTopic = new Map<string, Message[]>();
      for (const { topic, records } of batches) {
        let messages = byTopic.get(topic);
        if (messages === undefined) byTopic.set(topic, (messages = []));
        for (const r of records) messages.push({ key: r.key, value: r.value, partition: r.partition, headers: r.headers ?? defaultHeaders });
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      await producer.sendBatch({ acks: -1, compression: compressionCode, topicMessages });
    },
    close: () => producer.disconnect(),
  };
}

/** kafkajs SASL options in @platformatic/kafka's spelling (mechanism names are upper case there). */
function platformaticSasl(sasl: SASLOptions): PlatformaticSasl {
  const mechanisms: Record<string, PlatformaticSasl['mechanism']> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };
  const mechanism = mechanisms[sasl.mechanism];
  if (mechanism === undefined) throw new Error(`SASL mechanism ${sasl.mechanism} is not supported with the platformatic producer client`);
  const { username, password } = sasl as { username: string; password: string };
  return { mechanism, username, password };
}

/**
 * @platformatic/kafka: records are written straight into one buffer per request (no per-record object
 * spread, CRC32C native), which is why it is measured here (bench/RESULTS.md, Kafka). Partitions are set
 * by the caller, so its partitioner never runs.
 */
export function platformaticProduceClient(options: ProduceClientOptions): ProduceClient {
  const { retry } = options;
  const initial = retry.initialRetryTime ?? 100;
  const max = retry.maxRetryTime ?? 2000;
  const producer = new PlatformaticProducer<Buffer | null, Buffer | null, Buffer, Buffer>({
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: options.compression,
    autocreateTopics: false,
    connectTimeout: options.connectionTimeoutMs,
    timeout: options.requestTimeoutMs,
    retries: retry.retries ?? 8,
    retryDelay: (_client, _operation, attempt) => Math.min(max, initial * 2 ** Math.min(attempt, 16)),
    ...(options.ssl === undefined || options.ssl === false ? {} : { tls: options.ssl === true ? {} : options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: platformaticSasl(options.sasl) }),
  });
  // Header buffers are made once; the library copies them into each record.
  const toHeaders = (headers: Record<string, string>) => new Map(Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
  const defaultHeaders = toHeaders(options.defaultHeaders);
  return {
    async connect() {
      await producer.initIdempotentProducer({});
    },
    async send(batches) {
      let count = 0;
      for (const b of batches) count += b.records.length;
      const messages = new Array(count);
      let at = 0;
      for (let b = 0; b < batches.length; b++) {
        const { topic, records } = batches[b]!;
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          messages[at++] = { topic, key: r.key, value: r.value, partition: r.partition, headers: r.headers === undefined ? defaultHeaders : toHeaders(r.headers) };
        }
      }
      await producer.send({ messages });
    },
    async close() {
      await producer.close();
    },
  };
}
