import { ConnectionPool, createAPI, Producer as PlatformaticProducer, ProduceAcks, produceV9, Writer, type ProducerOptions, type SASLOptions as PlatformaticSasl } from '@platformatic/kafka';
import type { SASLOptions } from 'kafkajs';
import { backoffDelayMs } from '@helios/core';
import { writeRecordBatch } from './kafka-record-batch.js';
import { encodeRecordHeaders } from './kafka-record-headers.js';
import type { EncodedRecord, ProduceClient, ProduceClientOptions } from './kafka-records.js';

/** kafkajs SASL options in @platformatic/kafka's spelling (mechanism names are upper case there). */
function platformaticSasl(sasl: SASLOptions): PlatformaticSasl {
  const mechanisms: Record<string, PlatformaticSasl['mechanism']> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };
  const mechanism = mechanisms[sasl.mechanism];
  if (mechanism === undefined) throw new Error(`SASL mechanism ${sasl.mechanism} is not supported by the Kafka producer`);
  const { username, password } = sasl as { username: string; password: string };
  return { mechanism, username, password };
}

function platformaticProducerOptions(options: ProduceClientOptions): ProducerOptions<Buffer | null, Buffer | null, Buffer, Buffer> {
  const { retry } = options;
  const initial = retry.initialRetryTime ?? 100;
  const max = retry.maxRetryTime ?? 2000;
  return {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: options.compression,
    autocreateTopics: false,
    connectTimeout: options.connectionTimeoutMs,
    timeout: options.requestTimeoutMs,
    retries: retry.retries ?? 8,
    retryDelay: (_client, _operation, attempt) => backoffDelayMs(attempt + 1, { initialMs: initial, maxMs: max }),
    ...(options.ssl === undefined || options.ssl === false ? {} : { tls: options.ssl === true ? {} : options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: platformaticSasl(options.sasl) }),
  };
}

/** A partition's record batch, built for one request. */
type PartitionBatch = [partition: number, batch: Buffer];

/**
 * Produce v9 (acks, timeout, topics -> partitions -> one record batch each) around record batches that
 * are already written; the response is read by the library's own v9 parser, which throws on any
 * partition error.
 */
const produceBatches = createAPI(0, 9, (acks: number, timeoutMs: number, topics: Array<[string, PartitionBatch[]]>) =>
  Writer.create()
    .appendString(null)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray(topics, (w, [topic, partitions]) => {
      w.appendString(topic).appendArray(partitions, (w, [partition, batch]) => {
        w.appendInt32(partition).appendUnsignedVarInt(batch.length + 1).append(batch);
      });
    })
    .appendTaggedFields(), produceV9.parseResponse);

const MAX_SEQUENCE = 2 ** 31;

/**
 * @platformatic/kafka for what it does once (producer id, metadata, connections with TLS/SASL, request
 * framing), with the record batches written by the bus (`kafka-record-batch.ts`): one buffer per
 * partition straight from the encoded records, instead of the library's objects, Maps and BigInt
 * timestamps per record. Idempotent with acks=all like the library's producer: sequence numbers per
 * partition advance only when the brokers acknowledged; one `send` at a time (the bus's lanes). No
 * retries inside: a failed request rejects, and the bus replaces the producer (new producer id).
 */
export function createProduceClient(options: ProduceClientOptions): ProduceClient {
  const producerOptions = platformaticProducerOptions(options);
  const producer = new PlatformaticProducer<Buffer | null, Buffer | null, Buffer, Buffer>(producerOptions);
  const pool = new ConnectionPool(options.clientId, {
    connectTimeout: options.connectionTimeoutMs, requestTimeout: options.requestTimeoutMs,
    ...(producerOptions.tls === undefined ? {} : { tls: producerOptions.tls }),
    ...(producerOptions.sasl === undefined ? {} : { sasl: producerOptions.sasl }),
  });
  const defaultHeaders = encodeRecordHeaders(options.defaultHeaders);
  /** Next sequence number per topic, per partition. */
  const sequences = new Map<string, number[]>();
  /** Leader broker per topic, per partition, read once (a stale leader fails the request; the new producer reads again). */
  const leaders = new Map<string, Array<{ host: string; port: number }>>();
  let producerId = -1n;
  let producerEpoch = -1;

  async function leadersOf(topic: string): Promise<Array<{ host: string; port: number }>> {
    let known = leaders.get(topic);
    if (known !== undefined) return known;
    const metadata = await producer.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic);
    if (t === undefined) throw new Error(`kafka topic ${topic} has no metadata`);
    known = t.partitions.map((p) => {
      const broker = metadata.brokers.get(p.leader);
      if (broker === undefined) throw new Error(`kafka topic ${topic}: leader ${p.leader} of a partition is not a known broker`);
      return { host: broker.host, port: broker.port };
    });
    leaders.set(topic, known);
    return known;
  }

  return {
    async connect() {
      await producer.initIdempotentProducer({});
      producerId = producer.producerId!;
      producerEpoch = producer.producerEpoch!;
    },
    async send(batches) {
      if (producerId < 0n) await this.connect();
      // Record indexes per topic and partition, in order; a topic may come in several entries.
      const byTopic = new Map<string, { records: EncodedRecord[]; partitions: Map<number, number[]> }>();
      for (const { topic, records } of batches) {
        let t = byTopic.get(topic);
        if (t === undefined) byTopic.set(topic, (t = { records: [], partitions: new Map() }));
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          const index = t.records.push(r) - 1;
          const own = t.partitions.get(r.partition);
          if (own === undefined) t.partitions.set(r.partition, [index]);
          else own.push(index);
        }
      }
      const timestamp = Date.now();
      /** Per leader ("host:port"): its broker and its topics' batches. */
      const requests = new Map<string, { broker: { host: string; port: number }; topics: Array<[string, PartitionBatch[]]> }>();
      const advances: Array<[number[], number, number]> = [];
      for (const [topic, { records, partitions }] of byTopic) {
        const topicLeaders = await leadersOf(topic);
        let topicSequences = sequences.get(topic);
        if (topicSequences === undefined) sequences.set(topic, (topicSequences = []));
        for (const [partition, indexes] of partitions) {
          const broker = topicLeaders[partition];
          if (broker === undefined) throw new Error(`kafka topic ${topic} has no partition ${partition}`);
          const baseSequence = topicSequences[partition] ?? 0;
          const batch = writeRecordBatch(records, indexes, { compression: options.compression, producerId, producerEpoch, baseSequence, timestamp, defaultHeaders });
          advances.push([topicSequences, partition, (baseSequence + indexes.length) % MAX_SEQUENCE]);
          const id = `${broker.host}:${broker.port}`;
          let request = requests.get(id);
          if (request === undefined) requests.set(id, (request = { broker, topics: [] }));
          const last = request.topics[request.topics.length - 1];
          if (last !== undefined && last[0] === topic) last[1].push([partition, batch]);
          else request.topics.push([topic, [[partition, batch]]]);
        }
      }
      await Promise.all([...requests.values()].map(async ({ broker, topics }) => {
        const connection = await pool.get(broker);
        await produceBatches.async(connection, ProduceAcks.ALL, options.requestTimeoutMs, topics);
      }));
      for (const [topicSequences, partition, next] of advances) topicSequences[partition] = next;
    },
    async close() {
      await Promise.all([pool.close(), producer.close()]);
    },
  };
}
