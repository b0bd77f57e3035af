import kafkajs from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import { HeliosError, encodeJsonBatch, sleep, EVENT_SCHEMA_VERSION, silentLogger, eventRecords, Topics, type BusHandler, type BusRecord, type EventRequestBatch, type SubscribeOptions, type Subscription } from '@helios/core';
import { createKafkaClient, DEFAULT_KAFKA_RETRY, describeTopic, ensureTopics, readLag, type TopicInfo } from './kafka-admin.js';
import { registerKafkaCodecs } from './kafka-compression.js';
import { createKafkaConsumers } from './kafka-consumer.js';
import { eventBatchRecords, SCHEMA_VERSION_HEADER } from './kafka-event-batch.js';
import { BATCH_OVERHEAD_BYTES, createProduceLanes } from './kafka-lanes.js';
import { DEAD_LETTER_REASON_HEADER, DEFAULT_KAFKA_TOPICS, KAFKA_COMPRESSIONS, type KafkaBus, type KafkaBusOptions, type KafkaBusStats, type KafkaTopicSpec } from './kafka-options.js';
import { createProduceClient } from './kafka-producer-client.js';
import type { EncodedRecord } from './kafka-records.js';

const { Partitioners } = kafkajs;

/** Conservative per-record framing estimate in a record batch. */
const RECORD_OVERHEAD_BYTES = 64;
const KEY_CACHE_SIZE = 10_000;

