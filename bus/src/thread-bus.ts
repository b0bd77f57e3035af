import type { MessagePort } from 'node:worker_threads';
import { HeliosError, eventRecords, normalizeEventBatch, parseEventsBody, type Bus, type BusRecord, type EventRequestBatch, type EventsBodyKind } from '@helios/core';

/**
 * The bridge between a gateway thread and the pipeline thread (the one running the in-process bus, the
 * store and the stages behind it). The gateway thread parses and validates a request, then hands the
 * request's bytes over (tenant, receive time and first id with them, as on Kafka: kafka-event-batch.ts);
 * the pipeline thread reads them with the gateway's own parse and normalization, so it gets the same events,
 * ids included, and publishes them on its bus. Requests handed off in one turn of the gateway's event loop
 * travel as one message whose bytes are one transferred ArrayBuffer (no copy on the way back out).
 *
 * Acceptance is the in-process bus's: a 2xx means the events are in this process's memory, on their way to
 * the pipeline's bounded queue (a crash loses them, as with `bus.kind: memory` on one thread). The gateway
 * side refuses with HLS_ERR_BUS_FULL (429) when the events not yet consumed by every group, as the pipeline
 * last reported them, plus those in transit would pass the capacity; with several gateway threads each may
 * have its share of the room left in transit. Reports lag (every 10 ms and after each handoff), so the queue
 * may still pass the capacity a little: what the bus cannot take waits in the pipeline side's backlog, in
 * order, never dropped.
 */

/** A request's events as bytes: what `EventRequestBatch` holds besides the events. */
interface RequestItem {
  topic: string;
  kind: EventsBodyKind;
  tenant: string;
  receivedAt: number;
  idBase: string;
  /** Events the bytes hold (checked against what the pipeline reads). */
  count: number;
  /** The bytes' end in the message's buffer (each starts where the previous ended). */
  end: number;
}

/** Records published with `publish` (OTLP events, telemetry gaps): structured-cloned. */
interface RecordsItem {
  topic: string;
  records: readonly BusRecord<unknown>[];
}

type Item = RequestItem | RecordsItem;

/** Gateway thread -> pipeline thread. */
type ToPipeline =
  | { t: 'batch'; items: Item[]; bytes: ArrayBuffer; events: number }
  /** Answer to a `sync`: everything sent before it was sent. */
  | { t: 'synced'; id: number };

/** Pipeline thread -> gateway thread. */
type ToGateway =
  /** `taken` events of earlier batches are on the pipeline's bus; `queued`: not yet consumed by every group. */
  | { t: 'status'; taken: number; queued: number; notReady: string | undefined }
  | { t: 'sync'; id: number };

const isRequest = (item: Item): item is RequestItem => 'kind' in item;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface ThreadPublisherOptions {
  /** bus.capacity: most events unconsumed plus in transit before publishes are refused. */
  capacity: number;
  /** The topic the capacity is about (the events); other topics' records (telemetry gaps) are control records it does not bound. */
  topic: string;
  /**
   * Gateway threads publishing to the same pipeline (default 1). Each may have only its share of the room
   * left in transit at once, so that together they stay within the capacity: they judge from the same
   * report of the pipeline's queue, and the pipeline thread may not read their messages for a while (a
   * long store write).
   */
  publishers?: number;
}

/**
 * The gateway thread's side: a Bus that only publishes (records go to the pipeline thread over `port`).
 * `publishEventsSync` takes a request's bytes synchronously, so the gateway answers inside the transport's
 * callback like on the in-process bus.
 */
