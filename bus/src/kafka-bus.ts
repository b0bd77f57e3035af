import kafkajs from 'kafkajs';
import type { Admin, Consumer, KafkaConfig, PartitionMetadata, RetryOptions, SASLOptions, EachBatchPayload } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HeliosError, encodeJsonBatch, EVENT_SCHEMA_VERSION, silentLogger, eventRecords, Topics, type Logger, type Bus, type BusHandler, type BusRecord, type EventRequestBatch, type SubscribeOptions, type Subscription } from '@helios/core';
import { decodeEventBatchRecord, eventBatchRecords, isEventBatchFormat, SCHEMA_VERSION_HEADER, VALUE_FORMAT_HEADER } from './kafka-event-batch.js';
import { compressionType, KAFKA_COMPRESSIONS, registerKafkaCodecs, type KafkaCompression } from './kafka-compression.js';
import { createProduceThread, type ProduceThread } from './kafka-produce-thread.js';
import { KAFKA_PRODUCER_CLIENTS, kafkajsProduceClient, platformaticProduceClient, type EncodedRecord, type KafkaProducerClientName, type ProduceClient, type TopicRecords } from './kafka-producer-client.js';

const { Kafka, Partitioners, ConfigResourceTypes, logLevel } = kafkajs;

export { KAFKA_COMPRESSIONS, KAFKA_PRODUCER_CLIENTS, type KafkaCompression, type KafkaProducerClientName };

export { SCHEMA_VERSION_HEADER };
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
   * Default `lz4`: with the platformatic producer it costs the gateway the least CPU per event, and the
   * gateway's CPU is what limits throughput into Kafka here (bench/RESULTS.md, Kafka).
   */
  compression?: KafkaCompression;
  /**
   * Library writing produce requests: `kafkajs` or `platformatic` (@platformatic/kafka). Consumers and
   * admin requests use kafkajs either way. Default `platformatic`: measured faster at the same
   * durability (bench/RESULTS.md, Kafka).
   */
  producerClient?: KafkaProducerClientName;
  /**
   * Run the producers on a worker thread of their own (platformatic client only): record batches,
   * compression, CRCs and socket writes leave the thread that validates and encodes the events.
   * Acknowledgements come back by message; a publish still resolves only after Kafka acknowledged it.
   * Default false: on the shared 2-core bench machine (broker on the same cores) it lost to producing on
   * the main thread in every measured pair, costing 0.3-0.5 µs more CPU per event (bench/RESULTS.md, Kafka).
   */
  producerThread?: boolean;
  /**
   * platformatic only: the bus writes the Kafka record batches itself, one buffer per partition straight
   * from the encoded values (the library still does producer ids, metadata, connections, framing).
   * False: the library's producer builds them record by record. Default true (bench/RESULTS.md, Kafka).
   */
  writeRecordBatches?: boolean;
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

/** Fixed overhead of a record batch (v2 header) and a conservative per-record framing estimate. */
const BATCH_OVERHEAD_BYTES = 512;
const RECORD_OVERHEAD_BYTES = 64;

