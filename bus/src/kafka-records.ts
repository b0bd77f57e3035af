import type { KafkaConfig, RetryOptions, SASLOptions } from 'kafkajs';
import type { KafkaCompression } from './kafka-options.js';

// What the bus's produce lanes (kafka-lanes.ts) and the producer (kafka-producer-client.ts) exchange.
// Types only, so the record batch writer and the producer do not import each other.

/** One record ready for a produce request: partition chosen, key and value encoded. */
export interface EncodedRecord {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Headers besides the schema version (dead letters carry a reason and a source instead). */
  headers?: Record<string, string>;
  /** The same headers in their wire form, when the bus made it already. */
  encodedHeaders?: Buffer;
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