export function createThreadPublisher(port: MessagePort, options: ThreadPublisherOptions): Bus {
  const { capacity } = options;
  const publishers = options.publishers ?? 1;
  let items: Item[] = [];
  let bytes = new Uint8Array(64 * 1024);
  let used = 0;
  let queuedEvents = 0;
  /** Events handed over (queued here or sent) and not yet reported taken. */
  let inTransit = 0;
  /** Not yet consumed on the pipeline's bus, as last reported. */
  let pipelineQueued = 0;
  let pipelineNotReady: string | undefined;
  let scheduled = false;
  let closed = false;

  port.on('message', (message: ToGateway) => {
    if (message.t === 'status') {
      inTransit -= message.taken;
      pipelineQueued = message.queued;
      pipelineNotReady = message.notReady;
    } else {
      flush();
      port.postMessage({ t: 'synced', id: message.id } satisfies ToPipeline);
    }
  });

  function flush(): void {
    scheduled = false;
    if (items.length === 0) return;
    // The filled part moves to the pipeline thread (transferred, not copied again). A full buffer goes
    // itself and a new one takes its place; otherwise the filled part goes as a copy of exactly its size
    // and the buffer stays for the next turn (single-event requests fill a few hundred bytes per turn: a
    // fresh 64 KiB buffer each turn cost more than the copy).
    const whole = used === bytes.length;
    const out = whole ? bytes.buffer : bytes.buffer.slice(0, used);
    port.postMessage({ t: 'batch', items, bytes: out, events: queuedEvents } satisfies ToPipeline, [out as ArrayBuffer]);
    items = [];
    queuedEvents = 0;
    if (whole) bytes = new Uint8Array(Math.max(64 * 1024, used));
    used = 0;
  }

  /** Take `count` records or throw why not; the batch goes out once this turn of the event loop ends. */
  function admit(topic: string, count: number): void {
    if (closed) throw new HeliosError('HLS_ERR_BUS_CLOSED');
    if (topic === options.topic && pipelineQueued + publishers * (inTransit + count) > capacity) {
      throw new HeliosError('HLS_ERR_BUS_FULL', `the pipeline holds ${pipelineQueued} unconsumed events and ${inTransit} are on their way (bus.capacity ${capacity})`);
    }
    inTransit += count;
    queuedEvents += count;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  function publishEventsSync(topic: string, batch: EventRequestBatch): void {
    const count = batch.events.length;
    if (count === 0) return;
    admit(topic, count);
    const body = batch.body;
    if (used + body.length > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, used + body.length));
      grown.set(bytes.subarray(0, used));
      bytes = grown;
    }
    // The body may be a view of the transport's memory: copied now, before returning.
    bytes.set(body, used);
    used += body.length;
    items.push({ topic, kind: batch.kind, tenant: batch.tenant, receivedAt: batch.receivedAt, idBase: batch.idBase, count, end: used });
  }

  function publishSync<T>(topic: string, records: readonly BusRecord<T>[]): void {
    if (records.length === 0) return;
    admit(topic, records.length);
    items.push({ topic, records });
  }

  return {
    kind: 'thread',
    async publish<T>(topic: string, records: readonly BusRecord<T>[]) {
      publishSync(topic, records);
    },
    publishSync,
    async publishEvents(topic: string, batch: EventRequestBatch) {
      publishEventsSync(topic, batch);
    },
    publishEventsSync,
    subscribe() {
      throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'a gateway thread publishes only: consumers run on the pipeline thread');
    },
    isReady: () => !closed && pipelineNotReady === undefined && pipelineQueued + inTransit < capacity,
    notReadyReason() {
      if (closed) return 'closed';
      if (pipelineNotReady !== undefined) return pipelineNotReady;
      if (pipelineQueued + inTransit >= capacity) return `the pipeline is full (${pipelineQueued} unconsumed events, ${inTransit} on their way, bus.capacity ${capacity})`;
      return undefined;
    },
    /** Until everything handed over is on the pipeline's bus (not: consumed there). */
    async drain(timeoutMs = 30_000) {
      flush();
      const deadline = Date.now() + timeoutMs;
      while (inTransit > 0) {
        if (Date.now() >= deadline) return false;
        await sleep(2);
      }
      return true;
    },
    async close(timeoutMs = 30_000) {
      await this.drain(timeoutMs);
      closed = true;
    },
  };
}

export interface ThreadPipelineOptions {
  /** The pipeline's bus: the in-process one (it must take records synchronously). */
  bus: Bus & { unconsumed(topic: string): number };
  /** The topic whose unconsumed records count against the capacity. */
  topic: string;
  /** How often the pipeline reports its queue to the gateway thread while something is queued, ms. */
  statusIntervalMs?: number;
  onError?: (err: unknown) => void;
}