interface TopicInfo {
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

const KEY_CACHE_SIZE = 10_000;

const valueOf = (record: BusRecord<unknown>): unknown => record.value;

/** One publish call waiting to be acknowledged; its records travel in one part per lane they map to. */
interface PendingPublish {
  /** Parts not yet acknowledged in full. */
  partsPending: number;
  failed: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The records of one publish owned by one lane; it may travel in several produce requests. */
interface LanePart {
  publish: PendingPublish;
  topic: string;
  records: EncodedRecord[];
  /** Records already put into a produce request. */
  taken: number;
  /** Produce requests carrying some of its records that are not acknowledged yet. */
  inFlight: number;
  done: boolean;
}

/**
 * One idempotent producer and its queue, owning the partitions p with p % lanes == index of every topic.
 * A lane has at most one produce request in flight, so each partition's records are written in the order
 * they were published; several lanes put several requests in flight on separate connections.
 */
interface ProduceLane {
  index: number;
  producer: ProduceClient;
  queue: LanePart[];
  queuedRecords: number;
  sending: boolean;
  lingerTimer: NodeJS.Timeout | undefined;
  reachable: boolean;
  reconnecting: Promise<void> | undefined;
}

interface GroupState {
  topic: string;
  /** Kafka group id. */
  group: string;
  /** The group name the subscriber gave. */
  helios: string;
  consumer: Consumer;
  closed: boolean;
  closing?: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

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

/**
 * The Kafka implementation of the Helios bus (kafkajs).
 *
 * Producing: every publish call is encoded at once and queued per lane (`producers`, default 1: the
 * partitions p with p % producers == lane). Each lane's sender keeps exactly one produce request in
 * flight on its own idempotent producer, with everything queued by then (after a linger of a few ms). So
 * many concurrent publishes share produce requests, one partition's records are written in publish order,
 * and no idempotent producer sees concurrent sends (kafkajs#1005 reports silent loss when concurrent
 * sends outnumber partitions; @platformatic/kafka advances its sequence numbers only on the response). A publish resolves when
 * the brokers acknowledged all its records with acks=all; a failed request rejects every publish that
 * had records in it (some of their records may have been written: at least once, consumers dedupe by
 * event id). Records are partitioned here by the Java-compatible murmur2 hash of their key, so one key
 * maps to one partition, and requests are cut so no partition's batch exceeds the topic's max.message.bytes.
 *
 * Consuming: one kafkajs consumer per subscription; offsets are committed only after the handler's
 * promise resolved for the records before them; a failing handler is retried with backoff, never skipped.
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
  const compressionCode = compressionType(compression);
  const schemaVersion = String(EVENT_SCHEMA_VERSION);

  const kafkaRetry: RetryOptions = options.retry ?? { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 };
  const kafka = new Kafka({
    clientId: options.clientId ?? 'helios',
    brokers: [...options.brokers],
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: kafkaRetry,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(logger),
  });

  // One partitioner instance: the same function kafkajs would use, so keys land where other Java-compatible clients put them.
  const partitionOf = Partitioners.DefaultPartitioner();
  const producerClient = options.producerClient ?? 'platformatic';
  if (!KAFKA_PRODUCER_CLIENTS.includes(producerClient)) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus 'producerClient' must be one of ${KAFKA_PRODUCER_CLIENTS.join(', ')}, got ${JSON.stringify(producerClient)}`);
  }
  const defaultHeaders = { [SCHEMA_VERSION_HEADER]: schemaVersion };
  const platformaticOptions = {
    brokers: options.brokers, clientId: options.clientId ?? 'helios', compression, defaultHeaders, retry: kafkaRetry,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 3000, requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    writeRecordBatches: options.writeRecordBatches !== false,
  };
  const produceThread: ProduceThread | undefined =
    producerClient === 'platformatic' && options.producerThread === true ? createProduceThread(platformaticOptions) : undefined;
  const newProducer = (): ProduceClient =>
    producerClient === 'kafkajs'
      ? kafkajsProduceClient(kafka, compressionCode, defaultHeaders)
      : produceThread !== undefined ? produceThread.client() : platformaticProduceClient(platformaticOptions);

  const admin: Admin = kafka.admin();
  const topicInfo = new Map<string, TopicInfo>();
  const lanes: ProduceLane[] = Array.from({ length: producerCount }, (_, index) => ({
    index, producer: newProducer(), queue: [], queuedRecords: 0, sending: false, lingerTimer: undefined, reachable: false, reconnecting: undefined,
  }));
  const closeProducers = async () => {
    await Promise.all(lanes.map((lane) => lane.producer.close().catch(() => undefined)));
    await produceThread?.close();
  };
  /** Connect, create the missing topics, read their limits, reach the producers: what publishing needs. */
  async function setUp(): Promise<void> {
    await admin.connect();
    await ensureTopics(admin, topicSpecs, logger);
    for (const topic of Object.keys(topicSpecs)) topicInfo.set(topic, await describeTopic(admin, topic));
    await Promise.all(lanes.map((lane) => lane.producer.connect()));
    for (const lane of lanes) lane.reachable = true;
  }
  let setUpDone = false;
  try {
    await setUp();
    setUpDone = true;
  } catch (err) {
    if (options.startWhileUnreachable !== true) {
      await closeProducers();
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
    logger.warn({ err, brokers: options.brokers }, 'kafka is not reachable; starting without it and retrying in the background');
  }

  const stats: KafkaBusStats = { produceRequests: 0, publishCalls: 0, recordsAcknowledged: 0, publishFailures: 0, deadLettered: 0 };
  const produceErrors = options.metrics === undefined ? undefined : new Counter({ name: 'helios_kafka_produce_errors_total', help: 'Produce requests Kafka did not acknowledge (their publishes were rejected)', registers: [options.metrics] });
  const deadLetters = options.metrics === undefined ? undefined : new Counter({ name: 'helios_kafka_dead_letters_total', help: 'Records consumers could not decode, sent to the dead-letter topic', labelNames: ['topic'], registers: [options.metrics] });
  /** Woken when the background set-up succeeded or the bus closed. */
  const setUpWaiters: Array<() => void> = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  const idleWaiters: Array<() => void> = [];
  const groups = new Set<GroupState>();

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
          await closeProducers();
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

  /** The lane owning a partition: a key always maps to one partition, so to one lane and one producer. */
  const laneOf = (partition: number): ProduceLane => lanes[partition % lanes.length]!;

  function scheduleSend(lane: ProduceLane): void {
    if (lane.sending || lane.queue.length === 0) return;
    if (lane.queuedRecords >= maxBatchRecords || lingerMs === 0) {
      if (lane.lingerTimer !== undefined) clearTimeout(lane.lingerTimer);
      lane.lingerTimer = undefined;
      void sendLoop(lane);
    } else {
      lane.lingerTimer ??= setTimeout(() => {
        lane.lingerTimer = undefined;
        void sendLoop(lane);
      }, lingerMs);
    }
  }

  /** Take a lane's queued records into one produce request, keeping every partition's batch under its topic's limit. */
  function takeRequest(lane: ProduceLane): { parts: Array<{ part: LanePart; records: EncodedRecord[] }>; count: number } {
    /** Bytes per partition in this request, per topic (indexed by partition: no key string per record). */
    const partitionBytes = new Map<string, number[]>();
    const parts: Array<{ part: LanePart; records: EncodedRecord[] }> = [];
    let totalBytes = 0;
    let count = 0;
    outer: for (const part of lane.queue) {
      if (part.publish.failed || part.taken === part.records.length) continue;
      const info = topicInfo.get(part.topic)!;
      let topicBytes = partitionBytes.get(part.topic);
      if (topicBytes === undefined) partitionBytes.set(part.topic, (topicBytes = []));
      const start = part.taken;
      for (let i = part.taken; i < part.records.length; i++) {
        const record = part.records[i]!;
        const used = topicBytes[record.partition] ?? BATCH_OVERHEAD_BYTES;
        if (count > 0 && (used + record.bytes > info.maxBatchBytes || totalBytes + record.bytes > maxRequestBytes || count >= maxBatchRecords)) {
          if (i > start) parts.push({ part, records: part.records.slice(start, i) });
          part.taken = i;
          break outer;
        }
        topicBytes[record.partition] = used + record.bytes;
        totalBytes += record.bytes;
        count++;
      }
      parts.push({ part, records: start === 0 ? part.records : part.records.slice(start) });
      part.taken = part.records.length;
    }
    for (const { part } of parts) part.inFlight++;
    lane.queuedRecords -= count;
    return { parts, count };
  }

  /** A part is done when all its records were acknowledged; a publish when all its parts are. */
  function settle(part: LanePart): void {
    if (part.inFlight > 0 || part.taken < part.records.length || part.done) return;
    part.done = true;
    const publish = part.publish;
    if (!publish.failed && --publish.partsPending === 0) publish.resolve();
  }

  function fail(publish: PendingPublish, failure: unknown): void {
    if (publish.failed) return;
    publish.failed = true;
    stats.publishFailures++;
    publish.reject(new HeliosError('HLS_ERR_BUS_CLOSED', `kafka did not acknowledge the records: ${(failure as Error).message}`, { cause: failure }));
  }

  async function sendLoop(lane: ProduceLane): Promise<void> {
    if (lane.sending) return;
    lane.sending = true;
    try {
      while (lane.queue.length > 0) {
        const { parts, count } = takeRequest(lane);
        if (count > 0) await sendRequest(lane, parts);
        // Drop parts that are fully sent (they settle when their requests do) or whose publish failed.
        while (lane.queue.length > 0) {
          const head = lane.queue[0]!;
          if (!head.publish.failed && head.taken < head.records.length) break;
          if (head.publish.failed) {
            // Records of a failed publish not yet taken are not sent: its caller learnt it failed as a whole.
            lane.queuedRecords -= head.records.length - head.taken;
            head.taken = head.records.length;
          }
          lane.queue.shift();
        }
      }
    } finally {
      lane.sending = false;
      if (lane.queue.length > 0) scheduleSend(lane);
      else if (lanes.every((l) => !l.sending && l.queue.length === 0)) for (const wake of idleWaiters.splice(0)) wake();
    }
  }

  async function sendRequest(lane: ProduceLane, parts: Array<{ part: LanePart; records: EncodedRecord[] }>): Promise<void> {
    // One entry per part, its own array (no copy); the producer client merges a topic's entries if its library needs it.
    const batches: TopicRecords[] = new Array(parts.length);
    for (let i = 0; i < parts.length; i++) batches[i] = { topic: parts[i]!.part.topic, records: parts[i]!.records };
    stats.produceRequests++;
    let failure: unknown;
    try {
      await lane.producer.send(batches);
      lane.reachable = true;
    } catch (err) {
      failure = err;
    }
    for (const { part, records } of parts) {
      part.inFlight--;
      if (failure === undefined) stats.recordsAcknowledged += records.length;
      else fail(part.publish, failure);
      settle(part);
    }
    if (failure !== undefined) {
      produceErrors?.inc();
      logger.warn({ err: failure, lane: lane.index }, 'kafka produce failed; rejecting the publishes in that request');
      lane.reachable = false;
      // After a failed request the idempotent producer's sequence numbers may no longer match the
      // broker's; a fresh producer (new producer id) starts clean.
      await replaceProducer(lane);
    }
  }

  async function replaceProducer(lane: ProduceLane): Promise<void> {
    const old = lane.producer;
    lane.producer = newProducer();
    await old.close().catch(() => undefined);
    try {
      await lane.producer.connect();
      lane.reachable = true;
    } catch (err) {
      logger.warn({ err, lane: lane.index }, 'kafka producer cannot connect; retrying in the background');
      watchReconnect(lane);
    }
  }

  /** While unreachable, reconnect periodically so `isReady` turns true again without traffic. */
  function watchReconnect(lane: ProduceLane): void {
    lane.reconnecting ??= (async () => {
      while (!lane.reachable && !closed) {
        await sleep(reconnectMs);
        if (lane.reachable || closed || lane.sending) continue;
        try {
          await lane.producer.connect();
          lane.reachable = true;
          logger.info({ lane: lane.index }, 'kafka producer reconnected');
        } catch {
          // Still down; the next round tries again.
        }
      }
      lane.reconnecting = undefined;
    })();
  }

  const busy = () => lanes.some((l) => l.sending || l.queue.length > 0);

  async function waitIdle(): Promise<void> {
    while (busy()) await new Promise<void>((resolve) => idleWaiters.push(resolve));
  }

  /**
   * Queue encoded records, each behind everything queued before for its lane; resolves once the brokers
   * acknowledged them all.
   */
  function enqueue(topic: string, records: EncodedRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const publish: PendingPublish = { partsPending: 0, failed: false, resolve, reject };
      if (lanes.length === 1) {
        addPart(lanes[0]!, publish, topic, records);
        return;
      }
      const byLane = new Map<ProduceLane, EncodedRecord[]>();
      for (const record of records) {
        const lane = laneOf(record.partition);
        const own = byLane.get(lane);
        if (own === undefined) byLane.set(lane, [record]);
        else own.push(record);
      }
      for (const [lane, own] of byLane) addPart(lane, publish, topic, own);
    });
  }

