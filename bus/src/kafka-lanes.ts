import { HeliosError, sleep, type Logger } from '@helios/core';
import type { KafkaBusStats } from './kafka-options.js';
import type { EncodedRecord, ProduceClient, TopicRecords } from './kafka-records.js';

/**
 * The Kafka bus's produce queue, apart from any Kafka library (the producers come from `newProducer`), so
 * its batching, ordering and failure handling are tested without a broker (kafka-lanes.test.ts).
 *
 * Every publish is queued per lane (`count` lanes: the partitions p with p % count == lane). Each lane
 * keeps exactly one produce request in flight on its own idempotent producer, with everything queued by
 * then (after a linger of a few ms). So many concurrent publishes share produce requests, one partition's
 * records are written in publish order, and no idempotent producer sees concurrent sends. A publish
 * resolves when the brokers acknowledged all its records; a failed request rejects every publish that
 * had records in it (some of their records may have been written: at least once) and the lane replaces
 * its producer (new producer id). Requests are cut so no partition's batch exceeds `maxBatchBytesOf`.
 */

export interface ProduceLanesOptions {
  /** Lanes, each with its own producer. */
  count: number;
  newProducer: () => ProduceClient;
  /** How long the first publish waits for others to share its produce request. */
  lingerMs: number;
  /** A produce request is sent at once when this many records wait; also its upper bound. */
  maxBatchRecords: number;
  /** Upper bound for one produce request, all partitions together. */
  maxRequestBytes: number;
  /** Largest record batch of one partition of a topic (the topic's max.message.bytes). */
  maxBatchBytesOf: (topic: string) => number;
  /** While a producer is unreachable, how often to try reconnecting. */
  reconnectMs: number;
  /** Counters the lanes advance (produceRequests, recordsAcknowledged, publishFailures). */
  stats: KafkaBusStats;
  /** Called once per produce request the brokers did not acknowledge. */
  onProduceError?: () => void;
  logger: Logger;
}

export interface ProduceLanes {
  /** Queue encoded records behind everything queued before for their lanes; resolves once all are acknowledged. */
  enqueue(topic: string, records: EncodedRecord[]): Promise<void>;
  /** Reach the brokers with every lane's producer; rejects while they are unreachable. */
  connect(): Promise<void>;
  /** Every lane's producer reached the brokers since its last failure. */
  reachable(): boolean;
  /** Resolves when no lane is sending and nothing is queued. */
  waitIdle(): Promise<void>;
  /** Stop: reject what is still queued (not yet sent) and close the producers. */
  close(): Promise<void>;
}

/** Fixed overhead of a record batch (v2 header); requests are cut with it counted once per partition. */
export const BATCH_OVERHEAD_BYTES = 512;

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

export function createProduceLanes(options: ProduceLanesOptions): ProduceLanes {
  const { newProducer, lingerMs, maxBatchRecords, maxRequestBytes, maxBatchBytesOf, reconnectMs, stats, logger } = options;
  let closed = false;
  const idleWaiters: Array<() => void> = [];
  const lanes: ProduceLane[] = Array.from({ length: options.count }, (_, index) => ({
    index, producer: newProducer(), queue: [], queuedRecords: 0, sending: false, lingerTimer: undefined, reachable: false, reconnecting: undefined,
  }));

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
      const maxBatchBytes = maxBatchBytesOf(part.topic);
      let topicBytes = partitionBytes.get(part.topic);
      if (topicBytes === undefined) partitionBytes.set(part.topic, (topicBytes = []));
      const start = part.taken;
      for (let i = part.taken; i < part.records.length; i++) {
        const record = part.records[i]!;
        const used = topicBytes[record.partition] ?? BATCH_OVERHEAD_BYTES;
        if (count > 0 && (used + record.bytes > maxBatchBytes || totalBytes + record.bytes > maxRequestBytes || count >= maxBatchRecords)) {
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
      options.onProduceError?.();
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

  return {
    enqueue,
    async connect() {
      await Promise.all(lanes.map((lane) => lane.producer.connect()));
      for (const lane of lanes) lane.reachable = true;
    },
    reachable: () => lanes.every((lane) => lane.reachable),
    waitIdle,
    async close() {
      closed = true;
      for (const lane of lanes) {
        if (lane.lingerTimer !== undefined) clearTimeout(lane.lingerTimer);
        for (const { publish } of lane.queue.splice(0)) {
          if (!publish.failed) {
            publish.failed = true;
            publish.reject(new HeliosError('HLS_ERR_BUS_CLOSED', 'the bus closed before kafka acknowledged these records'));
          }
        }
      }
      await Promise.all(lanes.map((lane) => lane.producer.close().catch(() => undefined)));
    },
  };
}