const valueOf = (record: BusRecord<unknown>): unknown => record.value;
/**
 * The Kafka implementation of the Helios bus. Loaded only when a Kafka bus is created (kafka.ts).
 *
 * Producing (kafka-lanes.ts): every publish call is encoded at once and queued per lane; each lane keeps
 * one produce request in flight on its own idempotent producer (@platformatic/kafka with record batches
 * written by the bus, kafka-producer-client.ts), acks=all. Records are partitioned here by the
 * Java-compatible murmur2 hash of their key, so one key maps to one partition, and requests are cut so no
 * partition's batch exceeds the topic's max.message.bytes.
 *
 * Consuming (kafka-consumer.ts): kafkajs consumer groups, offsets committed after the handler resolved.
 * Admin (kafka-admin.ts): topics created at start, limits read, lag for metrics and drain.
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<KafkaBus> {
  if (options.brokers.length === 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', "bus 'brokers' must name at least one host:port");
  const compression = options.compression ?? 'lz4';
  if (!KAFKA_COMPRESSIONS.includes(compression)) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus 'compression' must be one of ${KAFKA_COMPRESSIONS.join(', ')}, got ${JSON.stringify(compression)}`);
  }
  const namespace = options.namespace ?? '';
  /** Name on the brokers of a Helios topic or group. */
  const physical = (name: string) => namespace + name;
  const topicSpecs: Record<string, KafkaTopicSpec> = Object.fromEntries(Object.entries({ ...DEFAULT_KAFKA_TOPICS, ...options.topics }).map(([name, spec]) => [physical(name), spec]));
  for (const [name, spec] of Object.entries(topicSpecs)) {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus 'topics.${name}.partitions' must be a positive integer, got ${JSON.stringify(spec.partitions)}`);
    }
  }
  registerKafkaCodecs();

  const logger = options.logger ?? silentLogger();
  const lingerMs = options.lingerMs ?? 5;
  const producerCount = options.producers ?? 1;
  if (!Number.isInteger(producerCount) || producerCount < 1 || producerCount > 16) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus 'producers' must be an integer from 1 to 16, got ${JSON.stringify(options.producers)}`);
  }
  const maxBatchRecords = options.maxBatchRecords ?? 10_000;
  const maxRequestBytes = options.maxRequestBytes ?? 16 * 1024 * 1024;
  const retryMs = options.retryMs ?? 100;
  const maxRetryMs = options.maxRetryMs ?? 10_000;
  const reconnectMs = options.reconnectMs ?? 1000;
  const schemaVersion = String(EVENT_SCHEMA_VERSION);
  const kafka = createKafkaClient(options, logger);
  // One partitioner instance: the same function kafkajs would use, so keys land where other Java-compatible clients put them.
  const partitionOf = Partitioners.DefaultPartitioner();
  const producerOptions = {
    brokers: options.brokers, clientId: options.clientId ?? 'helios', compression, defaultHeaders: { [SCHEMA_VERSION_HEADER]: schemaVersion },
    retry: options.retry ?? DEFAULT_KAFKA_RETRY, connectionTimeoutMs: options.connectionTimeoutMs ?? 3000, requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
  };

  const admin = kafka.admin();
  const topicInfo = new Map<string, TopicInfo>();
  const stats: KafkaBusStats = { produceRequests: 0, publishCalls: 0, recordsAcknowledged: 0, publishFailures: 0, deadLettered: 0 };
  const produceErrors = options.metrics === undefined ? undefined : new Counter({ name: 'helios_kafka_produce_errors_total', help: 'Produce requests Kafka did not acknowledge (their publishes were rejected)', registers: [options.metrics] });
  const deadLetters = options.metrics === undefined ? undefined : new Counter({ name: 'helios_kafka_dead_letters_total', help: 'Records consumers could not decode, sent to the dead-letter topic', labelNames: ['topic'], registers: [options.metrics] });
  const lanes = createProduceLanes({
    count: producerCount, newProducer: () => createProduceClient(producerOptions), lingerMs, maxBatchRecords, maxRequestBytes, reconnectMs, stats, logger,
    maxBatchBytesOf: (topic) => topicInfo.get(topic)!.maxBatchBytes,
    ...(produceErrors === undefined ? {} : { onProduceError: () => produceErrors.inc() }),
  });

  /** Connect, create the missing topics, read their limits, reach the producers: what publishing needs. */
  async function setUp(): Promise<void> {
    await admin.connect();
    await ensureTopics(admin, topicSpecs, logger);
    for (const topic of Object.keys(topicSpecs)) topicInfo.set(topic, await describeTopic(admin, topic));
    await lanes.connect();
  }
  let setUpDone = false;
  try {
    await setUp();
    setUpDone = true;
  } catch (err) {
    if (options.startWhileUnreachable !== true) {
      await lanes.close();
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
    logger.warn({ err, brokers: options.brokers }, 'kafka is not reachable; starting without it and retrying in the background');
  }

  /** Woken when the background set-up succeeded or the bus closed. */
  const setUpWaiters: Array<() => void> = [];
  let closed = false;
  let closing: Promise<void> | undefined;

  if (!setUpDone) {
    void (async () => {
      for (let attempt = 1; !closed; attempt++) {
        await sleep(reconnectMs);
        if (closed) break;
        try {
          await setUp();
        } catch (err) {
          if (attempt % 10 === 0) logger.warn({ err, attempt }, 'kafka still not reachable');
          continue;
        }
        if (closed) {
          // Closed while this attempt was connecting: close() found nothing connected to stop.
          await lanes.close();
          await admin.disconnect().catch(() => undefined);
          break;
        }
        setUpDone = true;
        logger.info({ attempt }, 'kafka reachable; topics ready, producer connected');
        break;
      }
      for (const wake of setUpWaiters.splice(0)) wake();
    })();
  }

  /** Resolves once publishing can start (at once when it already can), or when the bus closed. */
  function whenSetUp(): Promise<void> {
    if (setUpDone || closed) return Promise.resolve();
    return new Promise<void>((resolve) => setUpWaiters.push(resolve));
  }

  async function topicInfoFor(topic: string): Promise<TopicInfo> {
    let info = topicInfo.get(topic);
    if (info === undefined) {
      info = await describeTopic(admin, topic);
      topicInfo.set(topic, info);
    }
    return info;
  }

  /** A record's key, encoded, and its partition: computed once per key (the keys are few and repeat). */
  function keyed(topic: string, info: TopicInfo, key: string): { key: Buffer; partition: number } {
    let known = info.keys.get(key);
    if (known === undefined) {
      const bytes = Buffer.from(key);
      known = { key: bytes, partition: partitionOf({ topic, partitionMetadata: info.partitionMetadata, message: { key: bytes, value: null } }) };
      if (info.keys.size >= KEY_CACHE_SIZE) info.keys.clear();
      info.keys.set(key, known);
    }
    return known;
  }

  function encode(topic: string, info: TopicInfo, records: readonly BusRecord<unknown>[], events: boolean): EncodedRecord[] {
    const encoded: EncodedRecord[] = new Array(records.length);
    // All values in one buffer; events (the hot path) take the fixed-shape writer (core/src/event/encode.ts).
    const values = encodeJsonBatch(records, valueOf, events);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const value = values[i]!;
      const { key, partition } = keyed(topic, info, record.key);
      const bytes = key.length + value.length + RECORD_OVERHEAD_BYTES;
      if (bytes + BATCH_OVERHEAD_BYTES > info.maxBatchBytes) {
        throw new HeliosError('HLS_ERR_BODY_TOO_LARGE', `record ${i} (key ${record.key}) is ${bytes} bytes; topic ${topic} accepts at most ${info.maxBatchBytes}`);
      }
      encoded[i] = { partition, key, value, bytes };
    }
    return encoded;
  }

  /**
   * A request's events as records of its own bytes (kafka-event-batch.ts), or undefined where that format
   * cannot carry them (the caller encodes the events one by one).
   */
  function encodeEventBatch(topic: string, info: TopicInfo, batch: EventRequestBatch): EncodedRecord[] | undefined {
    // Room beside the value for the key and headers (tenant, time, first id, an index per event).
    const maxValueBytes = info.maxBatchBytes - BATCH_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES - 512 - 2 * batch.tenant.length - 8 * batch.events.length;
    const records = eventBatchRecords(batch, schemaVersion, maxValueBytes);
    if (records === undefined) return undefined;
    const encoded: EncodedRecord[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const { key: name, value, headers, encodedHeaders } = records[i]!;
      const { key, partition } = keyed(topic, info, name);
      encoded[i] = { partition, key, value, headers, encodedHeaders, bytes: key.length + value.length + encodedHeaders.length + RECORD_OVERHEAD_BYTES };
    }
    return encoded;
  }

  async function deadLetter(topic: string, partition: number, message: { key: Buffer | null; value: Buffer | null; offset: string }, reason: string): Promise<void> {
    stats.deadLettered++;
    deadLetters?.inc({ topic });
    const target = options.deadLetterTopic === undefined ? undefined : physical(options.deadLetterTopic);
    logger.error({ topic, partition, offset: message.offset, reason, deadLetterTopic: target }, 'undecodable record');
    // Never dead-letter records read from the dead-letter topic itself: that would loop forever.
    if (target === undefined || target === topic) return;
    const info = await topicInfoFor(target);
    const dead: EncodedRecord = {
      partition: partitionOf({ topic: target, partitionMetadata: info.partitionMetadata, message: { key: message.key, value: message.value } }),
      key: message.key,
      value: message.value,
      headers: { [DEAD_LETTER_REASON_HEADER]: reason, 'helios-source': `${topic}/${partition}/${message.offset}` },
      bytes: (message.key?.length ?? 0) + (message.value?.length ?? 0) + reason.length + RECORD_OVERHEAD_BYTES,
    };
    // Through the same queue as publishes (one sender, no concurrent sends); the consumer commits past the
    // record only after this resolved, so a dead letter is never lost.
    await lanes.enqueue(target, [dead]);
  }

  const consumers = createKafkaConsumers({
    kafka, logger, schemaVersion, physical, sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000, retryMs, maxRetryMs, whenSetUp, deadLetter,
  });

  if (options.metrics !== undefined) {
    new Gauge({
      name: 'helios_kafka_consumer_lag',
      help: 'Records published to a partition and not yet committed by a consumer group of this process',
      labelNames: ['topic', 'group', 'partition'],
      registers: [options.metrics],
      async collect() {
        this.reset();
        for (const g of consumers.groups()) {
          if (g.closed) continue;
          try {
            for (const p of await readLag(admin, g.topic, g.group)) this.set({ topic: p.topic, group: p.group, partition: String(p.partition) }, p.lag);
          } catch (err) {
            // A scrape while the brokers are down shows no lag series rather than failing /metrics.
            logger.debug({ err, topic: g.topic, group: g.group }, 'kafka lag unavailable');
          }
        }
      },
    });
  }

  /** Checks, then `encode` and queue; rejects rather than throws. */
  function publishEncoded(name: string, count: number, encodeFor: (topic: string, info: TopicInfo) => EncodedRecord[]): Promise<void> {
    if (closed) return Promise.reject(new HeliosError('HLS_ERR_BUS_CLOSED'));
    if (count === 0) return Promise.resolve();
    if (!setUpDone) return Promise.reject(new HeliosError('HLS_ERR_BUS_CLOSED', `kafka has not been reachable since the start (brokers ${options.brokers.join(', ')})`));
    stats.publishCalls++;
    const topic = physical(name);
    const info = topicInfo.get(topic);
    if (info === undefined) return topicInfoFor(topic).then((known) => lanes.enqueue(topic, encodeFor(topic, known)));
    try {
      return lanes.enqueue(topic, encodeFor(topic, info));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  const bus: KafkaBus = {
    kind: 'kafka',
    // publish and publishEvents are not async functions: an async frame would hold the records (the
    // gateway's events) until Kafka acknowledged, long enough to outlive the young generation; only their
    // encoded bytes need to wait.
    publish<T>(name: string, records: readonly BusRecord<T>[]): Promise<void> {
      return publishEncoded(name, records.length, (topic, info) => encode(topic, info, records, name === Topics.events));
    },
    publishEvents(name: string, batch: EventRequestBatch): Promise<void> {
      return publishEncoded(name, batch.events.length, (topic, info) => encodeEventBatch(topic, info, batch) ?? encode(topic, info, eventRecords(batch.events), true));
    },
    subscribe<T>(topicName: string, groupName: string, handler: BusHandler<T>, subscribeOptions?: SubscribeOptions): Subscription {
      if (closed) throw new HeliosError('HLS_ERR_BUS_CLOSED');
      return consumers.subscribe(topicName, groupName, handler, subscribeOptions);
    },
    isReady: () => setUpDone && !closed && lanes.reachable(),
    notReadyReason: () => (closed ? 'closed' : !setUpDone ? 'connecting to the brokers' : lanes.reachable() ? undefined : 'brokers unreachable'),
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      await Promise.race([lanes.waitIdle(), sleep(timeoutMs)]);
      // Everything published so far: the end offsets now. Done when every local group committed up to them.
      const targets = new Map<string, Map<number, number>>();
      try {
        for (const topic of new Set(consumers.groups().map((g) => g.topic))) {
          targets.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)])));
        }
      } catch (err) {
        logger.warn({ err }, 'kafka drain could not read end offsets');
        return false;
      }
      for (;;) {
        let pending = false;
        try {
          for (const g of consumers.groups()) {
            if (g.closed) continue;
            for (const p of await readLag(admin, g.topic, g.group)) if (p.position < (targets.get(g.topic)?.get(p.partition) ?? 0)) pending = true;
          }
        } catch (err) {
          logger.warn({ err }, 'kafka drain could not read committed offsets');
          pending = true;
        }
        if (!pending) return true;
        if (Date.now() >= deadline) return false;
        await sleep(50);
      }
    },
    lag: (topic, group) => readLag(admin, physical(topic), physical(group)),
    stats: () => ({ ...stats }),
    close(timeoutMs = 30_000) {
      closing ??= (async () => {
        // Drain before refusing publishes: stages behind the bus publish too (events -> anomalies).
        if (setUpDone) await bus.drain(timeoutMs);
        closed = true;
        for (const wake of setUpWaiters.splice(0)) wake();
        await Promise.race([lanes.waitIdle(), sleep(timeoutMs)]);
        await consumers.closeAll();
        await lanes.close();
        await admin.disconnect().catch(() => undefined);
      })();
      return closing;
    },
  };
  return bus;
}