  function addPart(lane: ProduceLane, publish: PendingPublish, topic: string, records: EncodedRecord[]): void {
    publish.partsPending++;
    lane.queue.push({ publish, topic, records, taken: 0, inFlight: 0, done: false });
    lane.queuedRecords += records.length;
    scheduleSend(lane);
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
    await enqueue(target, [dead]);
  }

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
              for (let failures = 0; ; ) {
                try {
                  await handler(records);
                  break;
                } catch (err) {
                  // At-least-once: the same records are retried, never skipped; nothing past them is committed.
                  failures++;
                  logger.error({ err, topic, group, partition: batch.partition, records: records.length, failures }, 'bus handler failed; retrying batch');
                  await sleep(Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 16)));
                  if (!isRunning() || isStale() || state.closed) return;
                  await heartbeat();
                }
              }
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

  async function lag(topic: string, group: string): Promise<PartitionLag[]> {
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

  if (options.metrics !== undefined) {
    new Gauge({
      name: 'helios_kafka_consumer_lag',
      help: 'Records published to a partition and not yet committed by a consumer group of this process',
      labelNames: ['topic', 'group', 'partition'],
      registers: [options.metrics],
      async collect() {
        this.reset();
        for (const g of [...groups]) {
          if (g.closed) continue;
          try {
            for (const p of await lag(g.topic, g.group)) this.set({ topic: p.topic, group: p.group, partition: String(p.partition) }, p.lag);
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
    if (info === undefined) return topicInfoFor(topic).then((known) => enqueue(topic, encodeFor(topic, known)));
    try {
      return enqueue(topic, encodeFor(topic, info));
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
      const topic = physical(topicName);
      for (const g of groups) if (g.topic === topic && g.helios === groupName) throw new Error(`group ${groupName} already consumes ${topic} in this process`);
      // Members of one Kafka group must all subscribe to the same topics (kafkajs assigns partitions of
      // topics a member never subscribed to otherwise). So a group consuming a second topic in this
      // process (helios-storage: events, then anomalies) uses `<group>.<topic>` for it; the first keeps its name.
      const group = [...groups].some((g) => g.helios === groupName) ? physical(`${groupName}.${topicName}`) : physical(groupName);
      const consumer = kafka.consumer({
        groupId: group,
        allowAutoTopicCreation: false,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
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
    },
    isReady: () => setUpDone && !closed && lanes.every((lane) => lane.reachable),
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      await Promise.race([waitIdle(), sleep(timeoutMs)]);
      // Everything published so far: the end offsets now. Done when every local group committed up to them.
      const targets = new Map<string, Map<number, number>>();
      try {
        for (const topic of new Set([...groups].map((g) => g.topic))) {
          targets.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)])));
        }
      } catch (err) {
        logger.warn({ err }, 'kafka drain could not read end offsets');
        return false;
      }
      for (;;) {
        let pending = false;
        try {
          for (const g of groups) {
            if (g.closed) continue;
            for (const p of await lag(g.topic, g.group)) if (p.position < (targets.get(g.topic)?.get(p.partition) ?? 0)) pending = true;
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
    lag: (topic, group) => lag(physical(topic), physical(group)),
    stats: () => ({ ...stats }),
    close(timeoutMs = 30_000) {
      closing ??= (async () => {
        // Drain before refusing publishes: stages behind the bus publish too (events -> anomalies).
        if (setUpDone) await bus.drain(timeoutMs);
        closed = true;
        for (const wake of setUpWaiters.splice(0)) wake();
        await Promise.race([waitIdle(), sleep(timeoutMs)]);
        for (const lane of lanes) {
          if (lane.lingerTimer !== undefined) clearTimeout(lane.lingerTimer);
          for (const { publish } of lane.queue.splice(0)) {
            if (!publish.failed) {
              publish.failed = true;
              publish.reject(new HeliosError('HLS_ERR_BUS_CLOSED', 'the bus closed before kafka acknowledged these records'));
            }
          }
        }
        await Promise.all([...groups].map((g) => (g.closing ??= (async () => {
          g.closed = true;
          await g.consumer.disconnect().catch(() => undefined);
          groups.delete(g);
        })())));
        await closeProducers();
        await admin.disconnect().catch(() => undefined);
      })();
      return closing;
    },
  };
  return bus;
}

async function ensureTopics(admin: Admin, specs: Record<string, KafkaTopicSpec>, logger: Logger): Promise<void> {
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

async function describeTopic(admin: Admin, topic: string): Promise<TopicInfo> {
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