export interface ThreadPipeline {
  /** Events received but not yet on the bus (it was full when they came). */
  backlog(): number;
  /** Resolves once everything the gateway thread handed over before now is on the bus. */
  sync(): Promise<void>;
  close(): void;
}

/** The pipeline thread's side of `createThreadPublisher`: publishes what comes over `port` on `bus`. */
export function serveThreadPublisher(port: MessagePort, options: ThreadPipelineOptions): ThreadPipeline {
  const { bus, topic } = options;
  const publishSync = bus.publishSync?.bind(bus);
  if (publishSync === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'the pipeline bus must take records synchronously (the in-process bus)');
  /** Records that came while the bus was full, oldest first; everything after waits behind them (order per key). */
  const backlog: Array<{ topic: string; records: BusRecord<unknown>[] }> = [];
  let backlogRecords = 0;
  let taken = 0;
  let lastQueued = -1;
  let lastNotReady: string | undefined;
  let retry: NodeJS.Timeout | undefined;
  let nextSync = 0;
  const syncs = new Map<number, () => void>();

  function report(force: boolean): void {
    const queued = bus.unconsumed(topic) + backlogRecords;
    const notReady = bus.notReadyReason?.();
    if (!force && taken === 0 && queued === lastQueued && notReady === lastNotReady) return;
    port.postMessage({ t: 'status', taken, queued, notReady: backlogRecords > 0 ? undefined : notReady } satisfies ToGateway);
    taken = 0;
    lastQueued = queued;
    lastNotReady = notReady;
  }
  const status = setInterval(() => report(false), options.statusIntervalMs ?? 10);
  status.unref();

  /** Publish what waits in the backlog while the bus takes it. */
  function publishBacklog(): void {
    retry = undefined;
    while (backlog.length > 0) {
      const next = backlog[0]!;
      try {
        publishSync!(next.topic, next.records);
      } catch (err) {
        if ((err as HeliosError).code !== 'HLS_ERR_BUS_FULL') options.onError?.(err);
        retry = setTimeout(publishBacklog, 2);
        return;
      }
      backlog.shift();
      backlogRecords -= next.records.length;
    }
  }

  function take(itemTopic: string, records: BusRecord<unknown>[]): void {
    if (backlog.length === 0) {
      try {
        publishSync!(itemTopic, records);
        return;
      } catch (err) {
        if ((err as HeliosError).code !== 'HLS_ERR_BUS_FULL') throw err;
      }
    }
    backlog.push({ topic: itemTopic, records });
    backlogRecords += records.length;
    retry ??= setTimeout(publishBacklog, 2);
  }

  port.on('message', (message: ToPipeline) => {
    if (message.t === 'synced') {
      syncs.get(message.id)?.();
      syncs.delete(message.id);
      return;
    }
    const body = Buffer.from(message.bytes);
    let start = 0;
    for (const item of message.items) {
      try {
        if (isRequest(item)) {
          const view = body.subarray(start, item.end);
          start = item.end;
          // The gateway thread's own parse and normalization: the same events, ids included.
          const events = normalizeEventBatch(parseEventsBody(view, item.kind, Number.POSITIVE_INFINITY), { tenant: item.tenant, now: item.receivedAt, idBase: item.idBase });
          if (events.length !== item.count) options.onError?.(new HeliosError('HLS_ERR_EVENT_INVALID', `a handed-over request holds ${events.length} events, the gateway thread read ${item.count}`));
          take(item.topic, eventRecords(events));
        } else take(item.topic, item.records as BusRecord<unknown>[]);
      } catch (err) {
        // The gateway validated these bytes; reading them again cannot fail unless the two threads run different code.
        options.onError?.(err);
      }
    }
    taken += message.events;
    report(true);
  });

  return {
    backlog: () => backlogRecords,
    sync() {
      const id = nextSync++;
      return new Promise<void>((resolve) => {
        syncs.set(id, resolve);
        port.postMessage({ t: 'sync', id } satisfies ToGateway);
      }).then(async () => {
        while (backlogRecords > 0) await sleep(2);
      });
    },
    close() {
      clearInterval(status);
      if (retry !== undefined) clearTimeout(retry);
      for (const resolve of syncs.values()) resolve();
      syncs.clear();
      port.close();
    },
  };
}
